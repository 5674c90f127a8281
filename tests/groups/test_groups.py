"""Groups: joining, owners, categories restricted to groups, @group mentions, group messages, API."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from forum import digest, messages, permissions, search, services
from forum import live as forum_live
from groups import permissions as group_permissions
from groups import seed
from groups import services as group_services
from groups.models import Group, JoinMode, JoinRequest, Visibility
from notifications.models import Notification, NotificationKind
from tests.factories import CategoryFactory, OfficialFactory, OrganisationFactory, StaffFactory, TopicFactory

pytestmark = pytest.mark.django_db

HIDDEN = "Quarterly pilot results of the working group"


@pytest.fixture
def setup():
    staff = StaffFactory()
    member, outsider, reader = (
        OfficialFactory(username="member"),
        OfficialFactory(username="outsider"),
        OfficialFactory(),
    )
    group = group_services.create_group(staff, "digitalisation-wg", "Digitalisation working group")
    reading_group = group_services.create_group(staff, "readers", "Readers")
    group_services.add_members(staff, group, [member])
    group_services.add_members(staff, reading_group, [reader])
    category = CategoryFactory(slug="wg", name="Working group")
    services.restrict_category(staff, category, {group: "post", reading_group: "read"})
    topic = services.create_topic(member, category, HIDDEN, "Numbers from three pilot cities")
    return {
        "staff": staff,
        "member": member,
        "outsider": outsider,
        "reader": reader,
        "group": group,
        "category": category,
        "topic": topic,
    }


def test_a_restricted_category_is_invisible_to_non_members(client, setup):
    outsider, member, topic, category = setup["outsider"], setup["member"], setup["topic"], setup["category"]
    TopicFactory(title="Zanzibarian lessons on public fibre networks")
    for user in (outsider, AnonymousUser()):
        assert not permissions.visible_topics(user).filter(pk=topic.pk).exists()
        assert not permissions.visible_categories(user).filter(pk=category.pk).exists()
        assert not permissions.can_read(user, topic)
        assert topic.pk not in [hit.topic.pk for hit in search.search(user, "pilot").hits]
    start, end = timezone.now() - timezone.timedelta(days=1), timezone.now() + timezone.timedelta(days=1)
    assert not digest.category_topics(outsider, category, start, end, 10)
    assert forum_live.announcement_channels(topic) == [forum_live.category_channel(category.pk)]
    assert not forum_live.may_read_category_channel(outsider, forum_live.category_channel(category.pk))
    assert not forum_live.may_read_topic_channel(outsider, forum_live.topic_channel(topic.pk))
    client.force_login(outsider)
    for url in ("/latest", "/latest.rss", "/categories.json", "/latest.json", "/search?q=pilot"):
        assert HIDDEN not in client.get(url).content.decode(), url
    assert client.get(topic.get_absolute_url()).status_code == 403
    anonymous = Client()
    for url in ("/", "/latest", "/latest.rss"):
        for _ in range(2):  # the second may come from the anonymous page cache
            assert HIDDEN not in anonymous.get(url).content.decode()

    # Members read and post; read-only groups read; staff see it.
    assert permissions.visible_topics(member).filter(pk=topic.pk).exists()
    assert permissions.can_reply(member, topic) and permissions.can_start_topic(member, category)
    assert forum_live.may_read_topic_channel(member, forum_live.topic_channel(topic.pk))
    assert topic.pk in [hit.topic.pk for hit in search.search(member, "pilot").hits]
    assert permissions.can_read(setup["reader"], topic)
    assert not permissions.can_reply(setup["reader"], topic)
    assert not permissions.can_start_topic(setup["reader"], category)
    assert permissions.can_read(setup["staff"], topic)
    client.force_login(member)
    assert HIDDEN in client.get("/latest").content.decode()

    # Leaving the group closes it at once (the cached groups follow).
    group_services.remove_member(member, setup["group"], member)
    member = type(member).objects.get(pk=member.pk)
    assert not permissions.can_read(member, topic)


def test_group_mentions_notify_the_members(setup, django_capture_on_commit_callbacks):
    staff, member = setup["staff"], setup["member"]
    open_topic = TopicFactory()
    other = OfficialFactory()
    group_services.add_members(staff, setup["group"], [other])
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(
            OfficialFactory(), open_topic, "Question for @digitalisation-wg: who piloted it?"
        )
    notified = set(
        Notification.objects.filter(kind=NotificationKind.MENTION).values_list("recipient_id", flat=True)
    )
    assert {member.pk, other.pk} <= notified
    Notification.objects.all().delete()
    Group.objects.filter(pk=setup["group"].pk).update(mentionable=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.create_reply(OfficialFactory(), open_topic, "Again @digitalisation-wg, anyone?")
    assert not Notification.objects.filter(kind=NotificationKind.MENTION).exists()


def test_join_modes_and_owners(setup):
    staff, outsider, member = setup["staff"], setup["outsider"], setup["member"]
    group = setup["group"]  # asks owners to approve (the default)
    assert group_services.join(outsider, group, "I run the pilot in Lyon") == "requested"
    request = JoinRequest.objects.get(group=group, user=outsider)
    with pytest.raises(PermissionDenied):
        group_services.decide_request(member, request, True)  # not an owner
    group_services.decide_request(staff, request, True)
    assert group_permissions.is_member(type(outsider).objects.get(pk=outsider.pk), group)

    open_group = group_services.create_group(staff, "open-data", "Open data", join_mode=JoinMode.OPEN)
    assert group_services.join(member, open_group) == "joined"
    invite = group_services.create_group(staff, "pilots", "Pilots", join_mode=JoinMode.INVITE)
    with pytest.raises(PermissionDenied):
        group_services.join(member, invite)
    with pytest.raises(PermissionDenied):
        group_services.add_members(member, invite, [outsider])
    group_services.add_members(staff, invite, [member], owner=True)
    group_services.add_members(type(member).objects.get(pk=member.pk), invite, [outsider])

    toronto = OrganisationFactory(name="Toronto", metropolis_region="North America")
    automatic = group_services.create_group(
        staff, "toronto", "Toronto officials", join_mode=JoinMode.AUTOMATIC, automatic_organisation=toronto
    )
    region = group_services.create_group(
        staff,
        "north-america",
        "North America",
        join_mode=JoinMode.AUTOMATIC,
        automatic_region="North America",
    )
    official = OfficialFactory(organisation=toronto)
    assert group_permissions.is_member(official, automatic) and group_permissions.is_member(official, region)
    assert official in group_permissions.members_of(automatic)


def test_members_only_groups_and_pages(client, setup):
    staff, outsider, member = setup["staff"], setup["outsider"], setup["member"]
    group_services.create_group(staff, "secret", "Secret group", visibility=Visibility.MEMBERS)
    client.force_login(outsider)
    assert client.get("/g/secret").status_code == 404
    assert "Secret group" not in client.get("/g/").content.decode()
    assert client.get("/groups/secret.json").status_code == 404
    page = client.get("/g/digitalisation-wg").content.decode()
    assert "Digitalisation working group" in page and "Ask to join" in page
    client.post("/g/digitalisation-wg/act", {"action": "join", "message": "Hello"})
    assert JoinRequest.objects.filter(user=outsider).exists()
    client.force_login(staff)
    page = client.get("/g/digitalisation-wg").content.decode()
    assert "Asking to join" in page
    request = JoinRequest.objects.get(user=outsider)
    client.post("/g/digitalisation-wg/act", {"action": "accept", "request": request.pk})
    assert group_permissions.is_member(type(outsider).objects.get(pk=outsider.pk), setup["group"])
    client.force_login(member)
    assert client.get("/g/secret").status_code == 404
    assert client.get("/g/digitalisation-wg/messages").status_code == 200
    client.force_login(OfficialFactory())
    assert client.get("/g/digitalisation-wg/messages").status_code == 404


def test_a_message_to_a_group_reaches_its_members_and_its_inbox(client, setup):
    staff, member, outsider = setup["staff"], setup["member"], setup["outsider"]
    writer = OfficialFactory()
    people, groups = messages.split_targets(
        messages.recipients_from_names("digitalisation-wg", sender=writer)
    )
    topic = messages.create_message(
        writer, people, "A question for the working group", "Who ran it?", groups=groups
    )
    assert permissions.can_read(member, topic)
    assert permissions.can_read(staff, topic)  # staff created the group: a member (its owner)
    assert not permissions.can_read(outsider, topic)
    client.force_login(member)
    assert "A question for the working group" in client.get("/g/digitalisation-wg/messages").content.decode()


def key_for(user) -> str:
    from api.services import create_api_key

    return create_api_key(None, user)[1]


def test_api_groups(setup):
    staff, outsider = setup["staff"], setup["outsider"]
    api = Client(headers={"Api-Key": key_for(outsider), "Api-Username": outsider.username})
    names = [g["name"] for g in api.get("/groups.json").json()["groups"]]
    assert "digitalisation-wg" in names
    detail = api.get("/groups/digitalisation-wg.json").json()["group"]
    assert detail["full_name"] == "Digitalisation working group" and detail["is_group_user"] is False
    body = api.get("/groups/digitalisation-wg/members.json").json()
    assert {m["username"] for m in body["members"]} == {"member", staff.username}
    assert [o["username"] for o in body["owners"]] == [staff.username]
    group_id = setup["group"].pk
    assert (
        api.put(
            f"/groups/{group_id}/members.json",
            "usernames=outsider",
            content_type="application/x-www-form-urlencoded",
        ).status_code
        == 403
    )
    owner_api = Client(headers={"Api-Key": key_for(staff), "Api-Username": staff.username})
    response = owner_api.put(
        f"/groups/{group_id}/members.json",
        "usernames=outsider",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200 and response.json()["usernames"] == ["outsider"]
    assert api.get("/groups/digitalisation-wg.json").json()["group"]["is_group_user"] is True
    response = owner_api.delete(f"/groups/{group_id}/members.json?usernames=outsider")
    assert response.status_code == 200


def test_the_demo_seeds_the_digitalisation_working_group(django_capture_on_commit_callbacks):
    from accounts.seed import seed_accounts

    seed_accounts()
    first = seed.seed_groups()
    second = seed.seed_groups()
    assert [g.pk for g in first] == [g.pk for g in second]
    group = Group.objects.get(name="digitalisation-wg")
    assert group.full_name == "Digitalisation working group"
    assert group.memberships.filter(user__username="harare_ict").exists()
    assert group.memberships.filter(user__username="moderator", owner=True).exists()


def test_restricted_categories_cost_lists_no_query(client, setup, settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    settings.PAGE_CACHE_SIGNED_IN = False  # the cost of rendering the list, not of a kept copy

    def count(user) -> int:
        client.force_login(user)
        client.get("/latest")  # warm caches, as a running server has them
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/latest").status_code == 200
        return len(queries)

    TopicFactory()  # everyone's list has a topic to show
    restricted = {name: count(setup[name]) for name in ("member", "outsider")}
    services.restrict_category(setup["staff"], setup["category"], {})  # open it again
    assert restricted == {name: count(setup[name]) for name in ("member", "outsider")}


def test_the_category_bar_of_a_restricted_category_follows_each_persons_groups(setup):
    TopicFactory()
    pages = {}
    for name in ("member", "outsider", "member", "outsider"):  # each twice: fresh, then cached
        client = Client()
        client.force_login(setup[name])
        pages[name] = client.get("/latest").content.decode()
    assert "Working group" in pages["member"]
    assert "Working group" not in pages["outsider"]
    group_services.add_members(
        setup["staff"], Group.objects.get(name="digitalisation-wg"), [setup["outsider"]]
    )
    client = Client()
    client.force_login(setup["outsider"])
    assert "Working group" in client.get("/latest").content.decode()


def test_staff_restrict_a_category_in_the_admin(client, setup):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    category = CategoryFactory(slug="pilots", name="Pilots")
    staff = setup["staff"]
    staff.is_superuser = True
    staff.save()
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)
    assert client.get(f"/admin/forum/category/{category.pk}/change/").status_code == 200
    assert client.get("/admin/groups/group/").status_code == 200
    data = {
        "name": "Pilots",
        "slug": "pilots",
        "colour": "#0b5cad",
        "position": 0,
        "read_access": "everyone",
        "start_access": "verified",
        "created_at_0": "2026-12-01",
        "created_at_1": "10:00:00",
        "group_permissions-TOTAL_FORMS": "1",
        "group_permissions-INITIAL_FORMS": "0",
        "group_permissions-MIN_NUM_FORMS": "0",
        "group_permissions-MAX_NUM_FORMS": "1000",
        "group_permissions-0-group": setup["group"].pk,
        "group_permissions-0-permission": "read",
    }
    response = client.post(f"/admin/forum/category/{category.pk}/change/", data)
    assert response.status_code == 302, [
        line for line in response.content.decode().splitlines() if "error" in line.lower()
    ][:20]
    category.refresh_from_db()
    assert category.group_restricted
    assert not permissions.can_read_category(setup["outsider"], category)
    assert permissions.can_read_category(setup["member"], category)
