"""Who may do what with events: can_x(user, event) -> bool, check_x raising PermissionDenied,
and the queryset filter that matches what people may see."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions

from .models import Event, EventStatus, Registration, RegistrationStatus

PUBLIC_STATUSES = (EventStatus.PUBLISHED, EventStatus.LIVE, EventStatus.ENDED, EventStatus.CANCELLED)


def is_event_staff(user) -> bool:
    """The secretariat manages every event."""
    return accounts_permissions.is_staff(user)


def is_organiser(user, event: Event) -> bool:
    if not user.is_authenticated:
        return False
    return is_event_staff(user) or event.organisers.filter(pk=user.pk).exists()


def visible_events(user) -> QuerySet[Event]:
    """Events this person may see: everything public, plus drafts for staff and their organisers."""
    if is_event_staff(user):
        return Event.objects.all()
    if user.is_authenticated:
        return Event.objects.filter(Q(status__in=PUBLIC_STATUSES) | Q(organisers=user)).distinct()
    return Event.objects.filter(status__in=PUBLIC_STATUSES)


def can_view(user, event: Event) -> bool:
    return event.status in PUBLIC_STATUSES or is_organiser(user, event)


def check_view(user, event: Event) -> None:
    if not can_view(user, event):
        raise PermissionDenied(_("This event is not published yet."))


def _when(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def registration_block_reason(user, event: Event, now=None) -> str | None:
    """Why this person cannot register for this event now, in words for them; None when they can."""
    now = now or timezone.now()
    if event.status == EventStatus.CANCELLED:
        return _("This event has been cancelled.")
    if event.status == EventStatus.DRAFT:
        return _("This event is not published yet.")
    if event.status == EventStatus.ENDED or event.ends_at <= now:
        return _("This event is over.")
    if event.registration_opens_at and now < event.registration_opens_at:
        return _("Registration opens on %(date)s.") % {"date": _when(event.registration_opens_at)}
    if now >= event.registration_closes():
        return _("Registration closed on %(date)s.") % {"date": _when(event.registration_closes())}
    if not user.is_authenticated:
        return _("Sign in to register.")
    if accounts_permissions.is_suspended(user):
        return _("Your account is suspended.")
    if not event.allow_members and not (
        accounts_permissions.is_verified(user) or accounts_permissions.is_moderator(user)
    ):
        return _("This event is for verified officials. Ask to be verified as an official to register.")
    return None


def can_register(user, event: Event, now=None) -> bool:
    return registration_block_reason(user, event, now) is None


def check_register(user, event: Event, now=None) -> None:
    reason = registration_block_reason(user, event, now)
    if reason:
        raise PermissionDenied(reason)


def is_registered(user, event: Event) -> bool:
    return (
        user.is_authenticated
        and Registration.objects.filter(event=event, user=user, status=RegistrationStatus.REGISTERED).exists()
    )


def can_see_join_link(user, event: Event, registration: Registration | None = None, now=None) -> bool:
    """Registered people (and organisers) see the join link from 30 minutes before the start."""
    now = now or timezone.now()
    if not event.join_url or event.status in (EventStatus.CANCELLED, EventStatus.ENDED, EventStatus.DRAFT):
        return False
    if now < event.join_link_visible_from() or now >= event.ends_at:
        return False
    if registration is not None:
        return registration.status == RegistrationStatus.REGISTERED
    return is_registered(user, event) or is_organiser(user, event)


def can_manage(user, event: Event) -> bool:
    """Organisers see the attendee list and export it; staff also run the control room."""
    return is_organiser(user, event)


def check_manage(user, event: Event) -> None:
    if not can_manage(user, event):
        raise PermissionDenied(_("Only the event's organisers can do this."))


def can_control(user, event: Event | None = None) -> bool:
    return is_event_staff(user)


def check_control(user, event: Event | None = None) -> None:
    if not can_control(user, event):
        raise PermissionDenied(_("Only the secretariat can do this."))
