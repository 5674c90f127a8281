"""Group pages: /g/ (the groups one may see), /g/<name> (about, members, joining), its inbox."""

from django.contrib import messages as flash
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import permissions, services
from .models import JoinMode, JoinRequest

MEMBERS_PER_PAGE = 50


def _group_for(request, name: str):
    from .models import Group

    group = get_object_or_404(Group.objects.select_related("automatic_organisation"), name=name)
    if not permissions.can_see(request.user, group):
        raise Http404  # a members-only group does not exist for others
    return group


def group_list(request):
    groups = permissions.visible_groups(request.user).annotate(member_count=Count("memberships"))
    mine = permissions.group_ids_of(request.user)
    return render(request, "groups/list.html", {"groups": groups, "mine": mine})


def detail(request, name: str):
    group = _group_for(request, name)
    user = request.user
    members = (
        permissions.members_of(group).select_related("organisation").order_by("display_name", "username")
    )
    page = Paginator(members, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    can_manage = permissions.can_manage(user, group)
    owners = set(group.memberships.filter(owner=True).values_list("user_id", flat=True))
    context = {
        "group": group,
        "page": page,
        "owners": owners,
        "is_member": permissions.is_member(user, group),
        "can_manage": can_manage,
        "requested": user.is_authenticated and JoinRequest.objects.filter(group=group, user=user).exists(),
        "requests": list(group.requests.select_related("user__organisation")) if can_manage else [],
        "join_modes": JoinMode,
    }
    return render(request, "groups/detail.html", context)


def _people(names: str) -> list:
    """Active people by username ("ana, @bo"); unknown names are an error."""
    wanted = [n.strip().lstrip("@") for n in names.split(",") if n.strip().lstrip("@")][:50]
    people = list(get_user_model().objects.filter(username__in=wanted, is_active=True))
    unknown = sorted(set(wanted) - {p.username for p in people})
    if unknown or not people:
        raise ValidationError(_("Nobody is called %(names)s here.") % {"names": ", ".join(unknown) or "-"})
    return people


@require_POST
@login_required
def act(request, name: str):
    """join, leave, add (names=), remove (username=), owner (username=), accept/decline (request=)."""
    group = _group_for(request, name)
    user = request.user
    action = request.POST.get("action")
    try:
        if action == "join":
            if services.join(user, group, request.POST.get("message", "")) == "joined":
                flash.success(request, _("You are a member of %(group)s.") % {"group": group.full_name})
            else:
                flash.success(request, _("Your request is sent to the group's owners."))
        elif action == "leave":
            services.remove_member(user, group, user)
            flash.success(request, _("You have left %(group)s.") % {"group": group.full_name})
        elif action in ("add", "owner"):
            names = request.POST.get("names") or request.POST.get("username", "")
            people = _people(names)
            services.add_members(user, group, people, owner=action == "owner")
            flash.success(request, _("Done: %(names)s.") % {"names": ", ".join(p.username for p in people)})
        elif action == "remove":
            person = get_object_or_404(get_user_model(), username=request.POST.get("username", ""))
            services.remove_member(user, group, person)
            flash.success(request, _("%(name)s is no longer a member.") % {"name": person.username})
        elif action in ("accept", "decline"):
            join_request = get_object_or_404(JoinRequest, pk=request.POST.get("request") or 0, group=group)
            services.decide_request(user, join_request, action == "accept")
            flash.success(request, _("Done."))
        else:
            raise Http404
    except ValidationError as error:
        for text in error.messages:
            flash.error(request, text)
    except PermissionDenied as error:
        flash.error(request, str(error))
    return redirect(group.get_absolute_url())
