from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
