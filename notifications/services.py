"""Every write to notifications, preferences and the outbox.

Other apps call :func:`notify`; views call the rest. Nothing here imports another
app: people are ``settings.AUTH_USER_MODEL`` instances.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from core import live

from .models import (
    DEFAULT_FREQUENCY,
    EmailFrequency,
    EmailPreference,
    Notification,
    NotificationKind,
    OutboxEmail,
    OutboxState,
)

logger = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "notifications.unsubscribe"
DIGESTS = {EmailFrequency.DAILY, EmailFrequency.WEEKLY}


# ------------------------------------------------------------------ language


def language_of(user) -> str:
    codes = {code for code, _ in settings.LANGUAGES}
    preferred = (getattr(user, "preferred_language", "") or "").split("-")[0]
    return preferred if preferred in codes else settings.LANGUAGE_CODE


@contextlib.contextmanager
def in_language_of(user):
    """Build a notification's title inside this block, so it reads in the recipient's language."""
    with translation.override(language_of(user)):
        yield


# ---------------------------------------------------------------- unread count


def _unread_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def unread_count(user) -> int:
    """The bell's number: cached, so a page costs no query while nothing changes."""
    if not getattr(user, "is_authenticated", False):
        return 0
    key = _unread_key(user.pk)
    count = cache.get(key)
    if count is None:
        count = Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()
        cache.set(key, count, 300)
    return count


def _announce_on_commit(user_id: int, event: str, notification: Notification | None = None) -> None:
    """After commit: forget the cached count and tell the person's open pages the new one."""
    # Also forgotten now, so this request's own next page shows the change; the delete after
    # commit covers a count that another request cached in between.
    cache.delete(_unread_key(user_id))

    def send():
        cache.delete(_unread_key(user_id))
        count = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
        data: dict = {"unread": count}
        if notification is not None:
            data.update(
                id=notification.pk,
                kind=notification.kind,
                title=notification.title,
                url=notification.url,
                count=notification.count,
            )
        live.publish(live.user_channel(user_id), event, data)

    transaction.on_commit(send, robust=True)


# -------------------------------------------------------------------- notify


def email_frequency(user, kind: str) -> str:
    chosen = (
        EmailPreference.objects.filter(user_id=user.pk, kind=kind).values_list("frequency", flat=True).first()
    )
    return chosen or DEFAULT_FREQUENCY[kind]


def email_delay() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "NOTIFICATION_EMAIL_DELAY_SECONDS", 300)))


def due_time(frequency: str, now: datetime) -> datetime:
    """When an email of this frequency goes out: after a short delay, or at the next digest time."""
    if frequency == EmailFrequency.IMMEDIATELY:
        return now + email_delay()
    hour = int(getattr(settings, "NOTIFICATION_DIGEST_HOUR", 7))
    due = now.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= now:
        due += timedelta(days=1)
    if frequency == EmailFrequency.WEEKLY:
        due += timedelta(days=(7 - due.weekday()) % 7)  # Mondays.
    return due


def notify(
    recipient,
    kind: str,
    *,
    actor=None,
    title: str,
    url: str,
    data: dict | None = None,
    dedupe_key: str,
    group_key: str = "",
) -> Notification | None:
    """Tell ``recipient`` about something; any app's service may call it, inside its own transaction.

    - ``dedupe_key`` names the occasion (``"reply:post:42"``): a second call with the same key
      changes nothing, so a retried task never notifies twice.
    - ``group_key`` (likes: ``"like:post:42"``) folds into the recipient's unread notification
      with the same key: one line, a count, the latest actor and title.
    - ``title`` is shown as is: build it ``with in_language_of(recipient):``.
    - Nobody is notified of their own action, and inactive accounts get nothing (returns None).

    In the same transaction it writes the email owed (an :class:`OutboxEmail`, unless the person
    chose "never"). After commit it queues the email task and publishes ``notification`` on
    ``/user/<id>`` with the new unread count. A rollback sends nothing.
    """
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind: {kind}")
    if not recipient.is_active or (actor is not None and actor.pk == recipient.pk):
        return None
    now = timezone.now()
    with transaction.atomic():
        existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
        if existing is not None:
            return existing
        if group_key:
            group = (
                Notification.objects.select_for_update()
                .filter(recipient=recipient, group_key=group_key, read_at__isnull=True)
                .first()
            )
            if group is not None:
                merged = group.data.get("merged_keys", [])
                if dedupe_key in merged:
                    return group
                group.count += 1
                group.actor = actor
                group.title = title
                group.url = url
                group.created_at = now
                group.data = {**group.data, **(data or {}), "merged_keys": [*merged[-99:], dedupe_key]}
                group.save()
                _announce_on_commit(recipient.pk, "notification", group)
                return group
        try:
            with transaction.atomic():
                notification = Notification.objects.create(
                    recipient=recipient,
                    kind=kind,
                    actor=actor,
                    title=title[:300],
                    url=url,
                    data=data or {},
                    group_key=group_key,
                    dedupe_key=dedupe_key,
                    created_at=now,
                )
        except IntegrityError:
            # The same occasion, notified at the same moment by another process.
            return Notification.objects.get(dedupe_key=dedupe_key)
        frequency = email_frequency(recipient, kind)
        if frequency != EmailFrequency.NEVER and recipient.email:
            row = OutboxEmail.objects.create(
                notification=notification,
                recipient=recipient,
                frequency=frequency,
                send_after=due_time(frequency, now),
            )
            if frequency == EmailFrequency.IMMEDIATELY:
                transaction.on_commit(lambda: queue_email(row.pk, row.send_after), robust=True)
        _announce_on_commit(recipient.pk, "notification", notification)
    return notification


def queue_email(outbox_id: int, send_after: datetime) -> None:
    """Hand the email to Celery; if the broker is away, the periodic drain sends it later."""
    from config.celery import app

    from .tasks import send_email

    countdown = max(0.0, (send_after - timezone.now()).total_seconds())
    if app.conf.task_always_eager and countdown > 0:
        return  # In-process (no Redis): the drain, run every minute, honours the delay.
    try:
        send_email.apply_async(args=[outbox_id], countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - the outbox row is the promise; the drain keeps it
        logger.warning("Could not queue email %s; the outbox drain will send it", outbox_id, exc_info=True)


# ----------------------------------------------------------------- read state


def mark_read(user, notification_ids: list[int] | None = None) -> int:
    """Mark the person's notifications read (all of them when ``notification_ids`` is None).

    Only the owner may call it (the filter makes others' ids no-ops). After commit, publishes
    ``notifications_read`` with the new unread count on ``/user/<id>``.
    """
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        unread = unread.filter(pk__in=notification_ids)
    with transaction.atomic():
        changed = unread.update(read_at=timezone.now())
        if changed:
            _announce_on_commit(user.pk, "notifications_read")
    return changed


# ----------------------------------------------------------------- preferences


def email_preferences(user) -> dict[str, str]:
    chosen = dict(EmailPreference.objects.filter(user=user).values_list("kind", "frequency"))
    return {kind: chosen.get(kind, DEFAULT_FREQUENCY[kind]) for kind in NotificationKind.values}


def set_email_preferences(user, frequencies: dict[str, str]) -> None:
    """Save the person's choice per kind. Pending emails follow the new choice when they fall due."""
    with transaction.atomic():
        for kind, frequency in frequencies.items():
            if kind not in NotificationKind.values or frequency not in EmailFrequency.values:
                raise ValueError(f"{kind}={frequency}")
            EmailPreference.objects.update_or_create(user=user, kind=kind, defaults={"frequency": frequency})


def unsubscribe(user, kinds: list[str]) -> None:
    """Stop email for ``kinds`` (called from a signed link, no sign-in needed)."""
    set_email_preferences(user, dict.fromkeys(kinds, EmailFrequency.NEVER))


def make_unsubscribe_token(user, kinds: list[str]) -> str:
    return signing.dumps({"u": user.pk, "k": sorted(set(kinds))}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[int, list[str]] | None:
    """The (user id, kinds) a link was signed for, or None when it was tampered with."""
    try:
        payload = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    kinds = [kind for kind in payload.get("k", []) if kind in NotificationKind.values]
    if not isinstance(payload.get("u"), int) or not kinds:
        return None
    return payload["u"], kinds


# --------------------------------------------------------------------- sending


def _absolute(url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return settings.SITE_URL.rstrip("/") + "/" + url.lstrip("/")


def deliver(outbox_id: int) -> str:
    """Send one outbox row if it is due and still wanted; return the row's state afterwards.

    Safe to call any number of times, from any number of workers: the row is locked while it is
    sent and a row already sent is left alone. Digest rows send every due row of that person and
    frequency in one email. Raises when the mail server fails (the caller retries).
    """
    with transaction.atomic():
        row = OutboxEmail.objects.select_for_update(of=("self",)).filter(pk=outbox_id).first()
        if row is None:
            return "missing"
        if row.state != OutboxState.PENDING:
            return row.state
        if row.send_after > timezone.now():
            return "not_due"
        if row.frequency in DIGESTS:
            return _deliver_digest(row.recipient_id, row.frequency)
        return _deliver_rows([row])


def _deliver_digest(recipient_id: int, frequency: str) -> str:
    rows = list(
        OutboxEmail.objects.select_for_update(of=("self",))
        .filter(
            recipient_id=recipient_id,
            frequency=frequency,
            state=OutboxState.PENDING,
            send_after__lte=timezone.now(),
        )
        .order_by("created_at")
    )
    return _deliver_rows(rows) if rows else "nothing_due"


def _deliver_rows(rows: list[OutboxEmail]) -> str:
    """Inside the caller's transaction, with the rows locked."""
    from . import emails
    from .hooks import already_read

    now = timezone.now()
    wanted = []
    for row in OutboxEmail.objects.filter(pk__in=[r.pk for r in rows]).select_related(
        "notification", "notification__actor", "recipient"
    ):
        notification, recipient = row.notification, row.recipient
        still_wanted = (
            recipient.is_active
            and recipient.email
            and email_frequency(recipient, notification.kind) != EmailFrequency.NEVER
            and not already_read(notification)
        )
        if still_wanted:
            wanted.append(row)
        else:
            row.state = OutboxState.SKIPPED
            row.save(update_fields=["state"])
    if not wanted:
        return OutboxState.SKIPPED
    message = emails.build_message(wanted[0].recipient, [row.notification for row in wanted])
    message.send()
    OutboxEmail.objects.filter(pk__in=[row.pk for row in wanted]).update(
        state=OutboxState.SENT, sent_at=now, attempts=1
    )
    return OutboxState.SENT


MAX_ATTEMPTS = 20


def record_failure(outbox_id: int, error: BaseException, give_up: bool = False) -> None:
    """Note a failed attempt; after MAX_ATTEMPTS (or when told to give up) the row is marked failed."""
    row = OutboxEmail.objects.filter(pk=outbox_id, state=OutboxState.PENDING).first()
    if row is None:
        return
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if give_up or row.attempts >= MAX_ATTEMPTS:
        row.state = OutboxState.FAILED
    row.save(update_fields=["attempts", "last_error", "state"])


def due_outbox_ids(limit: int = 500) -> list[int]:
    """Pending rows whose time has come; one per digest (deliver() takes the digest's siblings)."""
    rows = (
        OutboxEmail.objects.filter(state=OutboxState.PENDING, send_after__lte=timezone.now())
        .order_by("send_after")
        .values_list("pk", "recipient_id", "frequency")[:limit]
    )
    seen, ids = set(), []
    for pk, recipient_id, frequency in rows:
        group = (recipient_id, frequency) if frequency in DIGESTS else pk
        if group not in seen:
            seen.add(group)
            ids.append(pk)
    return ids
