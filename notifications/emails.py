"""Notification emails: text and HTML, in the recipient's language, with one-click unsubscribe."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from .services import _absolute, in_language_of, make_unsubscribe_token


def build_message(recipient, notifications: list) -> EmailMultiAlternatives:
    """One notification: its own email. Several (a digest): one email listing them."""
    kinds = sorted({n.kind for n in notifications})
    token = make_unsubscribe_token(recipient, kinds)
    unsubscribe_url = _absolute(reverse("notifications:unsubscribe", args=[token]))
    with in_language_of(recipient):
        context = {
            "recipient": recipient,
            "notifications": notifications,
            "items": [(n, _absolute(n.url)) for n in notifications],
            "unsubscribe_url": unsubscribe_url,
            "preferences_url": _absolute(reverse("notifications:preferences")),
            "site_name": str(settings.SITE_NAME),
            "site_url": settings.SITE_URL,
            "LANGUAGE_CODE": translation.get_language(),
        }
        if len(notifications) == 1:
            subject = notifications[0].title
        else:
            subject = _("%(count)s new notifications") % {"count": len(notifications)}
        subject = f"[{settings.SITE_NAME}] {subject}".replace("\n", " ")
        text = render_to_string("notifications/email/notification.txt", context)
        html = render_to_string("notifications/email/notification.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
        headers={
            # RFC 8058: mail programs offer an "Unsubscribe" button that POSTs to this address.
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Notification-Ids": ",".join(str(n.pk) for n in notifications),
        },
    )
    message.attach_alternative(html, "text/html")
    return message
