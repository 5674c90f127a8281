"""Webinars, in-person and hybrid events, their agendas, speakers and registrations.

Every write goes through events/services.py; models hold fields, validation and
small read helpers only. Times are stored in UTC; ``Event.time_zone`` says where
the event happens, so pages can show both its own time and the viewer's.
"""

import zoneinfo
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

EVENT_LANGUAGES = ("en", "es", "fr")
# The join link appears to registered people only, from this long before the start.
JOIN_LINK_LEAD = timedelta(minutes=30)
# Reminders before the start, most distant first.
REMINDER_OFFSETS = (timedelta(hours=24), timedelta(hours=1))
# Hosts whose players we embed: privacy-mode YouTube, Vimeo's player, Jitsi Meet.
STREAM_HOSTS = ("www.youtube-nocookie.com", "youtube-nocookie.com", "player.vimeo.com", "meet.jit.si")


def current_language() -> str:
    language = (get_language() or "en").split("-")[0]
    return language if language in EVENT_LANGUAGES else "en"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Choose a time zone such as Europe/Madrid."), code="time_zone")


def validate_https(value: str) -> None:
    if value and urlsplit(value).scheme != "https":
        raise ValidationError(_("The link must start with https://."), code="https")


def validate_stream_url(value: str) -> None:
    if not value:
        return
    parts = urlsplit(value)
    if parts.scheme != "https" or (parts.hostname or "").lower() not in STREAM_HOSTS:
        raise ValidationError(
            _(
                "Use a stream link from YouTube in privacy mode (youtube-nocookie.com), "
                "Vimeo (player.vimeo.com) or Jitsi (meet.jit.si)."
            ),
            code="stream_host",
        )


class EventKind(models.TextChoices):
    WEBINAR = "webinar", _("Webinar")
    IN_PERSON = "in_person", _("In person")
    HYBRID = "hybrid", _("Hybrid")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    LIVE = "live", _("Live now")
    ENDED = "ended", _("Ended")
    CANCELLED = "cancelled", _("Cancelled")


class Event(models.Model):
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    title = models.CharField(_("title (English)"), max_length=200)
    title_es = models.CharField(_("title (Spanish)"), max_length=200, blank=True)
    title_fr = models.CharField(_("title (French)"), max_length=200, blank=True)
    summary = models.CharField(_("summary (English)"), max_length=500, blank=True)
    summary_es = models.CharField(_("summary (Spanish)"), max_length=500, blank=True)
    summary_fr = models.CharField(_("summary (French)"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices, default=EventKind.WEBINAR)
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.DRAFT, db_index=True
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    join_url = models.URLField(
        _("online join link"),
        blank=True,
        validators=[validate_https],
        help_text=_("Shown only to registered people, from 30 minutes before the start."),
    )
    stream_url = models.URLField(
        _("stream to embed"),
        blank=True,
        validators=[validate_stream_url],
        help_text=_("A player link from youtube-nocookie.com, player.vimeo.com or meet.jit.si."),
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), null=True, blank=True, help_text=_("Leave empty for no limit.")
    )
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(
        _("registration closes"), null=True, blank=True, help_text=_("Leave empty to close at the end.")
    )
    allow_members = models.BooleanField(
        _("members may register"),
        default=False,
        help_text=_("Otherwise only verified officials may register."),
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="organised_events", verbose_name=_("organisers")
    )
    # Officials who may post in the linked topics before the launch, besides the speakers.
    invitees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="event_invitations", verbose_name=_("invitees")
    )
    is_launch = models.BooleanField(_("launches the forum"), default=False)
    # The questions discussed at the event: they open and are pinned everywhere while it is live.
    linked_topics = models.ManyToManyField(
        "forum.Topic", blank=True, related_name="events", verbose_name=_("linked question topics")
    )
    linked_category = models.ForeignKey(
        "forum.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("linked category"),
    )
    # For the forum's launch: these categories stay read-only until the event goes live.
    launch_categories = models.ManyToManyField(
        "forum.Category",
        blank=True,
        related_name="launched_by",
        verbose_name=_("categories that open with the launch"),
    )
    # Who could start topics in each launch category before it was held: {"<category id>": "verified"}.
    held_start_access = models.JSONField(default=dict, blank=True, editable=False)
    went_live_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    recording_url = models.URLField(_("recording link"), blank=True, validators=[validate_https])
    materials = models.TextField(_("materials"), blank=True, help_text=_("Links to slides and documents."))
    closing_summary = models.TextField(_("closing summary"), blank=True)
    close_topics_after_days = models.PositiveSmallIntegerField(
        _("close the questions after (days)"),
        null=True,
        blank=True,
        help_text=_(
            "Days after the end when the linked questions close for replies. Leave empty to keep them open."
        ),
    )
    # Stamped when the linked topics were closed after the end, so the schedule does it once.
    topics_closed_at = models.DateTimeField(null=True, blank=True)
    # Bumped whenever the time changes, so calendar programs replace the old entry.
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [models.Index(fields=["status", "starts_at"], name="event_status_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")),
                name="event_ends_after_start",
                violation_error_message=_("The end must come after the start."),
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:detail", args=[self.slug])

    def clean(self):
        errors = {}
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must come after the start.")
        if (
            self.registration_opens_at
            and self.registration_closes_at
            and self.registration_closes_at <= self.registration_opens_at
        ):
            errors["registration_closes_at"] = _("Registration must close after it opens.")
        if self.kind in (EventKind.IN_PERSON, EventKind.HYBRID) and not self.venue:
            errors["venue"] = _("Say where the event takes place.")
        if errors:
            raise ValidationError(errors)

    def validate_constraints(self, exclude=None):
        # clean() reports an end before the start next to the field; the check constraint guards the table.
        super().validate_constraints(exclude={*(exclude or ()), "ends_at"})

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def local_starts_at(self):
        return self.starts_at.astimezone(self.zone)

    @property
    def local_ends_at(self):
        return self.ends_at.astimezone(self.zone)

    @property
    def localized_title(self) -> str:
        language = current_language()
        return (getattr(self, f"title_{language}", "") if language != "en" else "") or self.title

    @property
    def localized_summary(self) -> str:
        language = current_language()
        return (getattr(self, f"summary_{language}", "") if language != "en" else "") or self.summary

    @property
    def is_online(self) -> bool:
        return self.kind in (EventKind.WEBINAR, EventKind.HYBRID)

    @property
    def is_live(self) -> bool:
        return self.status == EventStatus.LIVE

    @property
    def is_over(self) -> bool:
        return self.status == EventStatus.ENDED or (
            self.status != EventStatus.LIVE and self.ends_at <= timezone.now()
        )

    @property
    def is_multi_day(self) -> bool:
        return self.local_starts_at.date() != self.local_ends_at.date()

    @property
    def topics_close_at(self):
        """When the linked questions close after the end (None: they stay open)."""
        if self.close_topics_after_days is None or self.ended_at is None:
            return None
        return self.ended_at + timedelta(days=self.close_topics_after_days)

    def join_link_visible_from(self):
        return self.starts_at - JOIN_LINK_LEAD

    def registration_closes(self):
        return self.registration_closes_at or self.ends_at


class Speaker(models.Model):
    """Someone who speaks at an event: an official with an account, or a name and a title."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="speakers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="speaking_at",
        verbose_name=_("official"),
    )
    name = models.CharField(_("name"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["event", "order", "pk"]
        verbose_name = _("speaker")
        verbose_name_plural = _("speakers")

    def __str__(self) -> str:
        return self.display_name

    def clean(self):
        if not self.user_id and not self.name:
            raise ValidationError({"name": _("Give the speaker's name or choose an official.")})

    @property
    def display_name(self) -> str:
        return self.name or (self.user.name if self.user else "")

    @property
    def display_position(self) -> str:
        return self.position or (self.user.position if self.user else "")

    @property
    def display_organisation(self) -> str:
        if self.organisation:
            return self.organisation
        if self.user and self.user.organisation:
            return self.user.organisation.display_name
        return ""


class Session(models.Model):
    """One item of a multi-day agenda."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    venue = models.CharField(_("venue"), max_length=200, blank=True)
    room = models.CharField(_("room"), max_length=100, blank=True)
    speakers = models.ManyToManyField(
        Speaker, blank=True, related_name="sessions", verbose_name=_("speakers")
    )
    topic = models.ForeignKey(
        "forum.Topic",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="event_sessions",
        verbose_name=_("discussion topic"),
    )

    class Meta:
        ordering = ["event", "starts_at", "pk"]
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return self.title

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("The end must come after the start.")})


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Registration(models.Model):
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(
        _("status"), max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.REGISTERED
    )
    show_publicly = models.BooleanField(_("show me on the public list of attendees"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    # When the person (re)joined the queue or took a seat: the waiting list is served in this order.
    queued_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event", "queued_at", "pk"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="registration_once")]
        indexes = [models.Index(fields=["event", "status", "queued_at"], name="registration_queue")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.event}"

    @property
    def is_active(self) -> bool:
        return self.status != RegistrationStatus.CANCELLED


class ReminderSent(models.Model):
    """A reminder went out. Keyed on the start time it announced, so a moved event reminds again."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="reminders")
    offset_minutes = models.PositiveIntegerField()
    starts_at = models.DateTimeField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["registration", "offset_minutes", "starts_at"], name="reminder_once_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} -{self.offset_minutes} min @ {self.starts_at:%Y-%m-%d %H:%M}"
