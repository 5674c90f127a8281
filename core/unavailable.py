"""The answer when the database cannot be reached or the connection pool stays busy: a 503.

Built with no database access at all (no context processors, no session, no user), in the
request's language, as a small page for browsers and a Discourse-shaped error for API clients.
"""

import json
import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Seconds a client should wait. With the pool, a database that is down and a pool that stays
# busy look the same (no connection within DB_POOL_TIMEOUT), so one figure serves both.
RETRY_AFTER_SECONDS = 15


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def _wants_json(request) -> bool:
    return (
        request.path_info.endswith(".json")
        or "Api-Key" in request.headers
        or "application/json" in request.headers.get("Accept", "")
    )


def response_for(request, exc: BaseException) -> HttpResponse:
    """A 503 with Retry-After for a database error (see is_database_unavailable)."""
    logger.warning("Database unavailable on %s: %s", request.path, exc)
    language = translation.get_language_from_request(request)
    with translation.override(language):
        message = _(
            "The forum cannot answer right now: it is very busy or its database is unavailable. "
            "Please try again in a moment."
        )
        if _wants_json(request):
            body = json.dumps({"errors": [message], "error_type": "service_unavailable"}, ensure_ascii=False)
            response = HttpResponse(body, status=503, content_type="application/json; charset=utf-8")
        elif request.path_info.startswith("/live/"):
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        else:
            html = render_to_string("503.html", {"message": message, "LANGUAGE_CODE": language})
            response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
