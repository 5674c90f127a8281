"""Thin receivers: allauth tells us an address was confirmed; the service decides what it means;
a change to a person's account drops the pages kept for them."""

from allauth.account.signals import email_confirmed
from django.db.models.signals import post_save
from django.dispatch import receiver

from core import page_cache

from . import services
from .models import User


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(email_confirmed, dispatch_uid="accounts.verify_on_email_confirmed")
def verify_on_email_confirmed(sender, request, email_address, **kwargs):
    services.handle_confirmed_email(email_address.user, email_address.email, ip=client_ip(request))


@receiver(post_save, sender=User, dispatch_uid="accounts.person_changed_drops_their_pages")
def person_changed(sender, instance, **kwargs):
    """Verification, moderator status, silencing, time zone, name: their own pages render afresh.

    (Others' pages show names and badges from the site's version, which the services move on.)"""
    page_cache.changed(readers=[instance.pk], lists=False)
