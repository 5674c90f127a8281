"""``upload://`` references in Markdown (Discourse's short URLs), turned into their real addresses.

Used by core/markdown.py; imports no app. The resolver (a callable taking the set of keys written
after ``upload://``, returning a dict key -> details) comes from the forum (forum/uploads.py):

- ``![name|690x460](upload://<key>)`` becomes a thumbnail with its width and height (no jump as
  the page loads), ``loading="lazy"``, inside a link to the full image (the lightbox: the link
  works without JavaScript; static/js/lightbox.js opens it over the page);
- ``[name|attachment](upload://<key>)`` becomes a link with the file's name, followed by its size;
- a file a moderator removed shows its name struck through, with no link.

The HTML is the same for every reader: the addresses are stable and the view behind them decides
who may download, so rendered posts can be cached and shared.
"""

import re
from collections.abc import Callable
from html import escape

from markdown_it.token import Token

UploadResolver = Callable[[set[str]], dict[str, dict]]

UPLOAD_PREFIX = "upload://"
KEY_RE = re.compile(r"upload://([0-9A-Za-z]{1,40}(?:\.[0-9A-Za-z]{1,10})?)")
SIZE_AFTER_RE = re.compile(r"^\s*\(\s*[\d.,]+\s*[KMGkmg]?[Bb]\s*\)")


def upload_keys(raw: str) -> set[str]:
    """The keys of every upload:// reference in a text (for linking a post to its uploads)."""
    return set(KEY_RE.findall(raw or ""))


def _key(address: str) -> str | None:
    if not address.startswith(UPLOAD_PREFIX):
        return None
    match = KEY_RE.fullmatch(address.strip())
    return match.group(1) if match else None


def _html(content: str) -> Token:
    token = Token("html_inline", "", 0)
    token.content = content
    return token


def _image_html(info: dict, alt: str, in_link: bool) -> str:
    alt = escape(alt.split("|", 1)[0].strip() or info["filename"])
    size = ""
    if info.get("width") and info.get("height"):
        size = f' width="{int(info["width"])}" height="{int(info["height"])}"'
    image = f'<img src="{escape(info["thumbnail_url"])}" alt="{alt}"{size} loading="lazy">'
    if in_link:
        return image
    return f'<a class="lightbox" href="{escape(info["url"])}">{image}</a>'


def link_uploads(tokens: list[Token], resolver: UploadResolver | None) -> None:
    """Rewrite upload:// images and links in the token stream (one resolver call)."""
    if resolver is None:
        return
    keys: set[str] = set()
    for token in tokens:
        for child in token.children or ():
            address = child.attrs.get("src") if child.type == "image" else child.attrs.get("href")
            if child.type in ("image", "link_open") and (key := _key(str(address or ""))):
                keys.add(key)
    if not keys:
        return
    found = resolver(keys)
    for token in tokens:
        if token.type == "inline" and token.children:
            token.children = _rewrite(token.children, found)


def _rewrite(children: list[Token], found: dict[str, dict]) -> list[Token]:
    out: list[Token] = []
    link_depth = 0
    attachment_open: dict | None = None  # the upload whose link is open, to put its size after it
    removed_open = False
    for index, child in enumerate(children):
        if child.type == "image" and (key := _key(str(child.attrs.get("src", "")))) and key in found:
            info = found[key]
            if info["removed"]:
                out.append(_html(f"<del>{escape(info['filename'])}</del>"))
            elif info["is_image"]:
                out.append(_html(_image_html(info, child.content, link_depth > 0)))
            else:
                out.append(
                    _html(
                        f'<a class="attachment" href="{escape(info["url"])}">{escape(info["filename"])}</a>'
                    )
                )
            continue
        if child.type == "link_open":
            link_depth += 1
            key = _key(str(child.attrs.get("href", "")))
            if key and key in found:
                info = found[key]
                if info["removed"]:
                    removed_open = True
                    out.append(_html("<del>"))
                    continue
                child.attrs["href"] = info["url"]
                if not info["is_image"]:
                    child.attrs["class"] = "attachment"
                    attachment_open = info
        elif child.type == "link_close":
            link_depth -= 1
            if removed_open:
                removed_open = False
                out.append(_html("</del>"))
                continue
            if attachment_open is not None:
                out.append(child)
                following = children[index + 1] if index + 1 < len(children) else None
                if not (
                    following is not None
                    and following.type == "text"
                    and SIZE_AFTER_RE.match(following.content)
                ):
                    out.append(_html(f" ({escape(attachment_open['size'])})"))
                attachment_open = None
                continue
        elif child.type == "text" and (attachment_open is not None or removed_open):
            child.content = re.sub(r"\|attachment\s*$", "", child.content)
        out.append(child)
    return out
