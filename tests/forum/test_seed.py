"""The demo seed: three questions in the reader's language, pinned, tagged, with threaded replies."""

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from forum.models import Category, PinScope, Post, Topic, TopicStatus
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


def seed(*args):
    out = StringIO()
    call_command("seed_metropolis", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        list(
            Topic.objects.order_by("pk").values_list("pk", "status", "opens_at", "posts_count", "pin_scope")
        ),
        Post.objects.count(),
        Category.objects.count(),
    )


def test_seed_creates_the_questions_open_at_once_and_is_idempotent():
    seed()
    first = snapshot()
    seed()
    assert snapshot() == first
    topics = Topic.objects.filter(category__slug="digitalisation")
    assert topics.count() == 3
    for topic in topics:
        assert topic.pin_scope == PinScope.GLOBAL
        assert topic.status == TopicStatus.OPEN
        assert topic.tags.count() >= 3
        assert topic.posts_count >= 4
    deepest = Post.objects.order_by("-depth").first()
    assert deepest.depth >= 2


def test_home_page_lists_the_questions_in_the_readers_language(client):
    seed()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Which are the challenges and opportunities" in english
    spanish = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "¿Cuáles son los retos y oportunidades" in spanish
    topic = Topic.objects.get(slug="covid-19-internet-access")
    french = client.get(topic.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "La Covid-19 a-t-elle été le tournant" in french
    assert "Cette question ouvre le forum" in french
    german = client.get(topic.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Has Covid-19 been the turning point" in german


def test_starts_in_schedules_the_questions_and_they_open_on_time(client):
    output = seed("--starts-in", "30")
    assert "opens" in output
    topic = Topic.objects.get(slug="ict-challenges-opportunities")
    assert topic.status == TopicStatus.SCHEDULED
    # The invited demo officials answered already; other officials wait for the start.
    assert topic.posts_count > 1
    official = OfficialFactory()
    client.force_login(official)
    assert "This topic opens for replies on" in client.get(topic.get_absolute_url()).content.decode()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        response = client.post(f"/t/{topic.pk}/reply", {"raw": "Right at the start of the webinar"})
    assert response.status_code == 302
    seed("--starts-in", "0")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.OPEN
