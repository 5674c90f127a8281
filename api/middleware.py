from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from . import services
from .http import SAFE_METHODS, error_response, invalid_key, not_found, rate_limited


class ApiKeyMiddleware:
    """Requests carrying `Api-Key` (and `Api-Username`) act as the key's person, as in Discourse.

    Placed last: a key replaces any session user for the view only, so the pages' middleware
    (verification notices shown once, the admin's MFA gate) never acts on a script's behalf.
    Key requests skip CSRF (no browser is involved) and are rate-limited per key; a bad key
    gets a 403 that does not say which part was wrong. Without the header nothing changes.

    Keys open the API only (views marked by api_view, and `.json` paths such as the search
    app's): never the pages, the staff pages or the Django admin, which ask for a second factor.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._answer(request)
        if (
            response.status_code == 404
            and request.path_info.endswith(".json")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            # Unknown `.json` paths answer Discourse's JSON 404 even under DEBUG, whose
            # technical 404 page bypasses handler404 (core/errors.py).
            return not_found()
        return response

    def _answer(self, request):
        raw_key = request.headers.get("Api-Key")
        if raw_key is None:
            return self.get_response(request)
        if not _is_api_path(request.path_info):
            return error_response(
                [_("API keys work on the API's endpoints only (such as /latest.json).")],
                "invalid_access",
                403,
            )
        key_use = services.authenticate(raw_key, request.headers.get("Api-Username"))
        if key_use is None:
            return invalid_key()
        limited = rate_limited(key_use.key.pk)
        if limited is not None:
            return limited
        if key_use.key.read_only and request.method not in SAFE_METHODS:
            return error_response(
                [_("This API key is read-only: it cannot change anything.")], "invalid_access", 403
            )
        request.user = key_use.user
        request._cached_user = key_use.user
        request.api_key_use = key_use
        # A script presenting a key is not a browser that a forged form could ride.
        request._dont_enforce_csrf_checks = True
        return self.get_response(request)


def _is_api_path(path: str) -> bool:
    if path.endswith(".json"):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return True  # answered by the JSON 404 handler
    return getattr(match.func, "api_endpoint", False)
