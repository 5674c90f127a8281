"""Discourse's poll syntax, read from a post's Markdown (shared plumbing: no app imports here).

    [poll name=barrier type=regular results=always public=true close=2026-05-17T16:00:00Z]
    # Which barrier matters most in your city?
    * Cost of access
    * Skills
    * Devices
    [/poll]

Attributes as in Discourse's bundled poll plugin: ``type`` (regular, multiple, number),
``results`` (always, on_vote, on_close, staff_only), ``public``, ``close`` (an ISO time),
``min``/``max`` (choices for ``multiple``, the range for ``number``), ``step`` (``number``),
``status=closed``, ``name`` (default ``poll``; several polls in a post need different names) and
``chartType`` (kept for the API). An optional ``# title`` line is the question. A poll block is
recognised on lines of its own, outside code fences and outside quotes.

:func:`extract` returns the polls of a text (the forum stores them when a post is written);
:func:`render_blocks` renders a text with each poll as a static block,
``<div class="poll" data-poll-name="...">`` holding the question and the options, which pages
replace per reader with the form and results (the stored HTML is the same for every reader).
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from django.utils.translation import gettext as _

TYPES = ("regular", "multiple", "number")
RESULTS = ("always", "on_vote", "on_close", "staff_only")
DEFAULT_NAME = "poll"
MAX_POLLS = 10
MAX_OPTIONS = 20
MAX_NUMBER_OPTIONS = 100
NAME_RE = re.compile(r"^[\w-]{1,64}$")
OPEN_RE = re.compile(r"^ {0,3}\[poll(?P<attrs>(?:\s+[A-Za-z_]+=(?:\"[^\"]*\"|[^\s\]\"]+))*)\s*\]\s*$")
ATTR_RE = re.compile(r"([A-Za-z_]+)=(?:\"([^\"]*)\"|([^\s\]\"]+))")
CLOSE_RE = re.compile(r"^ {0,3}\[/poll\]\s*$")
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
OPTION_RE = re.compile(r"^ {0,3}(?:[*+-]|\d{1,3}[.)])\s+(?P<text>\S.*)$")
TITLE_RE = re.compile(r"^ {0,3}#{1,6}\s+(?P<text>\S.*?)\s*#*\s*$")
QUOTE_BLOCK_RE = re.compile(r"\[quote=[^\]]*\].*?\[/quote\]", re.DOTALL | re.IGNORECASE)
BLOCK_HTML_RE = re.compile(r'<div class="poll" data-poll-name="(?P<name>[^"]+)">.*?</div>', re.DOTALL)


@dataclass
class PollSpec:
    name: str = DEFAULT_NAME
    type: str = "regular"
    results: str = "always"
    public: bool = False
    status: str = "open"
    chart_type: str = "bar"
    close_at: datetime | None = None
    min: int | None = None
    max: int | None = None
    step: int | None = None
    title: str = ""
    # (id, source text) in order; the id is an md5 digest of the text, as Discourse's.
    options: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def option_id(text: str) -> str:
    return hashlib.md5(json.dumps([text]).encode(), usedforsecurity=False).hexdigest()


def _int(attrs: dict, key: str, errors: list[str]) -> int | None:
    if key not in attrs:
        return None
    try:
        return int(attrs[key])
    except ValueError:
        errors.append(_("The poll's %(attribute)s must be a whole number.") % {"attribute": key})
        return None


def _close_at(value: str, errors: list[str]) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        errors.append(_("The poll's closing time is not a date and time, e.g. 2026-05-17T16:00:00Z."))
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _spec(attr_text: str, body: list[str]) -> PollSpec:
    attrs = {key.lower(): quoted if quoted else bare for key, quoted, bare in ATTR_RE.findall(attr_text)}
    spec = PollSpec()
    errors = spec.errors
    spec.name = attrs.get("name", DEFAULT_NAME).strip() or DEFAULT_NAME
    if not NAME_RE.match(spec.name):
        errors.append(_("A poll's name may only have letters, digits, - and _ (at most 64)."))
    spec.type = attrs.get("type", "regular").lower()
    if spec.type not in TYPES:
        errors.append(_("A poll's type is regular, multiple or number."))
    spec.results = attrs.get("results", "always").lower()
    if spec.results not in RESULTS:
        errors.append(_("A poll's results setting is always, on_vote, on_close or staff_only."))
    spec.public = attrs.get("public", "false").lower() == "true"
    spec.status = "closed" if attrs.get("status", "").lower() == "closed" else "open"
    spec.chart_type = "pie" if attrs.get("charttype", "").lower() == "pie" else "bar"
    if "close" in attrs:
        spec.close_at = _close_at(attrs["close"], errors)
    spec.min, spec.max, spec.step = (_int(attrs, key, errors) for key in ("min", "max", "step"))
    texts = []
    for line in body:
        if not spec.title and not texts and (title := TITLE_RE.match(line)):
            spec.title = title.group("text")[:255]
        elif option := OPTION_RE.match(line):
            texts.append(option.group("text").strip()[:500])
    if spec.type == "number":
        _number_options(spec)
    else:
        _listed_options(spec, texts)
    return spec


def _number_options(spec: PollSpec) -> None:
    low = 1 if spec.min is None else spec.min
    high = 10 if spec.max is None else spec.max
    step = 1 if spec.step is None else spec.step
    if step < 1:
        spec.errors.append(_("A number poll's step must be at least 1."))
        return
    if low >= high:
        spec.errors.append(_("A number poll's min must be below its max."))
        return
    if (high - low) // step + 1 > MAX_NUMBER_OPTIONS:
        spec.errors.append(
            _("A number poll offers at most %(count)d numbers: widen the step.")
            % {"count": MAX_NUMBER_OPTIONS}
        )
        return
    spec.min, spec.max, spec.step = low, high, step
    spec.options = [(option_id(str(n)), str(n)) for n in range(low, high + 1, step)]


def _listed_options(spec: PollSpec, texts: list[str]) -> None:
    if not texts:
        spec.errors.append(
            _("Poll “%(name)s” needs at least one option (a list item).") % {"name": spec.name}
        )
        return
    if len(texts) > MAX_OPTIONS:
        spec.errors.append(_("A poll has at most %(count)d options.") % {"count": MAX_OPTIONS})
    if len({text.lower() for text in texts}) != len(texts):
        spec.errors.append(_("Poll “%(name)s” has the same option twice.") % {"name": spec.name})
    spec.options = [(option_id(text), text) for text in texts]
    if spec.type == "multiple":
        low = 1 if spec.min is None else spec.min
        high = len(texts) if spec.max is None else spec.max
        if low < 1 or high < low or high > len(texts):
            spec.errors.append(
                _("In a multiple-choice poll, 1 ≤ min ≤ max ≤ the number of options (%(count)d).")
                % {"count": len(texts)}
            )
        spec.min, spec.max = low, high
    else:
        spec.min = spec.max = spec.step = None


def _blocks(raw: str) -> list[tuple[int, int, PollSpec]]:
    """(first line, line after the end, poll) of each poll block outside code fences."""
    lines = raw.split("\n")
    found = []
    fence = None
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = FENCE_RE.match(line)
        if fence:
            if marker and marker.group(1)[0] == fence[0] and len(marker.group(1)) >= len(fence):
                fence = None
        elif marker:
            fence = marker.group(1)
        elif opening := OPEN_RE.match(line):
            end = next((i for i in range(index + 1, len(lines)) if CLOSE_RE.match(lines[i])), None)
            if end is not None:
                found.append((index, end + 1, _spec(opening.group("attrs"), lines[index + 1 : end])))
                index = end + 1
                continue
        index += 1
    return found


def extract(raw: str) -> list[PollSpec]:
    """The polls written in a post (quotes of other posts left out); each may carry ``errors``,
    and a repeated name is reported on the later poll."""
    polls = [spec for _start, _end, spec in _blocks(QUOTE_BLOCK_RE.sub("", raw or ""))]
    seen: set[str] = set()
    for spec in polls:
        if spec.name in seen:
            spec.errors.append(
                _("Two polls are named “%(name)s”: give each poll its own name=.") % {"name": spec.name}
            )
        seen.add(spec.name)
    if len(polls) > MAX_POLLS:
        polls[-1].errors.append(_("A post has at most %(count)d polls.") % {"count": MAX_POLLS})
    return polls


def errors(raw: str) -> list[str]:
    return [message for spec in extract(raw) for message in spec.errors]


def static_html(spec: PollSpec, inline: Callable[[str], str]) -> str:
    """The block every reader's copy of the post holds; no nested <div>, so pages can find its end."""
    parts = [f'<div class="poll" data-poll-name="{escape(spec.name)}">']
    if spec.title:
        parts.append(f"<p>{inline(spec.title)}</p>")
    parts.append("<ul>")
    parts.extend(f"<li>{inline(text)}</li>" for _id, text in spec.options)
    parts.append("</ul></div>")
    return "".join(parts)


def render_blocks(raw: str, block: Callable[[str], str], inline: Callable[[str], str]) -> str:
    """Render ``raw`` with ``block`` (Markdown to HTML), each poll block as :func:`static_html`."""
    if "[poll" not in raw:
        return block(raw)
    lines = raw.split("\n")
    parts: list[str] = []
    position = 0
    for start, end, spec in _blocks(raw):
        before = "\n".join(lines[position:start])
        if before.strip():
            parts.append(block(before))
        parts.append(static_html(spec, inline))
        position = end
    rest = "\n".join(lines[position:])
    if rest.strip():
        parts.append(block(rest))
    return "\n".join(parts)
