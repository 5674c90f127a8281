from django.utils.functional import SimpleLazyObject


def unread_messages(request):
    """``unread_messages`` for the header's Messages link: cached (forum/messages.py), and only
    computed if a template asks, so a page costs no query while nothing changes."""
    from . import messages

    user = getattr(request, "user", None)
    return {"unread_messages": SimpleLazyObject(lambda: messages.unread_count(user)) if user else 0}
