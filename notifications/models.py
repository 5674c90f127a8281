"""In-app notifications, email preferences and the email outbox.

Shared plumbing: this app imports no other app (people are settings.AUTH_USER_MODEL).
Every write goes through notifications/services.py.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    REPLY = "reply", _("Replies to my posts")
    MENTION = "mention", _("Mentions of me")
    QUOTE = "quote", _("Quotes of my posts")
    LIKE = "like", _("Likes of my posts")
    WATCHED_POST = "watched_post", _("New posts in topics and categories I watch")
    VERIFICATION = "verification", _("Decisions on my verification")
    EVENT_REMINDER = "event_reminder", _("Reminders of events I registered for")
    EVENT_LIVE = "event_live", _("Events going live")
    PRIVATE_MESSAGE = "private_message", _("Personal messages to me")


class EmailFrequency(models.TextChoices):
    IMMEDIATELY = "immediately", _("Immediately")
    DAILY = "daily", _("In a daily summary")
    WEEKLY = "weekly", _("In a weekly summary")
    NEVER = "never", _("Never")


# What people get before they choose: the things addressed to them by email, the rest in the site.
DEFAULT_FREQUENCY = {
    NotificationKind.REPLY: EmailFrequency.IMMEDIATELY,
    NotificationKind.MENTION: EmailFrequency.IMMEDIATELY,
    NotificationKind.QUOTE: EmailFrequency.IMMEDIATELY,
    NotificationKind.LIKE: EmailFrequency.NEVER,
    NotificationKind.WATCHED_POST: EmailFrequency.DAILY,
    NotificationKind.VERIFICATION: EmailFrequency.IMMEDIATELY,
    NotificationKind.EVENT_REMINDER: EmailFrequency.IMMEDIATELY,
    NotificationKind.EVENT_LIVE: EmailFrequency.IMMEDIATELY,
    NotificationKind.PRIVATE_MESSAGE: EmailFrequency.IMMEDIATELY,
}


class Notification(models.Model):
    """Something a person should know about, shown under the bell and perhaps emailed."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=300)
    url = models.CharField(_("link"), max_length=500)
    data = models.JSONField(default=dict, blank=True)
    # Likes of one post are grouped: one notification, a count, the latest actor.
    group_key = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField(default=1)
    # Whoever creates a notification names the occasion ("reply:post:42"); a repeat is ignored.
    dedupe_key = models.CharField(max_length=200, unique=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recent"),
            models.Index(
                fields=["recipient", "group_key"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class EmailPreference(models.Model):
    """How often one person wants email about one kind of notification (absent: the default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    frequency = models.CharField(max_length=16, choices=EmailFrequency.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_email_preference_per_kind")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.frequency}"


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    SKIPPED = "skipped", _("Not needed (already read or unsubscribed)")
    FAILED = "failed", _("Gave up after repeated failures")


class OutboxEmail(models.Model):
    """One email owed for one notification, written in the same transaction as the notification.

    The row, not the task queue, is the promise: a task sends it after commit, and a periodic
    drain sends whatever a lost task left behind. A row is sent at most once (its state is
    checked under a row lock while sending).
    """

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="emails")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, default="email")
    frequency = models.CharField(max_length=16, choices=EmailFrequency.choices)
    state = models.CharField(max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING)
    send_after = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="one_delivery_per_channel"),
        ]
        indexes = [
            models.Index(fields=["send_after"], condition=Q(state="pending"), name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.notification_id}: {self.state}"


class OutboxMessage(models.Model):
    """One ready-to-send email (the serialised message, attachments included), written in the same
    transaction as the action that owes it: a sign-up, a registration, a verification decision.

    Like :class:`OutboxEmail`, the row is the promise: a task sends it after commit and the
    periodic drain sends what a lost task left behind. ``message_id`` is fixed when the row is
    written, so a message sent twice after a crash (see docs/notifications.md) carries the same
    Message-ID both times. ``dedupe_key`` makes a fan-out job's rows unique per job and person.
    """

    kind = models.CharField(max_length=100, blank=True)
    to = models.CharField(max_length=500)
    message = models.JSONField()
    message_id = models.CharField(max_length=255, unique=True)
    urgent = models.BooleanField(default=False)
    dedupe_key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    state = models.CharField(max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING)
    send_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(
                fields=["-urgent", "send_after"], condition=Q(state="pending"), name="outbox_message_due"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to}: {self.state}"


class JobState(models.TextChoices):
    PENDING = "pending", _("Waiting to run")
    DONE = "done", _("Done")
    FAILED = "failed", _("Gave up after repeated failures")


class OutboxJob(models.Model):
    """A fan-out owed to many people (an event going live, a message to every attendee), written
    in the action's transaction as one row; the worker expands it in batches into per-person
    notifications and emails. ``progress`` counts the recipients done, updated in the same
    transaction as each batch, so a rerun (a redelivered task, the drain) starts where the last
    committed batch ended; what each batch writes is also unique per job and person.
    """

    handler = models.CharField(max_length=100)
    payload = models.JSONField(default=dict, blank=True)
    recipient_ids = models.JSONField(default=list)
    progress = models.PositiveIntegerField(default=0)
    urgent = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], condition=Q(state="pending"), name="outbox_job_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk}: {self.state} ({self.progress}/{len(self.recipient_ids)})"
