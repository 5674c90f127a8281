"""Groups: named sets of people (working groups, pilot projects) with members and owners.

Between accounts and the forum: a group knows people and organisations; the forum restricts
categories to groups, lets @group mentions notify members and sends messages to a group.
Every write goes through groups/services.py.
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{1,39}$"


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Everyone can see the group and its members")
    MEMBERS = "members", _("Only its members can see the group")


class JoinMode(models.TextChoices):
    OPEN = "open", _("Anyone may join")
    REQUEST = "request", _("People ask to join; an owner approves")
    INVITE = "invite", _("Only owners add people")
    AUTOMATIC = "automatic", _("Automatic: the officials of an organisation or a region")


class Group(models.Model):
    """A working group: its name is its address (/g/<name>) and its @mention."""

    name = models.CharField(
        _("name"),
        max_length=40,
        unique=True,
        validators=[RegexValidator(NAME_PATTERN, _("Use 2 to 40 lower-case letters, digits, - or _."))],
    )
    full_name = models.CharField(_("full name"), max_length=200)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    visibility = models.CharField(
        _("who sees it"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    join_mode = models.CharField(
        _("how people join"), max_length=16, choices=JoinMode.choices, default=JoinMode.REQUEST
    )
    # Automatic groups: verified officials of this organisation, or of organisations in this region.
    automatic_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    automatic_region = models.CharField(_("Metropolis region"), max_length=100, blank=True)
    # Whether @name notifies the members (Discourse's "mentionable").
    mentionable = models.BooleanField(_("@mentions notify the members"), default=True)
    # Whether people may send a message to the group (its inbox).
    messageable = models.BooleanField(_("people may write to the group"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["full_name", "name"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")

    def __str__(self) -> str:
        return self.full_name or self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", args=[self.name])

    def automatic_rule(self) -> Q | None:
        """Who belongs automatically, as a filter on people (None: nobody)."""
        if self.join_mode != JoinMode.AUTOMATIC:
            return None
        if self.automatic_organisation_id:
            return Q(organisation_id=self.automatic_organisation_id, verification_state="verified")
        if self.automatic_region:
            return Q(organisation__metropolis_region=self.automatic_region, verification_state="verified")
        return None


class Membership(models.Model):
    """One person in a group (automatic groups need no row; owners always have one)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    owner = models.BooleanField(_("owner"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_membership_once")]
        indexes = [models.Index(fields=["user"], name="groups_of_user")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.group_id}"


class JoinRequest(models.Model):
    """Someone asked to join a group that an owner approves."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(_("message to the owners"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="group_request_once")]

    def __str__(self) -> str:
        return f"{self.user_id} asks to join {self.group_id}"
