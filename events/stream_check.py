"""The control room's "is the stream reachable?" check.

Staff press "Check the stream"; the web process asks the stream's host for the player page
(a few seconds at most) and keeps the answer in the cache, where the checklist reads it. Only
URLs on the allowlist are ever fetched (the model validates them), so this never becomes a way
to make the server request arbitrary addresses.
"""

import urllib.error
import urllib.request

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Event, validate_stream_url

TIMEOUT_SECONDS = 5
RESULT_SECONDS = 6 * 3600


def _key(event: Event) -> str:
    return f"events:stream-check:{event.pk}"


def _fetch_status(url: str) -> int:
    request = urllib.request.Request(
        url, method="GET", headers={"User-Agent": "Metropolis forum stream check"}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - allowlisted https
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def check(event: Event) -> dict:
    """Fetch the stream's player page now; remember and return {url, ok, detail, checked_at}."""
    url = event.stream_url
    if not url:
        result = {"ok": False, "detail": _("No stream link yet.")}
    else:
        validate_stream_url(url)
        try:
            status = _fetch_status(url)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            result = {"ok": False, "detail": _("Not reachable: %(reason)s") % {"reason": reason}}
        else:
            ok = 200 <= status < 400
            detail = (
                _("The player answered (HTTP %(status)d).")
                if ok
                else _("The player answered HTTP %(status)d.")
            )
            result = {"ok": ok, "detail": detail % {"status": status}}
    result.update(url=url, checked_at=timezone.now().isoformat())
    cache.set(_key(event), result, timeout=RESULT_SECONDS)
    return result


def last_result(event: Event) -> dict | None:
    """The last check of the stream the event has now (a changed link needs a new check)."""
    result = cache.get(_key(event))
    return result if result and result.get("url") == event.stream_url else None
