"""Discourse's group endpoints: /groups.json, /groups/<name>.json, /groups/<name>/members.json,
and PUT/DELETE /groups/<id>/members.json (owners and staff) with ``usernames`` (comma-separated).

A members-only group does not exist (404) for those who may not see it (groups/permissions.py).
"""

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404

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
            "total_rows_groups": len(rows),
            "load_more_groups": "/groups.json?page=1",
        }
    )


@api_view()
def group(request, name: str):
    return json_response({"group": _group(_visible(request, name=name), request.user)})


@api_view()
def members(request, name: str):
    group = _visible(request, name=name)
    params = Params(request)
    offset = max(0, params.get_int("offset") or 0)
    limit = min(max(1, params.get_int("limit") or MEMBERS_LIMIT), MEMBERS_LIMIT)
    people = permissions.members_of(group).select_related("organisation").order_by("username")
    page = list(people[offset : offset + limit])
    owner_ids = set(group.memberships.filter(owner=True).values_list("user_id", flat=True))
    owners = (
        get_user_model().objects.filter(pk__in=owner_ids).select_related("organisation").order_by("username")
    )
    return json_response(
        {
            "members": [serializers.basic_user(person) for person in page],
            "owners": [serializers.basic_user(person) for person in owners],
            "meta": {"total": people.count(), "limit": limit, "offset": offset},
        }
    )


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
    return json_response({"success": "OK", "usernames": [person.username for person in people]})
