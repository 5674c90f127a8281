"""Discourse's group endpoints: /groups.json, /groups/<name>.json, /groups/<name>/members.json,
and PUT/DELETE /groups/<id>/members.json (owners and staff) with ``usernames`` (comma-separated).

A members-only group does not exist (404) for those who may not see it (groups/permissions.py).
"""

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.http import Http404
from django.shortcuts import get_object_or_404

from core import markdown
from forum.models import Post, PostState
from groups import permissions, services
from groups.models import Group, JoinMode, Visibility

from . import serializers
from .http import Params, api_view, bad_parameter, json_response

MEMBERS_LIMIT = 50


def _group(group: Group, viewer, user_count: int | None = None) -> dict:
    return {
        "id": group.pk,
        "name": group.name,
        "full_name": group.full_name,
        "display_name": group.full_name,
        "bio_raw": group.description,
        "user_count": user_count if user_count is not None else permissions.members_of(group).count(),
        "automatic": group.join_mode == JoinMode.AUTOMATIC,
        "visibility_level": 0 if group.visibility == Visibility.PUBLIC else 2,
        "mentionable_level": 3 if group.mentionable else 0,
        "messageable_level": 3 if group.messageable else 0,
        "public_admission": group.join_mode == JoinMode.OPEN,
        "allow_membership_requests": group.join_mode == JoinMode.REQUEST,
        "is_group_user": permissions.is_member(viewer, group),
        "can_see_members": True,
        # Discourse's group fields for what this forum has no equivalent of (flair, trust levels,
        # incoming email): its "none" values, so clients that require them read them.
        "primary_group": False,
        "title": None,
        "grant_trust_level": None,
        "incoming_email": None,
        "has_messages": group.messageable,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "bio_cooked": markdown.render(group.description) if group.description else None,
        "bio_excerpt": group.description[:300] or None,
        "public_exit": group.join_mode == JoinMode.OPEN,
        "default_notification_level": 3,
        "membership_request_template": None,
        "members_visibility_level": 0 if group.visibility == Visibility.PUBLIC else 2,
        "can_admin_group": permissions.can_manage(viewer, group),
        "publish_read_state": False,
    }


def _group_detail(group: Group, viewer) -> dict:
    """/groups/<name>.json's group: the row of /groups.json and what the group page adds."""
    from forum.messages import group_box

    return {
        **_group(group, viewer),
        "is_group_owner_display": permissions.is_owner(viewer, group),
        "mentionable": group.mentionable,
        "messageable": group.messageable,
        "automatic_membership_email_domains": None,
        "smtp_server": None,
        "smtp_port": None,
        "smtp_ssl_mode": None,
        "imap_server": None,
        "imap_port": None,
        "imap_ssl": None,
        "imap_mailbox_name": "",
        "imap_mailboxes": [],
        "email_username": None,
        "email_password": None,
        "imap_last_error": None,
        "imap_old_emails": None,
        "imap_new_emails": None,
        "message_count": group_box(group).count() if permissions.is_member(viewer, group) else 0,
        "allow_unknown_sender_topic_replies": False,
        "watching_category_ids": [],
        "tracking_category_ids": [],
        "watching_first_post_category_ids": [],
        "regular_category_ids": [],
        "muted_category_ids": [],
    }


def _visible(request, **lookup) -> Group:
    group = get_object_or_404(Group, **lookup)
    if not permissions.can_see(request.user, group):
        raise Http404
    return group


@api_view()
def groups(request):
    rows = list(permissions.visible_groups(request.user).annotate(n=Count("memberships")))
    return json_response(
        {
            "groups": [
                _group(group, request.user, None if group.join_mode == JoinMode.AUTOMATIC else group.n)
                for group in rows
            ],
            "extras": {"type_filters": ["my", "public", "close", "owner", "automatic"]},
            "total_rows_groups": len(rows),
            "load_more_groups": "/groups.json?page=1",
        }
    )


@api_view()
def group(request, name: str):
    return json_response(
        {
            "group": _group_detail(_visible(request, name=name), request.user),
            "extras": {"visible_group_names": []},
        }
    )


@api_view()
def members(request, name: str):
    group = _visible(request, name=name)
    params = Params(request)
    offset = max(0, params.get_int("offset") or 0)
    limit = min(max(1, params.get_int("limit") or MEMBERS_LIMIT), MEMBERS_LIMIT)
    people = permissions.members_of(group).select_related("organisation").order_by("username")
    page = list(people[offset : offset + limit])
    rows = group.memberships.filter(Q(owner=True) | Q(user__in=[person.pk for person in page]))
    added = {}
    owner_ids = set()
    for user_id, owner, created_at in rows.values_list("user_id", "owner", "created_at"):
        added[user_id] = created_at
        if owner:
            owner_ids.add(user_id)
    owners = (
        get_user_model().objects.filter(pk__in=owner_ids).select_related("organisation").order_by("username")
    )
    posted = dict(
        Post.objects.filter(
            author__in=[person.pk for person in page] + list(owner_ids), state=PostState.VISIBLE
        )
        .values("author")
        .annotate(last=Max("created_at"))
        .values_list("author", "last")
    )
    return json_response(
        {
            "members": [_member(person, added, posted) for person in page],
            "owners": [_member(person, added, posted) for person in owners],
            "meta": {"total": people.count(), "limit": limit, "offset": offset},
        }
    )


def _member(person, added: dict, posted: dict) -> dict:
    """A member as Discourse lists them. The schema wants dates even for people who never
    posted or signed in again: the day they joined stands in. An automatic group's members have
    no membership row: they count as added when they joined the forum."""
    joined = person.date_joined
    return {
        **serializers.basic_user(person),
        "title": None,
        "added_at": added.get(person.pk) or joined,
        "last_posted_at": posted.get(person.pk) or joined,
        "last_seen_at": person.last_login or joined,
        "timezone": person.time_zone or "UTC",
    }


@api_view(("GET", "PUT", "DELETE"))
def change_members(request, group_id: int):
    if request.method == "GET":  # a group whose name is digits
        return members(request, str(group_id))
    group = _visible(request, pk=group_id)
    names = Params(request).get_text("usernames") or ""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    people = list(get_user_model().objects.filter(username__in=wanted, is_active=True))
    if not wanted or len(people) != len(set(wanted)):
        raise bad_parameter("usernames")
    if request.method == "PUT":
        services.add_members(request.user, group, people)
    else:
        for person in people:
            services.remove_member(request.user, group, person)
    usernames = [person.username for person in people]
    if request.method == "PUT":
        return json_response({"success": "OK", "usernames": usernames, "emails": []})
    return json_response({"success": "OK", "usernames": usernames, "skipped_usernames": []})
