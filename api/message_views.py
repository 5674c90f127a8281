"""Discourse's personal message endpoints: creating one through POST /posts.json, and the lists.

- ``POST /posts.json`` with ``archetype=private_message`` and ``target_recipients`` (usernames or
  group names, comma-separated; Discourse's older ``target_usernames`` too) starts a message (api/views.py
  hands it here);
- ``GET /topics/private-messages/<username>.json``: the person's inbox;
- ``GET /topics/private-messages-unread/<username>.json``: the unread ones of the inbox;
- ``GET /topics/private-messages-sent/<username>.json``: the messages they started;
- ``GET /topics/private-messages-archive/<username>.json``: their archive.

Only the person themselves reads their lists (anyone else: 404, as for the pages).
"""

from django.http import Http404

from forum import messages, moderation
from forum.models import current_language

from . import views
from .http import Params, api_view


def create_message(request, params: Params):
    """The message of a ``POST /posts.json`` with ``archetype=private_message``; errors raise."""
    names = params.get_text("target_recipients") or params.get_text("target_usernames")
    people, groups = messages.split_targets(messages.recipients_from_names(names or "", sender=request.user))
    raw = params.get_text("raw")
    moderation.check_posting(request.user, raw, kind="topic")
    topic = messages.create_message(
        request.user, people, params.get_text("title"), raw, language=current_language(), groups=groups
    )
    moderation.after_posting(request.user, topic, kind="topic")
    return topic


def _box(request, username: str, name: str, path: str, *, unread_only: bool = False):
    if request.user.username.lower() != username.lower():
        raise Http404
    topics = messages.box(request.user, name)
    if unread_only:
        topics = topics.filter(is_read=False)
    return views._topic_list(request, topics, path, can_create_topic=False)


@api_view(login_required=True)
def private_messages(request, username: str):
    return _box(request, username, "inbox", f"/topics/private-messages/{username}")


@api_view(login_required=True)
def private_messages_unread(request, username: str):
    return _box(request, username, "inbox", f"/topics/private-messages-unread/{username}", unread_only=True)


@api_view(login_required=True)
def private_messages_sent(request, username: str):
    return _box(request, username, "sent", f"/topics/private-messages-sent/{username}")


@api_view(login_required=True)
def private_messages_archive(request, username: str):
    return _box(request, username, "archive", f"/topics/private-messages-archive/{username}")
