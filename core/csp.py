"""The Content-Security-Policy every response carries (django-csp builds the header).

The policy (config/settings/base.py) allows this site's own scripts, styles, images and
connections and nothing inline, framing by no one, and frames of no one: a page that embeds
something (the live event page and its stream player) says so with :func:`allow_frames`.
``CSP_REPORT_ONLY=true`` in the environment sends the same policy as
``Content-Security-Policy-Report-Only`` instead (to try a change on a running site).
"""

from urllib.parse import urlsplit


def origin(url: str) -> str | None:
    """``https://host[:port]`` of an https URL, or None."""
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.hostname:
        return None
    return f"https://{parts.netloc.rsplit('@', 1)[-1]}"


def allow_frames(response, origins: list[str]):
    """This response (and only it) may embed frames from ``origins``: ``frame-src`` is theirs."""
    origins = [o for o in origins if o]
    if origins:
        # Replace rather than update: "'none' https://..." makes browsers warn on every page view.
        response._csp_replace = {**getattr(response, "_csp_replace", {}), "frame-src": origins}
        response._csp_replace_ro = {**getattr(response, "_csp_replace_ro", {}), "frame-src": origins}
    return response
