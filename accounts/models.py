import uuid
from pathlib import PurePath

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager


class Organisation(models.Model):
    """A member government (city, metropolitan area, region...) or partner."""

    class Kind(models.TextChoices):
        CITY = "city", _("City")
        METROPOLITAN_AREA = "metropolitan_area", _("Metropolitan area")
        REGION = "region", _("Region")
        NATIONAL_GOVERNMENT = "national_government", _("National government")
        PARTNER = "partner", _("Partner")

    name = models.CharField(_("name"), max_length=200)
    short_name = models.CharField(_("short name"), max_length=80, blank=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, default=Kind.CITY)
    country = models.CharField(_("country"), max_length=100, blank=True)
    metropolis_region = models.CharField(_("Metropolis region"), max_length=100, blank=True)
    is_member = models.BooleanField(_("Metropolis member"), default=True)
    website = models.URLField(_("website"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # The language of emails to its people when theirs is not known yet (an invitation).
    language = models.CharField(
        _("language of its emails"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class OrganisationDomain(models.Model):
    """An official email domain of an organisation; confirmed emails on it verify at once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(_("domain"), max_length=253, unique=True)
    include_subdomains = models.BooleanField(_("subdomains count"), default=False)

    class Meta:
        ordering = ["domain"]
        verbose_name = _("official email domain")
        verbose_name_plural = _("official email domains")

    def __str__(self) -> str:
        return self.domain

    def matches(self, email_domain: str) -> bool:
        """Whether an email's domain (lower case) falls under this official domain."""
        if email_domain == self.domain:
            return True
        return self.include_subdomains and email_domain.endswith("." + self.domain)


class VerificationState(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    PENDING = "pending", _("Verification pending")
    VERIFIED = "verified", _("Verified official")
    REJECTED = "rejected", _("Verification rejected")
    REVOKED = "revoked", _("Verification revoked")
    EXPIRED = "expired", _("Verification expired")


class VerificationMethod(models.TextChoices):
    NONE = "", _("None")
    EMAIL_DOMAIN = "email_domain", _("Official email domain")
    REVIEW = "review", _("Reviewed by a moderator")
    ROSTER = "roster", _("Organisation roster")
    INVITATION = "invitation", _("Invitation")


class Gender(models.TextChoices):
    WOMAN = "woman", _("Woman")
    MAN = "man", _("Man")
    NON_BINARY = "non_binary", _("Non-binary")
    SELF_DESCRIBED = "other", _("Another gender")


def avatar_path(instance, filename: str) -> str:
    return f"avatars/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


def evidence_path(instance, filename: str) -> str:
    # Unguessable, and never served from MEDIA_URL by name: moderators fetch it through a view.
    return f"evidence/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class User(AbstractUser):
    """A person with an account. Email is private; `username` is the public handle."""

    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    bio = models.TextField(_("short bio"), max_length=1000, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    preferred_language = models.CharField(_("preferred language"), max_length=8, blank=True)

    is_moderator = models.BooleanField(_("moderator"), default=False)
    verification_state = models.CharField(
        _("verification"),
        max_length=16,
        choices=VerificationState.choices,
        default=VerificationState.UNVERIFIED,
        db_index=True,
    )
    verification_method = models.CharField(
        max_length=16, choices=VerificationMethod.choices, default=VerificationMethod.NONE, blank=True
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_expires_at = models.DateTimeField(null=True, blank=True)
    silenced_until = models.DateTimeField(null=True, blank=True)
    silenced_reason = models.CharField(max_length=500, blank=True)
    suspended_until = models.DateTimeField(null=True, blank=True)
    suspended_reason = models.CharField(max_length=500, blank=True)
    # The official domain an email-domain verification rests on: removing it revokes them.
    verification_domain = models.CharField(max_length=253, blank=True, db_index=True)
    verification_reminded_at = models.DateTimeField(null=True, blank=True)
    # The last verification notice the person has not seen in the site yet (a key of
    # accounts.notifications.SUBJECTS); shown once as a message, then cleared.
    verification_notice = models.CharField(max_length=32, blank=True)
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    # Private and optional: only ever shown as aggregates (groups under 5 suppressed) in insights.
    gender = models.CharField(
        _("gender (private, optional)"), max_length=16, choices=Gender.choices, blank=True
    )
    expertise = TaggableManager(
        verbose_name=_("expertise"), help_text=_("Topics you know well, separated by commas."), blank=True
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"

    def __str__(self) -> str:
        return self.username

    @property
    def name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def is_verified_official(self) -> bool:
        return self.verification_state == VerificationState.VERIFIED

    @property
    def initials(self) -> str:
        words = [word for word in self.name.replace(".", " ").split() if word[:1].isalpha()]
        letters = "".join(word[0] for word in words[:2]) or self.username[:2]
        return letters.upper()


class VerificationRequest(models.Model):
    """A member's request to be verified as an official, with evidence, reviewed by a moderator."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        NEEDS_INFORMATION = "needs_information", _("More information requested")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    class RejectReason(models.TextChoices):
        NOT_AN_OFFICIAL = "not_an_official", _("The evidence does not show that you work for a government")
        EVIDENCE_UNCLEAR = "evidence_unclear", _("The evidence could not be checked")
        NOT_A_MEMBER = "not_a_member", _("The organisation is not part of this network")
        DUPLICATE = "duplicate", _("You already have another account")
        OTHER = "other", _("Another reason (see the note)")

    OPEN_STATES = (State.PENDING, State.NEEDS_INFORMATION)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_requests")
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.SET_NULL, null=True, blank=True
    )
    proposed_organisation = models.CharField(_("organisation not in the list"), max_length=200, blank=True)
    position = models.CharField(_("position"), max_length=200)
    evidence_url = models.URLField(_("link to an official page"), max_length=500, blank=True)
    evidence_file = models.FileField(_("evidence document"), upload_to=evidence_path, blank=True)
    evidence_name = models.CharField(max_length=255, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    message = models.TextField(_("message to the moderators"), max_length=2000, blank=True)
    state = models.CharField(max_length=24, choices=State.choices, default=State.PENDING, db_index=True)
    reject_reason = models.CharField(max_length=32, choices=RejectReason.choices, blank=True)
    moderator_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="verification_decisions"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(state__in=["pending", "needs_information"]),
                name="one_open_verification_request_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    @property
    def email_domain(self) -> str:
        return self.user.email.rsplit("@", 1)[-1]

    @property
    def organisation_label(self) -> str:
        return self.organisation.name if self.organisation_id else self.proposed_organisation


class VerificationEvent(models.Model):
    """One change of someone's verification. Append-only: rows are never updated or deleted."""

    subject = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_events")
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=32)
    from_state = models.CharField(max_length=16, choices=VerificationState.choices)
    to_state = models.CharField(max_length=16, choices=VerificationState.choices)
    method = models.CharField(max_length=16, choices=VerificationMethod.choices, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.SET_NULL, null=True, blank=True)
    reason = models.TextField(blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("verification event")
        verbose_name_plural = _("verification events")

    def __str__(self) -> str:
        return f"{self.subject}: {self.from_state} -> {self.to_state}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionDenied("The verification audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionDenied("The verification audit trail is append-only.")


class RosterEntry(models.Model):
    """An email on an organisation's staff roster: its owner is verified on confirming it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="roster")
    email = models.EmailField(db_index=True)
    added_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["email"]
        verbose_name = _("roster entry")
        verbose_name_plural = _("roster entries")
        constraints = [models.UniqueConstraint(fields=["organisation", "email"], name="unique_roster_email")]

    def __str__(self) -> str:
        return self.email


class InvitationState(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class Invitation(models.Model):
    """An email invitation to join as a verified official of `organisation`: whoever accepts it
    gets an account with the address confirmed, verified by the route "invitation".

    Only a hash of the link's token is stored; the link works once, until `expires_at`.
    What it is for (an event, a topic) is held in accounts' own terms, filled in by the caller:
    `occasion` ("event:12", "topic:5"), its titles by language, its time and where the link
    lands. A pending invitation past `expires_at` counts as expired (the state catches up when
    the address is invited again).
    """

    email = models.EmailField(_("email"), db_index=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    position = models.CharField(_("position"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation, verbose_name=_("organisation"), on_delete=models.CASCADE, related_name="invitations"
    )
    language = models.CharField(_("language"), max_length=8, blank=True)
    # Group names as written by the inviter; the person joins them once groups exist.
    group_names = models.JSONField(default=list, blank=True)
    custom_message = models.TextField(_("personal message"), max_length=2000, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    inviter = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations_sent"
    )
    occasion = models.CharField(max_length=40, blank=True, db_index=True)
    occasion_titles = models.JSONField(default=dict, blank=True)
    occasion_starts_at = models.DateTimeField(null=True, blank=True)
    occasion_time_zone = models.CharField(max_length=64, blank=True)
    landing_url = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=16, choices=InvitationState.choices, default=InvitationState.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    # Who sent the last email (the inviter, or whoever resent it): it counts against their limit.
    sent_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    send_count = models.PositiveSmallIntegerField(default=0)
    # The last email sent for it (the outbox row): a delivery the outbox gave up on is "bounced".
    last_message_id = models.PositiveBigIntegerField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=models.Q(state="pending"), name="one_pending_invitation_per_email"
            )
        ]
        indexes = [models.Index(fields=["sent_by", "sent_at"], name="invitations_sent_by")]

    def __str__(self) -> str:
        return f"{self.email} ({self.state})"

    @property
    def is_expired(self) -> bool:
        return self.state == InvitationState.EXPIRED or (
            self.state == InvitationState.PENDING and self.expires_at <= timezone.now()
        )

    @property
    def status(self) -> str:
        """The state as people see it: a pending invitation past its date is expired."""
        return InvitationState.EXPIRED if self.is_expired else self.state

    def get_status_display(self) -> str:
        return InvitationState(self.status).label

    def occasion_title(self, language: str = "") -> str:
        titles = self.occasion_titles or {}
        return titles.get(language) or titles.get("en") or next(iter(titles.values()), "")
