"""The Content-Security-Policy: on every response, strict, with frames only where embedding is
the feature (the live event page's stream player), and a report-only mode by setting."""

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.core.test_settings import GOOD_KEY, run_check
from tests.factories import CategoryFactory, EventFactory, TopicFactory

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/latest",
        "/c/{category.slug}/{category.pk}",
        "/t/{topic.slug}/{topic.pk}",
        "/events/",
        "/search?q=city",
        "/accounts/login/",
        "/latest.json",
        "/healthz",
        "/no-such-page",
        "/latest?q=%00",
    ],
)
def test_every_response_carries_the_strict_policy(client, path):
    topic = TopicFactory(category=CategoryFactory())
    response = client.get(path.format(topic=topic, category=topic.category))
    policy = _policy(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["frame-src"] == ["'none'"]
    assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]


def test_pages_hold_no_inline_script_or_style(client):
    client.force_login(make_user("moderator"))
    topic = TopicFactory(category=CategoryFactory())
    for path in ["/latest", topic.get_absolute_url(), "/search?q=city", "/profile/edit"]:
        page = client.get(path).content.decode()
        assert " style=" not in page and "<style" not in page, path
        assert "<script>" not in page and '<script type="text/javascript">' not in page, path


def test_only_the_live_event_page_frames_the_stream_player_of_its_own_event(client):
    event = EventFactory(stream_url="https://player.vimeo.com/video/123")
    assert _policy(client.get(event.get_absolute_url()))["frame-src"] == ["'none'"]
    event.__class__.objects.filter(pk=event.pk).update(
        starts_at=timezone.now() - timezone.timedelta(minutes=5), status="live", went_live_at=timezone.now()
    )
    event.refresh_from_db()
    assert event.is_live
    response = client.get(event.get_absolute_url())
    assert 'src="https://player.vimeo.com/video/123"' in response.content.decode()
    assert _policy(response)["frame-src"] == ["https://player.vimeo.com"]
    assert _policy(client.get("/latest"))["frame-src"] == ["'none'"]


def test_a_stream_link_off_the_allowlist_is_never_framed(client):
    event = EventFactory(status="live", went_live_at=timezone.now())
    event.__class__.objects.filter(pk=event.pk).update(
        stream_url="https://evil.example/player", starts_at=timezone.now() - timezone.timedelta(minutes=5)
    )
    assert _policy(client.get(event.get_absolute_url()))["frame-src"] == ["'none'"]


def test_report_only_mode_by_setting(client, settings):
    policy = settings.CONTENT_SECURITY_POLICY
    del settings.CONTENT_SECURITY_POLICY
    settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = policy
    response = client.get("/latest")
    assert "Content-Security-Policy" not in response
    assert "frame-ancestors 'none'" in response["Content-Security-Policy-Report-Only"]


def test_the_environment_switches_production_to_report_only():
    import os
    import subprocess
    import sys

    from tests.core.test_settings import PROJECT_DIR

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.production", "SECRET_KEY": GOOD_KEY}
    env.update(ALLOWED_HOSTS="forum.example.org", CSP_REPORT_ONLY="true")
    result = subprocess.run(
        [sys.executable, "manage.py", "diffsettings"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "CONTENT_SECURITY_POLICY_REPORT_ONLY = {'DIRECTIVES'" in result.stdout, result.stderr
    assert "CONTENT_SECURITY_POLICY = " not in result.stdout
    # And check --deploy stays clean in both modes.
    for report_only in ("true", "false"):
        checked = run_check(
            {"SECRET_KEY": GOOD_KEY, "ALLOWED_HOSTS": "forum.example.org", "CSP_REPORT_ONLY": report_only},
            "--deploy",
            "--fail-level",
            "WARNING",
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
