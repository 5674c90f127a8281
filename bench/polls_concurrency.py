"""200 officials vote in one poll at the same moment: none lost, each person counted once.

    python bench/polls_concurrency.py [--people 200] [--threads 50]

Builds its own topic with a poll (``[poll name=barrier]``, three options) and ``--people``
verified officials on the configured database (PostgreSQL for a real race: SQLite serialises
every writer), then releases every vote at once from ``--threads`` connections (PostgreSQL's
default allows 100). Each person sends two different votes at the same instant (a double
click on two options, or two tabs): exactly one must survive. Then checks, from the database:

- one voter row per person (``PollVote``), ``Poll.voters_count`` equal to the number of people;
- each option's ``votes_count`` equal to its rows, and the total equal to the number of people.

For comparison it first times the same people voting one after another on one connection in
another poll: the lock serialises voters, so "at once" should not be slower than that.
Prints the numbers and appends a section to bench/RESULTS.md. Exits 1 when a check fails.
"""

import argparse
import os
import queue
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["REDIS_URL"] = ""  # live events go to the in-process broker

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from accounts.models import Organisation, User, VerificationMethod, VerificationState  # noqa: E402
from forum import services  # noqa: E402
from forum.models import Category, Poll, PollVote  # noqa: E402

POLL = """Which barrier matters most in your city?

[poll name=barrier public=true]
# Which barrier matters most in your city?
* Cost of access
* Skills
* Devices
[/poll]
"""


def build(people: int, stamp: str):
    organisation, _ = Organisation.objects.get_or_create(
        slug="bench-polls", defaults={"name": "Bench City", "country": "Spain", "metropolis_region": "Europe"}
    )
    category, _ = Category.objects.get_or_create(slug="bench-polls", defaults={"name": "Bench polls"})
    officials = User.objects.bulk_create(
        User(
            username=f"poll{stamp}-{n}",
            email=f"poll{stamp}-{n}@bench.example",
            display_name=f"Official {n}",
            organisation=organisation,
            verification_state=VerificationState.VERIFIED,
            verification_method=VerificationMethod.REVIEW,
        )
        for n in range(people)
    )
    moderator = User.objects.create(
        username=f"pollmod{stamp}", email=f"pollmod{stamp}@bench.example", is_moderator=True
    )
    topic = services.create_topic(moderator, category, f"Polls bench {stamp}: which barrier?", POLL)
    return Poll.objects.get(post__topic=topic, name="barrier"), officials


def sequential(officials: list, stamp: str) -> float:
    """Milliseconds per vote, one after another on one connection (the same people, another poll)."""
    moderator = User.objects.get(username=f"pollmod{stamp}")
    topic = services.create_topic(
        moderator, Category.objects.get(slug="bench-polls"), f"Polls bench {stamp}: one at a time", POLL
    )
    poll = Poll.objects.get(post__topic=topic, name="barrier")
    digests = list(poll.options.order_by("position").values_list("digest", flat=True))
    began = time.perf_counter()
    for index, person in enumerate(officials):
        services.vote(person, poll, [digests[index % 3]])
    return (time.perf_counter() - began) * 1000 / len(officials)


def race(poll: Poll, officials: list, threads: int) -> tuple[float, list[BaseException]]:
    digests = list(poll.options.order_by("position").values_list("digest", flat=True))
    work: queue.Queue = queue.Queue()
    for index, person in enumerate(officials):
        # Two different votes per person, sent together.
        work.put((person, digests[index % 3]))
        work.put((person, digests[(index + 1) % 3]))
    errors: list[BaseException] = []
    start_line = threading.Barrier(threads + 1)

    def worker():
        from django.db import connection as thread_connection

        try:
            start_line.wait()
            while True:
                try:
                    person, digest = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    services.vote(person, poll, [digest])
                except BaseException as error:  # noqa: BLE001 - counted and reported
                    errors.append(error)
        finally:
            thread_connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - began, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--threads", type=int, default=50)
    args = parser.parse_args()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    poll, officials = build(args.people, stamp)
    one_by_one = sequential(officials, stamp)
    seconds, errors = race(poll, officials, args.threads)
    poll.refresh_from_db()
    rows = PollVote.objects.filter(poll=poll)
    per_person = list(rows.values("user").annotate(n=Count("pk")).filter(n__gt=1))
    options = list(poll.options.annotate(rows=Count("votes")).values_list("text", "votes_count", "rows"))
    checks = {
        "no errors": not errors,
        "one vote row per person": rows.count() == args.people and not per_person,
        "voters_count = people": poll.voters_count == args.people,
        "each option's count = its rows": all(count == counted for _text, count, counted in options),
        "total votes = people": sum(count for _text, count, _rows in options) == args.people,
    }
    calls = 2 * args.people
    # Half the calls at once change a vote (a delete and two counter updates more than a first vote).
    ratio = calls / seconds / (1000 / one_by_one)
    lines = [
        "",
        f"## Polls: {args.people} officials vote at once ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"{connection.vendor})",
        "",
        f"`python bench/polls_concurrency.py --people {args.people} --threads {args.threads}`: "
        f"each person sends two different votes at the same instant ({calls} calls of "
        f"`forum.services.vote` from {args.threads} connections, released together).",
        "",
        "| measure | value |",
        "|---|---|",
        f"| wall time for {calls} votes at once | {seconds * 1000:.0f} ms ({calls / seconds:.0f} votes/s) |",
        f"| one at a time, one connection ({args.people} first votes) | {one_by_one:.1f} ms a vote "
        f"({1000 / one_by_one:.0f} votes/s); at once / one at a time: {ratio:.2f} |",
        f"| errors | {len(errors)} |",
        f"| vote rows / people | {rows.count()} / {args.people} |",
        f"| Poll.voters_count | {poll.voters_count} |",
        "| options (count / rows) | "
        + ", ".join(f"{text}: {count}/{counted}" for text, count, counted in options)
        + " |",
        "",
        "Checks: "
        + "; ".join(f"{name}: {'met' if ok else '**FAILED**'}" for name, ok in checks.items())
        + ".",
        "",
    ]
    print("\n".join(lines))
    if errors:
        print("first error:", repr(errors[0]))
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results:
        results.write("\n".join(lines))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
