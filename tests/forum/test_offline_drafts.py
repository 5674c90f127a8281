"""The server's side of drafts that survive the network (the journey is a browser test:
tests/browser/test_offline_drafts.py)."""

import pytest
from django.urls import reverse

from forum import services
from forum.models import Draft
from tests.factories import OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db


def test_the_service_worker_is_served_from_the_root_to_anyone_without_a_query(
    client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert "caches.match" in response.content.decode()


def test_every_composer_keeps_a_copy_on_the_device_and_says_so_in_the_readers_language(client):
    official = OfficialFactory()
    topic = TopicFactory()
    post = topic.posts.get(number=1)
    services.save_draft(official, Draft.key_for_topic(topic.pk), raw="Half a thought")
    client.force_login(official)
    client.cookies["django_language"] = "fr"
    page = client.get(topic.get_absolute_url()).content.decode()
    assert f'data-local-draft="{official.pk}:topic:{topic.pk}"' in page
    assert "data-server-saved=" in page
    assert "Enregistré sur cet appareil ; sera synchronisé" in page
    assert "js/composer.js" in page
    new_topic = client.get(reverse("forum:new_topic")).content.decode()
    assert f'data-local-draft="{official.pk}:{Draft.NEW_TOPIC}"' in new_topic

    client.force_login(topic.author)
    edit = client.get(reverse("forum:edit_post", args=[post.pk])).content.decode()
    assert f'data-local-draft="{topic.author.pk}:edit:{post.pk}"' in edit
    # A copy on the device older than the post's last change is not restored over it.
    assert f'data-server-saved="{int(post.created_at.timestamp())}"' in edit
    assert "js/composer.js" in edit


def test_a_retried_reply_with_the_same_key_is_posted_once(client):
    official = OfficialFactory()
    topic = TopicFactory()
    client.force_login(official)
    data = {
        "raw": "Sent twice by a flaky connection",
        "idempotency_key": "6b3c5b0e-5d1e-4f7e-9f55-0d6c1f0a9a11",
    }
    first = client.post(reverse("forum:reply", args=[topic.pk]), data)
    again = client.post(reverse("forum:reply", args=[topic.pk]), data)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert topic.posts.filter(author=official).count() == 1
