import sys

from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import errors, unavailable


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # noqa: BLE001 - any failure means the database is not answering
        return "unavailable"
    return "ok"


def _redis_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
    except redis.RedisError:
        return "unavailable"
    finally:
        client.close()
    return "ok"


@never_cache
@require_GET
def healthz(request):
    """200 while the database answers (a Redis outage is reported as degraded), else 503."""
    database = _database_state()
    redis_state = _redis_state()
    if database != "ok":
        status = "failed"
    elif redis_state == "unavailable":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {"status": status, "database": database, "redis": redis_state},
        status=503 if status == "failed" else 200,
    )


@require_GET
def service_worker(request):
    """/sw.js: at the site's root so its scope is the whole site (templates/core/sw.js)."""
    response = HttpResponse(render_to_string("core/sw.js"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def server_error(request):
    """handler500: a database outage or a busy pool met before the view (in the session or
    authentication middleware) answers 503 with Retry-After; anything else is the site's 500
    page, rendered without the database (core.errors)."""
    exc = sys.exc_info()[1]
    if unavailable.is_database_unavailable(exc):
        return unavailable.response_for(request, exc)
    return errors.render_error(request, 500)
