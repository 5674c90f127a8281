"""Redis away: pages, posting and the API go on; side effects wait for the drains; the worker survives.

"Redis down" is real here: a port where nothing listens (connections refused), or a private
redis-server that the test starts and kills.
"""

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from config.celery import app as celery_app
from tests.conftest import IN_CI
from tests.factories import EventFactory, OfficialFactory, TopicFactory
from tests.sse import SSEClient

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
PORTS = range(9200, 9300)


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    for port in PORTS:
        if _port_is_free(port):
            return port
    raise RuntimeError("no free port in 9200-9299")


class PrivateRedis:
    """A redis-server of the test's own, which it can kill and start again on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                threading.Event().wait(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis():
    if shutil.which("redis-server") is None:
        if IN_CI:
            pytest.fail("redis-server is not installed, and CI=true requires it.")
        pytest.skip("needs redis-server on PATH")
    server = PrivateRedis()
    server.start()
    yield server
    server.kill()


def _fail_soft_cache(url: str) -> dict:
    return {
        "default": {
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"outage-{uuid.uuid4().hex[:8]}",
            "OPTIONS": {"BREAKER_SECONDS": 0.2},
        }
    }


@pytest.fixture
def api_client(db):
    """A test client sending the API key of a new verified official."""
    from django.test import Client

    from api.services import create_api_key

    user = OfficialFactory()
    _key, raw = create_api_key(None, user)
    return Client(headers={"Api-Key": raw, "Api-Username": user.username})


@pytest.fixture(autouse=True)
def _breakers_start_closed():
    """Each test meets Redis as it finds it, not as the previous test left the breakers."""
    from core.cache import reset_breakers

    reset_breakers()
    yield
    reset_breakers()


def _forget_broker_connections() -> None:
    """The app keeps the producer pool and the result backend it made for the broker of that time."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_down(settings):
    """Settings whose Redis (cache, live broker) is a port where nothing listens."""
    url = f"redis://127.0.0.1:{_free_port()}/0"
    settings.REDIS_URL = url
    settings.CACHES = _fail_soft_cache(url)
    return url


@pytest.fixture
def broker_at(settings):
    """broker_at(url): tasks really go to the broker at url (not run in the test), until the test ends."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend)

    def point(url: str) -> None:
        celery_app.conf.task_always_eager = False
        celery_app.conf.broker_url = url
        celery_app.conf.result_backend = url
        _forget_broker_connections()

    yield point
    celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend = previous
    _forget_broker_connections()


# ------------------------------------------------------------------------- pages


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_every_kind_of_page_answers_200_with_redis_down(client, redis_down, signed_in):
    topic = TopicFactory()
    event = EventFactory()
    if signed_in:
        client.force_login(OfficialFactory())
    pages = [
        "/",
        "/latest",
        topic.get_absolute_url(),
        topic.category.get_absolute_url(),
        event.get_absolute_url(),
        "/events/",
        "/search?q=digital",
        "/latest.json",
        topic.get_absolute_url() + ".json",
        "/live/poll?channel=/latest",
    ]
    if signed_in:
        pages.append("/notifications")
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
    assert topic.title in client.get(topic.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_polling_with_redis_down_answers_200_and_keeps_the_cursor(client, redis_down):
    body = client.get("/live/poll", {"channel": "/latest", "after": "1700000000000-0"}).json()
    assert body["events"] == [] and body["last_event_id"] == "1700000000000-0"
    assert body["unavailable"] is True


@pytest.mark.django_db
def test_signing_in_and_out_with_redis_down_uses_the_database_sessions(client, redis_down):
    official = OfficialFactory()
    client.force_login(official)
    assert client.get("/notifications").status_code == 200
    client.logout()
    assert client.get("/notifications").status_code == 302  # Signed out: off to the log-in page.


@pytest.mark.django_db
def test_healthz_reports_redis_down_as_degraded(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded" and response.json()["redis"] == "unavailable"


# ----------------------------------------------------------------- rate limits


@pytest.mark.django_db
def test_the_api_rate_limit_still_counts_per_process_with_redis_down(api_client, redis_down, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    client = api_client
    statuses = [client.get("/latest.json").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]


@pytest.mark.django_db
def test_posting_intervals_still_apply_with_redis_down(client, redis_down):
    topic = TopicFactory()
    client.force_login(OfficialFactory())
    url = reverse("forum:reply", args=[topic.pk])
    first = client.post(url, {"raw": "A first thought from Lisbon.", "idempotency_key": str(uuid.uuid4())})
    again = client.post(url, {"raw": "And a second one at once.", "idempotency_key": str(uuid.uuid4())})
    assert first.status_code == 302
    assert again.status_code == 400 and "You can post every" in again.content.decode()
    assert topic.posts.count() == 2  # The opening post and the first reply.


# --------------------------------------------------------------------- posting


@pytest.mark.django_db
def test_a_reply_posted_with_redis_down_is_stored_and_its_email_goes_out_after(
    client, redis_down, broker_at, settings, django_capture_on_commit_callbacks, time_machine
):
    from forum.models import NotificationJob
    from forum.tasks import drain_notification_jobs
    from notifications.tasks import drain_outbox

    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0
    broker_at(redis_down)
    topic = TopicFactory()
    client.force_login(OfficialFactory())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("forum:reply", args=[topic.pk]),
            {
                "raw": "Our digital inclusion plan, in short.",
                "reply_to": "1",
                "idempotency_key": str(uuid.uuid4()),
            },
        )
    assert response.status_code == 302
    assert "Our digital inclusion plan, in short." in client.get(topic.get_absolute_url()).content.decode()
    # The broker could not take the notification tasks: the jobs wait in the database.
    assert NotificationJob.objects.exists()
    assert mail.outbox == []

    # Redis is back; beat runs the drains (for jobs older than half a minute).
    celery_app.conf.task_always_eager = True
    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    drain_notification_jobs.apply()
    drain_outbox.apply()
    assert NotificationJob.objects.count() == 0
    assert [message.to for message in mail.outbox] == [[topic.author.email]]


@pytest.mark.django_db
def test_api_writes_work_with_redis_down(
    api_client, redis_down, broker_at, django_capture_on_commit_callbacks
):
    broker_at(redis_down)
    topic = TopicFactory()
    client = api_client
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/posts.json", {"topic_id": topic.pk, "raw": "Written while Redis was away."})
    assert response.status_code == 200
    assert topic.posts.filter(raw="Written while Redis was away.").exists()


# ------------------------------------------------------------ a Redis that comes back


@pytest.mark.django_db
@pytest.mark.redis
def test_the_cache_forgets_what_changed_while_redis_was_away(private_redis, settings):
    from django.core.cache import cache

    settings.CACHES = _fail_soft_cache(private_redis.url)
    cache.set("banner", "before")
    private_redis.kill()
    assert cache.get("banner") is None  # A miss, not an error.
    cache.delete("banner")  # Say, the event ended meanwhile.
    cache.add("count", 0)
    assert cache.incr("count") == 1  # Counters go on in this process.
    private_redis.start()  # Empty, as a restarted Redis without persistence would be; refill it.
    import redis

    redis.Redis.from_url(private_redis.url).set(cache.make_key("banner"), b"stale")
    for _ in range(100):
        threading.Event().wait(0.05)
        if cache.get("count") is None:  # Back on Redis, which has no such counter.
            break
    assert cache.get("count") is None
    assert cache.get("banner") is None  # The delete made during the outage reached Redis.


@pytest.mark.redis
def test_a_worker_survives_a_redis_restart_and_consumes_a_task_afterwards(private_redis, broker_at):
    from core.tasks import echo

    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "REDIS_URL": private_redis.url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--loglevel=INFO",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    broker_at(private_redis.url)
    try:
        assert echo.apply_async(args=["before"], queue=queue).get(timeout=60) == "before"
        # A task waiting for its countdown: the worker holds it unacknowledged when Redis goes
        # (as with a reply email's delay), the case that used to kill the worker.
        echo.apply_async(args=["later"], queue=queue, countdown=3600)
        time.sleep(1)
        private_redis.kill()
        time.sleep(8)  # The worker notices at once and retries; long enough for a few attempts.
        assert worker.poll() is None, "the worker exited while Redis was away"
        private_redis.start()
        assert echo.apply_async(args=["after"], queue=queue).get(timeout=90) == "after"
        assert worker.poll() is None
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        if worker.returncode not in (0, -15):
            print(output.decode(errors="replace"))
    assert b"Unrecoverable error" not in output


# ---------------------------------------------------------------- stream caps


def test_streams_beyond_the_cap_per_address_are_refused_with_retry_after(
    live_test_channel, asgi_server, settings
):
    settings.REDIS_URL = ""
    settings.LIVE_MAX_STREAMS_PER_IP = 2
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    path = f"/live/stream?channel={live_test_channel}"
    first, second = SSEClient(asgi_server, path), SSEClient(asgi_server, path)
    try:
        assert (first.status, second.status) == (200, 200)
        with SSEClient(asgi_server, path) as third:
            assert third.status == 429
            assert int(third.response.getheader("Retry-After")) > 0
        first.close()
        # The server gives the place back when it notices the closed connection (next heartbeat).
        for _ in range(100):
            with SSEClient(asgi_server, path) as again:
                if again.status == 200:
                    break
            threading.Event().wait(0.1)
        assert again.status == 200
    finally:
        first.close()
        second.close()


def test_streams_beyond_the_cap_per_process_answer_503(live_test_channel, asgi_server, settings):
    settings.REDIS_URL = ""
    settings.LIVE_MAX_STREAMS_PER_PROCESS = 1
    path = f"/live/stream?channel={live_test_channel}"
    with SSEClient(asgi_server, path) as first, SSEClient(asgi_server, path) as second:
        assert first.status == 200
        assert second.status == 503 and second.response.getheader("Retry-After")


def test_the_stream_answers_503_with_retry_after_when_redis_is_down(asgi_server, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{_free_port()}/0"
    with SSEClient(asgi_server, "/live/stream?channel=/latest") as stream:
        assert stream.status == 503
        assert stream.response.getheader("Retry-After")
