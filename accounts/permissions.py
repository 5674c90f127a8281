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


def has_mfa(user) -> bool:
    """Whether the person has enrolled a second factor (TOTP) with allauth.mfa."""
    if not user.is_authenticated:
        return False
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def posting_block_reason(user) -> str | None:
    """Why this person may not post right now, in a sentence for them; None when they may post."""
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    from .models import VerificationState

    if not user.is_authenticated:
        return _("Sign in to take part in the discussion.")
    if is_suspended(user):
        return _("Your account is suspended until %(date)s.") % {
            "date": date_format(timezone.localtime(user.suspended_until), "DATETIME_FORMAT")
        }
    if is_silenced(user):
        when = date_format(timezone.localtime(user.silenced_until), "DATETIME_FORMAT")
        if user.silenced_reason:
            return _(
                "You cannot post until %(date)s because a moderator has silenced your account. "
                "The reason given: %(reason)s"
            ) % {"date": when, "reason": user.silenced_reason}
        return _("You cannot post until %(date)s because a moderator has silenced your account.") % {
            "date": when
        }
    if is_verified(user) or is_moderator(user):
        return None
    reasons = {
        VerificationState.PENDING: _(
            "Only verified officials can post. Your verification request is waiting for a moderator."
        ),
        VerificationState.REJECTED: _(
            "Only verified officials can post. Your verification request was not accepted; "
            "you can file a new one."
        ),
        VerificationState.REVOKED: _(
            "Only verified officials can post. Your verification was revoked; "
            "your earlier posts stay, and you can ask to be verified again."
        ),
        VerificationState.EXPIRED: _(
            "Only verified officials can post. Your verification has expired; "
            "your earlier posts stay, and you can renew it."
        ),
    }
    return reasons.get(
        user.verification_state,
        _("Only verified officials can post. Ask to be verified as an official of your organisation."),
    )


def verified_officials():
    """Queryset matching is_verified: the active accounts the directory lists."""
    from .models import User, VerificationState

    return User.objects.filter(is_active=True, verification_state=VerificationState.VERIFIED)


def can_review_verifications(user) -> bool:
    """Moderators and staff review requests (their pages also need MFA: accounts.decorators)."""
    return is_moderator(user)


def can_manage_organisations(user) -> bool:
    return is_staff(user)


def can_revoke_verification(user, person) -> bool:
    return is_moderator(user) and person.is_verified_official and person.pk != user.pk


def can_invite(user) -> bool:
    """Moderators and staff invite people (organisations have no admins of their own yet)."""
    return is_moderator(user) and not is_suspended(user)
