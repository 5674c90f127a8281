"""Faces: an uploaded picture, or a letter avatar in a colour derived from the person's username.

Letter avatars are small SVG images served at /letter_avatar/<username>/<size>/<version>.svg
(Discourse's shape). The version changes with the letters and colour, so a URL never goes
stale and browsers may cache it for a year. Nothing here queries the database.
"""

import hashlib

from django.utils.html import escape

# Every colour carries white letters at a contrast of at least 4.5:1 (WCAG AA for text).
PALETTE = (
    "#1f5f99",
    "#8a3b12",
    "#2e6b30",
    "#6a3d9a",
    "#a1224b",
    "#00636b",
    "#5b5b1f",
    "#b03a2e",
    "#3d4a5c",
    "#7a4100",
    "#1b6e5a",
    "#8e2c8e",
)
SIZES = (24, 32, 36, 48, 64, 96, 120, 144, 240)
DEFAULT_SIZE = 48
# Bump to refresh every letter avatar at once (a new look).
STYLE_VERSION = "1"
PREFIX = "/letter_avatar/"


def colour(username: str) -> str:
    digest = hashlib.md5(username.lower().encode(), usedforsecurity=False).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def letters(user) -> str:
    return user.initials[:2]


def version(user) -> str:
    seed = f"{STYLE_VERSION}:{letters(user)}:{colour(user.username)}"
    return hashlib.md5(seed.encode(), usedforsecurity=False).hexdigest()[:8]


def nearest_size(size) -> int:
    try:
        size = int(size)
    except (TypeError, ValueError):
        return DEFAULT_SIZE
    return min(SIZES, key=lambda candidate: (abs(candidate - size), candidate))


def letter_url(user, size=DEFAULT_SIZE) -> str:
    return f"{PREFIX}{user.username}/{nearest_size(size)}/{version(user)}.svg"


def url(user, size=DEFAULT_SIZE) -> str:
    """The picture to show for `user` at `size` px: their upload, or their letter avatar."""
    if user.avatar:
        return user.avatar.url
    return letter_url(user, size)


def template(user) -> str:
    """Discourse's `avatar_template`: clients put the size they want in place of {size}."""
    if user is None:
        return ""
    if user.avatar:
        return user.avatar.url  # uploads are stored in one size (re-encoded on upload)
    return f"{PREFIX}{user.username}/{{size}}/{version(user)}.svg"


def svg(user, size: int) -> str:
    """The letter avatar itself: a coloured disc with the initials, no script, no external reference."""
    text = escape(letters(user))
    font_size = round(size * (0.42 if len(text) < 2 else 0.38))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">'
        f'<circle cx="{size / 2:g}" cy="{size / 2:g}" r="{size / 2:g}" fill="{colour(user.username)}"/>'
        f'<text x="50%" y="50%" dy=".35em" fill="#ffffff" text-anchor="middle" '
        f'font-family="Helvetica, Arial, sans-serif" font-weight="600" font-size="{font_size}">{text}</text>'
        "</svg>"
    )
