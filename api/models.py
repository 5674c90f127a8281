"""API keys: a script's credentials, acting as one person (or, for staff keys, as anyone named).

Only a SHA-256 digest of each key is stored; the key itself is shown once, when it is made.
Every write goes through api/services.py.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class KeyScope(models.TextChoices):
    READ_WRITE = "read_write", _("Read and write")
    READ_ONLY = "read_only", _("Read only")


class ApiKey(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    # Staff keys that may act as any person named in the Api-Username header.
    all_users = models.BooleanField(_("acts as any user"), default=False)
    scope = models.CharField(_("scope"), max_length=16, choices=KeyScope.choices, default=KeyScope.READ_WRITE)
    description = models.CharField(_("description"), max_length=200, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters, so people can tell their keys apart without the key being stored.
    truncated_key = models.CharField(max_length=8)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.truncated_key}… ({self.user})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def read_only(self) -> bool:
        return self.scope == KeyScope.READ_ONLY
