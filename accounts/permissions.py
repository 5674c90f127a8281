"""Who a person is to the forum. Plain functions; every app asks these."""

from django.utils import timezone


def is_moderator(user) -> bool:
    return bool(user.is_authenticated and (user.is_moderator or user.is_staff or user.is_superuser))


def is_staff(user) -> bool:
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def is_verified(user) -> bool:
    return bool(user.is_authenticated and user.is_verified_official)


def is_silenced(user) -> bool:
    return bool(user.is_authenticated and user.silenced_until and user.silenced_until > timezone.now())


def is_suspended(user) -> bool:
    return bool(user.is_authenticated and user.suspended_until and user.suspended_until > timezone.now())


def can_participate(user) -> bool:
    """Verified officials and moderators may write, unless silenced or suspended."""
    if is_silenced(user) or is_suspended(user):
        return False
    return is_verified(user) or is_moderator(user)
