"""Group changes drop the pages kept for the people they concern (core/page_cache.py): a member
added or removed sees their groups' categories, topics and live channels change on their next page."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from core import page_cache

from .models import Group, Membership


@receiver([post_save, post_delete], sender=Membership, dispatch_uid="groups.membership_drops_pages")
def membership_changed(sender, instance, **kwargs):
    page_cache.changed(readers=[instance.user_id], lists=False)


@receiver([post_save, post_delete], sender=Group, dispatch_uid="groups.group_drops_pages")
def group_changed(sender, instance, **kwargs):
    """An automatic group follows an organisation or a region: who is in it may change for many."""
    page_cache.changed(site=True)
