"""The wire details Discourse clients depend on: exact JSON content type, error shapes,
rate limiting, request bodies (form-encoded with nested names, or JSON), CSRF only for sessions.
"""

import json
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, QueryDict
from django.middleware.csrf import CsrfViewMiddleware
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core import clean
from core.rate_limits import RateLimited

# Some clients (pydiscourse) compare this header literally.
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
RATE_LIMIT_ERROR_CODE = "admin_api_key_rate_limit"


def json_response(data, status: int = 200) -> HttpResponse:
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)
    return HttpResponse(body, status=status, content_type=JSON_CONTENT_TYPE)


def error_response(errors: list[str], error_type: str, status: int, **extra) -> HttpResponse:
    return json_response({"errors": [str(e) for e in errors], "error_type": error_type, **extra}, status)


def not_found() -> HttpResponse:
    return error_response([_("The requested URL or resource could not be found.")], "not_found", 404)


def invalid_access(message: str | None = None) -> HttpResponse:
    errors = [message] if message else [_("You are not permitted to view the requested resource.")]
    return error_response(errors, "invalid_access", 403)


def invalid_key() -> HttpResponse:
    # Never say whether the key, the username or the scope was wrong.
    return invalid_access(
        _("You are not permitted to view the requested resource. The API username or key is invalid.")
    )


def not_logged_in() -> HttpResponse:
    return error_response([_("You need to be logged in to do that.")], "not_logged_in", 403)


def validation_errors(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(error.messages)


class ApiError(Exception):
    """Raised inside an API view to answer with this response."""

    def __init__(self, response: HttpResponse):
        super().__init__(response.status_code)
        self.response = response


def bad_parameter(message: str) -> ApiError:
    return ApiError(error_response([message], "invalid_parameters", 400))


# --- Rate limiting --------------------------------------------------------------------------


def rate_limited(key_id: int) -> HttpResponse | None:
    """Count one request for this key in the current minute; a 429 once over the limit.

    The counter lives in Django's cache (Redis in production), so every web process shares it.
    """
    limit = getattr(settings, "API_RATE_LIMIT_PER_MINUTE", 60)
    now = time.time()
    window = int(now // 60)
    counter = f"api:rate:{key_id}:{window}"
    cache.add(counter, 0, timeout=120)
    try:
        count = cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, timeout=120)
        count = 1
    if count <= limit:
        return None
    wait = max(1, int((window + 1) * 60 - now + 0.999))
    return too_many_requests(
        _("You’ve performed this action too many times. Please wait %(seconds)d seconds before trying again.")
        % {"seconds": wait},
        wait,
        code=RATE_LIMIT_ERROR_CODE,
    )


def too_many_requests(message: str, wait_seconds: int, *, code: str | None = None) -> HttpResponse:
    """Discourse's 429: `error_type: rate_limit`, `extras.wait_seconds` and `Retry-After`.

    Every limit the API applies answers with this (the key's requests per minute, posting
    intervals and daily caps, anonymous searches), so one client back-off handles them all.
    """
    wait = max(1, int(wait_seconds))
    response = error_response(
        [message],
        "rate_limit",
        429,
        extras={"wait_seconds": wait, "time_left": _("%(seconds)d seconds") % {"seconds": wait}},
    )
    response["Retry-After"] = str(wait)
    if code:
        response["Discourse-Rate-Limit-Error-Code"] = code
    return response


# --- Request bodies -------------------------------------------------------------------------

# No client of the Discourse API nests deeper than a few levels or sends megabytes of JSON
# (a post is at most 32,000 characters): anything beyond is refused before it is parsed.
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 20


def _check_json(data) -> None:
    """Refuse deep nesting, and strings no database column can hold (lone surrogates, NUL)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise bad_parameter(_("The request body is nested too deeply."))
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and clean.SURROGATE_RE.search(value):
            raise bad_parameter(clean.invalid_unicode_message())


def _json_body(request):
    try:
        body = request.body
    except RequestDataTooBig:
        body = None
    if body is None or len(body) > MAX_JSON_BYTES:
        raise bad_parameter(
            _("The request body is too large (at most %(size)s).") % {"size": filesizeformat(MAX_JSON_BYTES)}
        )
    try:
        data = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser's stack (a body of 100,000 brackets).
        raise bad_parameter(_("The request body is not valid JSON.")) from None
    _check_json(data)
    return data


class Params:
    """The query string and the body together, as Rails merges them for Discourse.

    Accepts `application/json` bodies (nested objects) and form-encoded ones with nested
    names: `post[raw]`, `tags[]`, `post_ids[]`.
    """

    def __init__(self, request):
        self.query = request.GET
        self.form: QueryDict | None = None
        self.json: dict = {}
        content_type = request.content_type or ""
        if request.method in SAFE_METHODS:
            return
        if content_type == "application/json":
            data = _json_body(request)
            if not isinstance(data, dict):
                raise bad_parameter(_("The request body must be a JSON object."))
            self.json = data
        elif request.method == "POST":
            # Already parsed (the CSRF check of a session may have read it).
            self.form = request.POST
        elif request.body:
            # Django parses bodies of POST only; PUT and DELETE come form-encoded from most clients.
            self.form = QueryDict(request.body, encoding=request.encoding)

    def get(self, name: str, nested_in: str | None = None, default=None):
        """`post[raw]` / {"post": {"raw": ...}} when nested_in="post", else the plain `raw`."""
        if nested_in:
            inner = self.json.get(nested_in)
            if isinstance(inner, dict) and name in inner:
                return inner[name]
            for source in (self.form, self.query):
                if source is not None and f"{nested_in}[{name}]" in source:
                    return source.get(f"{nested_in}[{name}]")
        if name in self.json:
            return self.json[name]
        for source in (self.form, self.query):
            if source is not None and name in source:
                return source.get(name)
        return default

    def getlist(self, name: str) -> list:
        if name in self.json:
            value = self.json[name]
            return value if isinstance(value, list) else [value]
        if f"{name}[]" in self.json:
            value = self.json[f"{name}[]"]
            return value if isinstance(value, list) else [value]
        for source in (self.form, self.query):
            if source is not None:
                for key in (f"{name}[]", name):
                    if key in source:
                        return source.getlist(key)
        return []

    def get_text(self, name: str, nested_in: str | None = None, default: str | None = "") -> str | None:
        """A text parameter: numbers and booleans as clients send them, arrays and objects refused."""
        value = self.get(name, nested_in)
        if value is None:
            return default
        if isinstance(value, list | dict):
            raise bad_parameter(_("%(name)s must be text.") % {"name": name})
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def get_int(self, name: str, nested_in: str | None = None, *, required: bool = False) -> int | None:
        value = self.get(name, nested_in)
        if value in (None, ""):
            if required:
                raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": name})
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        number = clean.bounded_int(value, minimum=-clean.MAX_DB_INT)
        if number is None:
            # Not a number, or one no id or count can be (beyond PostgreSQL's bigint).
            raise bad_parameter(_("%(name)s must be a whole number.") % {"name": name})
        return number

    def get_bool(self, name: str) -> bool | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1", "yes", "on"}


# --- The view decorator ---------------------------------------------------------------------


def _csrf_failure(request) -> HttpResponse | None:
    """Signed-in browser sessions write with a CSRF token, as on the pages; keys need none."""

    def no_view(request):  # pragma: no cover - never called
        return None

    checker = CsrfViewMiddleware(no_view)
    result = checker.process_view(request, no_view, (), {})
    if result is not None:
        return error_response(["BAD CSRF"], "invalid_access", 403)
    return None


def api_view(methods: tuple[str, ...] = ("GET",), *, login_required: bool = False):
    """JSON in, JSON out: Discourse's error shapes for every failure, never a redirect."""

    def decorator(view):
        @csrf_exempt
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
                return not_found()
            key_use = getattr(request, "api_key_use", None)
            if request.method not in SAFE_METHODS and key_use is None:
                failure = _csrf_failure(request)
                if failure is not None:
                    return failure
            if (login_required or request.method not in SAFE_METHODS) and not request.user.is_authenticated:
                return not_logged_in()
            try:
                return view(request, *args, **kwargs)
            except ApiError as error:
                return error.response
            except Http404:
                return not_found()
            except PermissionDenied as error:
                return invalid_access(str(error) or None)
            except RateLimited as error:
                return too_many_requests(" ".join(error.messages), error.wait_seconds)
            except ValidationError as error:
                return error_response(validation_errors(error), "invalid_parameters", 422)

        wrapped.api_endpoint = True
        wrapped.api_methods = methods
        return wrapped

    return decorator
