"""Wire details Discourse clients rely on: content type, no redirects, CSRF only for sessions,
read-only keys, per-key rate limits with Discourse's 429."""

import json

import pytest
from django.test import Client

from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

JSON = "application/json; charset=utf-8"


def test_every_answer_is_json_with_the_exact_content_type(api_as):
    topic = TopicFactory()
    client = api_as("verified")
    for path in ["/latest.json", f"/t/{topic.pk}.json", "/t/999999.json", "/posts/999999.json"]:
        response = client.get(path)
        assert response["Content-Type"] == JSON
        json.loads(response.content)


def test_not_found_in_discourses_shape(api_as):
    response = api_as("verified").get("/t/999999.json")
    assert response.status_code == 404
    assert response.json() == {
        "errors": ["The requested URL or resource could not be found."],
        "error_type": "not_found",
    }


def test_api_answers_never_redirect(client):
    """Anonymous writes, wrong slugs and restricted topics answer JSON, never a 302 to log in."""
    topic = TopicFactory()
    restricted = TopicFactory(category=CategoryFactory(read_access="verified"))
    assert client.post("/posts.json", {"topic_id": topic.pk, "raw": "hello there"}).status_code == 403
    assert client.post("/posts", {"topic_id": topic.pk, "raw": "hello there"}).json()["error_type"] == (
        "not_logged_in"
    )
    assert client.get(f"/t/wrong-slug/{topic.pk}.json").status_code == 200
    response = client.get(f"/t/{restricted.pk}.json")
    assert response.status_code == 403
    assert response.json()["error_type"] == "invalid_access"


def test_signed_in_browser_sessions_read_the_same_json(client):
    person = OfficialFactory()
    client.force_login(person)
    response = client.get("/session/current.json")
    assert response.status_code == 200
    assert response.json()["current_user"]["username"] == person.username
    assert Client().get("/session/current.json").status_code == 404


def test_session_writes_need_the_csrf_token_key_writes_do_not(key_for):
    topic = TopicFactory()
    person = OfficialFactory()
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    refused = browser.post("/posts.json", {"topic_id": topic.pk, "raw": "From the browser"})
    assert refused.status_code == 403
    assert refused.json() == {"errors": ["BAD CSRF"], "error_type": "invalid_access"}
    assert topic.posts.count() == 1

    browser.get(topic.get_absolute_url())  # sets the CSRF cookie, as a page visit does
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/posts.json", {"topic_id": topic.pk, "raw": "From the browser"}, headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 200

    # Another official, so the posting rate limit for the newly verified does not apply.
    script = Client(enforce_csrf_checks=True, headers={"Api-Key": key_for(OfficialFactory())})
    assert script.post("/posts.json", {"topic_id": topic.pk, "raw": "From a script"}).status_code == 200
    assert topic.posts.count() == 3


def test_a_key_does_not_lend_csrf_exemption_to_a_session(key_for):
    """A bad key is refused outright; it never falls back to the browser's session."""
    topic = TopicFactory()
    browser = Client(enforce_csrf_checks=True, headers={"Api-Key": "f" * 64})
    browser.force_login(OfficialFactory())
    assert browser.post("/posts.json", {"topic_id": topic.pk, "raw": "Sneaky"}).status_code == 403
    assert topic.posts.count() == 1


def test_a_read_only_key_reads_but_cannot_write(api_as):
    topic = TopicFactory()
    client = api_as("verified", read_only=True)
    assert client.get("/latest.json").status_code == 200
    response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Not allowed to say this"})
    assert response.status_code == 403
    assert response.json()["error_type"] == "invalid_access"
    first = topic.posts.get(number=1)
    assert client.post("/post_actions", {"id": first.pk, "post_action_type_id": 2}).status_code == 403
    assert topic.posts.count() == 1


def test_rate_limit_per_key_with_discourses_429(api_as, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = api_as("verified")
    other = api_as("verified")
    for _ in range(3):
        assert client.get("/latest.json").status_code == 200
    response = client.get("/latest.json")
    assert response.status_code == 429
    assert response["Content-Type"] == JSON
    assert response["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
    body = response.json()
    assert body["error_type"] == "rate_limit"
    assert 1 <= body["extras"]["wait_seconds"] <= 60
    assert int(response["Retry-After"]) == body["extras"]["wait_seconds"]
    assert "Please wait" in body["errors"][0]
    # Another key has its own allowance.
    assert other.get("/latest.json").status_code == 200


@pytest.mark.redis
def test_rate_limit_counters_live_in_redis(api_as, settings, redis_url):
    """With Redis every web process shares the counters (the production set-up)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "test-api-rate",
        }
    }
    from django.core.cache import cache

    cache.clear()
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    client = api_as("verified")
    assert [client.get("/latest.json").status_code for _ in range(3)] == [200, 200, 429]
    cache.clear()


def test_json_and_form_bodies_with_nested_names(api_as):
    client = api_as("verified")
    topic = TopicFactory(author=client.user)
    post = topic.posts.get(number=1)
    form = client.put(
        f"/posts/{post.pk}",
        "post%5Braw%5D=Edited+as+a+form&post%5Bedit_reason%5D=typo",
        content_type="application/x-www-form-urlencoded",
    )
    assert form.status_code == 200
    assert form.json()["post"]["raw"] == "Edited as a form"
    as_json = client.put(
        f"/posts/{post.pk}.json",
        json.dumps({"post": {"raw": "Edited as JSON", "edit_reason": "clarity"}}),
        content_type="application/json",
    )
    assert as_json.json()["post"]["cooked"] == "<p>Edited as JSON</p>\n"
    broken = client.put(f"/posts/{post.pk}", "{not json", content_type="application/json")
    assert broken.status_code == 400
    assert broken.json()["error_type"] == "invalid_parameters"


def test_unknown_methods_answer_json(api_as):
    response = api_as("verified").delete("/latest.json")
    assert response.status_code == 404
    assert response["Content-Type"] == JSON


def test_unknown_json_paths_answer_json_and_pages_keep_their_404(client):
    response = client.get("/no-such-thing.json")
    assert response.status_code == 404
    assert response["Content-Type"] == JSON
    assert response.json()["error_type"] == "not_found"
    page = client.get("/no-such-page")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")
