"""Demo data for accounts: the staff and moderator log-ins of the demo."""

from allauth.account.models import EmailAddress

from .models import User

DEMO_ACCOUNTS = [
    # username, email, password, role label, flags
    (
        "admin",
        "admin@metropolis.example",
        "metropolis-admin",
        "staff",
        {"is_staff": True, "is_superuser": True},
    ),
    (
        "moderator",
        "moderator@metropolis.example",
        "metropolis-moderator",
        "moderator",
        {"is_moderator": True},
    ),
]


def seed_demo_accounts() -> list[tuple[str, str, str]]:
    """Create the demo log-ins once, with confirmed emails; return (email, password, role)."""
    logins = []
    for username, email, password, role, flags in DEMO_ACCOUNTS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username, email=email, display_name=username.title(), **flags)
            user.set_password(password)
            user.save()
        EmailAddress.objects.get_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        logins.append((email, password, role))
    return logins
