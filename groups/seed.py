"""The secretariat's working groups in the demo (called by seed_metropolis; idempotent)."""

from django.contrib.auth import get_user_model

from accounts.seed import DEMO_OFFICIALS

from .models import Group, JoinMode, Membership, Visibility

WORKING_GROUPS = [
    {
        "name": "digitalisation-wg",
        "full_name": "Digitalisation working group",
        "description": (
            "Metropolis members working on digital inclusion, open data and smart city services. "
            "Write to the group, or mention @digitalisation-wg to reach every member."
        ),
        "visibility": Visibility.PUBLIC,
        "join_mode": JoinMode.REQUEST,
    },
]


def seed_groups() -> list[Group]:
    User = get_user_model()
    officials = list(User.objects.filter(username__in=[row[0] for row in DEMO_OFFICIALS]))
    owner = User.objects.filter(username="moderator").first()
    groups = []
    for data in WORKING_GROUPS:
        group, _created = Group.objects.get_or_create(name=data["name"], defaults=data)
        for person in officials:
            Membership.objects.get_or_create(group=group, user=person)
        if owner is not None:
            Membership.objects.update_or_create(group=group, user=owner, defaults={"owner": True})
        groups.append(group)
    return groups
