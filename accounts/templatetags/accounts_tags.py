from django import template

from accounts import permissions

register = template.Library()


@register.simple_tag
def posting_block_reason(user):
    """The sentence explaining why `user` cannot post, or an empty string."""
    return permissions.posting_block_reason(user) or ""
