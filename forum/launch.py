"""Categories that open at a set moment: the forum's launch at a webinar.

In the forum's own terms: until it opens, a held category's topics are scheduled
(readable; replies only from their invited posters and moderators) and only
moderators start topics in it. The events app holds categories for a launch and
opens them when the launch goes live. Moderators or the system (by=None) call these.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction

from core import page_cache

from . import services
from .models import Category, StartAccess, TopicStatus


def hold_category(category: Category, opens_at: datetime, *, invited: Iterable = (), by=None) -> str:
    """Read-only for members until ``opens_at``; ``invited`` people may already reply.

    Returns who could start topics before, to hand back to open_category.
    """
    services._check_actor(by)
    invited = list(invited)
    before = Category.objects.values_list("start_access", flat=True).get(pk=category.pk)
    with transaction.atomic():
        Category.objects.filter(pk=category.pk).update(start_access=StartAccess.MODERATORS)
        page_cache.changed(site=True)  # who may start a topic there
        for topic in category.topics.filter(status__in=[TopicStatus.OPEN, TopicStatus.SCHEDULED]):
            services.schedule_topic(topic, opens_at, by=by)
            if invited:
                services.invite_posters(topic, invited, by=by)
    return before


def open_category(category: Category, *, start_access: str = StartAccess.VERIFIED, by=None) -> None:
    """Open a held category now: its topics accept replies and topics may be started as before."""
    services._check_actor(by)
    with transaction.atomic():
        Category.objects.filter(pk=category.pk).update(start_access=start_access)
        page_cache.changed(site=True)
        for topic in category.topics.filter(status=TopicStatus.SCHEDULED):
            services.open_topic(topic, by=by)
