"""End to end with two more Discourse clients besides pydiscourse, against a live server:
the npm package `discourse2` (a Node script) and the PyPI package `fluent-discourse`.

Each runs the same short script a bot would: list topics, read a topic with its raw text, reply,
back off when a posting limit answers 429 (Discourse's `extras.wait_seconds`), read and clear
notifications. The posting interval is shortened to 2 seconds so the back-off is quick.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from forum import moderation
from forum.models import Post
from notifications import services as notification_services
from notifications.models import Notification, NotificationKind
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(__file__).parent / "clients" / "discourse2_flow.mjs"


@pytest.fixture
def bot_world(monkeypatch):
    """A question, a verified official with a key, and a notification waiting for them."""
    from api.services import create_api_key

    monkeypatch.setattr(moderation, "POST_INTERVAL", (2, 2))
    category = CategoryFactory(slug="digitalisation", name="Digitalisation")
    question = TopicFactory(
        category=category,
        title="How does your city close the digital divide?",
        raw="Tell us what *worked* in your city.",
    )
    bot = OfficialFactory(username="harare_ict")  # newly verified: the stricter limits apply
    _key, raw_key = create_api_key(None, bot)
    notification_services.notify(
        bot,
        NotificationKind.MENTION,
        actor=question.author,
        title="You were mentioned",
        url=question.get_absolute_url(),
        data={"topic_id": question.pk, "post_id": question.posts.get(number=1).pk, "post_number": 1},
        dedupe_key="clients:mention",
    )
    return {"question": question, "bot": bot, "key": raw_key}


def _node_or_skip():
    node = shutil.which("node")
    installed = (settings.BASE_DIR / "node_modules" / "discourse2").exists()
    if node and installed:
        return node
    message = "node and node_modules/discourse2 are needed (`npm ci`, as `make` does)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_the_discourse2_npm_client_runs_a_bot_script(live_server, bot_world):
    node = _node_or_skip()
    question = bot_world["question"]
    env = {
        **os.environ,
        "FORUM_URL": live_server.url,
        "API_KEY": bot_world["key"],
        "API_USERNAME": "harare_ict",
        "TOPIC_ID": str(question.pk),
    }
    result = subprocess.run(
        [node, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=120, cwd=settings.BASE_DIR
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert question.pk in report["latest_ids"]
    assert report["title"] == "How does your city close the digital divide?"
    assert report["raws"] == ["Tell us what *worked* in your city."]
    assert report["reply"]["post_number"] == 2
    assert report["reply"]["raw"] == "Hotspots went out with every laptop."
    assert report["second"]["post_number"] == 3
    # The second reply met the posting interval: a 429 the client waited out, then it posted.
    assert report["waited"] and 1 <= report["waited"][0]["wait_seconds"] <= 2
    assert report["waited"][0]["retry_after"] == str(report["waited"][0]["wait_seconds"])
    assert report["notifications_before"] == 1
    assert report["notifications_after"] == 0
    assert Post.objects.filter(topic=question, author=bot_world["bot"]).count() == 2
    assert not Notification.objects.filter(recipient=bot_world["bot"], read_at__isnull=True).exists()


def test_the_fluent_discourse_client_runs_a_bot_script(live_server, bot_world, caplog):
    from fluent_discourse import Discourse

    question = bot_world["question"]
    # raise_for_rate_limit=False: on a 429 the client sleeps extras.wait_seconds + 1 and retries.
    client = Discourse(live_server.url, "harare_ict", bot_world["key"], raise_for_rate_limit=False)

    latest = client.latest.json.get({"per_page": 10})
    assert question.pk in [row["id"] for row in latest["topic_list"]["topics"]]

    topic = client.t[question.pk].json.get({"include_raw": "true"})
    assert [post["raw"] for post in topic["post_stream"]["posts"]] == ["Tell us what *worked* in your city."]

    first = client.posts.json.post({"topic_id": question.pk, "raw": "Hotspots went out with every laptop."})
    assert first["post_number"] == 2
    with caplog.at_level("WARNING", logger="fluent_discourse.discourse"):
        second = client.posts.json.post(
            {
                "topic_id": question.pk,
                "raw": "And the libraries kept their opening hours.",
                "reply_to_post_number": 2,
            }
        )
    assert second["post_number"] == 3
    assert second["reply_to_post_number"] == 2
    assert "rate limit hit" in caplog.text  # it met the 429 and waited

    notifications = client.notifications.json.get()
    assert [row["notification_type"] for row in notifications["notifications"] if not row["read"]] == [1]
    assert client.notifications["mark-read"].json.put({}) == {"success": "OK"}
    assert all(row["read"] for row in client.notifications.json.get()["notifications"])
