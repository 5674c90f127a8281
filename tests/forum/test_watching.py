"""Watching levels in the pages: the control on topics and categories, and /my/watching."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import services, watching
from forum.models import CategoryWatch, ReadAccess, TopicWatch, WatchLevel, WatchReason
from notifications.models import EmailFrequency, Notification
from notifications.services import email_preferences
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_topic_page_shows_the_level_and_a_form_that_works_without_javascript(client):
    topic = TopicFactory()
    eve = OfficialFactory()
    client.force_login(eve)
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Notifications: <strong>Normal</strong>" in page
    assert f'action="/t/{topic.pk}/watch"' in page
    assert "You are notified of every new post in this topic." in page
    assert "Unread counts in the topic lists" in page

    response = client.post(f"/t/{topic.pk}/watch", {"level": "watching", "next": topic.get_absolute_url()})
    assert response.status_code == 302 and response["Location"] == topic.get_absolute_url()
    assert TopicWatch.objects.get(user=eve, topic=topic).level == WatchLevel.WATCHING
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Notification level saved: Watching." in page
    assert "Notifications: <strong>Watching</strong>" in page
    assert (
        'value="watching" id="watch-level-watching" aria-describedby="watch-level-watching-help" checked'
        in page
    )


def test_htmx_swaps_the_control_in_place_and_a_bad_level_is_refused(client):
    topic = TopicFactory()
    eve = OfficialFactory()
    client.force_login(eve)
    response = client.post(f"/t/{topic.pk}/watch", {"level": "muted"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<details") and "Saved: Muted." in html

    response = client.post(f"/t/{topic.pk}/watch", {"level": "loud"})
    assert response.status_code == 400
    assert "Choose watching, tracking, normal or muted." in response.content.decode()
    assert TopicWatch.objects.get(user=eve, topic=topic).level == WatchLevel.MUTED


def test_the_topic_control_shows_the_category_level_it_inherits(client):
    category = CategoryFactory()
    topic = TopicFactory(category=category)
    eve = OfficialFactory()
    client.force_login(eve)
    page = client.get(category.get_absolute_url()).content.decode()
    assert f'action="/c/{category.pk}/watch"' in page
    assert "You are notified of every new topic and every new post in this category." in page

    client.post(f"/c/{category.pk}/watch", {"level": "watching"})
    assert CategoryWatch.objects.get(user=eve, category=category).level == WatchLevel.WATCHING
    page = client.get(topic.get_absolute_url()).content.decode()
    assert (
        "Notifications: <strong>Watching</strong> "
        '<span class="watch-inherited">(the category\'s level)</span>' in page
    )
    # Back to normal: the row goes.
    client.post(f"/c/{category.pk}/watch", {"level": "normal"})
    assert not CategoryWatch.objects.exists()


def test_anonymous_visitors_see_no_control_and_unreadable_targets_are_refused(client):
    private = CategoryFactory(read_access=ReadAccess.VERIFIED)
    topic = TopicFactory(category=private)
    assert "watch-control" not in client.get(TopicFactory().get_absolute_url()).content.decode()

    client.force_login(UserFactory())  # a member, not verified
    assert client.post(f"/t/{topic.pk}/watch", {"level": "watching"}).status_code == 403
    assert client.post(f"/c/{private.pk}/watch", {"level": "watching"}).status_code == 403
    assert not TopicWatch.objects.exclude(reason=WatchReason.CREATED).exists()
    assert not CategoryWatch.objects.exists()


def test_my_watching_lists_levels_and_changes_them(client):
    eve = OfficialFactory()
    category = CategoryFactory(name="Smart mobility")
    own = TopicFactory(author=eve, title="Our bike-sharing pilot, a year later")
    chosen = TopicFactory(title="Congestion charges: who tried them?")
    watching.set_topic_level(eve, chosen, WatchLevel.MUTED)
    watching.set_category_level(eve, category, WatchLevel.WATCHING)
    client.force_login(eve)

    page = client.get("/my/watching").content.decode()
    assert "Smart mobility" in page and "Our bike-sharing pilot, a year later" in page
    assert "You started the topic" in page and "You chose it" in page
    assert '<option value="muted" selected>' in page and '<option value="watching" selected>' in page

    response = client.post(f"/t/{chosen.pk}/watch", {"level": "tracking", "next": "/my/watching"})
    assert response["Location"] == "/my/watching"
    assert TopicWatch.objects.get(user=eve, topic=chosen).level == WatchLevel.TRACKING
    assert TopicWatch.objects.get(user=eve, topic=own).level == WatchLevel.WATCHING


def test_my_watching_has_a_query_budget_that_does_not_grow(client):
    eve = OfficialFactory()
    client.force_login(eve)

    def measure() -> int:
        client.get("/my/watching")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/my/watching").status_code == 200
        return len(queries)

    watching.set_topic_level(eve, TopicFactory(), WatchLevel.WATCHING)
    watching.set_category_level(eve, CategoryFactory(), WatchLevel.MUTED)
    small = measure()
    for _ in range(15):
        watching.set_topic_level(eve, TopicFactory(), WatchLevel.MUTED)
        watching.set_category_level(eve, CategoryFactory(), WatchLevel.WATCHING)
    # The user (the session is cached), the topic watches, the category watches.
    assert small == measure() == 3


def test_done_when_a_reply_reaches_the_author_in_the_site_and_by_one_email_whose_unsubscribe_works(
    client, settings, django_capture_on_commit_callbacks
):
    """Issue 5, as a new user tries it: Bea answers Ana's question in the browser."""
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    ana = OfficialFactory(display_name="Ana")
    bea = OfficialFactory(display_name="Bea")
    topic = TopicFactory(author=ana, title="How do you keep citizens' data safe?")

    client.force_login(bea)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/t/{topic.pk}/reply", {"raw": "We encrypt everything at rest.", "reply_to": "1"}
        )
    assert response.status_code == 302

    # In the site: the bell and the notifications page.
    client.force_login(ana)
    page = client.get("/notifications").content.decode()
    assert "Bea replied to you in “How do you keep citizens&#x27; data safe?”" in page
    assert Notification.objects.filter(recipient=ana, kind="reply").count() == 1

    # By email: exactly one, with a working one-click unsubscribe link.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [ana.email]
    assert topic.post_url(2) in message.body
    link = message.extra_headers["List-Unsubscribe"].strip("<>").removeprefix(settings.SITE_URL.rstrip("/"))
    client.logout()
    client.handler.enforce_csrf_checks = True
    response = client.post(
        link, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert email_preferences(ana)["reply"] == EmailFrequency.NEVER

    # Another reply: in the site, but no more email.
    client.handler.enforce_csrf_checks = False
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(OfficialFactory(), topic, "So do we.", reply_to=topic.posts.get(number=1))
    assert Notification.objects.filter(recipient=ana, kind="reply").count() == 2
    assert len(mail.outbox) == 1
