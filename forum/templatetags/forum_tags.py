from django import template

from forum.models import tag_label as _tag_label

register = template.Library()


@register.filter
def tag_label(tag) -> str:
    """A tag's name in the reader's language (forum.models.TagLabel), else its slug."""
    return _tag_label(tag)
