"""Discourse's personal message shapes: POST /posts.json with archetype=private_message, the lists."""

import pytest
from django.test import Client
from pydiscourse import DiscourseClient
from pydiscourse.exceptions import DiscourseClientError

from forum import messages
from tests.factories import OfficialFactory, UserFactory

pytestmark = pytest.mark.django_db


def client_for(key_for, user) -> Client:
    return Client(headers={"Api-Key": key_for(user), "Api-Username": user.username})


def test_create_a_message_and_list_it(key_for):
    harare, toronto, third = (
        OfficialFactory(username="harare"),
        OfficialFactory(username="toronto"),
        OfficialFactory(),
    )
    api = client_for(key_for, harare)
    response = api.post(
        "/posts.json",
        {
            "archetype": "private_message",
            "target_recipients": "toronto",
            "title": "Fibre tender in Toronto",
            "raw": "How did you run it?",
        },
    )
    assert response.status_code == 200, response.content
    topic_id = response.json()["topic_id"]
    topic = messages.box(harare, "sent").get()
    assert topic.pk == topic_id

    sent = api.get("/topics/private-messages-sent/harare.json").json()["topic_list"]["topics"]
    assert [(t["id"], t["archetype"]) for t in sent] == [(topic_id, "private_message")]
    toronto_api = client_for(key_for, toronto)
    inbox = toronto_api.get("/topics/private-messages/toronto.json").json()["topic_list"]["topics"]
    assert [t["id"] for t in inbox] == [topic_id]
    unread = toronto_api.get("/topics/private-messages-unread/toronto.json").json()["topic_list"]["topics"]
    assert [t["id"] for t in unread] == [topic_id]
    assert toronto_api.get(f"/t/{topic_id}.json").json()["archetype"] == "private_message"
    reply = toronto_api.post("/posts.json", {"topic_id": topic_id, "raw": "We split it into three lots."})
    assert reply.status_code == 200 and reply.json()["post_number"] == 2

    # Nobody else: not the lists of another person, not the topic, not the latest lists.
    other = client_for(key_for, third)
    assert other.get("/topics/private-messages/toronto.json").status_code == 404
    assert other.get(f"/t/{topic_id}.json").status_code == 404
    assert other.post("/posts.json", {"topic_id": topic_id, "raw": "Let me in"}).status_code == 404
    assert topic_id not in [t["id"] for t in other.get("/latest.json").json()["topic_list"]["topics"]]
    assert Client().get("/topics/private-messages/toronto.json").status_code == 403


def test_errors_are_discourse_shaped(key_for):
    harare = OfficialFactory(username="harare")
    api = client_for(key_for, harare)
    data = {"archetype": "private_message", "title": "A message to nobody here", "raw": "Hello"}
    response = api.post("/posts.json", {**data, "target_recipients": "nobody"})
    assert response.status_code == 422
    assert response.json()["errors"] == ["Nobody is called nobody here."]
    member = UserFactory(username="newcomer")
    response = client_for(key_for, member).post("/posts.json", {**data, "target_recipients": "harare"})
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_pydiscourse_creates_a_message(live_server, key_for):
    harare, toronto = OfficialFactory(username="harare_ict"), OfficialFactory(username="toronto_cio")
    client = DiscourseClient(live_server.url, api_username="harare_ict", api_key=key_for(harare))
    created = client.create_post(
        "Could we compare our fibre tenders?",
        title="Comparing fibre tenders between our cities",
        archetype="private_message",
        target_recipients="toronto_cio",
    )
    assert created["post_number"] == 1
    reader = DiscourseClient(live_server.url, api_username="toronto_cio", api_key=key_for(toronto))
    inbox = reader.private_messages("toronto_cio")["topic_list"]["topics"]
    assert [t["id"] for t in inbox] == [created["topic_id"]]
    with pytest.raises(DiscourseClientError):
        reader.private_messages("harare_ict")
