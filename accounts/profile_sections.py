"""Sections other apps add to a profile page (the forum's "recent activity").

accounts may not import the forum; the forum registers a function here in its
AppConfig.ready(), and the profile view renders whatever is registered.
"""

from collections.abc import Callable

ProfileSection = Callable[..., str]  # (request, person) -> HTML (already escaped/safe)
_sections: list[ProfileSection] = []


def register_profile_section(section: ProfileSection) -> ProfileSection:
    """Add a section below the profile; usable as a decorator. Registering twice is harmless."""
    if section not in _sections:
        _sections.append(section)
    return section


def render_profile_sections(request, person) -> list[str]:
    return [section(request, person) for section in _sections]
