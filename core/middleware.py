import json
import logging

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.db import DataError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import clean, unavailable

logger = logging.getLogger(__name__)


class BothModesMiddleware:
    """A middleware that runs in the caller's mode, sync or async (no thread hop under ASGI).

    ``refusal(request)`` may answer before the view; None lets the request through.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.refusal(request) or self.get_response(request)

    async def __acall__(self, request):
        return self.refusal(request) or await self.get_response(request)

    def refusal(self, request) -> HttpResponse | None:
        return None


class DatabaseUnavailableMiddleware(BothModesMiddleware):
    """First in MIDDLEWARE: a view that meets a database outage or a busy pool answers 503.

    Django turns an exception raised inside any middleware into a response at that layer, so
    errors raised before the view (sessions, the user, the verification notice) never reach
    this class: config.urls' handler500 (core.views.server_error) answers those the same way.
    """

    def process_exception(self, request, exception):
        if unavailable.is_database_unavailable(exception):
            return unavailable.response_for(request, exception)
        return None


def _bad_request(request, message: str) -> HttpResponse:
    """400 in the shape the client reads: Discourse's JSON error for API requests, a page otherwise."""
    if (
        request.path.endswith(".json")
        or "Api-Key" in request.headers
        or request.content_type == "application/json"
    ):
        body = json.dumps({"errors": [message], "error_type": "invalid_parameters"}, ensure_ascii=False)
        return HttpResponse(body, status=400, content_type="application/json; charset=utf-8")
    # No request context: nothing here may touch the database (this also runs in async mode).
    page = render_to_string("core/bad_request.html", {"message": message, "LANGUAGE_CODE": get_language()})
    return HttpResponse(page, status=400)


def _holds_nul_error(exception: BaseException) -> bool:
    """The database refused a value no service should have let through (PostgreSQL: NUL bytes)."""
    if isinstance(exception, UnicodeEncodeError):
        return "surrogates not allowed" in str(exception)
    return isinstance(exception, DataError) and "NUL (0x00)" in str(exception)


class BadInputMiddleware(BothModesMiddleware):
    """Requests carrying characters no page or API reads get a 400 before any view or query.

    A path or query string with NUL or another control character (tab and newlines aside) is
    refused here. Form and JSON bodies are cleaned by the services (core/clean.py) with messages
    in the form; should a value slip past them, the database's refusal of a NUL byte (PostgreSQL)
    or of invalid Unicode becomes a 400 here, never a 500.
    """

    def refusal(self, request) -> HttpResponse | None:
        if clean.has_control_characters(request.path) or any(
            clean.has_control_characters(key) or any(clean.has_control_characters(v) for v in values)
            for key, values in request.GET.lists()
        ):
            return _bad_request(request, _("The address contains control characters (such as NUL)."))
        return None

    def process_exception(self, request, exception):
        if _holds_nul_error(exception):
            logger.warning("Refused a value the database cannot store on %s: %s", request.path, exception)
            return _bad_request(request, clean.invalid_unicode_message())
        return None
