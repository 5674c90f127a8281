"""Personal message pages: the boxes at /u/<username>/messages, the composer, participants.

Thin: reads through forum/messages.py, writes through its service functions. A message that the
reader may not open is a 404, never a 403 (forum/views.py's topic page does the same).
"""

import uuid

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from . import messages, moderation, permissions, reading, views
from .models import RAW_MAX_LENGTH, Draft, ReviewItem, Topic, current_language
from .permissions import moderator_required

BOX_TITLES = {
    "inbox": lambda: pgettext("messages box", "Inbox"),
    "sent": lambda: pgettext("messages box", "Sent"),
    "archive": lambda: pgettext("messages box", "Archive"),
}


@login_required
def box(request, username: str, name: str = "inbox"):
    """`/u/<username>/messages[/sent|/archive]`: one's own messages only (anyone else: 404)."""
    if request.user.username != username or name not in messages.BOXES:
        raise Http404
    page = Paginator(messages.box(request.user, name), reading.TOPICS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    topics = list(page.object_list)
    names = messages.participant_names([topic.pk for topic in topics])
    for topic in topics:
        topic.participant_usernames = [n for n in names[topic.pk] if n != request.user.username]
    context = {
        "box": name,
        "boxes": [(key, BOX_TITLES[key]()) for key in messages.BOXES],
        "box_title": BOX_TITLES[name](),
        "topics": topics,
        "page": page,
        "refuses": messages.refuses_messages(request.user),
        "can_start": permissions.can_start_message(request.user),
    }
    return render(request, "forum/messages/box.html", context)


@login_required
def new_message(request):
    """The composer of a new message: `?to=ana,bo` fills the recipients (the Message buttons)."""
    user = request.user
    draft = messages.draft_for(user)
    form = {
        "recipients": request.GET.get("to", ""),
        "title": draft.title if draft else "",
        "raw": draft.raw if draft else "",
    }
    errors: dict = {}
    status = 200
    preview_html = None
    if request.method == "POST":
        form = {key: request.POST.get(key, "") for key in ("recipients", "title", "raw")}
        if request.POST.get("preview"):
            preview_html = views._preview_html(form["raw"])
        else:
            try:
                people, groups = messages.split_targets(
                    messages.recipients_from_names(form["recipients"], sender=user)
                )
                # Rate limits and duplicates as for a new topic (forum/moderation.py).
                moderation.check_posting(
                    user, form["raw"], kind="topic", idempotency_key=request.POST.get("idempotency_key")
                )
                topic = messages.create_message(
                    user,
                    people,
                    form["title"],
                    form["raw"],
                    idempotency_key=request.POST.get("idempotency_key"),
                    language=current_language(),
                    groups=groups,
                )
            except ValidationError as error:
                errors = views._validation_messages(error)
            except PermissionDenied as error:
                errors = {"form": [str(error)]}
            else:
                moderation.after_posting(user, topic, kind="topic")
                return redirect(topic.get_absolute_url())
        status = 200 if preview_html else 400
    context = {
        "form": form,
        "errors": errors,
        "draft": draft,
        "reason": None if permissions.can_start_message(user) else permissions.posting_block_reason(user),
        "idempotency_key": uuid.uuid4(),
        "draft_key": Draft.NEW_MESSAGE,
        "raw_max_length": RAW_MAX_LENGTH,
        "preview_html": preview_html,
    }
    return render(request, "forum/messages/new.html", context, status=status)


def _message_for(request, topic_id: int) -> Topic:
    topic = get_object_or_404(Topic.objects.select_related("category", "author"), pk=topic_id)
    if not topic.is_private_message or not permissions.can_read(request.user, topic):
        raise Http404
    return topic


@require_POST
@login_required
def participants(request, topic_id: int):
    """Add people (`add=ana,bo`), remove one (`remove=<username>`), leave, archive or move back."""
    topic = _message_for(request, topic_id)
    action = request.POST.get("action")
    try:
        if action == "add":
            added = messages.add_participants(
                request.user, topic, messages.recipients_from_names(request.POST.get("names", ""))
            )
            flash.success(
                request, _("Added: %(names)s.") % {"names": ", ".join(person.username for person in added)}
            )
        elif action == "remove":
            person = get_object_or_404(get_user_model(), username=request.POST.get("username", ""))
            messages.remove_participant(request.user, topic, person)
            flash.success(
                request, _("%(name)s no longer takes part in this message.") % {"name": person.username}
            )
        elif action == "leave":
            messages.leave_message(request.user, topic)
            flash.success(request, _("You have left the message."))
            return redirect("forum:messages", request.user.username)
        elif action in ("archive", "unarchive"):
            messages.set_archived(request.user, topic, action == "archive")
            if action == "archive":
                flash.success(request, _("The message is in your archive."))
                return redirect("forum:messages", request.user.username)
            flash.success(request, _("The message is back in your inbox."))
        else:
            raise Http404
    except ValidationError as error:
        for text in sum(views._validation_messages(error).values(), []):
            flash.error(request, text)
    except PermissionDenied as error:
        flash.error(request, str(error))
    return redirect(topic.get_absolute_url())


@require_POST
@login_required
def preferences(request):
    refuse = request.POST.get("refuse_messages") == "1"
    messages.set_refuse_messages(request.user, refuse)
    if refuse:
        flash.success(request, _("Only moderators can send you personal messages now."))
    else:
        flash.success(request, _("Verified officials can send you personal messages again."))
    return redirect("forum:messages", request.user.username)


@moderator_required
def read_flagged(request, item_id: int):
    """A moderator reads the one flagged post of a message; the read (a POST) is logged."""
    item = get_object_or_404(ReviewItem.objects.select_related("post__topic", "post__author"), pk=item_id)
    if not item.post.topic.is_private_message:
        raise Http404
    post = None
    if request.method == "POST":
        post = messages.read_flagged_message(request.user, item)
    return render(request, "forum/messages/flagged.html", {"item": item, "post": post})


def message_button(request, person) -> str:
    """On someone else's profile (accounts.profile_sections): a Message button for those who may write."""
    user = request.user
    if not user.is_authenticated or user.pk == person.pk or not permissions.can_start_message(user):
        return ""
    return render_to_string("forum/messages/_message_button.html", {"person": person}, request=request)


def topic_context(request, topic: Topic) -> dict:
    """What a message's page adds: its participants and what the reader may do with them."""
    people = messages.participants_of(topic)
    me = next((p for p in people if p.pk == request.user.pk), None)
    return {
        "message_participants": people,
        "can_add_participants": permissions.message_reply_block_reason(request.user, topic) is None,
        "can_remove_participants": topic.author_id == request.user.pk,
        "message_archived": bool(me and getattr(me, "message_archived", False)),
    }


@login_required
def group_inbox(request, name: str):
    """`/g/<name>/messages`: the messages sent to a group, for its members (others: 404)."""
    from groups import permissions as group_permissions
    from groups.models import Group

    group = get_object_or_404(Group, name=name)
    if not group_permissions.is_member(request.user, group):
        raise Http404
    topics = messages.group_box(group).filter(message_participants__user=request.user)
    page = Paginator(topics, reading.TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "forum/messages/group_inbox.html", {"group": group, "page": page})
