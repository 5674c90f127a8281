"""How a person hears about their verification: one function, so the notifications module can
take over later (in-app notices) without touching the services."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext_lazy as _

SUBJECTS = {
    "verified": _("You are now a verified official"),
    "rejected": _("Your verification request was not accepted"),
    "needs_information": _("A moderator needs more information about your verification request"),
    "revoked": _("Your verification was revoked"),
    "expired": _("Your verification has expired"),
    "expiring": _("Your verification will expire soon"),
}


def site_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def notify_verification(user, kind: str, **context) -> None:
    """Tell `user` about a verification change of `kind`: by email, owed in the notifications
    outbox inside the surrounding transaction (sent after commit, retried by the worker), and in
    the site as a message on their next page.

    The text is rendered now, in the person's preferred language, from
    templates/accounts/email/verification.txt; a rolled-back change sends nothing.
    """
    from django.core.mail import EmailMessage

    from notifications.services import queue_message

    from .models import User

    # In the site: a one-time message on their next page (accounts.middleware).
    User.objects.filter(pk=user.pk).update(verification_notice=kind)
    user.verification_notice = kind  # so a later save() of this instance keeps it
    if not user.email:
        return
    language = user.preferred_language or settings.LANGUAGE_CODE
    with translation.override(language):
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + str(SUBJECTS[kind])
        body = render_to_string(
            "accounts/email/verification.txt",
            {
                "user": user,
                "kind": kind,
                "verification_url": site_url("/verification/"),
                "site_url": site_url("/"),
                **context,
                "renew_url": site_url(context["renew_url"]) if context.get("renew_url") else "",
            },
        )
    message = EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    queue_message(message, kind=f"verification:{kind}")


def show_pending_notice(request) -> None:
    """Turn the person's unseen verification notice into a Django message, once."""
    from django.contrib import messages

    from .models import User

    user = request.user
    kind = user.verification_notice
    if kind in SUBJECTS:
        level = messages.SUCCESS if kind == "verified" else messages.WARNING
        messages.add_message(request, level, SUBJECTS[kind] + ". " + str(_("See your verification page.")))
    User.objects.filter(pk=user.pk).update(verification_notice="")
    user.verification_notice = ""
