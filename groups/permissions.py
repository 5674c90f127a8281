"""Who is in which group, and who may do what with a group.

Membership is a rule on groups (`member_groups`): the person's membership rows, and the automatic
groups of their organisation or its Metropolis region while they are a verified official. The
forum puts the same rule inside its own queries (categories restricted to groups), so a page
needs no query of its own for it and a change shows at once.
"""

from django.db.models import Q, QuerySet, Subquery

from accounts import permissions as accounts_permissions

from .models import Group, JoinMode, Membership, Visibility


def member_groups(user) -> QuerySet[Group]:
    """The groups this person belongs to, as a queryset (usable as a subquery: no query by itself)."""
    if not getattr(user, "is_authenticated", False):
        return Group.objects.none()
    rule = Q(memberships__user_id=user.pk)
    if user.organisation_id and accounts_permissions.is_verified(user):
        from accounts.models import Organisation

        region = Organisation.objects.filter(pk=user.organisation_id).values("metropolis_region")[:1]
        rule |= Q(join_mode=JoinMode.AUTOMATIC, automatic_organisation_id=user.organisation_id)
        rule |= Q(
            join_mode=JoinMode.AUTOMATIC,
            automatic_organisation__isnull=True,
            automatic_region__gt="",
            automatic_region=Subquery(region),
        )
    return Group.objects.filter(rule)


def group_ids_of(user) -> frozenset[int]:
    """The ids of `member_groups` (one query, remembered for the request)."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    known = user.__dict__.get("_group_ids")
    if known is None:
        known = frozenset(member_groups(user).values_list("pk", flat=True).distinct())
        user.__dict__["_group_ids"] = known
    return known


def forget(user) -> None:
    """After a change to this person's groups, in this request."""
    user.__dict__.pop("_group_ids", None)
    user.__dict__.pop("_group_categories", None)


def is_member(user, group: Group) -> bool:
    return group.pk in group_ids_of(user)


def is_owner(user, group: Group) -> bool:
    return (
        getattr(user, "is_authenticated", False)
        and Membership.objects.filter(group=group, user=user, owner=True).exists()
    )


def can_manage(user, group: Group) -> bool:
    """Owners and staff add and remove members and approve requests."""
    return accounts_permissions.is_staff(user) or is_owner(user, group)


def can_see(user, group: Group) -> bool:
    return (
        group.visibility == Visibility.PUBLIC or is_member(user, group) or accounts_permissions.is_staff(user)
    )


def visible_groups(user) -> QuerySet[Group]:
    groups = Group.objects.all()
    if accounts_permissions.is_staff(user):
        return groups
    return groups.filter(Q(visibility=Visibility.PUBLIC) | Q(pk__in=member_groups(user).values("pk")))


def members_of(group: Group):
    """The active people of a group: its membership rows and, for an automatic group, everyone its
    rule matches (one query when evaluated)."""
    from django.contrib.auth import get_user_model

    rule = Q(group_memberships__group=group)
    if (automatic := group.automatic_rule()) is not None:
        rule |= automatic
    return get_user_model().objects.filter(rule, is_active=True).distinct()
