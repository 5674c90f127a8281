"""Every write to groups: members, owners, join requests (forum/services.py restricts categories).

Owners and staff manage a group; people join an open group themselves and ask to join a group
that owners approve. Lists, categories and mentions follow at once: the forum reads membership
inside its own queries (groups/permissions.py).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions

from . import permissions
from .models import Group, JoinMode, JoinRequest, Membership


def create_group(by, name: str, full_name: str, **fields) -> Group:
    """A new group, with `by` as its first owner. Callers: staff."""
    if not accounts_permissions.is_staff(by):
        raise PermissionDenied(_("Only staff can create groups."))
    group = Group(name=(name or "").strip().lower(), full_name=(full_name or "").strip(), **fields)
    group.full_clean()
    with transaction.atomic():
        group.save()
        Membership.objects.create(group=group, user=by, owner=True)
    permissions.forget(by)
    return group


def add_members(by, group: Group, people, *, owner: bool = False) -> list:
    """Add people (or make them owners). Callers: owners and staff; the system (`by=None`, the seed)."""
    if by is not None and not permissions.can_manage(by, group):
        raise PermissionDenied(_("Only the group's owners can add people."))
    added = []
    with transaction.atomic():
        for person in people:
            membership, created = Membership.objects.get_or_create(
                group=group, user=person, defaults={"owner": owner}
            )
            if owner and not membership.owner:
                Membership.objects.filter(pk=membership.pk).update(owner=True)
            if created or owner:
                added.append(person)
        JoinRequest.objects.filter(group=group, user__in=[p.pk for p in people]).delete()
    for person in people:
        permissions.forget(person)
    return added


def remove_member(by, group: Group, person) -> None:
    """Take someone out. Callers: owners and staff, or the person themselves (leaving)."""
    if by.pk != person.pk and not permissions.can_manage(by, group):
        raise PermissionDenied(_("Only the group's owners can remove people."))
    with transaction.atomic():
        deleted, _rows = Membership.objects.filter(group=group, user=person).delete()
        if not deleted:
            raise ValidationError(
                {"form": _("%(name)s is not a member of this group.") % {"name": person.username}}
            )
    permissions.forget(person)


def join(user, group: Group, message: str = "") -> str:
    """Join an open group, or ask to join one whose owners approve: returns "joined" or "requested"."""
    if not user.is_authenticated or not permissions.can_see(user, group):
        raise PermissionDenied(_("Sign in to join groups."))
    if permissions.is_member(user, group):
        raise ValidationError({"form": _("You are a member of this group already.")})
    if group.join_mode == JoinMode.OPEN:
        with transaction.atomic():
            Membership.objects.get_or_create(group=group, user=user)
        permissions.forget(user)
        return "joined"
    if group.join_mode == JoinMode.REQUEST:
        JoinRequest.objects.update_or_create(
            group=group, user=user, defaults={"message": message.strip()[:500]}
        )
        return "requested"
    raise PermissionDenied(_("Only the group's owners add people to this group."))


def decide_request(by, request: JoinRequest, accept: bool) -> None:
    """An owner accepts or declines a request to join."""
    if not permissions.can_manage(by, request.group):
        raise PermissionDenied(_("Only the group's owners can decide."))
    if accept:
        add_members(by, request.group, [request.user])
    else:
        request.delete()
