"""How long a topic page takes for a short topic and for a 10,000-post one, and how many queries.

    python manage.py seed_bench            # once: 10,000 topics, 200,000 posts, one 10,000-post topic
    python bench/topic_page.py [--runs 30]

Requests go through Django's test client (the whole view and template, no network),
anonymous and signed in, for the first, a middle and the last page and the tree view.
Prints a table and appends it to bench/RESULTS.md.
"""

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from common import measure_page, plan_summary  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User, VerificationState  # noqa: E402
from forum.models import Topic  # noqa: E402
from forum.reading import POST_RELATED, post_page  # noqa: E402


def page_query_plan(topic: Topic, page_number: int) -> str:
    """The database's own account of the page query: plan and, on PostgreSQL, its execution time."""
    page = post_page(topic, page_number)
    queryset = (
        topic.posts.filter(number__range=(page.first_number, page.last_number))
        .select_related(*POST_RELATED)
        .order_by("number")
    )
    if connection.vendor == "postgresql":
        return queryset.explain(analyze=True)
    return queryset.explain()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()

    big = Topic.objects.order_by("-posts_count").first()
    short = Topic.objects.filter(posts_count__gte=15, posts_count__lte=25).order_by("-posts_count").first()
    if big is None or short is None or big.posts_count < 1000:
        sys.exit("Run `python manage.py seed_bench` first.")
    reader = User.objects.filter(verification_state=VerificationState.VERIFIED).first()

    rows = []
    for who in ("anonymous", "signed in"):
        client = Client()
        if who == "signed in":
            client.force_login(reader)
        for topic in (short, big):
            last = topic.highest_post_number
            pages = {
                "first page": topic.get_absolute_url(),
                "middle page": topic.post_url(max(1, last // 2)),
                "last page": topic.post_url(last),
                "tree view": topic.get_absolute_url() + "?view=tree",
            }
            for page, url in pages.items():
                median, p95, queries = measure_page(client, url, args.runs)
                rows.append((who, f"{topic.posts_count} posts", page, median, p95, queries))

    header = "| reader | topic | page | median ms | p95 ms | queries |\n|---|---|---|---:|---:|---:|"
    lines = [f"| {w} | {t} | {p} | {m:.1f} | {p95:.1f} | {q} |" for w, t, p, m, p95, q in rows]
    table = "\n".join([header, *lines])
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    vendor = connection.vendor
    report = (
        f"\n## Topic page: short vs {big.posts_count}-post topic ({stamp}, {vendor}, {args.runs} runs)\n\n"
        f"{table}\n"
    )
    plans = []
    for topic in (short, big):
        last_page = post_page(topic, 10**9).number
        for page_number in sorted({1, max(1, last_page // 2), last_page}):
            plan = page_query_plan(topic, page_number)
            summary = plan_summary(plan, ("Index", "SEARCH"))
            plans.append(f"- {topic.posts_count} posts, page {page_number}: {summary}")
    report += "\nThe page query as the database runs it (EXPLAIN):\n\n" + "\n".join(plans) + "\n"
    print(report)
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as results:
        results.write(report)


if __name__ == "__main__":
    main()
