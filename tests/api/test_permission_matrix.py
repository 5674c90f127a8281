"""What each role's key may do through the API: the same as that person in the browser."""

import pytest

from tests.conftest import ROLES
from tests.factories import CategoryFactory, TopicFactory

pytestmark = pytest.mark.django_db

OK, DENIED, NOT_FOUND = 200, 403, 404
# role order: anonymous, member, verified, moderator, staff, silenced, suspended
MATRIX = {
    "read latest": [OK, OK, OK, OK, OK, OK, OK],
    "read a verified-only topic": [DENIED, DENIED, OK, OK, OK, OK, DENIED],
    "read current session": [NOT_FOUND, OK, OK, OK, OK, OK, OK],
    "reply": [DENIED, DENIED, OK, OK, OK, DENIED, DENIED],
    "start a topic": [DENIED, DENIED, OK, OK, OK, DENIED, DENIED],
    "start a topic where moderators start them": [DENIED, DENIED, DENIED, OK, OK, DENIED, DENIED],
    "like": [DENIED, DENIED, OK, OK, OK, DENIED, DENIED],
    "close a topic": [DENIED, DENIED, DENIED, OK, OK, DENIED, DENIED],
    "create a category": [DENIED, DENIED, DENIED, DENIED, OK, DENIED, DENIED],
}


def act(client, action: str) -> int:
    if action == "read latest":
        return client.get("/latest.json").status_code
    if action == "read a verified-only topic":
        topic = TopicFactory(category=CategoryFactory(read_access="verified"))
        return client.get(f"/t/{topic.pk}.json").status_code
    if action == "read current session":
        return client.get("/session/current.json").status_code
    if action == "reply":
        return client.post("/posts.json", {"topic_id": TopicFactory().pk, "raw": "An answer"}).status_code
    if action in ("start a topic", "start a topic where moderators start them"):
        start = "moderators" if "moderators" in action else "verified"
        category = CategoryFactory(start_access=start)
        data = {
            "title": "A question for every city here",
            "raw": "What do you think?",
            "category": category.pk,
        }
        return client.post("/posts", data).status_code
    if action == "like":
        post = TopicFactory().posts.get(number=1)
        return client.post("/post_actions", {"id": post.pk, "post_action_type_id": 2}).status_code
    if action == "close a topic":
        topic = TopicFactory()
        body = "status=closed&enabled=true"
        return client.put(
            f"/t/{topic.pk}/status", body, content_type="application/x-www-form-urlencoded"
        ).status_code
    if action == "create a category":
        return client.post("/categories.json", {"name": "A new place to talk"}).status_code
    raise ValueError(action)


@pytest.mark.parametrize("action", list(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(api_as, role, action):
    client = api_as(role)
    expected = MATRIX[action][ROLES.index(role)]
    assert act(client, action) == expected


@pytest.mark.parametrize("role", [role for role in ROLES if role != "anonymous"])
def test_read_only_keys_never_write(api_as, role):
    client = api_as(role, read_only=True)
    assert act(client, "read latest") == OK
    for action in ("reply", "start a topic", "like", "close a topic", "create a category"):
        assert act(client, action) == DENIED, action
