"""The one input-cleaning rule the services apply to text people type (no app imports here).

- Control characters other than newline and tab (NUL, escape, bell...) never reach the database:
  in text pasted into a post body or a draft they are removed, as a reader would expect; in a
  title, a name or any short field they are refused with a message that says which one.
- Text that is not valid Unicode (a lone surrogate, which only a JSON body can carry) is refused.
- Titles and display names must contain something visible (30 zero-width spaces make no title),
  and lose their bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which would
  otherwise reorder the text around them on every page that shows them.

Numbers taken from a URL or a form go through :func:`bounded_int`, so an out-of-range value is
a refusal (the caller's 400 or 404), never an overflow in the database.
"""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# C0 controls but tab and newline (carriage returns are normalised away first), DEL, C1 controls.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
# Embeddings and overrides (LRE RLE PDF LRO RLO) and isolates (LRI RLI FSI PDI).
BIDI_CONTROL_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
# Characters that show nothing and join nothing: zero-width space, word joiner, BOM.
# (Zero-width joiners and non-joiners stay: Persian, Indic scripts and emoji need them.)
ZERO_WIDTH_RE = re.compile(r"[\u200b\u2060\ufeff]")
# Letters that render as blank space although Unicode calls them letters.
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# PostgreSQL's bigint, the widest integer column here.
MAX_DB_INT = 2**63 - 1


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    code = f"U+{ord(char):04X}"
    return f"{code} {name}".strip() if name else code


def control_message(char: str) -> str:
    return _(
        "This text contains an invisible control character (%(char)s) that cannot be stored. "
        "Remove it and try again."
    ) % {"char": _describe(char)}


def invalid_unicode_message() -> str:
    return _("This text contains characters that are not valid Unicode. Remove them and try again.")


def check_text(value: str, field: str | None = None) -> str:
    """Refuse control characters (but newline and tab) and invalid Unicode; returns the text.

    ``field`` names the form field for the ValidationError (a plain message without it).
    """
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    message = None
    if SURROGATE_RE.search(value):
        message = invalid_unicode_message()
    elif match := CONTROL_RE.search(value):
        message = control_message(match.group())
    if message is not None:
        raise ValidationError({field: message} if field else message, code="control_character")
    return value


def strip_controls(value: str) -> str:
    """Pasted text: drop control characters (but newline and tab) and invalid Unicode silently."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return SURROGATE_RE.sub("", CONTROL_RE.sub("", value))


def visible_length(value: str) -> int:
    """How many characters of ``value`` show something (not spaces, marks alone or formatting)."""
    return sum(
        1
        for char in value
        if char not in BLANK_LETTERS and unicodedata.category(char)[0] not in {"Z", "C", "M"}
    )


def clean_line(value: str, field: str | None = None) -> str:
    """A title or a name: one line, no control character, no bidi override, something visible.

    Runs of whitespace collapse to one space. Raises ValidationError (on ``field``) when the line
    holds a control character, or nothing a reader could see although it is not empty.
    """
    value = check_text(value, field)
    typed_something = bool(value.strip())
    value = " ".join(ZERO_WIDTH_RE.sub("", BIDI_CONTROL_RE.sub("", value)).split())
    if typed_something and not visible_length(value):
        message = _("Use visible letters or digits: this text shows nothing.")
        raise ValidationError({field: message} if field else message, code="invisible")
    return value


def has_control_characters(value: str) -> bool:
    """NUL and the other controls no query string or form value should carry (tab and newlines may)."""
    value = value.replace("\r", "")
    return bool(CONTROL_RE.search(value) or SURROGATE_RE.search(value))


def bounded_int(value, *, minimum: int = 0, maximum: int = MAX_DB_INT) -> int | None:
    """``value`` as a whole number within [minimum, maximum]; None when it is not one or is out of range."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and 0 < len(value.strip()) <= 25:
        try:
            number = int(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if minimum <= number <= maximum else None
