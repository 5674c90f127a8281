"""Markdown to safe HTML, shared by every app (no app imports here).

markdown-it-py renders with raw HTML switched off; nh3 then sanitises the result
with an allow-list, so anything a person types is stored as typed and shown inert.
Two forum conventions are understood:

- quotes: ``[quote="username, post:N, topic:ID"] text [/quote]`` become a quote
  block whose heading links back to the quoted post;
- mentions: ``@username`` becomes a link to /u/<username> when the resolver
  (a callable taking a set of names, returning those that exist) knows the person.
"""

import re
from collections.abc import Callable, Iterable
from html import escape
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from core.markdown_uploads import UploadResolver, link_uploads

from . import poll_markup

MentionResolver = Callable[[set[str]], Iterable[str]]

MENTION_RE = re.compile(r"(?<![\w@/.])@([A-Za-z0-9_][A-Za-z0-9_.\-]{0,148}[A-Za-z0-9_]|[A-Za-z0-9_])")
QUOTE_RE = re.compile(
    r"\[quote=\"(?P<username>[^,\"\]]{1,150})(?:,\s*post:(?P<post>\d{1,9}))?(?:,\s*topic:(?P<topic>\d{1,12}))?"
    r"[^\"\]]*\"\]\s*\n?(?P<body>.*?)\n?\s*\[/quote\]",
    re.DOTALL | re.IGNORECASE,
)
MAX_QUOTE_NESTING = 3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "div": {"class", "data-username", "data-post", "data-topic", "data-poll-name"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "breaks": True}).enable(["table", "strikethrough"])


_md = _markdown()


def _allowed_image(src: str) -> bool:
    """Images from this site (a path) or over https; never http:, data: or protocol-relative."""
    if src.startswith("/") and not src.startswith("//"):
        return True
    return urlsplit(src).scheme == "https"


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if _allowed_image(value.strip()) else None
    if attribute == "class":
        # Only the classes this renderer writes itself.
        allowed = {"quote", "quote-title", "mention", "quote-body", "lightbox", "attachment", "poll"}
        if tag == "code" and value.startswith("language-"):
            return value
        kept = [name for name in value.split() if name in allowed]
        return " ".join(kept) or None
    if attribute == "style":
        return value if value in {"text-align:left", "text-align:right", "text-align:center"} else None
    return value


def sanitise(html: str) -> str:
    """Allow-list cleaning; links get rel="nofollow ugc"."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc",
        attribute_filter=_attribute_filter,
        strip_comments=True,
    )


def _link_mentions(tokens: list[Token], resolver: MentionResolver | None) -> None:
    """Turn @name in plain text into a profile link when the person exists (one resolver call)."""
    if resolver is None:
        return
    candidates: set[str] = set()
    for token in tokens:
        if token.type == "inline" and token.children:
            for child in token.children:
                if child.type == "text":
                    candidates.update(MENTION_RE.findall(child.content))
    if not candidates:
        return
    existing = {name.lower(): name for name in resolver(candidates)}
    if not existing:
        return
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children: list[Token] = []
        link_depth = 0
        for child in token.children:
            if child.type == "link_open":
                link_depth += 1
            elif child.type == "link_close":
                link_depth -= 1
            if child.type != "text" or link_depth > 0:
                children.append(child)
                continue
            position = 0
            for match in MENTION_RE.finditer(child.content):
                username = existing.get(match.group(1).lower())
                if username is None:
                    continue
                if match.start() > position:
                    children.append(_text(child.content[position : match.start()]))
                link = Token("link_open", "a", 1)
                link.attrs = {"href": f"/u/{username}", "class": "mention"}
                children.extend([link, _text(f"@{match.group(1)}"), Token("link_close", "a", -1)])
                position = match.end()
            if position == 0:
                children.append(child)
            elif position < len(child.content):
                children.append(_text(child.content[position:]))
        token.children = children


def _text(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _render_markdown(
    raw: str, resolver: MentionResolver | None, uploads: UploadResolver | None = None
) -> str:
    env: dict = {}
    tokens = _md.parse(raw, env)
    _link_mentions(tokens, resolver)
    link_uploads(tokens, uploads)
    return _md.renderer.render(tokens, _md.options, env)


def _render_segment(
    raw: str, resolver: MentionResolver | None, depth: int, uploads: UploadResolver | None
) -> str:
    """Text outside quotes; at the top level its [poll] blocks become static polls (core/poll_markup.py)."""
    if depth:
        return _render_markdown(raw, resolver, uploads)
    return poll_markup.render_blocks(
        raw, lambda text: _render_markdown(text, resolver, uploads), _md.renderInline
    )


def _render_with_quotes(
    raw: str, resolver: MentionResolver | None, quote_url, depth: int, uploads: UploadResolver | None = None
) -> str:
    """Render text, turning each quote block into a div.quote whose heading links to its source."""
    if depth >= MAX_QUOTE_NESTING or "[quote" not in raw.lower():
        return _render_segment(raw, resolver, depth, uploads)
    parts: list[str] = []
    position = 0
    for match in QUOTE_RE.finditer(raw):
        before = raw[position : match.start()]
        if before.strip():
            parts.append(_render_segment(before, resolver, depth, uploads))
        username = match.group("username").strip()
        post, topic = match.group("post"), match.group("topic")
        body = _render_with_quotes(match.group("body"), resolver, quote_url, depth + 1, uploads)
        title = escape(f"{username}:")
        if post and topic:
            title = f'<a href="{escape(quote_url(int(topic), int(post)))}">{title}</a>'
        parts.append(
            f'<div class="quote" data-username="{escape(username)}" data-post="{escape(post or "")}"'
            f' data-topic="{escape(topic or "")}"><div class="quote-title">{title}</div>'
            f"<blockquote>{body}</blockquote></div>"
        )
        position = match.end()
    rest = raw[position:]
    if rest.strip():
        parts.append(_render_segment(rest, resolver, depth, uploads))
    return "\n".join(parts)


def default_quote_url(topic_id: int, post_number: int) -> str:
    # The topic page redirects any slug to the canonical one, so the renderer needs no database.
    return f"/t/topic/{topic_id}/{post_number}"


def render(
    raw: str,
    *,
    mention_resolver: MentionResolver | None = None,
    quote_url: Callable[[int, int], str] = default_quote_url,
    upload_resolver: UploadResolver | None = None,
) -> str:
    """Markdown source -> sanitised HTML, safe to insert into a page unescaped.

    ``upload_resolver`` turns upload:// references into the files' addresses (core/markdown_uploads.py).
    """
    return sanitise(_render_with_quotes(raw or "", mention_resolver, quote_url, 0, upload_resolver))


def render_inline(text: str) -> str:
    """One line of Markdown (a poll's question or option) -> sanitised inline HTML, no <p>."""
    return sanitise(_md.renderInline(text or ""))


def mentioned_usernames(raw: str) -> set[str]:
    """Names written as @name in the source (for notifications); not checked against users."""
    return set(MENTION_RE.findall(raw or ""))
