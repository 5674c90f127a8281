"""Bounded database connections, and a clear 503 when the database is down or the pool is busy.

Real PostgreSQL: the pool is exhausted for real, the database is made unreachable by pointing
the connection at a closed port, and backends are terminated as a restart would.
"""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client

from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the connection pool is PostgreSQL's"),
]


@pytest.fixture
def pool_settings():
    """Change the pool's options (or the address) for one test; a new pool is built from them."""
    saved_options = dict(connection.settings_dict["OPTIONS"]["pool"])
    saved_port = connection.settings_dict["PORT"]

    def apply(port=None, **options):
        connections.close_all()
        connection.close_pool()
        connection.settings_dict["OPTIONS"]["pool"].update(options)
        if port is not None:
            connection.settings_dict["PORT"] = port

    yield apply
    connections.close_all()
    connection.close_pool()
    connection.settings_dict["OPTIONS"]["pool"] = saved_options
    connection.settings_dict["PORT"] = saved_port


@pytest.fixture
def monitor():
    """A connection outside the pool, to watch and act on the test database's backends."""
    params = connection.get_connection_params()
    with psycopg.connect(
        dbname=params["dbname"],
        host=params.get("host"),
        port=params.get("port"),
        user=params.get("user"),
        password=params.get("password"),
        autocommit=True,
    ) as watcher:
        yield watcher


def backend_pids(watcher) -> set[int]:
    rows = watcher.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return {pid for (pid,) in rows}


def backends(watcher) -> int:
    return len(backend_pids(watcher))


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_concurrent_requests_never_hold_more_connections_than_the_pool(pool_settings, monitor):
    pool_settings(min_size=1, max_size=3, timeout=60)
    statuses: list[int] = []
    peak = 0
    done = threading.Event()

    def reader():
        client = Client()
        try:
            for _ in range(5):
                statuses.append(client.get("/latest").status_code)
        finally:
            connections.close_all()

    # Only the connections opened from here on count: on a loaded machine a backend that an
    # earlier test closed can still be listed for a moment.
    earlier = backend_pids(monitor)

    def watch():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, len(backend_pids(monitor) - earlier))

    watcher = threading.Thread(target=watch)
    watcher.start()
    readers = [threading.Thread(target=reader) for _ in range(12)]
    for thread in readers:
        thread.start()
    for thread in readers:
        thread.join()
    done.set()
    watcher.join()

    assert statuses == [200] * 60  # everyone was served, some after waiting for a connection
    assert 1 <= peak <= 3


def test_an_exhausted_pool_answers_503_with_retry_after_then_serves_again(pool_settings):
    pool_settings(min_size=1, max_size=2, timeout=0.5)
    pool = connection.pool
    pool.open(wait=True)
    held = [pool.getconn(), pool.getconn()]
    try:
        page = Client().get("/latest", HTTP_ACCEPT_LANGUAGE="fr")
        api = Client().get("/latest.json")
    finally:
        for conn in held:
            pool.putconn(conn)

    assert page.status_code == 503
    assert page["Retry-After"] == "15"
    assert "Veuillez réessayer" in page.content.decode()
    assert api.status_code == 503
    assert api["Retry-After"] == "15"
    assert api.json()["error_type"] == "service_unavailable"
    assert len(api.json()["errors"]) == 1

    assert Client().get("/latest").status_code == 200


def test_an_unreachable_database_answers_a_translated_503_and_the_site_recovers(pool_settings):
    member = UserFactory()
    signed_in = Client(raise_request_exception=False)
    signed_in.force_login(member)
    real_port = connection.settings_dict["PORT"]
    pool_settings(port=closed_port(), timeout=1)

    page = Client().get("/latest", HTTP_ACCEPT_LANGUAGE="fr")
    assert page.status_code == 503
    assert page["Retry-After"] == "15"
    html = page.content.decode()
    assert '<html lang="fr">' in html
    assert "base de données" in html
    assert "Traceback" not in html

    # The signed-in person's session and account are read in middleware, before any view.
    own_page = signed_in.get("/latest", HTTP_ACCEPT_LANGUAGE="es")
    assert own_page.status_code == 503
    assert own_page["Retry-After"] == "15"
    assert "base de datos" in own_page.content.decode()

    api = Client().get("/latest", HTTP_ACCEPT="application/json")
    assert api.status_code == 503
    assert api.json() == {
        "errors": [
            "The forum cannot answer right now: it is very busy or its database is unavailable. "
            "Please try again in a moment."
        ],
        "error_type": "service_unavailable",
    }

    # The stream view is async: the test client runs it through async_to_sync, which refuses a
    # thread where an event loop runs (the browser tests' Playwright leaves one in this thread).
    with ThreadPoolExecutor(max_workers=1) as thread:
        stream = thread.submit(Client().get, "/live/stream", {"channel": "/topic/1"}).result()
    assert stream.status_code == 503
    assert stream["Retry-After"] == "15"

    assert Client().get("/healthz").status_code == 503

    # The database is back: the next requests are served with no restart.
    pool_settings(port=real_port, timeout=10)
    assert Client().get("/latest").status_code == 200
    assert signed_in.get("/latest").status_code == 200
    assert Client().get("/healthz").status_code == 200


def test_connections_cut_by_a_database_restart_are_replaced(pool_settings, monitor):
    pool_settings(min_size=2, max_size=2, timeout=10)
    assert Client().get("/latest").status_code == 200
    connections.close_all()
    assert backends(monitor) >= 1  # the pool keeps its connections open

    monitor.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    assert Client().get("/latest").status_code == 200
    assert Client().get("/healthz").json()["database"] == "ok"
