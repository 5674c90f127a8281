"""The site's error pages: 400, 403, 404, 429, 500 and 503, in the site's shell and the reader's
language, with a way back.

Rendered without the database: no context processors, no session, no user (a 500 or a 503 is
often the database itself). The language comes from the reader's choice (the language cookie)
or their browser, as LocaleMiddleware decides it. JSON clients (a `.json` path, an API key,
`Accept: application/json`) get Discourse's error shape instead of a page.
"""

import json

from django.conf import settings
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext


def wants_json(request) -> bool:
    """An API client, not a browser: it must get `{"errors": [...], "error_type": ...}`."""
    return (
        request.path_info.endswith(".json")
        or "Api-Key" in request.headers
        or getattr(request, "api_key_use", None) is not None
        or "application/json" in request.headers.get("Accept", "")
    )


def error_texts(status: int) -> tuple[str, str, str]:
    """(Discourse error_type, page title, what happened and what to do) for a status."""
    if status == 400:
        return (
            "invalid_parameters",
            _("The forum could not understand this request"),
            _("Something in the address or the form was not as expected. Go back and try again."),
        )
    if status == 403:
        return (
            "invalid_access",
            _("You cannot open this page"),
            _(
                "You are not permitted to view the requested resource. If you are not signed in, "
                "sign in and try again."
            ),
        )
    if status == 404:
        return (
            "not_found",
            _("Page not found"),
            _("The requested URL or resource could not be found. It may have been moved or withdrawn."),
        )
    if status == 429:
        return (
            "rate_limit",
            _("Too many requests"),
            _("You have done this too many times in a short while. Please wait a minute and try again."),
        )
    if status == 503:
        return (
            "service_unavailable",
            _("Please try again shortly"),
            _(
                "The forum cannot answer right now: it is very busy or its database is unavailable. "
                "Please try again in a moment."
            ),
        )
    return (
        "server_error",
        _("Something went wrong on our side"),
        _("The forum could not show this page. The error has been recorded; please try again in a moment."),
    )


def _way_back(request) -> str:
    """The page the reader came from, when it is on this site (a link back), else ""."""
    referer = request.headers.get("Referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def render_error(request, status: int, message: str | None = None) -> HttpResponse:
    """The error page (or JSON error) for `status`; `message` replaces the standard explanation."""
    language = translation.get_language_from_request(request)
    with translation.override(language):
        error_type, title, explanation = error_texts(status)
        if wants_json(request):
            body = json.dumps(
                {"errors": [message or explanation], "error_type": error_type}, ensure_ascii=False
            )
            response = HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
        else:
            context = {
                "status": status,
                "title": title,
                "message": message or explanation,
                "back_url": _way_back(request),
                "next_path": request.get_full_path(),
                "SITE_NAME": settings.SITE_NAME,
                "LANGUAGE_CODE": language,
                # The language form posts with the cookie's token; reading it touches no database.
                "csrf_token": get_token(request),
                "status_label": pgettext("HTTP error", "Error %(status)s") % {"status": status},
            }
            html = render_to_string("error.html", context)
            response = HttpResponse(html, status=status)
    if status >= 500:
        response["Cache-Control"] = "no-store"
    return response


# --- handler400, handler403, handler404, handler429 (allauth), handler500 in config/urls.py ---


def bad_request(request, exception=None):
    return render_error(request, 400)


def permission_denied(request, exception=None):
    # The forum's checks raise PermissionDenied with a sentence for the reader, already translated.
    reason = str(exception) if exception is not None and exception.args else None
    return render_error(request, 403, reason)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: most often a form left open past its session (or a cleared cookie)."""
    with translation.override(translation.get_language_from_request(request)):
        message = _("This form has expired. Go back, reload the page and send it again.")
    return render_error(request, 403, message)


def page_not_found(request, exception=None):
    return render_error(request, 404)


def too_many_requests(request, exception=None):
    return render_error(request, 429)
