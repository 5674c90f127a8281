"""People registered for an event watch its linked topics, and hear of every new post in them."""

import pytest

from events import services
from forum import services as forum_services
from forum import watching
from forum.models import TopicWatch, WatchLevel, WatchReason
from notifications.models import Notification
from tests.conftest import make_user
from tests.factories import EventFactory, OfficialFactory, RegistrationFactory, TopicFactory

pytestmark = pytest.mark.django_db


def levels(topic) -> dict:
    return dict(TopicWatch.objects.filter(topic=topic).values_list("user__username", "level"))


def test_registrants_watch_linked_topics_and_hear_of_new_posts(django_capture_on_commit_callbacks, settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    staff = make_user("staff")
    question = TopicFactory(author=staff, title="What should the webinar answer first?")
    event = EventFactory(capacity=1)
    earlier = RegistrationFactory(event=event).user  # registered before the topic was linked
    services.link_forum(event, staff, topics=[question])
    assert levels(question)[earlier.username] == WatchLevel.WATCHING

    ana, bea = OfficialFactory(), OfficialFactory()
    watching.set_topic_level(bea, question, WatchLevel.MUTED)  # her choice stays
    services.cancel_registration(earlier.registrations.get(event=event), earlier)
    assert earlier.username not in levels(question)  # the event's watch went with the registration
    services.register(ana, event)
    services.register(bea, event)  # the event is full: Bea waits
    assert levels(question)[ana.username] == WatchLevel.WATCHING
    assert levels(question)[bea.username] == WatchLevel.MUTED
    assert TopicWatch.objects.get(user=ana, topic=question).reason == WatchReason.EVENT

    with django_capture_on_commit_callbacks(execute=True):
        forum_services.create_reply(OfficialFactory(), question, "Start with connectivity.")
    assert Notification.objects.get(recipient=ana).kind == "watched_post"
    assert not Notification.objects.filter(recipient=bea).exists()


def test_a_promoted_registrant_watches_too(django_capture_on_commit_callbacks):
    staff = make_user("staff")
    question = TopicFactory(author=staff)
    event = EventFactory(capacity=1)
    services.link_forum(event, staff, topics=[question])
    first, second = OfficialFactory(), OfficialFactory()
    services.register(first, event)
    services.register(second, event)
    assert second.username not in levels(question)  # waiting list only
    services.cancel_registration(first.registrations.get(event=event), first)
    assert levels(question) == {staff.username: WatchLevel.WATCHING, second.username: WatchLevel.WATCHING}
