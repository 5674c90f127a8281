"""The answer when the database cannot be reached or the connection pool stays busy: a 503.

Built with no database access at all (core.errors: no context processors, no session, no user),
in the request's language, as the site's 503 page for browsers and a Discourse-shaped error for
API clients.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.utils import translation

from . import errors

logger = logging.getLogger(__name__)

# Seconds a client should wait. With the pool, a database that is down and a pool that stays
# busy look the same (no connection within DB_POOL_TIMEOUT), so one figure serves both.
RETRY_AFTER_SECONDS = 15


def is_database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def response_for(request, exc: BaseException) -> HttpResponse:
    """A 503 with Retry-After for a database error (see is_database_unavailable)."""
    logger.warning("Database unavailable on %s: %s", request.path, exc)
    if request.path_info.startswith("/live/"):
        # The live stream's client only needs to know it should wait.
        with translation.override(translation.get_language_from_request(request)):
            message = errors.error_texts(503)[2]
        response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    else:
        response = errors.render_error(request, 503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
