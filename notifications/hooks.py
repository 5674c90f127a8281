"""Hooks other apps fill in (this app imports none of them).

The forum knows whether a person has already read the post a notification
points at; it says so with :func:`register_already_read`, called from its
``AppConfig.ready()``. An email for content already read is not sent.
"""

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

AlreadyRead = Callable[[object], bool]
_already_read: list[AlreadyRead] = []


def register_already_read(check: AlreadyRead) -> None:
    """``check(notification) -> bool``: True when the recipient has already seen what it is about."""
    if check not in _already_read:
        _already_read.append(check)


def unregister_already_read(check: AlreadyRead) -> None:
    if check in _already_read:
        _already_read.remove(check)


def already_read(notification) -> bool:
    if notification.read_at is not None:
        return True
    for check in _already_read:
        try:
            if check(notification):
                return True
        except Exception:  # noqa: BLE001 - a broken hook must not block email
            logger.exception("Read-state hook %r failed", check)
    return False


# A fan-out job's handler: ``handler(payload, user_ids, dedupe_prefix) -> [OutboxMessage ids]``.
# It writes, for one batch of people, what the job owes them (notifications through notify(),
# messages through queue_message(..., dedupe_key=dedupe_prefix + str(user_id), send=False)),
# idempotently, and returns the ids of the messages to send after the batch commits.
JobHandler = Callable[[dict, list[int], str], list[int]]
_job_handlers: dict[str, JobHandler] = {}


def register_job_handler(name: str, handler: JobHandler) -> None:
    """Called from an app's ``AppConfig.ready()`` (events: ``"events.email"``, ``"events.notify"``)."""
    _job_handlers[name] = handler


def job_handler(name: str) -> JobHandler:
    try:
        return _job_handlers[name]
    except KeyError:
        raise LookupError(f"No handler registered for outbox jobs of kind {name!r}") from None
