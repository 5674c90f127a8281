from django.utils.functional import SimpleLazyObject

from . import services


def unread(request):
    """``unread_notifications`` for the header bell: cached, and only computed if a template asks."""
    user = getattr(request, "user", None)
    return {"unread_notifications": SimpleLazyObject(lambda: services.unread_count(user)) if user else 0}
