"""A webinar with a few thousand registered officials: what going live and the live page cost.

    python bench/events.py [--people 2000] [--replies 300] [--runs 30]

Builds its own event (slug ``bench-webinar-<timestamp>``) with three linked questions on the
configured database, then measures:

- registering everyone through ``events.services.register`` (each takes the event's row lock);
- 40 officials registering at once for 20 seats (PostgreSQL only; SQLite serialises writers);
- ``go_live``: its transaction (status, topics opened and pinned globally), then the work it
  queues after commit for the worker (one notification and one email per registered person);
- the live page and the fragment every open live page refetches when a reply arrives
  (median, 95th percentile, queries), through Django's test client.

Tasks run in this process (REDIS_URL is ignored), email goes to memory. Appends a section
to bench/RESULTS.md.
"""

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["REDIS_URL"] = ""  # Tasks run here, so their cost is measured.

import django  # noqa: E402

django.setup()

from common import measure_page  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.db import connection, connections, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Organisation, User, VerificationMethod, VerificationState  # noqa: E402
from events import services  # noqa: E402
from events.models import EventKind, EventStatus, RegistrationStatus  # noqa: E402
from forum import services as forum_services  # noqa: E402
from forum.models import Category, StartAccess  # noqa: E402
from notifications.models import Notification, OutboxEmail  # noqa: E402

settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
settings.ALLOWED_HOSTS = ["*"]


def make_people(prefix: str, count: int, organisation: Organisation) -> list[User]:
    now = timezone.now()
    User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{n}",
                email=f"{prefix}{n}@bench.example",
                display_name=f"Bench official {n}",
                position="Head of ICT Division",
                organisation=organisation,
                verification_state=VerificationState.VERIFIED,
                verification_method=VerificationMethod.REVIEW,
                verified_at=now,
                password="!",
            )
            for n in range(count)
        ],
        batch_size=500,
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


def timed(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return (time.perf_counter() - start) * 1000, result


def race_for_seats(staff, organisation: Organisation, stamp: str) -> str:
    if connection.vendor != "postgresql":
        return "skipped (SQLite serialises every writer)"
    start = timezone.now() + timedelta(days=1)
    event = services.create_event(
        staff,
        slug=f"bench-race-{stamp}",
        title="Bench race for seats",
        kind=EventKind.WEBINAR,
        status=EventStatus.PUBLISHED,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        capacity=20,
    )
    people = make_people(f"race{stamp}_", 40, organisation)
    barrier = threading.Barrier(len(people))

    def register(person):
        try:
            barrier.wait()
            services.register(person, event)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(person,)) for person in people]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = (time.perf_counter() - began) * 1000
    statuses = list(event.registrations.values_list("status", flat=True))
    seated = statuses.count(RegistrationStatus.REGISTERED)
    waiting = statuses.count(RegistrationStatus.WAITLISTED)
    return f"40 at once for 20 seats: {seated} registered, {waiting} waitlisted, {wall:.0f} ms wall"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")

    organisation, _created = Organisation.objects.get_or_create(
        slug="bench-city", defaults={"name": "Bench City", "country": "Spain"}
    )
    (staff,) = make_people(f"benchstaff{stamp}_", 1, organisation)
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)
    staff.refresh_from_db()
    category = Category.objects.create(
        slug=f"bench-{stamp}", name=f"Bench {stamp}", start_access=StartAccess.VERIFIED
    )
    questions = [
        forum_services.create_topic(
            staff, category, f"Bench question {n} ({stamp})", "What worked in your city?"
        )
        for n in range(3)
    ]
    start = timezone.now() + timedelta(hours=2)
    event = services.create_event(
        staff,
        slug=f"bench-webinar-{stamp}",
        title="Bench webinar",
        kind=EventKind.WEBINAR,
        status=EventStatus.PUBLISHED,
        starts_at=start,
        ends_at=start + timedelta(minutes=90),
        allow_members=True,
        stream_url="https://www.youtube-nocookie.com/embed/bench",
    )
    services.link_forum(event, staff, topics=questions)

    people = make_people(f"bench{stamp}_", args.people, organisation)
    began = time.perf_counter()
    for person in people:
        services.register(person, event)
    register_ms = (time.perf_counter() - began) * 1000

    race = race_for_seats(staff, organisation, stamp)

    # go_live: the transaction, then what it leaves for after the commit (the worker's share).
    with transaction.atomic():
        live_tx_ms, went = timed(services.go_live, event, staff)
        pending = list(connection.run_on_commit)
        connection.run_on_commit = []
    assert went
    mail.outbox = []
    after_ms, _ = timed(lambda: [callback() for _sids, callback, _robust in pending])
    notified = Notification.objects.filter(kind="event_live", data__event=event.pk).count()
    emailed = len(mail.outbox)
    owed = OutboxEmail.objects.filter(
        notification__kind="event_live", notification__data__event=event.pk
    ).count()
    second_ms, again = timed(services.go_live, event, staff)
    assert not again

    for n in range(args.replies):
        forum_services.create_reply(
            people[n % len(people)], questions[n % 3], f"Bench reply {n}: a lesson learnt."
        )

    client = Client()
    client.force_login(people[0])
    page = measure_page(client, event.get_absolute_url(), args.runs)
    fragment = measure_page(client, f"/events/{event.slug}/live-posts", args.runs)

    per_second = 1000 / fragment[0]
    lines = [
        f"## Events: a webinar with {args.people} registered people "
        f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {connection.vendor}, {args.runs} runs)",
        "",
        "| what | time | queries |",
        "|---|---|---|",
        f"| register {args.people} people one after another | {register_ms / args.people:.1f} ms each "
        f"({register_ms / 1000:.1f} s in all) | |",
        f"| go_live: the transaction (status, 3 topics opened and pinned) | {live_tx_ms:.0f} ms | |",
        f"| go_live: after commit, {notified} notifications, {owed} emails owed, "
        f"{emailed} sent at once (a worker's job) | "
        f"{after_ms / 1000:.1f} s ({after_ms / args.people:.2f} ms a person) | |",
        f"| go_live run a second time (no-op) | {second_ms:.1f} ms | |",
        f"| live event page, {args.replies} replies in its questions (median / p95) | "
        f"{page[0]:.1f} / {page[1]:.1f} ms | {page[2]} |",
        f"| live-posts fragment refetched on each reply (median / p95) | "
        f"{fragment[0]:.1f} / {fragment[1]:.1f} ms | {fragment[2]} |",
        "",
        f"- Seats: {race}.",
        f"- One web process answers about {per_second:.0f} fragment refetches a second, so a reply "
        f"seen by {args.people} open live pages costs about {args.people / per_second:.1f} s of one "
        "process's time; event_live.js merges replies that arrive within 250 ms into one refetch.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write("\n" + text)


if __name__ == "__main__":
    main()
