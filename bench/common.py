"""What the benchmark scripts share (they import it after ``django.setup()``)."""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def measure_page(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    """Median and p95 milliseconds of ``runs`` GETs after a warm-up, and the queries of one."""
    client.get(url)  # warm-up
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    timings.sort()
    return statistics.median(timings), timings[max(int(len(timings) * 0.95) - 1, 0)], len(queries)


def plan_summary(plan: str, markers: tuple[str, ...]) -> str:
    """The scan line of an EXPLAIN (the first line with one of ``markers``) and its execution time."""
    lines = [line.strip(" ->") for line in plan.splitlines()]
    scan = next((line for line in lines if any(marker in line for marker in markers)), lines[0])
    timing = " ".join(line for line in lines if "Execution Time" in line)
    return f"`{scan}` {timing}"
