"""How long a search takes on seed_bench data: one word, two words, a phrase, common and rare.

    python manage.py seed_metropolis     # the seeded questions (the rare words below)
    python manage.py seed_bench          # once: 10,000 topics, 200,000 posts
    python bench/search.py [--runs 20]

Each query is timed twice: `forum.search.search()` alone (the queries the search makes) and
the whole `/search?q=` page through Django's test client, signed in (the rate limit is for
anonymous visitors only). Prints median and p95 per query and appends them to bench/RESULTS.md,
with the plan of the word-matching query (EXPLAIN ANALYZE on PostgreSQL).
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from common import plan_summary  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User, VerificationState  # noqa: E402
from forum import search  # noqa: E402
from forum.models import Post  # noqa: E402

# (kind, query): seed_bench's sample texts make the common words (each in a fifth of the posts);
# the seeded questions make the rare ones.
QUERIES = [
    ("one word, common", "online"),
    ("one word, common", "procurement"),
    ("one word, rare", "digitalizacion"),
    ("two words", "public wifi"),
    ("two words", "digital mentors"),
    ("two words, rare", "brecha digital"),
    ("phrase", '"plain-language guide"'),
    ("phrase", '"public map"'),
    ("word + filter", "online status:open"),
]


def timed(function, runs: int) -> tuple[float, float]:
    function()  # warm-up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def match_plan(query: str) -> str:
    parsed = search.parse_query(query)
    backend = (
        search._PostgresBackend(parsed)
        if connection.vendor == "postgresql"
        else search._SqliteBackend(parsed)
    )
    queryset = Post.objects.filter(backend.match()).values("id")
    if connection.vendor == "postgresql":
        return queryset.explain(analyze=True)
    return queryset.explain()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    total = Post.objects.count()
    if total < 10_000:
        sys.exit("Run `python manage.py seed_bench` first.")
    reader = User.objects.filter(verification_state=VerificationState.VERIFIED).first()
    client = Client()
    client.force_login(reader)

    rows = []
    for kind, query in QUERIES:
        results = search.search(reader, query)
        found = len(results.hits)
        service_median, service_p95 = timed(lambda q=query: search.search(reader, q), args.runs)
        page_median, page_p95 = timed(lambda q=query: client.get("/search", {"q": q}), args.runs)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/search", {"q": query})
        assert response.status_code == 200, (query, response.status_code)
        rows.append((kind, query, found, service_median, service_p95, page_median, page_p95, len(queries)))

    header = (
        "| kind | query | topics on page 1 | search() median ms | p95 ms | /search page median ms | p95 ms "
        "| page queries |\n|---|---|---:|---:|---:|---:|---:|---:|"
    )
    lines = [
        f"| {k} | `{q}` | {n} | {sm:.1f} | {sp:.1f} | {pm:.1f} | {pp:.1f} | {c} |"
        for k, q, n, sm, sp, pm, pp, c in rows
    ]
    medians = sorted(row[3] for row in rows)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = (
        f"\n## Search: {total} posts ({stamp}, {connection.vendor}, {args.runs} runs)\n\n"
        + "\n".join([header, *lines])
        + f"\n\nWorst median of search(): {medians[-1]:.1f} ms (goal: under 50 ms on PostgreSQL).\n"
    )
    plans = []
    for query in ("digitalizacion", "online"):
        plans.append(f"- `{query}`: {plan_summary(match_plan(query), ('Index', 'SCAN', 'Scan'))}")
    report += "\nThe word match as the database runs it (EXPLAIN):\n\n" + "\n".join(plans) + "\n"
    print(report)
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results_file:
        results_file.write(report)


if __name__ == "__main__":
    main()
