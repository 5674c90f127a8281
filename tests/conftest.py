import os

import pytest

from config.celery import app as celery_app

# Playwright's sync API runs an event loop in the test thread; the ORM calls made
# by the same tests are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    """Tasks run inside the test unless a test starts a real worker (see test_celery)."""
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _not_inside_a_task():
    """Eager tasks run in several threads at once (the live servers, the race tests) can leave
    Celery's process-wide "inside a task" flag set; a later ``result.get()`` would then refuse."""
    from celery._state import _set_task_join_will_block

    _set_task_join_will_block(False)
    yield


@pytest.fixture(autouse=True)
def _english_by_default():
    """Each test starts in English: a request in French leaves its language active in the thread."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages never leak from one test to the next."""
    from django.core.cache import cache

    from forum import tag_labels

    cache.clear()
    tag_labels.forget()  # the per-process copy of tag names
    yield


@pytest.fixture(autouse=True)
def _no_buffered_views():
    """Topic views buffered in this process (no Redis) never count for the next test's topics."""
    from forum import view_counts

    with view_counts._local_lock:
        view_counts._local.clear()
    yield


@pytest.fixture
def redis_url():
    """The REDIS_URL under test; skipped without one, except in CI where it must be there."""
    url = os.environ.get("REDIS_URL")
    if not url:
        if IN_CI:
            pytest.fail("REDIS_URL is not set, and CI=true requires every service.")
        pytest.skip("needs Redis: set REDIS_URL (e.g. redis://127.0.0.1:6379/0)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        if IN_CI:
            pytest.fail(f"Redis at {url} does not answer: {error}")
        pytest.skip(f"Redis at {url} does not answer: {error}")
    return url


pytest_plugins = ["tests.browser_fixtures"]


ROLES = ["anonymous", "member", "verified", "moderator", "staff", "silenced", "suspended"]


def make_user(role: str):
    """A user in one of the permission matrix's roles (None for anonymous).

    Moderators and staff have enrolled in MFA, as they must before any moderation page.
    """
    from datetime import timedelta

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.utils import timezone

    from tests.factories import ModeratorFactory, OfficialFactory, StaffFactory, UserFactory

    if role == "anonymous":
        return None
    if role == "member":
        return UserFactory()
    if role == "verified":
        return OfficialFactory()
    if role in {"moderator", "staff"}:
        user = ModeratorFactory() if role == "moderator" else StaffFactory()
        TOTP.activate(user, generate_totp_secret())
        return user
    later = timezone.now() + timedelta(days=7)
    if role == "silenced":
        return OfficialFactory(silenced_until=later, silenced_reason="Cooling off")
    if role == "suspended":
        return OfficialFactory(suspended_until=later, suspended_reason="Abuse")
    raise ValueError(role)


@pytest.fixture
def client_as(client, db):
    """client_as("moderator") -> a test client signed in as a fresh user of that role."""

    def sign_in(role: str):
        user = make_user(role)
        if user is not None:
            client.force_login(user)
        client.user = user
        return client

    return sign_in


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing a password the production way (Argon2id, accounts/hashers.py) takes tens of
    milliseconds; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def live_backend(request, settings):
    """Run a live-update test against the in-process broker and against Redis Streams."""
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
    else:
        settings.REDIS_URL = ""
        # A fresh in-process broker: events published by earlier tests under time travel
        # (time_machine) left its ids days ahead of the clock, and a Last-Event-ID that far
        # ahead is refused as one no server sent (core.live.valid_id), so nothing would replay.
        from core import live

        live._brokers.pop(f"|{live.key_prefix()}", None)
    return request.param


@pytest.fixture
def live_test_channel():
    """A fresh channel under /test that anyone may read (registered for the test only)."""
    import uuid

    from core import live

    live.register_channel("/test", lambda user, channel: True)
    yield f"/test/{uuid.uuid4().hex[:12]}"
    live.unregister_channel("/test")
