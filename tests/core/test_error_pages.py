"""The site's own error pages: in its shell, in the reader's language, light, and JSON for API clients.

The last two tests run a request in a separate process under config.settings.production (DEBUG
off, the real handlers), against the test database, then against a database that is not there.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test import RequestFactory

from core import errors, views
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
SECRET = "k" * 20 + "0123456789abcdefghijklmnopqrstuvwxyz"


def assert_in_the_shell(html: str):
    assert 'role="search"' in html  # the header's search
    assert 'href="/events/"' in html
    assert 'name="language"' in html  # the footer's language switcher
    assert 'href="/"' in html  # a way back
    assert "Traceback" not in html


def test_an_unknown_topic_is_the_sites_404_in_the_readers_chosen_language(client):
    client.cookies["django_language"] = "fr"
    response = client.get("/t/nope/99999")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Page introuvable" in html
    assert_in_the_shell(html)


def test_an_unknown_event_in_spanish_from_the_browser(client):
    response = client.get("/events/nope/", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 404
    assert '<html lang="es">' in response.content.decode()
    assert "Página no encontrada" in response.content.decode()


def test_json_requests_keep_discourse_shaped_errors(client):
    assert client.get("/t/nope/99999.json").json()["error_type"] == "not_found"
    response = client.get("/t/nope/99999", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json() == {
        "errors": ["The requested URL or resource could not be found. It may have been moved or withdrawn."],
        "error_type": "not_found",
    }


def test_a_refusal_says_why_and_offers_to_sign_in(client):
    request = RequestFactory().get("/c/private/3", HTTP_ACCEPT_LANGUAGE="en")
    response = errors.permission_denied(
        request, PermissionDenied("This category is only open to some members.")
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert "This category is only open to some members." in html
    assert "/accounts/login/?next=/c/private/3" in html
    assert_in_the_shell(html)


def test_a_refusal_from_a_view_is_the_sites_403(client):
    client.force_login(TopicFactory().author)
    response = client.get("/review/")
    assert response.status_code in (302, 403)  # a member: refused (403) or sent to enrolment
    if response.status_code == 403:
        assert "You cannot open this page" in response.content.decode()


def test_an_expired_form_is_the_sites_403_with_what_to_do():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/i18n/setlang/", {"language": "fr"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Ce formulaire a expiré" in html
    assert_in_the_shell(html)


@pytest.mark.parametrize(
    ("status", "handler", "title"),
    [
        (400, errors.bad_request, "The forum could not understand this request"),
        (404, errors.page_not_found, "Page not found"),
        (429, errors.too_many_requests, "Too many requests"),
        (500, views.server_error, "Something went wrong on our side"),
    ],
)
def test_every_error_page_renders_without_a_query(django_assert_num_queries, status, handler, title):
    request = RequestFactory().get("/somewhere", HTTP_REFERER="http://testserver/latest")
    with django_assert_num_queries(0):
        response = handler(request) if status == 500 else handler(request, None)
    assert response.status_code == status
    html = response.content.decode()
    assert title in html
    assert 'href="http://testserver/latest"' in html  # back to where the reader came from
    assert_in_the_shell(html)


def test_a_way_back_never_leads_off_the_site():
    request = RequestFactory().get("/somewhere", HTTP_REFERER="https://evil.example/phish")
    assert "evil.example" not in errors.page_not_found(request).content.decode()


def test_allauths_rate_limit_uses_the_sites_429_page(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client.post("/accounts/login/", {"login": "a@example.org", "password": "wrong"})
    response = client.post("/accounts/login/", {"login": "b@example.org", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many requests" in response.content.decode()
    assert_in_the_shell(response.content.decode())


# --- Under production settings, in a process of its own ------------------------------------

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import django
    django.setup()
    from django.test import Client
    client = Client(raise_request_exception=False)
    client.cookies["django_language"] = sys.argv[2]
    response = client.get(sys.argv[1])
    print(json.dumps({"status": response.status_code, "html": response.content.decode(),
                      "retry_after": response.get("Retry-After")}))
    """
)
# Production, with two things a test machine has not got: collected static files (the manifest)
# and the database cache table; neither changes how an error page is chosen or rendered.
SETTINGS = textwrap.dedent(
    """
    from config.settings.production import *  # noqa: F403
    STATIC = "django.contrib.staticfiles.storage.StaticFilesStorage"
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": STATIC}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    """
)


def _database_url(*, stopped: bool) -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        # A database file that cannot be opened is SQLite's "database stopped".
        name = "/nonexistent-directory/forum.sqlite3" if stopped else db["NAME"]
        return f"sqlite:///{name}"
    port = db["PORT"] or 5432
    if stopped:
        with socket.socket() as probe:  # a port where nothing listens
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{port}/{db['NAME']}"


def get_in_production(tmp_path, path: str, language: str, *, database_stopped: bool = False) -> dict:
    (tmp_path / "production_like.py").write_text(SETTINGS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.pop("REDIS_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "production_like",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(PROJECT_DIR)]),
            "SECRET_KEY": SECRET,
            "ALLOWED_HOSTS": "testserver",
            "SECURE_SSL_REDIRECT": "False",
            "DATABASE_URL": _database_url(stopped=database_stopped),
            "DB_POOL_TIMEOUT": "1",
            "LOG_LEVEL": "CRITICAL",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, path, language],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_in_production_an_unknown_topic_in_french_is_the_french_404_with_navigation(tmp_path):
    page = get_in_production(tmp_path, "/t/nope/99999", "fr")
    assert page["status"] == 404
    assert '<html lang="fr">' in page["html"]
    assert "Page introuvable" in page["html"]
    assert "Rechercher" in page["html"]
    assert_in_the_shell(page["html"])


def test_in_production_with_the_database_stopped_a_page_is_the_503_page(tmp_path):
    page = get_in_production(tmp_path, "/latest", "fr", database_stopped=True)
    assert page["status"] == 503
    assert page["retry_after"] == "15"
    assert '<html lang="fr">' in page["html"]
    assert "base de données" in page["html"]
    assert_in_the_shell(page["html"])


@pytest.mark.parametrize(
    ("handler", "status", "error_type"),
    [
        (errors.bad_request, 400, "invalid_parameters"),
        (errors.permission_denied, 403, "invalid_access"),
        (errors.too_many_requests, 429, "rate_limit"),
    ],
)
def test_api_clients_get_every_error_in_discourses_shape(handler, status, error_type):
    request = RequestFactory().get("/latest.json", HTTP_API_KEY="some-key")
    response = handler(request, None)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert body["error_type"] == error_type and len(body["errors"]) == 1
    server = views.server_error(RequestFactory().get("/t/1.json"))
    assert server.status_code == 500 and json.loads(server.content)["error_type"] == "server_error"
