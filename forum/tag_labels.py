"""Every tag's names in each language, held in each process and refreshed when a moderator changes one.

Pages show tags in the reader's language without a query: the labels (a small table, one row
per named tag) are read once per process, and again only when the version in the shared cache
moves (forum.services.set_tag_names calls changed()). The version is checked at most once a
second per process; without a shared cache (Redis away) the per-process copy still refreshes
when this process makes the change and when the fallback cache forgets the version.
"""

import threading
import time
import uuid

from django.core.cache import cache

VERSION_KEY = "forum:tag-labels:version"
CHECK_SECONDS = 1.0

_lock = threading.Lock()
_state = {"version": None, "checked": 0.0, "labels": {}}


def _current_version() -> str:
    version = cache.get(VERSION_KEY)
    if version is None:
        version = uuid.uuid4().hex
        cache.add(VERSION_KEY, version, None)
        version = cache.get(VERSION_KEY) or version
    return version


def labels_by_name() -> dict[str, dict[str, str]]:
    """{"digital-divide": {"en": "Digital divide", "es": "Brecha digital", "fr": ...}, ...}."""
    now = time.monotonic()
    if now - _state["checked"] < CHECK_SECONDS and _state["version"] is not None:
        return _state["labels"]
    version = _current_version()
    with _lock:
        if version != _state["version"]:
            from .models import TagLabel

            rows = TagLabel.objects.values_list("tag__name", "name_en", "name_es", "name_fr")
            _state["labels"] = {
                name: {
                    language: value
                    for language, value in zip(("en", "es", "fr"), names, strict=True)
                    if value
                }
                for name, *names in rows
            }
            _state["version"] = version
        _state["checked"] = now
    return _state["labels"]


def changed() -> None:
    """A label changed: every process reloads them (this one at once, others within a second)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    forget()


def forget() -> None:
    with _lock:
        _state.update(version=None, checked=0.0, labels={})
