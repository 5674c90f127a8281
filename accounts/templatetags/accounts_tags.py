from django import template

from accounts import permissions

register = template.Library()


@register.simple_tag
def posting_block_reason(user):
    """The sentence explaining why `user` cannot post, or an empty string."""
    return permissions.posting_block_reason(user) or ""


@register.simple_tag
def avatar_url(person, size=48):
    """The picture for `person` at `size` px: their upload or their letter avatar (no query)."""
    from accounts import avatars

    return avatars.url(person, size)


@register.simple_tag
def poster_face(person, opening=False):
    """A 24 px face linking to the person's profile; name and organisation show on hover or focus.

    The card's text is the link's accessible name (visually clipped until hover/focus), so the
    link is never nameless. A simple tag rather than an include: topic lists show up to 180.
    """
    from django.urls import reverse
    from django.utils.html import format_html
    from django.utils.translation import gettext

    from accounts import avatars

    details = person.name
    if person.organisation_id and person.organisation:
        details = gettext("%(name)s, %(organisation)s") % {
            "name": person.name,
            "organisation": person.organisation.display_name,
        }
    if opening:
        details = gettext("Opening poster: %(details)s") % {"details": details}
    return format_html(
        '<a class="poster{}" href="{}"><img class="avatar avatar-24" src="{}" alt="" width="24" height="24"'
        ' loading="lazy"><span class="poster-card">{}</span></a>',
        " is-opening" if opening else "",
        reverse("accounts:profile", args=[person.username]),
        avatars.url(person, 24),
        details,
    )
