"""Every write to events, registrations and reminders.

Each function says who may call it and what it sends after commit. Email is
written to the notifications outbox in the same transaction (events/emails.py),
so a rolled-back write sends nothing and a committed one always sends.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core import clean

from . import banner, emails, linked, permissions
from .models import (
    REMINDER_OFFSETS,
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    ReminderSent,
    Session,
    Speaker,
)

logger = logging.getLogger(__name__)

EDITABLE_FIELDS = {
    "title",
    "title_es",
    "title_fr",
    "summary",
    "summary_es",
    "summary_fr",
    "description",
    "kind",
    "status",
    "starts_at",
    "ends_at",
    "time_zone",
    "venue",
    "address",
    "join_url",
    "stream_url",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "allow_members",
    "is_launch",
    "recording_url",
    "materials",
    "closing_summary",
    "close_topics_after_days",
    "slug",
}


# Shown as headings and in lists: one visible line, no bidi override (core/clean.py).
LINE_FIELDS = ("title", "title_es", "title_fr", "venue")


def _clean_text_fields(fields: dict) -> dict:
    """The cleaning rule for what staff type: titles are lines, other text refuses control characters."""
    for name, value in fields.items():
        if isinstance(value, str):
            fields[name] = (
                clean.clean_line(value, name) if name in LINE_FIELDS else clean.check_text(value, name)
            )
    return fields


class RegistrationRefused(PermissionDenied):
    """Raised with a message for the person: why they cannot register."""


def _owe_email(kind: str, event: Event, user_ids: list[int], extra: dict | None = None) -> None:
    """Owe the email in the caller's transaction; the outbox sends it after commit."""
    emails.queue_for(kind, event, user_ids, extra)


# ------------------------------------------------------------------------------ events


def unique_slug(title: str, exclude_pk: int | None = None) -> str:
    base = slugify(title)[:90] or "event"
    slug, n = base, 2
    while Event.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_event(actor, **fields) -> Event:
    """Staff create an event (a draft unless ``status`` says otherwise). Sends nothing.

    Raises ValidationError on bad input (end before start, a join link that is not https,
    a stream host off the allowlist...).
    """
    permissions.check_control(actor)
    organisers = fields.pop("organisers", None)
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    event = Event(**_clean_text_fields(fields))
    if not event.slug:
        event.slug = unique_slug(event.title)
    event.full_clean()
    with transaction.atomic():
        event.save()
        if organisers:
            event.organisers.set(organisers)
        linked.sync_topics(event, moved=False)
        banner.refresh_on_commit()
    return event


def update_event(event: Event, actor, **changes) -> Event:
    """Staff change an event. Moving it bumps the calendar sequence, reschedules the reminders
    (they are keyed on the start time) and, after commit, emails registered people the new
    time with an updated .ics. Cancelling emails them too.
    """
    permissions.check_control(actor, event)
    organisers = changes.pop("organisers", None)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    _clean_text_fields(changes)
    with transaction.atomic():
        current = Event.objects.select_for_update().get(pk=event.pk)
        old_start, old_end, old_status = current.starts_at, current.ends_at, current.status
        for name, value in changes.items():
            setattr(current, name, value)
        current.full_clean()
        moved = (current.starts_at, current.ends_at) != (old_start, old_end)
        if moved:
            current.sequence += 1
        current.updated_at = timezone.now()
        current.save()
        if organisers is not None:
            current.organisers.set(organisers)
        linked.sync_topics(current, moved=moved)
        banner.refresh_on_commit()
        registered = list(
            current.registrations.filter(status=RegistrationStatus.REGISTERED).values_list(
                "user_id", flat=True
            )
        )
        if current.status == EventStatus.CANCELLED and old_status != EventStatus.CANCELLED:
            everyone = list(
                current.registrations.exclude(status=RegistrationStatus.CANCELLED).values_list(
                    "user_id", flat=True
                )
            )
            _owe_email("cancelled", current, everyone)
        elif moved and current.starts_at > timezone.now():
            _owe_email("moved", current, registered)
    event.__dict__.update(current.__dict__)
    return current


def add_speaker(event: Event, actor, *, user=None, name="", position="", organisation="") -> Speaker:
    """Staff add a speaker; an official speaker may post in the linked topics before the launch."""
    permissions.check_control(actor, event)
    speaker = Speaker(
        event=event,
        user=user,
        name=name,
        position=position,
        organisation=organisation,
        order=event.speakers.count(),
    )
    speaker.full_clean()
    with transaction.atomic():
        speaker.save()
        linked.sync_topics(event, moved=False)
    return speaker


def link_forum(
    event: Event,
    actor,
    *,
    topics: Iterable | None = None,
    category=None,
    launch_categories: Iterable | None = None,
    invitees: Iterable | None = None,
) -> Event:
    """Staff link the questions (topics), a category, the categories that open with a launch, and
    the invited officials. Until the event goes live its waiting topics are scheduled for its start,
    speakers and invitees may already post in them, and a launch's categories stay read-only."""
    permissions.check_control(actor, event)
    with transaction.atomic():
        if topics is not None:
            event.linked_topics.set(topics)
            linked.watch_topics(event)
        if category is not None:
            Event.objects.filter(pk=event.pk).update(linked_category=category)
            event.linked_category = category
        if launch_categories is not None:
            launch_categories = list(launch_categories)
            kept = {category.pk for category in launch_categories}
            linked.release_categories(event, [c for c in event.launch_categories.all() if c.pk not in kept])
            event.launch_categories.set(launch_categories)
        if invitees is not None:
            event.invitees.set(invitees)
        linked.sync_topics(event, moved=False)
    return event


def add_session(
    event: Event,
    actor,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    venue: str = "",
    room: str = "",
    description: str = "",
    speakers: Iterable[Speaker] = (),
    topic=None,
) -> Session:
    """Staff add an agenda item; it must fall within the event. Sends nothing."""
    permissions.check_control(actor, event)
    session = Session(
        event=event,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        venue=venue,
        room=room,
        description=description,
        topic=topic,
    )
    session.full_clean()
    if starts_at < event.starts_at or ends_at > event.ends_at:
        raise ValidationError({"starts_at": _("A session must take place during the event.")})
    with transaction.atomic():
        session.save()
        session.speakers.set(speakers)
    return session


# ------------------------------------------------------------------------- registration


def _seats_taken(event: Event) -> int:
    return event.registrations.filter(status=RegistrationStatus.REGISTERED).count()


def register(user, event: Event, *, show_publicly: bool = False, now: datetime | None = None) -> Registration:
    """Register ``user`` (who must pass registration_block_reason); a full event waitlists them.

    Safe under concurrency: the event row is locked while seats are counted, so a
    capacity of N never seats N+1. Registering again keeps the place already held.
    After commit: a confirmation email with the .ics attached (or a waiting-list email).
    """
    now = now or timezone.now()
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        reason = permissions.registration_block_reason(user, locked, now)
        if reason:
            raise RegistrationRefused(reason)
        registration = Registration.objects.filter(event=locked, user=user).first()
        if registration and registration.is_active:
            if registration.show_publicly != show_publicly:
                registration.show_publicly = show_publicly
                registration.save(update_fields=["show_publicly"])
            return registration
        full = locked.capacity is not None and _seats_taken(locked) >= locked.capacity
        status = RegistrationStatus.WAITLISTED if full else RegistrationStatus.REGISTERED
        if registration is None:
            registration = Registration(event=locked, user=user)
        registration.status = status
        registration.show_publicly = show_publicly
        registration.queued_at = now
        registration.cancelled_at = None
        registration.save()
        if status == RegistrationStatus.REGISTERED:
            linked.watch_topics(locked, [user.pk])
        _owe_email(
            "registered" if status == RegistrationStatus.REGISTERED else "waitlisted", locked, [user.pk]
        )
    return registration


def cancel_registration(
    registration: Registration, actor, *, now: datetime | None = None
) -> Registration | None:
    """The person themselves (or an organiser) cancels a registration.

    When a seat frees, the first person on the waiting list takes it at once, under the
    same lock on the event row (so two cancellations never promote the same person or
    seat more than capacity). After commit the promoted person gets an email with the .ics.
    Returns the promoted registration, if any.
    """
    now = now or timezone.now()
    if actor.pk != registration.user_id and not permissions.can_manage(actor, registration.event):
        raise PermissionDenied(_("You can only cancel your own registration."))
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=registration.event_id)
        current = Registration.objects.get(pk=registration.pk)
        if current.status == RegistrationStatus.CANCELLED:
            registration.status = current.status
            return None
        current.status = RegistrationStatus.CANCELLED
        current.cancelled_at = now
        current.save(update_fields=["status", "cancelled_at"])
        linked.unwatch_topics(event, [current.user_id])
        registration.status, registration.cancelled_at = current.status, current.cancelled_at
        promoted = _promote_waitlisted(event)
    return promoted


def _promote_waitlisted(event: Event) -> Registration | None:
    """Fill free seats from the waiting list, first come first served. Caller holds the event lock."""
    if event.status in (EventStatus.ENDED, EventStatus.CANCELLED):
        return None
    free = None if event.capacity is None else event.capacity - _seats_taken(event)
    queue = event.registrations.filter(status=RegistrationStatus.WAITLISTED).order_by("queued_at", "pk")
    if free is not None:
        queue = queue[: max(free, 0)]
    first = None
    for registration in queue:
        registration.status = RegistrationStatus.REGISTERED
        registration.save(update_fields=["status"])
        linked.watch_topics(event, [registration.user_id])
        _owe_email("promoted", event, [registration.user_id])
        first = first or registration
    return first


# ---------------------------------------------------------------------------- reminders


def send_due_reminders(now: datetime | None = None) -> int:
    """Periodic task: remind registered people 24 hours and 1 hour before the start, once each.

    Only the most imminent reminder whose time has come goes out (someone who registers
    five hours before gets the one-hour reminder, never a late "24 hours" one), and only
    for reminder times after they registered. The ReminderSent row is keyed on the start
    time, so a moved event reminds for its new time and never again for the old one.
    Reminders are notifications (in the site, and by email as each person chose).
    Returns how many reminders were queued.
    """
    now = now or timezone.now()
    horizon = now + max(REMINDER_OFFSETS)
    events = Event.objects.filter(status=EventStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=horizon)
    queued = 0
    for event in events:
        due = [offset for offset in REMINDER_OFFSETS if event.starts_at - offset <= now]
        offset = min(due)
        minutes = int(offset.total_seconds() // 60)
        registrations = event.registrations.filter(
            status=RegistrationStatus.REGISTERED, created_at__lte=event.starts_at - offset
        ).exclude(reminders__offset_minutes=minutes, reminders__starts_at=event.starts_at)
        # The stamps and the job that owes the reminders commit together: never one without the other.
        with transaction.atomic():
            user_ids = []
            for registration in registrations:
                try:
                    with transaction.atomic():
                        ReminderSent.objects.create(
                            registration=registration,
                            offset_minutes=minutes,
                            starts_at=event.starts_at,
                            sent_at=now,
                        )
                except IntegrityError:
                    continue  # Another run sent it a moment ago.
                user_ids.append(registration.user_id)
            if user_ids:
                linked.notify_reminded(event, user_ids, minutes)
                queued += len(user_ids)
    return queued


# ----------------------------------------------------------------------- live and end


def go_live(event: Event, actor=None, *, now: datetime | None = None) -> bool:
    """Start a published event: status live, linked topics open and pinned everywhere,
    registered people notified in the site and by email, the Live now banner shown.

    Called by the periodic task at the start time (actor None) or by staff ("Go live now").
    Idempotent: a conditional UPDATE stamps went_live_at only where it is still empty, so a
    second run, or a concurrent one, changes nothing and sends nothing. Returns True for the
    run that did it. After commit: emails and a "live" event on /event/<id>.
    """
    if actor is not None:
        permissions.check_control(actor, event)
    now = now or timezone.now()
    with transaction.atomic():
        stamped = Event.objects.filter(
            pk=event.pk, went_live_at__isnull=True, status=EventStatus.PUBLISHED
        ).update(status=EventStatus.LIVE, went_live_at=now, updated_at=now)
        if not stamped:
            return False
        current = Event.objects.get(pk=event.pk)
        banner.refresh_on_commit()
        linked.open_topics(current, actor)
        # Nobody wants "live now" for an event whose end has already passed (a missed schedule).
        if current.ends_at > now:
            registered = list(
                current.registrations.filter(status=RegistrationStatus.REGISTERED).values_list(
                    "user_id", flat=True
                )
            )
            linked.notify_live(current, registered)
    event.__dict__.update(current.__dict__)
    logger.info("Event %s went live", event.pk)
    return True


def end_event(event: Event, actor=None, *, now: datetime | None = None) -> bool:
    """End a live event: status ended, the banner goes, global pins return to category pins,
    topics stay open. After commit: a follow-up email to attendees (recording, threads) and
    an "ended" event on /event/<id>. Idempotent like go_live (stamps ended_at once).
    """
    if actor is not None:
        permissions.check_control(actor, event)
    now = now or timezone.now()
    with transaction.atomic():
        stamped = Event.objects.filter(pk=event.pk, ended_at__isnull=True, status=EventStatus.LIVE).update(
            status=EventStatus.ENDED, ended_at=now, updated_at=now
        )
        if not stamped:
            return False
        current = Event.objects.get(pk=event.pk)
        banner.refresh_on_commit()
        topics = linked.release_topics(current, actor)
        attendees = list(
            current.registrations.filter(status=RegistrationStatus.REGISTERED).values_list(
                "user_id", flat=True
            )
        )
        _owe_email("follow_up", current, attendees, {"topics": topics})
    event.__dict__.update(current.__dict__)
    return True


def message_registered(event: Event, actor, *, subject: str, body: str) -> int:
    """Staff email everyone registered (not the waiting list). Sent after commit; returns the count."""
    permissions.check_control(actor, event)
    subject, body = subject.strip(), body.strip()
    errors = {}
    if not subject:
        errors["subject"] = _("Write a subject.")
    if not body:
        errors["body"] = _("Write a message.")
    if errors:
        raise ValidationError(errors)
    user_ids = list(
        event.registrations.filter(status=RegistrationStatus.REGISTERED).values_list("user_id", flat=True)
    )
    with transaction.atomic():
        _owe_email("message", event, user_ids, {"subject": subject, "body": body})
    return len(user_ids)


def run_schedule(now: datetime | None = None) -> dict:
    """Periodic task: take events live at their start and end them at their end, with no click."""
    now = now or timezone.now()
    started = ended = 0
    for event in Event.objects.filter(
        status=EventStatus.PUBLISHED, went_live_at__isnull=True, starts_at__lte=now
    ):
        started += go_live(event, now=now)
    for event in Event.objects.filter(Q(status=EventStatus.LIVE), ended_at__isnull=True, ends_at__lte=now):
        ended += end_event(event, now=now)
    closed = 0
    for event in Event.objects.filter(
        status=EventStatus.ENDED, close_topics_after_days__isnull=False, topics_closed_at__isnull=True
    ):
        closed += close_topics_after_end(event, now=now)
    # Also heals an emptied cache, and moves "coming up" on to the next event.
    banner.refresh()
    return {"started": started, "ended": ended, "closed": closed}


def close_topics_after_end(event: Event, *, now: datetime | None = None) -> bool:
    """Periodic task: close an ended event's linked questions once its close_topics_after_days
    have passed since the end. Idempotent like go_live (a conditional stamp on topics_closed_at).
    Returns True for the run that closed them."""
    now = now or timezone.now()
    if event.close_topics_after_days is None or event.ended_at is None:
        return False
    if event.ended_at + timedelta(days=event.close_topics_after_days) > now:
        return False
    with transaction.atomic():
        stamped = Event.objects.filter(
            pk=event.pk, status=EventStatus.ENDED, topics_closed_at__isnull=True
        ).update(topics_closed_at=now)
        if not stamped:
            return False
        linked.close_topics(event)
    event.topics_closed_at = now
    return True


def reply_live(user, event: Event, topic, raw: str, *, idempotency_key=None):
    """Someone replies to one of the event's questions from its live page.

    The forum's posting rules apply unchanged (who may reply, rate limits, duplicates, links):
    PermissionDenied or ValidationError as on the topic page. Returns (post, held): a first post
    may be held for a moderator's approval. After commit, unless held, a "post_created" on
    /event/<id> makes every open live page fetch the newest replies.
    """
    from forum import services as forum_services

    if not event.linked_topics.filter(pk=topic.pk).exists():
        raise ValidationError(_("Choose the question you are answering."))
    with transaction.atomic():
        forum_services.check_posting(user, raw, kind="reply", idempotency_key=idempotency_key)
        post = forum_services.create_reply(user, topic, raw, idempotency_key=idempotency_key)
        held = forum_services.after_posting(user, post, kind="reply")
        if not held:
            linked.reply_posted(event, post)
    return post, held


# --- invitations ---------------------------------------------------------------------------


def invitation_occasion(event: Event):
    """What an invitation to this event says and where its link lands (the event page, which is
    the live page while the event is live), in accounts' terms."""
    from accounts.invitations import Occasion

    titles = {"en": event.title, "es": event.title_es or event.title, "fr": event.title_fr or event.title}
    return Occasion(
        key=f"event:{event.pk}",
        titles=titles,
        starts_at=event.starts_at,
        time_zone=event.time_zone,
        landing_url=event.get_absolute_url(),
    )


def unverified_registrants(event: Event):
    """Registered and waiting people who are not verified officials yet (members may register
    for events that allow them)."""
    from accounts.models import User, VerificationState

    return (
        User.objects.filter(
            registrations__event=event,
            registrations__status__in=[RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED],
            is_active=True,
        )
        .exclude(verification_state=VerificationState.VERIFIED)
        .select_related("organisation")
        .order_by("pk")
    )


def invite_registrants(event: Event, actor):
    """Invite, in one go, every registrant of the event who is not a verified official yet
    (moderators and staff): each gets an invitation that verifies them for their organisation
    (their profile's, else their address's official domain) when they accept it, signed in.
    Returns accounts.invitations.InviteReport; emails go out after commit."""
    from accounts import invitations

    rows = [
        invitations.InviteRow(
            email=person.email,
            name=person.name,
            position=person.position,
            language=person.preferred_language,
            organisation_obj=person.organisation,
            line=index,
        )
        for index, person in enumerate(unverified_registrants(event), start=1)
        if person.email
    ]
    return invitations.invite_many(actor, rows, occasion=invitation_occasion(event), members_too=True)
