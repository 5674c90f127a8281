"""The launch rehearsal: the production shape on this machine, the webinar launch replayed, with faults.

    python bench/launch.py [--officials 2000] [--live-pages 500] [--repliers 200] [--duration 300]
                           [--redis-outage 20] [--connection-budget 30] [--keep] ...
    python bench/launch.py --short        # 50 users x 30 s with the Redis kill (CI)

What it starts (and stops again, also on Ctrl-C or failure):

- PostgreSQL database ``mplf_launch`` (dropped and created, migrated, seeded in bulk: N verified
  officials who can sign in with one password, hashed once), owned by a role of the same name whose
  CONNECTION LIMIT keeps a runaway from taking the connections of everyone else on a shared server;
- its own ``redis-server`` on a free port in 9600-9699 (append-only file, as docker-compose.yml);
- the web server as shipped (``--server-cmd``, default: uvicorn with 2 workers), a Celery worker
  and Celery beat, all with ``config.settings.production`` and email written to files;
- then the replay: a webinar that goes live by the schedule shortly after the start with every
  official registered; ``--live-pages`` browsers open its page and follow ``/live/stream`` with the
  channels the page names (reloading when it goes live, refetching the live replies as
  static/js/event_live.js does, polling when the stream is refused); ``--repliers`` officials sign
  in from one IP (log-in page, CSRF token, allauth's form), a few register late through the event
  page, and for ``--duration`` seconds open the questions, reply through the topic page's form and
  read pages; Redis is killed (SIGKILL) for ``--redis-outage`` seconds in the middle; the Celery
  worker is killed once (SIGKILL) and started again.

It prints the numbers (requests, 5xx, replies accepted vs stored, emails expected vs sent, the
"Live now" delay, peak PostgreSQL connections, latency percentiles, worker alive) and exits 1 when
a "done when" criterion of issue 12 fails. Requests arrive as if through a TLS proxy
(``X-Forwarded-Proto: https``, which production.py trusts), so the Secure cookies, HTTPS
redirect and CSRF origin checks of production work unchanged on plain HTTP over loopback.
"""

import argparse
import asyncio
import contextlib
import email
import email.policy
import os
import random
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "launch-rehearsal-password-1"
# The shape docker-compose.yml ships: gunicorn (sync) for pages, uvicorn for /live/ only; the
# rehearsal sends /live/ to the live server itself, as the proxy (deploy/nginx.conf) does.
DEFAULT_SERVER = (
    "{python} -m gunicorn config.wsgi:application --bind 127.0.0.1:{port} --workers 2 "
    "--worker-class sync --timeout 30 --forwarded-allow-ips *"
)
DEFAULT_LIVE = (
    "{python} -m uvicorn config.asgi:application --host 127.0.0.1 --port {live_port} --workers 1 "
    "--proxy-headers --forwarded-allow-ips * --lifespan off"
)
PORTS = range(9600, 9700)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--officials", type=int, default=2000, help="verified officials, all registered")
    parser.add_argument("--live-pages", type=int, default=500, help="browsers on the live page")
    parser.add_argument("--repliers", type=int, default=200, help="officials signing in and replying")
    parser.add_argument("--late-registrations", type=int, default=20, help="repliers who register late")
    parser.add_argument("--duration", type=float, default=300, help="seconds of replay")
    parser.add_argument("--starts-in", type=float, default=20, help="seconds to the event's start")
    parser.add_argument("--ramp", type=float, default=10, help="seconds over which pages open")
    parser.add_argument("--sign-in-ramp", type=float, default=30, help="seconds over which repliers arrive")
    parser.add_argument("--think", type=float, nargs=2, default=(3, 8), metavar=("MIN", "MAX"))
    parser.add_argument("--redis-outage", type=float, default=20, help="seconds Redis is down (0: none)")
    parser.add_argument("--redis-outage-at", type=float, help="seconds into the replay (default: middle)")
    parser.add_argument("--worker-kill-at", type=float, help="seconds into the replay (default: 1/4)")
    parser.add_argument("--no-worker-kill", action="store_true")
    parser.add_argument("--settle", type=float, default=120, help="most seconds to wait for due email")
    parser.add_argument(
        "--connection-budget", type=int, default=30, help="peak PostgreSQL connections allowed"
    )
    parser.add_argument("--live-now-within", type=float, default=60, help="seconds from the start")
    parser.add_argument(
        "--db-connection-limit",
        type=int,
        default=100,
        help="CONNECTION LIMIT of the rehearsal's database role (protects a shared server; -1: none)",
    )
    parser.add_argument("--server-cmd", default=DEFAULT_SERVER, help="{python} and {port} are filled in")
    parser.add_argument(
        "--live-cmd",
        default=DEFAULT_LIVE,
        help="server for /live/ on {live_port} ('' when --server-cmd serves /live/ too)",
    )
    parser.add_argument(
        "--worker-cmd", default="{python} -m celery -A config worker --loglevel=INFO --concurrency=2"
    )
    parser.add_argument(
        "--urgent-worker-cmd",
        default="{python} -m celery -A config worker -Q urgent -n urgent@%h --loglevel=INFO --concurrency=1",
        help="the worker for time-critical tasks, as docker-compose.yml ships it ('' for none)",
    )
    parser.add_argument(
        "--beat-cmd",
        default="{python} -m celery -A config beat --loglevel=INFO --schedule {run}/beat-schedule",
    )
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="for every process")
    parser.add_argument("--pg", default=os.environ.get("LAUNCH_PG", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--database", default="mplf_launch")
    parser.add_argument("--keep", action="store_true", help="keep the database and the run folder")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--short", action="store_true", help="CI size: 50 users x 30 s, Redis killed 10 s")
    args = parser.parse_args(argv)
    if args.short:
        defaults = {
            "officials": 200,
            "live_pages": 50,
            "repliers": 50,
            "late_registrations": 5,
            "duration": 30,
            "starts_in": 5,
            "ramp": 3,
            "sign_in_ramp": 5,
            "redis_outage": 10,
            "settle": 70,
        }
        given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in (argv or sys.argv[1:])}
        for name, value in defaults.items():
            if name not in given:
                setattr(args, name, value)
    args.late_registrations = min(args.late_registrations, args.repliers)
    args.repliers = min(args.repliers, args.officials)
    if args.redis_outage_at is None:
        args.redis_outage_at = max(args.duration / 2 - args.redis_outage / 2, args.starts_in + 5)
    if args.worker_kill_at is None:
        args.worker_kill_at = args.duration / 4
    return args


# ------------------------------------------------------------------------------ processes


def free_port(taken: set[int]) -> int:
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("No free port in 9600-9699")


class Stack:
    """Every process the rehearsal starts, each in its own process group, logged to the run folder."""

    def __init__(self, run: Path, env: dict):
        self.run, self.env = run, env
        self.procs: dict[str, subprocess.Popen] = {}
        self.commands: dict[str, list[str]] = {}
        self.starts: Counter = Counter()

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        self.commands[name] = command
        self.starts[name] += 1
        log = open(self.run / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it
        log.write(f"\n=== start {self.starts[name]} at {datetime.now(UTC):%H:%M:%S} ===\n".encode())
        log.flush()
        proc = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.procs[name] = proc
        return proc

    def restart(self, name: str) -> subprocess.Popen:
        return self.start(name, self.commands[name])

    def kill(self, name: str, sig=signal.SIGKILL, wait: float = 10) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def alive(self, name: str) -> bool:
        proc = self.procs.get(name)
        return proc is not None and proc.poll() is None

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.kill(name, signal.SIGTERM, wait=10)
        # Whatever a process group left behind (uvicorn or celery children).
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)


def manage(env: dict, *arguments: str, log: Path) -> None:
    with log.open("ab") as out:
        subprocess.run(
            [PYTHON, "manage.py", *arguments],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=True,
        )


def psql(admin_url: str, sql: str, database: str = "postgres") -> str:
    result = subprocess.run(
        ["psql", f"{admin_url}/{database}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def wait_http(port: int, path: str, timeout: float, proc: subprocess.Popen) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the process serving port {port} exited ({proc.returncode})")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path, headers={"Host": "127.0.0.1", "X-Forwarded-Proto": "https"})
            if connection.getresponse().status < 500:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"port {port} did not answer {path} within {timeout:.0f} s")


def wait_redis(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(64).startswith(b"+PONG"):
                return
        time.sleep(0.1)
    raise RuntimeError(f"redis on {port} did not start")


class ConnectionPoller(threading.Thread):
    """Counts the database's connections in pg_stat_activity every 0.5 s (its own excluded)."""

    def __init__(self, admin_url: str, database: str):
        super().__init__(daemon=True)
        self.admin_url, self.database = admin_url, database
        self.peak, self.peak_at, self.samples = 0, 0.0, []
        self.stop = threading.Event()
        self.error = ""

    def run(self) -> None:
        import psycopg

        try:
            with psycopg.connect(f"{self.admin_url}/postgres", autocommit=True) as connection:
                while not self.stop.is_set():
                    (count,) = connection.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> "
                        "pg_backend_pid()",
                        [self.database],
                    ).fetchone()
                    now = time.monotonic()
                    self.samples.append((now, count))
                    if count > self.peak:
                        self.peak, self.peak_at = count, now
                    self.stop.wait(0.5)
        except Exception as error:  # noqa: BLE001 - reported with the numbers
            self.error = repr(error)


# ------------------------------------------------------------------------------ seeding


def setup_django(env: dict) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def seed_officials(count: int) -> None:
    """Bulk: verified officials (verified a month ago, so not 'newly verified'), confirmed emails."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.models import Organisation, User, VerificationMethod, VerificationState

    organisation = Organisation.objects.create(slug="launch-city", name="Launch City", country="Spain")
    password = make_password(PASSWORD)  # hashed once, as production hashes; every official shares it
    verified_at = timezone.now() - timedelta(days=30)
    User.objects.bulk_create(
        [
            User(
                username=f"official{n}",
                email=f"official{n}@launch.example",
                display_name=f"Official {n}",
                position="Head of ICT Division",
                organisation=organisation,
                verification_state=VerificationState.VERIFIED,
                verification_method=VerificationMethod.REVIEW,
                verified_at=verified_at,
                password=password,
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    users = User.objects.filter(username__startswith="official").values_list("pk", "email")
    EmailAddress.objects.bulk_create(
        [EmailAddress(user_id=pk, email=address, verified=True, primary=True) for pk, address in users],
        batch_size=1000,
    )
    User.objects.create(
        username="launchstaff",
        email="staff@launch.example",
        is_staff=True,
        is_superuser=True,
        verification_state=VerificationState.VERIFIED,
        verified_at=verified_at,
        password=password,
    )


def seed_event(starts_at: datetime, officials: int, late: int) -> dict:
    """The webinar with three linked questions; every official registered except the late ones."""
    from django.db import connection

    from accounts.models import User
    from events import linked
    from events import services as events
    from events.models import EventKind, EventStatus, Registration, RegistrationStatus
    from forum import services as forum
    from forum.models import Category, StartAccess

    staff = User.objects.get(username="launchstaff")
    category = Category.objects.create(slug="launch", name="Launch", start_access=StartAccess.VERIFIED)
    questions = [
        forum.create_topic(staff, category, title, "Tell your peers what worked in your city.")
        for title in (
            "How does your city close the gender digital gap?",
            "Which digital services reached the people who needed them most?",
            "What would you do differently in your next open data project?",
        )
    ]
    event = events.create_event(
        staff,
        slug="launch-webinar",
        title="Launch webinar",
        kind=EventKind.WEBINAR,
        status=EventStatus.PUBLISHED,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        allow_members=True,
        stream_url="https://www.youtube-nocookie.com/embed/launch",
    )
    events.link_forum(event, staff, topics=questions)
    late_names = {f"official{n}" for n in range(late)}
    people = [
        pk
        for pk, name in User.objects.filter(username__startswith="official").values_list("pk", "username")
        if name not in late_names
    ]
    Registration.objects.bulk_create(
        [Registration(event=event, user_id=pk, status=RegistrationStatus.REGISTERED) for pk in people],
        batch_size=1000,
    )
    linked.watch_topics(event, people)
    connection.close()
    return {
        "slug": event.slug,
        "pk": event.pk,
        "topics": [(topic.pk, topic.get_absolute_url()) for topic in questions],
        "registered": len(people),
    }


# ------------------------------------------------------------------------------ the load


@dataclass
class Sample:
    kind: str
    status: int  # 0: no response (connection refused, reset, timeout)
    ms: float
    at: float  # seconds since the replay began
    path: str = ""


@dataclass
class Replay:
    base: str
    host: str
    started: float
    live_base: str = ""
    samples: list = field(default_factory=list)
    accepted: dict = field(default_factory=dict)  # marker -> status of the accepted POST
    unanswered: set = field(default_factory=set)  # markers whose POST got no answer or a 5xx
    refused: Counter = field(default_factory=Counter)
    signed_in: int = 0
    sign_in_attempts: Counter = field(default_factory=Counter)
    registered_late: int = 0
    stream_events: int = 0
    went_live_seen: float | None = None
    pages_polling: int = 0
    pages_stopped: int = 0
    errors: Counter = field(default_factory=Counter)

    def url(self, path: str) -> str:
        """Where the proxy would send ``path``: /live/ to the live server, the rest to the pages."""
        if self.live_base and path.startswith("/live/"):
            return self.live_base + path
        return self.base + path

    def now(self) -> float:
        return time.monotonic() - self.started


class Browser:
    """One person's browser: its own cookies (Secure ones too: the proxy in front speaks TLS)."""

    def __init__(self, replay: Replay, session: aiohttp.ClientSession):
        self.replay, self.session, self.cookies = replay, session, {}

    def _headers(self, path: str, extra: dict | None = None) -> dict:
        headers = {
            "Host": self.replay.host,
            "X-Forwarded-Proto": "https",
            "User-Agent": "launch-rehearsal",
            "Accept-Language": "en",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep_cookies(self, response) -> None:
        for value in response.headers.getall("Set-Cookie", []):
            jar = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or (morsel.value == "" and morsel["expires"]):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    async def request(self, kind: str, method: str, path: str, data=None, headers=None, timeout=60):
        """(status, text, location); status 0 when there was no response."""
        began = time.monotonic()
        extra = dict(headers or {})
        if method == "POST":
            origin = f"https://{self.replay.host}"
            extra.setdefault("Origin", origin)
            extra.setdefault("Referer", origin + path)
        try:
            async with self.session.request(
                method,
                self.replay.url(path),
                data=data,
                headers=self._headers(path, extra),
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=timeout),
            ) as response:
                text = await response.text(errors="replace")
                self._keep_cookies(response)
                status, location = response.status, response.headers.get("Location", "")
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            self.replay.errors[f"{kind}: {type(error).__name__}"] += 1
            status, text, location = 0, "", ""
        self.replay.samples.append(
            Sample(kind, status, (time.monotonic() - began) * 1000, began - self.replay.started, path)
        )
        if location.startswith(("http://", "https://")):
            location = "/" + location.split("/", 3)[3] if location.count("/") >= 3 else "/"
        return status, text, location


CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHANNELS = re.compile(r'data-live-channels="([^"]*)"')
SINCE = re.compile(r'data-live-since="([^"]*)"')
POST_IDS = re.compile(r'id="post-(\d+)"')


def form_field(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}" (?:id="[^"]*" )?value="([^"]*)"', html) or re.search(
        rf'name="{name}"[^>]*value="([^"]*)"', html
    )
    return match.group(1) if match else None


def page_channels(html: str) -> list[str]:
    seen: dict[str, None] = {}
    for value in CHANNELS.findall(html):
        for channel in value.split():
            seen.setdefault(channel, None)
    return list(seen)


async def live_page(replay: Replay, session, slug: str, delay: float, end: float) -> None:
    """A browser on the event page, as static/js/live.js and event_live.js drive it."""
    await asyncio.sleep(delay)
    browser = Browser(replay, session)
    path = f"/events/{slug}/"
    dirty = asyncio.Event()

    async def refetcher():
        # One refetch at a time: replies that arrive meanwhile make one more (the 250 ms merge).
        while replay.now() < end:
            await dirty.wait()
            await asyncio.sleep(0.25)
            dirty.clear()
            if replay.now() < end:
                await browser.request(
                    "fragment", "GET", f"/events/{slug}/live-posts", headers={"HX-Request": "true"}
                )

    fetcher = asyncio.create_task(refetcher())
    try:
        while replay.now() < end:
            status, html, _location = await browser.request("page", "GET", path)
            if status != 200:
                await asyncio.sleep(3)
                continue
            channels = page_channels(html)
            since = (SINCE.search(html) or [None, ""])[1]
            reload = await follow(replay, browser, channels, since, dirty, end)
            if not reload:
                break
    finally:
        fetcher.cancel()


async def follow(replay, browser, channels, since, dirty, end) -> bool:
    """Follow the channels until the page reloads (True) or the replay ends (False)."""
    from urllib.parse import urlencode

    last_id, failures = since, 0
    while replay.now() < end:
        query = urlencode(
            [("channel", c) for c in channels] + ([("last_event_id", last_id)] if last_id else [])
        )
        headers = browser._headers("/live/stream", {"Accept": "text/event-stream"})
        if last_id:
            headers["Last-Event-ID"] = last_id
        began = time.monotonic()
        status = 0
        try:
            async with browser.session.get(
                replay.url(f"/live/stream?{query}"),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=None, connect=60, sock_connect=60, sock_read=None),
            ) as response:
                status = response.status
                replay.samples.append(
                    Sample("stream", status, (time.monotonic() - began) * 1000, began - replay.started)
                )
                if status != 200:
                    # EventSource closes for good on an error status; live.js polls from then on.
                    replay.pages_polling += 1
                    return await poll(replay, browser, channels, last_id, dirty, end)
                failures = 0
                event_id, data = "", ""
                async for raw in response.content:
                    if replay.now() >= end:
                        return False
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "" and data:
                        last_id = event_id or last_id
                        replay.stream_events += 1
                        if await dispatch(replay, data, channels, dirty):
                            return True
                        event_id, data = "", ""
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            if status == 0:
                replay.samples.append(
                    Sample("stream", 0, (time.monotonic() - began) * 1000, began - replay.started)
                )
            replay.errors[f"stream: {type(error).__name__}"] += 1
        failures += 1
        if failures >= 3:
            replay.pages_polling += 1
            return await poll(replay, browser, channels, last_id, dirty, end)
        await asyncio.sleep(3)  # the stream's retry: 3000
    return False


async def dispatch(replay, data: str, channels, dirty) -> bool:
    import json

    try:
        message = json.loads(data)
    except ValueError:
        return False
    if message.get("channel") not in channels:
        return False
    if message.get("event") in ("live", "ended"):
        if replay.went_live_seen is None and message.get("event") == "live":
            replay.went_live_seen = replay.now()
        return True
    if message.get("event") in ("post_created", "post_edited", "post_hidden", "post_shown", "post_withdrawn"):
        dirty.set()
    return False


async def poll(replay, browser, channels, last_id, dirty, end) -> bool:
    import json
    from urllib.parse import urlencode

    delay = 10.0
    first = not last_id
    while replay.now() < end:
        query = urlencode([("channel", c) for c in channels] + ([("after", last_id)] if last_id else []))
        status, text, _ = await browser.request(
            "poll", "GET", f"/live/poll?{query}", headers={"Accept": "application/json"}
        )
        if status in (400, 403):
            replay.pages_stopped += 1  # live.js gives up on a refusal: this page gets no more news
            return False
        if status == 200:
            body = json.loads(text)
            last_id = body.get("last_event_id", last_id)
            if not first:
                for message in body.get("events", []):
                    if await dispatch(replay, json.dumps(message), channels, dirty):
                        return True
            first = False
            delay = body.get("poll_after_ms", 10000) / 1000
            if body.get("more"):
                delay = 0
        else:
            delay = min(delay * 2, 60)
        await asyncio.sleep(min(delay, max(end - replay.now(), 0)))
    return False


async def replier(replay, session, args, number: int, delay: float, end: float, event: dict, run_id: str):
    """An official: signs in, perhaps registers, then reads and replies until the end."""
    await asyncio.sleep(delay)
    browser = Browser(replay, session)
    rng = random.Random(args.seed * 1000 + number)
    think = lambda: rng.uniform(*args.think)  # noqa: E731
    # Sign in as browsers do: the log-in page (CSRF cookie and token), then the form.
    while replay.now() < end:
        status, html, _ = await browser.request("page", "GET", "/accounts/login/")
        token = (CSRF.search(html) or [None, None])[1]
        if status == 200 and token:
            status, html, location = await browser.request(
                "login",
                "POST",
                "/accounts/login/",
                data={
                    "csrfmiddlewaretoken": token,
                    "login": f"official{number}@launch.example",
                    "password": PASSWORD,
                },
                headers={"Referer": f"https://{replay.host}/accounts/login/"},
            )
            replay.sign_in_attempts[status] += 1
            if status not in (302, 429):
                found = re.search(r'class="errorlist[^"]*"><li>([^<]+)', html)
                replay.refused[f"log-in {status}: {found.group(1)[:70] if found else ''}"] += 1
            if status == 302 and "/accounts/login" not in location:
                replay.signed_in += 1
                await browser.request("page", "GET", location or "/")
                break
        # Refused (rate limit, an error page): the person tries again a little later.
        await asyncio.sleep(rng.uniform(10, 20))
    else:
        return
    if number < args.late_registrations:
        status, html, _ = await browser.request("page", "GET", f"/events/{event['slug']}/")
        token = (CSRF.search(html) or [None, None])[1]
        if token:
            status, _html, _ = await browser.request(
                "register", "POST", f"/events/{event['slug']}/register", data={"csrfmiddlewaretoken": token}
            )
            if status == 302:
                replay.registered_late += 1
    sequence = 0
    while replay.now() < end:
        if rng.random() < 0.3:
            await browser.request("page", "GET", rng.choice(["/", f"/events/{event['slug']}/", "/latest"]))
        topic_id, topic_url = rng.choice(event["topics"])
        status, html, _ = await browser.request("page", "GET", topic_url)
        token = (CSRF.search(html) or [None, None])[1]
        key = form_field(html, "idempotency_key")
        if status != 200 or not token or key is None or f"/t/{topic_id}/reply" not in html:
            await asyncio.sleep(think())  # not open yet (the event has not started) or an error
            continue
        await asyncio.sleep(think())  # reading, typing
        if replay.now() >= end:
            break
        sequence += 1
        marker = f"launch-{run_id}-{number}-{sequence}"
        numbers = POST_IDS.findall(html)
        data = {
            "csrfmiddlewaretoken": token,
            "idempotency_key": key,
            "draft_key": form_field(html, "draft_key") or "",
            "reply_to": rng.choice(numbers) if numbers and rng.random() < 0.3 else "",
            "raw": f"In our city we learnt "
            f"{rng.choice(['to start small', 'to ask residents first', 'to share code'])}. "
            f"[{marker}]",
        }
        for _attempt in range(2):
            status, text, location = await browser.request("reply", "POST", f"/t/{topic_id}/reply", data=data)
            if status == 302:
                replay.accepted[marker] = status
                replay.unanswered.discard(marker)
                await browser.request("page", "GET", location)
                break
            if status in (400, 403, 429):
                message = re.search(r'<ul class="errorlist"><li>([^<]+)', text)
                replay.refused[f"{status} {message.group(1)[:70] if message else ''}"] += 1
                break
            # No answer or a server error: the person presses "Post reply" again (same form, same key).
            replay.unanswered.add(marker)
            await asyncio.sleep(2)
        await asyncio.sleep(think())


async def faults(replay: Replay, stack: Stack, args, redis_cmd: list[str], redis_port: int, log: list):
    """Kill the worker once and Redis once, at their times, and start them again."""
    plan = []
    if not args.no_worker_kill:
        plan.append((args.worker_kill_at, "worker"))
    if args.redis_outage > 0:
        plan.append((args.redis_outage_at, "redis"))
    for at, what in sorted(plan):
        await asyncio.sleep(max(0, at - replay.now()))
        if what == "worker":
            await asyncio.to_thread(stack.kill, "worker")
            log.append((replay.now(), "worker killed (SIGKILL)"))
            await asyncio.sleep(3)
            await asyncio.to_thread(stack.restart, "worker")
            log.append((replay.now(), "worker started again"))
        else:
            await asyncio.to_thread(stack.kill, "redis")
            down = replay.now()
            log.append((down, "redis killed (SIGKILL)"))
            await asyncio.sleep(args.redis_outage)
            await asyncio.to_thread(stack.restart, "redis")
            await asyncio.to_thread(wait_redis, redis_port)
            log.append((replay.now(), "redis started again"))
            replay.redis_window = (down, replay.now())


async def run_load(replay: Replay, stack: Stack, args, event: dict, redis_cmd, redis_port, run_id) -> list:
    end = args.duration
    fault_log: list = []
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, force_close=False, enable_cleanup_closed=True)
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as session:
        tasks = [
            asyncio.create_task(
                live_page(replay, session, event["slug"], args.ramp * n / max(args.live_pages, 1), end)
            )
            for n in range(args.live_pages)
        ]
        tasks += [
            asyncio.create_task(
                replier(
                    replay,
                    session,
                    args,
                    n,
                    args.sign_in_ramp * n / max(args.repliers, 1),
                    end,
                    event,
                    run_id,
                )
            )
            for n in range(args.repliers)
        ]
        fault_task = asyncio.create_task(faults(replay, stack, args, redis_cmd, redis_port, fault_log))
        await asyncio.sleep(end)
        await asyncio.wait(tasks, timeout=60)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await fault_task
    return fault_log


# ------------------------------------------------------------------------------ email


SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def read_mail(folder: Path) -> list[dict]:
    """Every message the file backend wrote (one file per connection, messages split by dashes)."""
    messages = []
    for path in sorted(folder.glob("*.log")):
        written = path.stat().st_mtime
        for chunk in path.read_bytes().split(SEPARATOR):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk.lstrip(b"\n"), policy=email.policy.default)
            messages.append(
                {
                    "to": str(message.get("To", "")).strip().lower(),
                    "subject": " ".join(str(message.get("Subject", "")).split()),
                    "ids": [i for i in str(message.get("X-Notification-Ids", "")).split(",") if i.strip()],
                    "message_id": str(message.get("Message-ID", "")),
                    "written": written,
                }
            )
    return messages


def expected_email(since: datetime, judged_until: datetime, event_pk: int) -> dict:
    """What the database says must have been emailed by now, keyed so each is counted once.

    - every 'immediately' outbox row whose time came before ``judged_until`` and that was not
      skipped (read in the site, unsubscribed): one email, X-Notification-Ids names it;
    - once the event went live, a 'Live now' email to everyone registered then, whatever became
      of the notification (a lost task leaves no row, and that is what must be seen);
    - every registration made during the replay: the confirmation with the calendar file.
    """
    from django.db import connection
    from django.db.models import Q

    from events.models import Event, Registration, RegistrationStatus
    from notifications.models import EmailFrequency, Notification, OutboxEmail, OutboxState

    expected = {}
    rows = (
        OutboxEmail.objects.filter(frequency=EmailFrequency.IMMEDIATELY)
        .exclude(state=OutboxState.SKIPPED)
        .exclude(notification__kind="event_live")
        .filter(Q(send_after__lte=judged_until) | Q(state=OutboxState.SENT))
        .select_related("notification", "recipient")
    )
    for row in rows:
        expected[("n", str(row.notification_id))] = {
            "kind": row.notification.kind,
            "to": row.recipient.email.lower(),
            "title": row.notification.title,
            "due": row.send_after,
            "state": row.state,
        }
    live_without_row = Notification.objects.filter(kind="event_live", emails__isnull=True).count()
    went_live_at = Event.objects.values_list("went_live_at", flat=True).get(pk=event_pk)
    if went_live_at is not None:
        for address in Registration.objects.filter(
            event_id=event_pk, status=RegistrationStatus.REGISTERED, created_at__lte=went_live_at
        ).values_list("user__email", flat=True):
            expected[("live", address.lower())] = {
                "kind": "event_live",
                "to": address.lower(),
                "title": "Live now",
                "due": went_live_at,
                "state": "",
            }
    for registration in Registration.objects.filter(
        created_at__gte=since, status=RegistrationStatus.REGISTERED
    ).select_related("user"):
        expected[("r", registration.user.email.lower())] = {
            "kind": "registered",
            "to": registration.user.email.lower(),
            "title": "You are registered",
            "due": registration.created_at,
            "state": "",
        }
    connection.close()
    return {"expected": expected, "live_without_row": live_without_row}


def match_email(expected: dict, messages: list[dict]) -> tuple[Counter, dict, list]:
    """How many messages each expected email got, its first file time, and the unmatched ones."""
    counts, first, unmatched = Counter(), {}, []
    by_title = defaultdict(list)
    for key, item in expected.items():
        by_title[item["to"]].append(key)
    for message in messages:
        keys = [("n", i.strip()) for i in message["ids"] if ("n", i.strip()) in expected]
        if not keys:
            keys = [
                key
                for key in by_title.get(message["to"], [])
                if expected[key]["title"] and expected[key]["title"] in message["subject"]
            ][:1]
        if not keys:
            unmatched.append(message)
        for key in keys:
            counts[key] += 1
            first[key] = min(first.get(key, message["written"]), message["written"])
    return counts, first, unmatched


# ------------------------------------------------------------------------------ report


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


EXCEPTION = re.compile(r"^[\w.]+(?:Error|Exception|Exit|Interrupt)\b")
NOTEWORTHY = re.compile(r"ERROR|CRITICAL|Unrecoverable|retry:|too many")


def _normalise(line: str) -> str:
    line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())  # celery's [time: LEVEL/process]
    line = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "<id>", line)
    return re.sub(r"\d{4,}|0x[0-9a-f]+", "N", line)[:220]


def log_errors(run: Path) -> dict[str, Counter]:
    """Per log: for the web, each 500 as 'path: the exception it ended with'; else the error lines."""
    found: dict[str, Counter] = {}
    for log in sorted(run.glob("*.log")):
        if log.stem == "setup":
            continue
        counter: Counter = Counter()
        lines = log.read_text(errors="replace").splitlines()
        if log.stem == "web":
            # A logged traceback: the line before "Traceback" says where, its last exception line why.
            where, last = None, ""
            for n, line in enumerate([*lines, "INFO: end"]):
                opens = (
                    n + 1 < len(lines)
                    and lines[n + 1].startswith("Traceback")
                    and line.strip()
                    and not line.startswith((" ", "Traceback", "During handling", "The above exception"))
                    and not EXCEPTION.match(line)
                )
                if where is not None and (opens or line.startswith("INFO:")):
                    counter[f"{where} -> {last or '?'}"] += 1
                    where, last = None, ""
                if opens:
                    where = re.sub(r"\d+", "N", re.sub(r"/t/[\w-]+/(?=\d)", "/t/<slug>/", line.strip()))[:120]
                elif where is not None and EXCEPTION.match(line):
                    last = _normalise(line)
        else:
            for line in lines:
                if NOTEWORTHY.search(line) and "SecurityWarning" not in line:
                    counter[_normalise(line)] += 1
        if counter:
            found[log.stem] = counter
    return found


def worker_answers(env: dict) -> bool:
    result = subprocess.run(
        [PYTHON, "-m", "celery", "-A", "config", "inspect", "ping", "--timeout", "10"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return "pong" in result.stdout


def main(argv=None) -> int:
    args = parse_args(argv)
    random.seed(args.seed)
    run_id = datetime.now(UTC).strftime("%H%M%S")
    run = Path(tempfile.mkdtemp(prefix="mplf-launch-"))
    mail = run / "mail"
    mail.mkdir()
    taken: set[int] = set()
    web_port, redis_port, live_port = free_port(taken), free_port(taken), free_port(taken)
    db_url = f"{args.pg.rsplit('://', 1)[0]}://{args.database}@{args.pg.split('@', 1)[1]}/{args.database}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": db_url,
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail),
        "SITE_URL": f"https://127.0.0.1:{web_port}",
        "PYTHONUNBUFFERED": "1",
    }
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    env.pop("EMAIL_URL", None)
    fill = {"python": PYTHON, "port": web_port, "live_port": live_port, "run": run}
    stack = Stack(run, env)
    poller = ConnectionPoller(args.pg, args.database)
    created_db = False

    def interrupted(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    print(f"Run folder (logs, mail): {run}", flush=True)
    try:
        # --- the database: a role with a connection limit owns it, so a runaway stops there.
        role = args.database
        psql(args.pg, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
        exists = psql(args.pg, f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'")
        psql(
            args.pg,
            f"{'ALTER' if exists else 'CREATE'} ROLE {role} LOGIN CONNECTION LIMIT "
            f"{args.db_connection_limit}",
        )
        psql(args.pg, f"CREATE DATABASE {args.database} OWNER {role}")
        created_db = True
        psql(args.pg, "CREATE EXTENSION IF NOT EXISTS unaccent", args.database)
        began = time.monotonic()
        manage(env, "migrate", "--noinput", log=run / "setup.log")
        manage(env, "collectstatic", "--noinput", log=run / "setup.log")
        setup_django(env)
        seed_officials(args.officials)
        from django.db import connection

        connection.close()
        print(
            f"Database migrated and seeded with {args.officials} officials in "
            f"{time.monotonic() - began:.0f} s",
            flush=True,
        )

        # --- the stack
        redis_dir = run / "redis"
        redis_dir.mkdir()
        redis_cmd = [
            "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(redis_dir),
            "--appendonly",
            "yes",
            "--save",
            "",
        ]
        stack.start("redis", redis_cmd)
        wait_redis(redis_port)
        web = stack.start("web", shlex.split(args.server_cmd.format(**fill)))
        stack.start("worker", shlex.split(args.worker_cmd.format(**fill)))
        if args.urgent_worker_cmd:
            stack.start("urgent-worker", shlex.split(args.urgent_worker_cmd.format(**fill)))
        stack.start("beat", shlex.split(args.beat_cmd.format(**fill)))
        wait_http(web_port, "/healthz", 120, web)
        if args.live_cmd:
            live_server = stack.start("live", shlex.split(args.live_cmd.format(**fill)))
            wait_http(live_port, "/healthz", 120, live_server)
        poller.start()

        # --- the replay
        from django.utils import timezone

        since = timezone.now()
        starts_at = since + timedelta(seconds=args.starts_in)
        event = seed_event(starts_at, args.officials, args.late_registrations)
        seeded = timezone.now()  # registrations after this one are the replay's (late) ones
        started = time.monotonic() - (timezone.now() - since).total_seconds()
        replay = Replay(
            base=f"http://127.0.0.1:{web_port}",
            host=f"127.0.0.1:{web_port}",
            started=started,
            live_base=f"http://127.0.0.1:{live_port}" if args.live_cmd else "",
        )
        replay.redis_window = None
        load_before = os.getloadavg()
        print(
            f"Replay: {args.live_pages} live pages, {args.repliers} repliers, {args.duration:.0f} s; the "
            "event "
            f"starts at +{args.starts_in:.0f} s with {event['registered']} registered",
            flush=True,
        )
        try:
            import uvloop

            uvloop.install()
        except ImportError:
            pass
        fault_log = asyncio.run(run_load(replay, stack, args, event, redis_cmd, redis_port, run_id))
        replay_end = replay.now()
        load_during = os.getloadavg()

        # --- let the worker catch up with what is due, then judge
        from events.models import Event
        from forum.models import Post

        event_row = Event.objects.get(pk=event["pk"])
        settle_until = time.monotonic() + args.settle
        while True:
            judged_until = timezone.now() - timedelta(seconds=70)
            owed = expected_email(seeded, judged_until, event["pk"])
            counts, first, unmatched = match_email(owed["expected"], read_mail(mail))
            missing = [key for key in owed["expected"] if counts[key] == 0]
            if not missing or time.monotonic() > settle_until:
                break
            time.sleep(5)
        poller.stop.set()
        settled = replay.now() - replay_end

        worker_alive = stack.alive("worker") and worker_answers(env)
        beat_alive = stack.alive("beat")
        web_alive = stack.alive("web")

        stored = Counter()
        for raw in Post.objects.filter(raw__contains=f"[launch-{run_id}-").values_list("raw", flat=True):
            for marker in re.findall(rf"\[(launch-{run_id}-\d+-\d+)\]", raw):
                stored[marker] += 1
        connection.close()

        # --- numbers
        samples = replay.samples
        statuses = Counter(s.status for s in samples)
        five = [s for s in samples if s.status >= 500]
        no_answer = [s for s in samples if s.status == 0]
        page_ms = [s.ms for s in samples if s.kind in ("page", "fragment") and s.status == 200]
        reply_ms = [s.ms for s in samples if s.kind == "reply" and s.status == 302]
        window = replay.redis_window
        outage_pages = [
            s for s in samples if window and s.kind in ("page", "fragment") and window[0] <= s.at <= window[1]
        ]
        outage_bad = [s for s in outage_pages if s.status != 200]
        accepted = set(replay.accepted)
        lost = sorted(accepted - set(stored))
        doubled = sorted(marker for marker, n in stored.items() if n > 1)
        unconfirmed = sorted(set(stored) - accepted)

        expected = owed["expected"]
        by_kind = defaultdict(lambda: [0, 0, 0, 0])  # expected, sent once, missing, more than once
        for key, item in expected.items():
            row = by_kind[item["kind"]]
            row[0] += 1
            n = counts[key]
            row[1] += n == 1
            row[2] += n == 0
            row[3] += n > 1
        live_keys = [key for key, item in expected.items() if item["kind"] == "event_live"]
        went_live = event_row.went_live_at
        delays = [first[key] - went_live.timestamp() for key in live_keys if key in first and went_live]
        start_delays = [first[key] - event_row.starts_at.timestamp() for key in live_keys if key in first]
        late_live = sum(1 for d in start_delays if d > args.live_now_within) + sum(
            1 for key in live_keys if key not in first
        )
        sent_total = sum(counts.values()) + len(unmatched)

        lines = []
        out = lines.append
        out(f"## Launch rehearsal ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
        out("")
        out(
            f"- shape: `{args.server_cmd.format(**fill)}`; live `{args.live_cmd.format(**fill) or 'same'}`; "
            f"worker `{args.worker_cmd.format(**fill)}`; "
            f"beat separate; PostgreSQL role connection limit {args.db_connection_limit}; own Redis (AOF)"
        )
        out(
            f"- size: {args.officials} officials ({event['registered']} registered before, "
            f"{args.late_registrations} late), {args.live_pages} live pages, {args.repliers} repliers, "
            f"{args.duration:.0f} s replay, event start at +{args.starts_in:.0f} s"
        )
        out(
            "- load average (1/5/15 min) before "
            f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, "
            f"at the end {load_during[0]:.2f}/{load_during[1]:.2f}/{load_during[2]:.2f} (2 cores, shared)"
        )
        for at, what in fault_log:
            out(f"- fault at +{at:.1f} s: {what}")
        if went_live:
            out(
                f"- went live at +{(went_live.timestamp() - (time.time() - replay.now())):.1f} s "
                f"(start +{args.starts_in:.0f} s); first 'live' event seen by a page at "
                f"{f'+{replay.went_live_seen:.1f} s' if replay.went_live_seen else 'never'}"
            )
        else:
            out("- the event never went live")
        out(f"- settled {settled:.0f} s after the replay for due email")
        out("")
        out("| measure | value |")
        out("|---|---|")
        out(f"| requests | {len(samples)} ({', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))}) |")
        out(
            "| by kind | "
            f"{', '.join(f'{k} {v}' for k, v in sorted(Counter(s.kind for s in samples).items()))} |"
        )
        out(
            f"| 5xx responses | {len(five)} (500: {statuses[500]}, 502: {statuses[502]}, 503: "
            f"{statuses[503]}, "
            f"504: {statuses[504]}); by kind: {dict(Counter(s.kind for s in five))} |"
        )
        failed = Counter(f"{s.kind} {s.status}" for s in samples if s.status not in (200, 302))
        out(f"| not 200/302, by kind | {dict(sorted(failed.items()))} |")
        out(f"| no response (refused, reset, timeout) | {len(no_answer)}: {dict(replay.errors)} |")
        out(
            f"| sign-ins | {replay.signed_in} of {args.repliers} signed in; attempts by status "
            f"{dict(sorted(replay.sign_in_attempts.items()))} |"
        )
        out(f"| late registrations | {replay.registered_late} of {args.late_registrations} |")
        out(
            f"| replies accepted (302) / stored | {len(accepted)} / {sum(stored.values())} "
            f"(lost {len(lost)}, doubled {len(doubled)}, stored without a success answer "
            f"{len(unconfirmed)}) |"
        )
        out(
            f"| replies refused (form errors) | {sum(replay.refused.values())}: "
            f"{dict(replay.refused.most_common(4))} |"
        )
        out(
            f"| emails expected / sent exactly once | {len(expected)} / "
            f"{sum(r[1] for r in by_kind.values())} "
            f"(missing {sum(r[2] for r in by_kind.values())}, more than once "
            f"{sum(r[3] for r in by_kind.values())}; "
            f"files hold {sent_total} messages, {len(unmatched)} not expected) |"
        )
        for kind, (n, once, miss, more) in sorted(by_kind.items()):
            out(f"| &nbsp; {kind} | expected {n}, once {once}, missing {miss}, more than once {more} |")
        if owed["live_without_row"]:
            out(f"| &nbsp; live-now notifications with no email row | {owed['live_without_row']} |")
        if delays:
            out(
                f"| 'Live now' email delay after go-live | min {min(delays):.0f} s, median "
                f"{statistics.median(delays):.0f} s, "
                f"max {max(delays):.0f} s ({len(delays)} of {len(live_keys)} sent) |"
            )
        else:
            out(f"| 'Live now' email delay | none of {len(live_keys)} sent by the end |")
        out(
            f"| 'Live now' later than {args.live_now_within:.0f} s after the start (or never) | {late_live} |"
        )
        out(
            "| peak PostgreSQL connections | "
            f"{poller.peak}{' (poller: ' + poller.error + ')' if poller.error else ''} "
            f"(budget {args.connection_budget}) |"
        )
        out(
            f"| page latency p50 / p95 (200s) | {percentile(page_ms, 0.5):.0f} / "
            f"{percentile(page_ms, 0.95):.0f} ms "
            f"({len(page_ms)}) |"
        )
        out(
            f"| reply latency p50 / p95 (302s) | {percentile(reply_ms, 0.5):.0f} / "
            f"{percentile(reply_ms, 0.95):.0f} ms "
            f"({len(reply_ms)}) |"
        )
        if window:
            out(
                f"| pages during the Redis outage (+{window[0]:.0f}..+{window[1]:.0f} s) | "
                f"{len(outage_pages)}, "
                f"not 200: {len(outage_bad)} {dict(Counter(s.status for s in outage_bad))} |"
            )
        out(
            f"| live pages that fell back to polling | {replay.pages_polling} of {args.live_pages}, "
            f"gave up (refused) {replay.pages_stopped}; stream events received {replay.stream_events} |"
        )
        out(
            "| processes at the end | worker "
            f"{'alive, answers ping' if worker_alive else 'DEAD or not answering'}, "
            f"beat {'alive' if beat_alive else 'DEAD'}, web {'alive' if web_alive else 'DEAD'} |"
        )
        errors = log_errors(run)
        if errors:
            out("")
            out("Error lines in the logs (count, line):")
            for name, counter in errors.items():
                for line, n in counter.most_common(8):
                    out(f"- {name}: {n} x `{line}`")
        checks = {
            "0 responses 500": statuses[500] == 0,
            "0 replies lost or doubled": not lost and not doubled,
            "every expected email exactly once": all(counts[k] == 1 for k in expected)
            and not owed["live_without_row"],
            f"'Live now' emails within {args.live_now_within:.0f} s of the start": bool(live_keys)
            and late_live == 0,
            f"peak PostgreSQL connections <= {args.connection_budget}": not poller.error
            and poller.peak <= args.connection_budget,
            "pages 200 during the Redis outage": not window or (bool(outage_pages) and not outage_bad),
            "worker alive afterwards": worker_alive,
        }
        out("")
        out("Done when (issue 12):")
        for name, ok in checks.items():
            out(f"- [{'x' if ok else ' '}] {name}")
        print("\n".join(lines), flush=True)
        (run / "report.md").write_text("\n".join(lines) + "\n")
        return 0 if all(checks.values()) else 1
    finally:
        poller.stop.set()
        stack.stop_all()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if created_db and not args.keep:
            with contextlib.suppress(Exception):
                psql(args.pg, f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")
                psql(args.pg, f"DROP ROLE IF EXISTS {args.database}")
        if args.keep:
            print(f"Kept: database {args.database}, run folder {run}")
        else:
            print(f"Logs kept in {run} (delete at will)")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception:  # noqa: BLE001 - a broken rehearsal (2) is not a failed criterion (1)
        import traceback

        traceback.print_exc()
        sys.exit(2)
