"""Unlisted topics (Discourse's "visible: false"): out of lists, feeds and search for all but
moderators, still open by their link to anyone who may read the category."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from forum import permissions, search, services
from forum.models import ModerationAction, ModerationLogEntry
from tests.conftest import make_user
from tests.factories import CategoryFactory, OfficialFactory

pytestmark = pytest.mark.django_db

TITLE = "Quiet consultation on the tram timetable"


@pytest.fixture
def unlisted():
    topic = services.create_topic(OfficialFactory(), CategoryFactory(), TITLE, "Timetable drafts for review.")
    services.retag_topic(topic, ["transport"])
    return services.unlist_topic(topic, by=make_user("moderator"))


def test_unlist_and_relist_are_logged_for_moderators_only(unlisted):
    moderator = make_user("moderator")
    with pytest.raises(PermissionDenied):
        services.relist_topic(unlisted, by=make_user("verified"))
    assert unlisted.unlisted
    assert not services.relist_topic(unlisted, by=moderator).unlisted
    actions = list(ModerationLogEntry.objects.filter(topic=unlisted).values_list("action", flat=True))
    assert sorted(actions) == [ModerationAction.RELIST, ModerationAction.UNLIST]
    assert ModerationLogEntry.objects.get(action=ModerationAction.RELIST).actor == moderator
    assert str(ModerationAction.UNLIST.label) == "Unlisted"


@pytest.mark.parametrize(("role", "listed"), [("anonymous", False), ("verified", False), ("moderator", True)])
def test_lists_feeds_and_search_leave_it_out_but_for_moderators(client, unlisted, role, listed):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    for url in (
        "/",
        "/latest",
        "/new",
        "/top?period=all",
        unlisted.category.get_absolute_url(),
        "/tag/transport",
        "/latest.rss",
        f"/c/{unlisted.category.slug}/{unlisted.category.pk}.rss",
        f"/u/{unlisted.author.username}/activity",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        # Feeds are public: moderators read them as anyone else.
        expected = listed and ".rss" not in url
        assert (TITLE in response.content.decode()) is expected, url
    found = [hit.topic.pk for hit in search.search(user or AnonymousUser(), "tram").hits]
    assert found == ([unlisted.pk] if listed else [])
    assert permissions.visible_topics(user or AnonymousUser()).filter(pk=unlisted.pk).exists() is listed


def test_the_author_does_not_find_it_in_lists_either(unlisted):
    assert not permissions.visible_topics(unlisted.author).filter(pk=unlisted.pk).exists()


@pytest.mark.parametrize("role", ["anonymous", "verified", "moderator"])
def test_its_link_still_opens_with_a_notice_for_moderators(client, unlisted, role):
    user = make_user(role)
    if user is not None:
        client.force_login(user)
    for url in (unlisted.get_absolute_url(), f"{unlisted.get_absolute_url()}?view=tree"):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert TITLE in page
        assert ("This topic is unlisted" in page) is (role == "moderator")
    assert client.get(f"/t/{unlisted.slug}/{unlisted.pk}.rss").status_code == 200
    # Searching inside the topic works wherever its link does.
    found = search.search(user or AnonymousUser(), f"timetable topic:{unlisted.pk}")
    assert not found.error
    assert [hit.topic.pk for hit in found.hits] == [unlisted.pk]


def test_moderator_buttons_unlist_and_list_again(client, unlisted):
    client.force_login(make_user("moderator"))
    page = client.get(unlisted.get_absolute_url()).content.decode()
    assert 'value="relist"' in page and "List again" in page
    url = reverse("forum:moderate_topic", args=[unlisted.pk])
    client.post(url, {"action": "relist"})
    unlisted.refresh_from_db()
    assert not unlisted.unlisted
    assert 'value="unlist"' in client.get(unlisted.get_absolute_url()).content.decode()
    client.post(url, {"action": "unlist"})
    unlisted.refresh_from_db()
    assert unlisted.unlisted


def test_members_cannot_use_the_buttons(client, unlisted):
    client.force_login(make_user("verified"))
    response = client.post(reverse("forum:moderate_topic", args=[unlisted.pk]), {"action": "relist"})
    assert response.status_code == 403
    unlisted.refresh_from_db()
    assert unlisted.unlisted
