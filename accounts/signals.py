"""Thin receivers: allauth tells us an address was confirmed; the service decides what it means."""

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from . import services


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(email_confirmed, dispatch_uid="accounts.verify_on_email_confirmed")
def verify_on_email_confirmed(sender, request, email_address, **kwargs):
    services.handle_confirmed_email(email_address.user, email_address.email, ip=client_ip(request))
