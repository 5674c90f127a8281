"""CPU milliseconds and queries of one topic page request, anonymous and signed in.

    python manage.py seed_metropolis && python manage.py seed_bench   # once
    python bench/topic_cpu.py [--runs 200] [--profile signed-in|anonymous]

Requests go through Django's test client (middleware, view, templates; no network), so the
numbers are the web process's own CPU time per request (time.process_time), which is what
limits requests per second on a busy machine: the database's time is not in it. The topic is
a typical one (20-25 replies) and the 1,000-reply topic's first and last pages; the reader is
a verified official. ``--profile`` prints the top of a cProfile of the signed-in or anonymous
typical page instead.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import User, VerificationState  # noqa: E402
from forum.models import Topic  # noqa: E402


def cpu_ms(client: Client, url: str, runs: int) -> tuple[float, int]:
    """Median CPU ms of ``runs`` GETs (in batches of 10) after a warm-up, and the queries of one."""
    for _ in range(3):
        client.get(url)
    batches = []
    for _ in range(max(1, runs // 10)):
        start = time.process_time()
        for _ in range(10):
            response = client.get(url)
        batches.append((time.process_time() - start) * 100)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return statistics.median(batches), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--profile", choices=["signed-in", "anonymous"])
    args = parser.parse_args()

    typical = Topic.objects.filter(posts_count__gte=21, posts_count__lte=26).order_by("-posts_count").first()
    big = Topic.objects.filter(posts_count__gte=1000).order_by("posts_count").first()
    if typical is None or big is None:
        sys.exit("Run `python manage.py seed_bench` first.")
    reader = User.objects.filter(verification_state=VerificationState.VERIFIED, is_staff=False).first()
    clients = {"anonymous": Client(), "signed in": Client()}
    clients["signed in"].force_login(reader)

    if args.profile:
        client = clients[args.profile.replace("-", " ")]
        url = typical.get_absolute_url()
        for _ in range(5):
            client.get(url)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(50):
            client.get(url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(60)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
        return

    pages = {
        f"topic ({typical.posts_count - 1} replies)": typical.get_absolute_url(),
        f"{big.posts_count - 1}-reply topic, page 1": big.get_absolute_url(),
        f"{big.posts_count - 1}-reply topic, last page": big.post_url(big.highest_post_number),
    }
    print("| page | reader | CPU ms per request | queries |\n|---|---|---:|---:|")
    for who, client in clients.items():
        for name, url in pages.items():
            ms, queries = cpu_ms(client, url, args.runs)
            print(f"| {name} | {who} | {ms:.1f} | {queries} |", flush=True)


if __name__ == "__main__":
    main()
