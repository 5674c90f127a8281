"""Every write to notifications, preferences and the outbox.

Other apps call :func:`notify`; views call the rest. Nothing here imports another
app: people are ``settings.AUTH_USER_MODEL`` instances.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.core.mail.utils import DNS_NAME
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone, translation

from core import live, page_cache

from . import hooks, messages
from .models import (
    DEFAULT_FREQUENCY,
    EmailFrequency,
    EmailPreference,
    JobState,
    Notification,
    NotificationKind,
    OutboxEmail,
    OutboxJob,
    OutboxMessage,
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
    page_cache.changed(readers=[user_id], lists=False)  # the pages kept for them show the bell

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


def _announce_many_on_commit(notifications: list[Notification]) -> None:
    """:func:`_announce_on_commit` for many people: one count query for all of them."""
    keys = [_unread_key(pk) for pk in {n.recipient_id for n in notifications}]
    cache.delete_many(keys)
    page_cache.changed(readers={n.recipient_id for n in notifications}, lists=False)

    def send():
        cache.delete_many(keys)
        counts = dict(
            Notification.objects.filter(
                recipient_id__in={n.recipient_id for n in notifications}, read_at__isnull=True
            )
            .values("recipient_id")
            .annotate(unread=Count("pk"))
            .values_list("recipient_id", "unread")
        )
        for n in notifications:
            data = {"unread": counts.get(n.recipient_id, 0), "id": n.pk, "kind": n.kind}
            data.update(title=n.title, url=n.url, count=n.count)
            live.publish(live.user_channel(n.recipient_id), "notification", data)

    transaction.on_commit(send, robust=True)


# -------------------------------------------------------------------- notify


def email_frequency(user, kind: str) -> str:
    chosen = (
        EmailPreference.objects.filter(user_id=user.pk, kind=kind).values_list("frequency", flat=True).first()
    )
    return chosen or DEFAULT_FREQUENCY[kind]


def email_delay() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "NOTIFICATION_EMAIL_DELAY_SECONDS", 300)))


# Emails about a moment that will not wait (an event going live, starting soon) or written to the
# person alone (a personal message): due at once. The others wait NOTIFICATION_EMAIL_DELAY_SECONDS,
# so a reply read in the meantime sends nothing.
URGENT_KINDS = {
    NotificationKind.EVENT_LIVE,
    NotificationKind.EVENT_REMINDER,
    NotificationKind.PRIVATE_MESSAGE,
}


def due_time(frequency: str, now: datetime, kind: str = "") -> datetime:
    """When an email of this frequency goes out: at once (urgent kinds), after a short delay, or at
    the next digest time."""
    if frequency == EmailFrequency.IMMEDIATELY:
        return now if kind in URGENT_KINDS else now + email_delay()
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
                send_after=due_time(frequency, now, kind),
            )
            if frequency == EmailFrequency.IMMEDIATELY:
                transaction.on_commit(lambda: queue_emails([row.pk], row.send_after), robust=True)
        _announce_on_commit(recipient.pk, "notification", notification)
    return notification


@dataclass(frozen=True)
class Notice:
    """One line of :func:`notify_many`: what :func:`notify` takes, for one person."""

    recipient: object
    kind: str
    title: str
    url: str
    dedupe_key: str
    actor: object | None = None
    data: dict = field(default_factory=dict)


def notify_many(notices: Iterable[Notice]) -> list[Notification]:
    """:func:`notify` for many people at once (a go-live's registrants, a topic's watchers), by the
    same rules, in a fixed number of queries rather than a handful per person. No grouping: likes,
    which fold into one line, go through :func:`notify`. Returns the notifications written now.

    Their emails due at once go to the worker in batches, sent over one mail connection each.
    """
    wanted: dict[str, Notice] = {}
    for notice in notices:
        if notice.kind not in NotificationKind.values:
            raise ValueError(f"Unknown notification kind: {notice.kind}")
        recipient, actor = notice.recipient, notice.actor
        if recipient.is_active and (actor is None or actor.pk != recipient.pk):
            wanted.setdefault(notice.dedupe_key, notice)
    if not wanted:
        return []
    now = timezone.now()
    with transaction.atomic():
        for key in Notification.objects.filter(dedupe_key__in=list(wanted)).values_list(
            "dedupe_key", flat=True
        ):
            del wanted[key]  # Notified already (a rerun of the same job).
        fresh = [
            Notification(
                recipient=notice.recipient,
                kind=notice.kind,
                actor=notice.actor,
                title=notice.title[:300],
                url=notice.url,
                data=notice.data,
                dedupe_key=key,
                created_at=now,
            )
            for key, notice in wanted.items()
        ]
        try:
            with transaction.atomic():
                Notification.objects.bulk_create(fresh)
        except IntegrityError:
            # Another process notified some of them at this very moment: one by one, as notify() does.
            return [
                n
                for notice in wanted.values()
                if (
                    n := notify(
                        notice.recipient,
                        notice.kind,
                        actor=notice.actor,
                        title=notice.title,
                        url=notice.url,
                        data=notice.data,
                        dedupe_key=notice.dedupe_key,
                    )
                )
                is not None
            ]
        chosen = {
            (user_id, kind): frequency
            for user_id, kind, frequency in EmailPreference.objects.filter(
                user_id__in={n.recipient_id for n in fresh}, kind__in={n.kind for n in fresh}
            ).values_list("user_id", "kind", "frequency")
        }
        owed = []
        for notification in fresh:
            frequency = (
                chosen.get((notification.recipient_id, notification.kind))
                or DEFAULT_FREQUENCY[notification.kind]
            )
            if frequency != EmailFrequency.NEVER and notification.recipient.email:
                owed.append(
                    OutboxEmail(
                        notification=notification,
                        recipient_id=notification.recipient_id,
                        frequency=frequency,
                        send_after=due_time(frequency, now, notification.kind),
                    )
                )
        OutboxEmail.objects.bulk_create(owed)
        by_time: dict[datetime, list[int]] = {}
        for row in owed:
            if row.frequency == EmailFrequency.IMMEDIATELY:
                by_time.setdefault(row.send_after, []).append(row.pk)
        for send_after, ids in by_time.items():
            transaction.on_commit(lambda ids=ids, at=send_after: queue_emails(ids, at), robust=True)
        _announce_many_on_commit(fresh)
    return fresh


# One task sends this many emails over one mail connection.
EMAIL_BATCH = 50


def queue_emails(outbox_ids: list[int], send_after: datetime) -> None:
    """Hand emails to Celery in batches; if the broker is away, the periodic drain sends them."""
    from config.celery import app

    from .tasks import send_emails

    countdown = max(0.0, (send_after - timezone.now()).total_seconds())
    if app.conf.task_always_eager and countdown > 0:
        return  # In-process (no Redis): the drain, run every minute, honours the delay.
    # Due now (a "Live now", a reminder): the urgent queue where production has one, so it
    # never waits behind the main worker's reply fan-outs.
    urgent = getattr(settings, "CELERY_URGENT_QUEUE", "") if countdown == 0 else ""
    routing = {"queue": urgent} if urgent else {}
    for start in range(0, len(outbox_ids), EMAIL_BATCH):
        batch = outbox_ids[start : start + EMAIL_BATCH]
        try:
            send_emails.apply_async(args=[batch], countdown=countdown, retry=False, **routing)
        except Exception:  # noqa: BLE001 - the outbox rows are the promise; the drain keeps it
            logger.warning("Could not queue emails %s; the outbox drain will send them", batch, exc_info=True)
            return


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


# What writing a notification email reads, loaded with the locked row.
SENDING = ("notification", "notification__actor", "recipient")


def deliver(outbox_id: int) -> str:
    """Send one outbox row if it is due and still wanted; return the row's state afterwards.

    Safe to call any number of times, from any number of workers: the row is locked while it is
    sent and a row already sent is left alone. Digest rows send every due row of that person and
    frequency in one email. Raises when the mail server fails (the caller retries).
    """
    with transaction.atomic():
        row = (
            OutboxEmail.objects.select_for_update(of=("self",))
            .filter(pk=outbox_id)
            .select_related(*SENDING)
            .first()
        )
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
        .select_related(*SENDING)
        .filter(
            recipient_id=recipient_id,
            frequency=frequency,
            state=OutboxState.PENDING,
            send_after__lte=timezone.now(),
        )
        .order_by("created_at")
    )
    return _deliver_rows(rows) if rows else "nothing_due"


def _deliver_rows(rows: list[OutboxEmail], connection=None, frequencies: dict | None = None) -> str:
    """Inside the caller's transaction, with the rows locked and their notification, its actor and
    the recipient loaded (select_related). ``frequencies`` ((person, kind) ->
    frequency), when the caller read them for a whole batch, saves a query per row."""
    from . import emails
    from .hooks import already_read

    now = timezone.now()
    wanted = []
    for row in rows:
        notification, recipient = row.notification, row.recipient
        if frequencies is None:
            frequency = email_frequency(recipient, notification.kind)
        else:
            frequency = (
                frequencies.get((recipient.pk, notification.kind)) or DEFAULT_FREQUENCY[notification.kind]
            )
        still_wanted = (
            recipient.is_active
            and recipient.email
            and frequency != EmailFrequency.NEVER
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
    # Stable per row: a message sent again after a crash carries the same Message-ID.
    message.extra_headers["Message-ID"] = _message_id(f"notification-{wanted[0].pk}", wanted[0].created_at)
    if connection is not None:
        connection.open()  # SMTP: opened once and kept for the rest of the batch (else a no-op).
        message.connection = connection
    message.send()
    OutboxEmail.objects.filter(pk__in=[row.pk for row in wanted]).update(
        state=OutboxState.SENT, sent_at=now, attempts=1
    )
    return OutboxState.SENT


def deliver_many(outbox_ids: list[int]) -> dict[str, int]:
    """:func:`deliver` for a batch (a go-live's "Live now" emails), over one mail connection and
    with the people's preferences read once; returns how many rows ended in each state.

    Each row is still locked (SKIP LOCKED) and marked sent in its own transaction, so a redelivered
    task, a second worker or the drain never sends it twice. A mail server failure is noted on the
    row (its next attempt waits; the drain honours it) and the others go on.
    """
    # Read once for the batch, unlocked; each row's lock below says whether it is still to send.
    rows = list(
        OutboxEmail.objects.filter(pk__in=outbox_ids, state=OutboxState.PENDING)
        .select_related(*SENDING)
        .order_by("pk")
    )
    frequencies = {
        (user_id, kind): frequency
        for user_id, kind, frequency in EmailPreference.objects.filter(
            user_id__in={row.recipient_id for row in rows}, kind__in={row.notification.kind for row in rows}
        ).values_list("user_id", "kind", "frequency")
    }
    results: dict[str, int] = {}
    if len(rows) < len(set(outbox_ids)):
        results["done_already"] = len(set(outbox_ids)) - len(rows)
    connection = None
    try:
        for row in rows:
            if connection is None:
                connection = get_connection()
            try:
                # A digest row takes its siblings along (deliver() finds them).
                state = (
                    deliver(row.pk)
                    if row.frequency in DIGESTS
                    else _deliver_one(row, connection, frequencies)
                )
            except (smtplib.SMTPException, OSError) as error:
                logger.warning("Could not send email %s: %s", row.pk, error)
                record_failure(row.pk, error)
                state = "error"
                with contextlib.suppress(Exception):
                    connection.close()
                connection = None
            results[state] = results.get(state, 0) + 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    return results


def _deliver_one(row: OutboxEmail, connection, frequencies: dict) -> str:
    with transaction.atomic():
        # A narrow query (the row was read with its notification for the whole batch).
        locked = OutboxEmail.objects.select_for_update(skip_locked=True).filter(pk=row.pk)
        current = next(iter(locked.values_list("state", "send_after")), None)
        if current is None:
            return "busy"
        state, send_after = current
        if state != OutboxState.PENDING:
            return state
        if send_after > timezone.now():
            return "not_due"
        return _deliver_rows([row], connection, frequencies)


MAX_ATTEMPTS = 20


def record_failure(outbox_id: int, error: BaseException, give_up: bool = False) -> datetime | None:
    """Note a failed attempt; after MAX_ATTEMPTS (or when told to give up) the row is marked failed.
    Returns when the next attempt is due (None when there is none)."""
    row = OutboxEmail.objects.filter(pk=outbox_id, state=OutboxState.PENDING).first()
    if row is None:
        return None
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    row.send_after = timezone.now() + retry_delay(row.attempts)
    if give_up or row.attempts >= MAX_ATTEMPTS:
        row.state = OutboxState.FAILED
    row.save(update_fields=["attempts", "last_error", "state", "send_after"])
    return row.send_after if row.state == OutboxState.PENDING else None


def retry_delay(attempts: int) -> timedelta:
    """30 s, 60 s, 120 s ... up to an hour between attempts (the drain honours send_after)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def due_outbox_ids(limit: int = 500) -> list[int]:
    """Pending rows whose time has come; one per digest (deliver() takes the digest's siblings)."""
    rows = (
        OutboxEmail.objects.filter(state=OutboxState.PENDING, send_after__lte=timezone.now())
        .order_by("send_after", "pk")
        .values_list("pk", "recipient_id", "frequency")[:limit]
    )
    seen, ids = set(), []
    for pk, recipient_id, frequency in rows:
        group = (recipient_id, frequency) if frequency in DIGESTS else pk
        if group not in seen:
            seen.add(group)
            ids.append(pk)
    return ids


# ------------------------------------------------------------ ready-to-send messages


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or str(DNS_NAME)


def _message_id(name: str, created_at: datetime) -> str:
    return f"<{name}.{int(created_at.timestamp())}@{_mail_domain()}>"


def queue_message(
    message: EmailMessage,
    *,
    urgent: bool = False,
    kind: str = "",
    dedupe_key: str | None = None,
    send_after: datetime | None = None,
    send: bool = True,
) -> OutboxMessage | None:
    """Owe ``message`` (rendered now, attachments included): call it inside the transaction of the
    action that causes it, so the email exists exactly when the action does. Any app may call it.

    - ``urgent``: sign-in, security and event mail that must not wait; the drain sends it first.
      Every message is due at once unless ``send_after`` says otherwise.
    - ``dedupe_key``: a second call with the same key writes nothing and returns None (fan-out
      jobs use ``job:<id>:to:<user id>``).
    - After commit (unless ``send`` is False: the caller queues a batch) a task sends it through
      Django's configured connection; if the broker is away, the periodic drain does.
    The row gets its Message-ID now, so every attempt to send it carries the same one.
    """
    data = messages.serialise(message)
    if not messages.recipients(data):
        return None
    now = timezone.now()
    message_id = data["headers"].get("Message-ID") or make_msgid(idstring="outbox", domain=_mail_domain())
    data["headers"]["Message-ID"] = message_id
    row = OutboxMessage(
        kind=kind[:100],
        to=", ".join(data["to"] or data["bcc"])[:500],
        message=data,
        message_id=message_id,
        urgent=urgent,
        dedupe_key=dedupe_key,
        send_after=send_after or now,
        created_at=now,
    )
    if dedupe_key:
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            return None  # Already owed (a job run twice).
    else:
        row.save()
    if send:
        transaction.on_commit(lambda: queue_sending([row.pk]), robust=True)
    return row


def queue_sending(outbox_ids: list[int]) -> None:
    """Hand messages to Celery; if the broker is away, the periodic drain sends them later."""
    from .tasks import send_messages

    if not outbox_ids:
        return
    try:
        send_messages.apply_async(args=[list(outbox_ids)], retry=False)
    except Exception:  # noqa: BLE001 - the outbox row is the promise; the drain keeps it
        logger.warning(
            "Could not queue messages %s; the outbox drain will send them", outbox_ids, exc_info=True
        )


def deliver_messages(outbox_ids: list[int]) -> dict[str, int]:
    """Send these rows over one connection, each at most once; returns how many ended in each state.

    Each row is locked (SKIP LOCKED) while it is sent and marked sent in the same transaction: two
    workers, a redelivered task and the drain may all call this for one row, and only the one
    holding the lock sends it; the others see it busy or already sent. A mail server failure is
    recorded on the row (its next attempt waits, 30 s doubling to an hour) and the others go on.
    """
    results: dict[str, int] = {}
    connection = None
    try:
        for pk in outbox_ids:
            if connection is None:
                connection = get_connection()
            try:
                state = _deliver_message(pk, connection)
            except DatabaseError:
                raise
            except Exception as error:  # noqa: BLE001 - SMTP, network, a refused address: retried later
                logger.warning("Could not send message %s: %s", pk, error)
                record_message_failure(pk, error)
                state = "error"
                with contextlib.suppress(Exception):
                    connection.close()
                connection = None
            results[state] = results.get(state, 0) + 1
    finally:
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()
    return results


def _deliver_message(outbox_id: int, connection) -> str:
    now = timezone.now()
    with transaction.atomic():
        row = OutboxMessage.objects.select_for_update(skip_locked=True).filter(pk=outbox_id).first()
        if row is None:
            return "busy" if OutboxMessage.objects.filter(pk=outbox_id).exists() else "missing"
        if row.state != OutboxState.PENDING:
            return row.state
        if row.send_after > now:
            return "not_due"
        connection.open()  # SMTP: opened once and kept for the rest of the batch (else a no-op).
        message = messages.rebuild(row.message, connection=connection)
        message.send()
        row.state = OutboxState.SENT
        row.sent_at = timezone.now()
        row.attempts += 1
        row.save(update_fields=["state", "sent_at", "attempts"])
    return OutboxState.SENT


def record_message_failure(outbox_id: int, error: BaseException) -> None:
    """Note a failed attempt and when to try again; after MAX_ATTEMPTS the row is marked failed."""
    with transaction.atomic():
        row = (
            OutboxMessage.objects.select_for_update().filter(pk=outbox_id, state=OutboxState.PENDING).first()
        )
        if row is None:
            return
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        row.send_after = timezone.now() + retry_delay(row.attempts)
        if row.attempts >= MAX_ATTEMPTS:
            row.state = OutboxState.FAILED
            logger.error("Giving up on message %s to %s: %s", row.pk, row.to, row.last_error)
        row.save(update_fields=["attempts", "last_error", "send_after", "state"])


def due_message_ids(limit: int = 500) -> list[int]:
    """Pending messages whose time has come, urgent ones first."""
    return list(
        OutboxMessage.objects.filter(state=OutboxState.PENDING, send_after__lte=timezone.now())
        .order_by("-urgent", "send_after", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# ------------------------------------------------------------------ fan-out jobs

JOB_BATCH = 200
# The drain leaves younger jobs to the task queued at their commit.
JOB_DRAIN_AFTER = timedelta(seconds=15)
JOB_MAX_ATTEMPTS = 10


def queue_job(handler: str, payload: dict, recipient_ids, *, urgent: bool = False) -> OutboxJob | None:
    """Owe something to many people with one row, inside the action's transaction; the worker
    expands it (see :class:`OutboxJob`). ``handler`` names a function registered with
    :func:`hooks.register_job_handler`. After commit a task runs it; the drain reruns a job whose
    task was lost. Returns None when there is nobody to tell.
    """
    hooks.job_handler(handler)  # A typo fails the write, not the worker an hour later.
    ids = list(dict.fromkeys(int(pk) for pk in recipient_ids))
    if not ids:
        return None
    job = OutboxJob.objects.create(handler=handler, payload=payload, recipient_ids=ids, urgent=urgent)
    transaction.on_commit(lambda: queue_running(job.pk), robust=True)
    return job


def queue_running(job_id: int) -> None:
    """After commit. A broker that refuses is logged by ``delay()``; the job row stays for the drain."""
    from .tasks import run_job as run_job_task

    run_job_task.delay(job_id)


def run_job(job_id: int) -> int | None:
    """Expand a job, one batch of people per transaction, from where the last committed batch
    ended; returns how many people it has covered (None when it is done already or another worker
    holds it). The messages a batch writes are queued for sending when that batch commits.
    """
    covered = None
    while True:
        with transaction.atomic():
            job = (
                OutboxJob.objects.select_for_update(skip_locked=True)
                .filter(pk=job_id, state=JobState.PENDING)
                .first()
            )
            if job is None:
                return covered
            batch = job.recipient_ids[job.progress : job.progress + JOB_BATCH]
            if not batch:
                job.state, job.done_at = JobState.DONE, timezone.now()
                job.save(update_fields=["state", "done_at"])
                return job.progress
            message_ids = hooks.job_handler(job.handler)(job.payload, batch, f"job:{job.pk}:to:")
            job.progress += len(batch)
            job.save(update_fields=["progress"])
            if message_ids:
                transaction.on_commit(lambda ids=list(message_ids): queue_sending(ids), robust=True)
            covered = job.progress


def record_job_failure(job_id: int, error: BaseException) -> None:
    row = OutboxJob.objects.filter(pk=job_id, state=JobState.PENDING).first()
    if row is None:
        return
    row.attempts += 1
    row.last_error = f"{type(error).__name__}: {error}"[:2000]
    if row.attempts >= JOB_MAX_ATTEMPTS:
        row.state = JobState.FAILED
        logger.error("Giving up on outbox job %s: %s", row.pk, row.last_error)
    row.save(update_fields=["attempts", "last_error", "state"])


def due_job_ids(limit: int = 50) -> list[int]:
    """Jobs still pending some seconds after they were written (their task was lost or died)."""
    return list(
        OutboxJob.objects.filter(state=JobState.PENDING, created_at__lte=timezone.now() - JOB_DRAIN_AFTER)
        .order_by("-urgent", "created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
