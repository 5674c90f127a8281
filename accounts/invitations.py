"""Every write to invitations happens here: inviting (one address or a CSV), resending, revoking,
and accepting, which creates an account that is already a verified official.

An invitation is vouched for by a moderator or staff member (the inviter), like a roster entry:
whoever accepts it gets an account with the address confirmed (they opened the link sent to it)
and a verification by the route "invitation", expiring like roster verifications. An address on
an organisation's official domain is verified by the domain rule instead, as at sign-up.

The link carries a random token; only its sha256 is stored. It works once, until the expiry
(``INVITATION_VALID_DAYS``). Each send is one ``OutboxMessage`` written in the same transaction
as the invitation's row (both or neither), so an invitation's email goes out exactly once per
send. Other apps hear of invitations through the ``invitation_event`` signal (the forum's
moderation log; groups on acceptance).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.dispatch import Signal
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import clean

from . import permissions, services
from .models import (
    Invitation,
    InvitationState,
    Organisation,
    User,
    VerificationMethod,
    VerificationState,
)

# Sent after commit with action ("invite", "resend", "revoke", "accept"), actor and invitations
# (a list); "accept" also carries user. The forum logs the first three; groups join on "accept".
invitation_event = Signal()

CSV_COLUMNS = ("email", "name", "position", "organisation", "language", "groups")
MAX_ROWS = 1000  # about 5 s of work in one request (each row: an email rendered, two inserts)
# An expired link may ask for a fresh one to its address this often.
NEW_LINK_EVERY = timedelta(hours=1)


class InvitationError(Exception):
    """An invitation step that cannot happen; the message is for the person who tried."""


@dataclass
class Occasion:
    """What an invitation is for, in accounts' terms: filled in by the events app or the forum."""

    key: str = ""  # "event:12", "topic:5"
    titles: dict = field(default_factory=dict)  # language -> title
    starts_at: datetime | None = None
    time_zone: str = ""
    landing_url: str = ""


@dataclass
class InviteRow:
    email: str
    name: str = ""
    position: str = ""
    organisation: str = ""  # a name, short name or slug; or empty when an Organisation is given
    language: str = ""
    groups: list[str] = field(default_factory=list)
    topic_id: str = ""  # Discourse's bulk CSV: the topic the invitation leads to
    line: int = 0
    organisation_obj: Organisation | None = None


@dataclass
class RowProblem:
    line: int
    email: str
    reason: str


@dataclass
class InviteReport:
    """What an invitation run did, row by row: nothing is dropped without a reason."""

    invited: list[Invitation] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)  # malformed rows, over the limit
    duplicates: list[RowProblem] = field(default_factory=list)  # twice in the file, or already invited
    members: list[RowProblem] = field(default_factory=list)  # already have an account


# --- tokens, limits, look-ups ------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(24)
    return token, hash_token(token)


def find(token: str) -> Invitation | None:
    if not token or len(token) > 100:
        return None
    return (
        Invitation.objects.select_related("organisation", "inviter", "inviter__organisation")
        .filter(token_hash=hash_token(token))
        .first()
    )


def sent_today(user: User, now=None) -> int:
    """Invitations this person sent (or resent) in the last 24 hours."""
    since = (now or timezone.now()) - timedelta(days=1)
    return Invitation.objects.filter(sent_by=user, sent_at__gte=since).count()


def remaining_today(user: User) -> int:
    return max(0, settings.INVITATIONS_PER_DAY - sent_today(user))


def language_for(row_language: str, organisation: Organisation | None) -> str:
    """The invitee's language: the CSV's, else the organisation's, else the site's."""
    codes = {code for code, _name in settings.LANGUAGES}
    for candidate in (row_language, organisation.language if organisation else ""):
        code = (candidate or "").strip().lower().split("-")[0]
        if code in codes:
            return code
    return settings.LANGUAGE_CODE


def _lowered(emails) -> list[str]:
    return list({email.strip().lower() for email in emails})


def registered_emails(emails) -> set[str]:
    """The addresses (compared in lower case) that already belong to an account."""
    from allauth.account.models import EmailAddress

    lowered = _lowered(emails)
    if not lowered:
        return set()
    found = set(
        User.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=lowered)
        .values_list("lower_email", flat=True)
    )
    found |= set(
        EmailAddress.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=lowered)
        .values_list("lower_email", flat=True)
    )
    return found


def verified_emails(emails) -> set[str]:
    """Of these addresses, those of accounts already verified as officials."""
    lowered = _lowered(emails)
    if not lowered:
        return set()
    return set(
        User.objects.annotate(lower_email=Lower("email"))
        .filter(lower_email__in=lowered, verification_state=VerificationState.VERIFIED)
        .values_list("lower_email", flat=True)
    )


def organisations_by_name() -> dict[str, Organisation]:
    """Every organisation under its name, short name and slug (lower case), for a CSV's column."""
    names: dict[str, Organisation] = {}
    for organisation in Organisation.objects.all():
        for key in (organisation.slug, organisation.short_name, organisation.name):
            if key:
                names.setdefault(key.strip().lower(), organisation)
    return names


def invitation_counts(occasion: str) -> dict:
    """How many invitations were sent for an occasion, and how many were accepted (one query)."""
    return Invitation.objects.filter(occasion=occasion).aggregate(
        sent=Count("pk"), accepted=Count("pk", filter=Q(state=InvitationState.ACCEPTED))
    )


# --- reading a CSV -----------------------------------------------------------------------


def parse_csv(text: str, columns: tuple[str, ...] = CSV_COLUMNS) -> tuple[list[InviteRow], list[RowProblem]]:
    """Rows of ``email, name, position, organisation, language, groups`` (a header row is optional
    and may put the columns in any order; groups are separated by ";"); `columns` is the order
    without a header (Discourse's bulk invites: email, groups, topic_id). Returns the rows that
    have an address and the lines that could not be read, with why."""
    rows: list[InviteRow] = []
    problems: list[RowProblem] = []
    text = (text or "").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    columns = list(columns)
    for line, cells in enumerate(reader, start=1):
        cells = [clean.strip_controls(cell).strip() for cell in cells]
        if not any(cells):
            continue
        lowered = [cell.lower() for cell in cells]
        if line == 1 and "email" in lowered:
            columns = lowered
            continue
        if len(rows) + len(problems) >= MAX_ROWS:
            problems.append(
                RowProblem(
                    line, "", _("More than %(max)d rows: send the rest in another file.") % {"max": MAX_ROWS}
                )
            )
            break
        values = dict(zip(columns, cells, strict=False))
        email = values.get("email", "")
        if not email:
            problems.append(RowProblem(line, "", _("No email address on this row.")))
            continue
        rows.append(
            InviteRow(
                email=email,
                name=values.get("name", ""),
                position=values.get("position", ""),
                organisation=values.get("organisation", ""),
                language=values.get("language", ""),
                groups=[group.strip() for group in values.get("groups", "").split(";") if group.strip()],
                topic_id=values.get("topic_id", ""),
                line=line,
            )
        )
    return rows, problems


# --- inviting ----------------------------------------------------------------------------


def _check_row(row: InviteRow, names: dict[str, Organisation]) -> str | None:
    """Why this row cannot be invited (malformed), or None; normalises the row in place."""
    row.email = row.email.strip().lower()
    try:
        validate_email(row.email)
    except ValidationError:
        return _("“%(email)s” is not a valid email address.") % {"email": row.email}
    try:
        row.name = clean.clean_line(row.name)[:150]
        row.position = clean.clean_line(row.position)[:200]
    except ValidationError as error:
        return " ".join(error.messages)
    if row.language and language_for(row.language, None) != row.language.strip().lower().split("-")[0]:
        return _("“%(language)s” is not one of the forum's languages (en, es, fr).") % {
            "language": row.language
        }
    if row.organisation_obj is None and row.organisation:
        row.organisation_obj = names.get(row.organisation.strip().lower())
        if row.organisation_obj is None:
            return _("No organisation is called “%(name)s”; add it first or correct the name.") % {
                "name": row.organisation
            }
    if row.organisation_obj is None:
        official = services.find_domain(row.email)
        if official is None:
            return _("Name the person's organisation (their address is on no official domain).")
        row.organisation_obj = official.organisation
    return None


@transaction.atomic
def invite_many(
    inviter: User,
    rows: list[InviteRow],
    *,
    occasion: Occasion | None = None,
    custom_message: str = "",
    members_too: bool = False,
) -> InviteReport:
    """Invite these people (moderators and staff): one invitation and one email each.

    Malformed rows, addresses that already have an account, addresses already invited (pending)
    or twice in the list are reported, not invited; so are rows beyond the inviter's daily limit.
    With ``members_too`` (an event's registrants, chosen one by one by the site), members who
    are not verified yet are invited too: accepting, signed in, verifies their account.
    The emails are owed in the outbox in this transaction and sent after commit.
    """
    permissions_check(inviter)
    occasion = occasion or Occasion()
    custom_message = clean.strip_controls(custom_message)[:2000]
    report = InviteReport()
    names = organisations_by_name() if any(row.organisation for row in rows) else {}
    valid: list[InviteRow] = []
    seen: set[str] = set()
    for row in rows:
        reason = _check_row(row, names)
        if reason:
            report.problems.append(RowProblem(row.line, row.email, reason))
        elif row.email in seen:
            report.duplicates.append(RowProblem(row.line, row.email, _("Twice in the list: invited once.")))
        else:
            seen.add(row.email)
            valid.append(row)
    members = members_all = registered_emails([row.email for row in valid])
    if members_too and members:
        members = verified_emails(members)
    message_ids: list[int] = []
    now = timezone.now()
    # A pending invitation past its date is expired now, so the address can be invited again.
    Invitation.objects.filter(
        email__in=[row.email for row in valid], state=InvitationState.PENDING, expires_at__lte=now
    ).update(state=InvitationState.EXPIRED)
    pending = set(
        Invitation.objects.filter(
            email__in=[row.email for row in valid], state=InvitationState.PENDING
        ).values_list("email", flat=True)
    )
    allowance = remaining_today(inviter)
    expires_at = now + timedelta(days=settings.INVITATION_VALID_DAYS)
    for row in valid:
        if row.email in members:
            reason = (
                _("Already a verified official.")
                if members_too
                else _("Already has an account: not invited.")
            )
            report.members.append(RowProblem(row.line, row.email, reason))
            continue
        if row.email in pending:
            report.duplicates.append(
                RowProblem(row.line, row.email, _("Already invited and not yet answered: resend it instead."))
            )
            continue
        if allowance <= 0:
            report.problems.append(
                RowProblem(
                    row.line,
                    row.email,
                    _("Over your daily limit of %(limit)d invitations: invite this person tomorrow.")
                    % {"limit": settings.INVITATIONS_PER_DAY},
                )
            )
            continue
        token, token_hash = new_token()
        invitation = Invitation(
            email=row.email,
            name=row.name,
            position=row.position,
            organisation=row.organisation_obj,
            language=language_for(row.language, row.organisation_obj),
            group_names=row.groups,
            custom_message=custom_message,
            token_hash=token_hash,
            inviter=inviter,
            occasion=occasion.key,
            occasion_titles=occasion.titles,
            occasion_starts_at=occasion.starts_at,
            occasion_time_zone=occasion.time_zone,
            landing_url=occasion.landing_url,
            created_at=now,
            expires_at=expires_at,
        )
        try:
            with transaction.atomic():  # the invitation and its email, or neither
                message_ids.append(
                    _send(invitation, token, sender=inviter, now=now, has_account=row.email in members_all)
                )
                invitation.save()
        except IntegrityError:  # invited at this very moment by someone else
            message_ids.pop()
            report.duplicates.append(
                RowProblem(row.line, row.email, _("Already invited and not yet answered: resend it instead."))
            )
            continue
        allowance -= 1
        report.invited.append(invitation)
    _send_after_commit(message_ids)
    _announce("invite", inviter, report.invited)
    return report


def invite_one(
    inviter: User,
    email: str,
    *,
    organisation: Organisation | None = None,
    name: str = "",
    position: str = "",
    language: str = "",
    groups: list[str] | None = None,
    occasion: Occasion | None = None,
    custom_message: str = "",
) -> Invitation:
    """Invite one address (see :func:`invite_many`); raises InvitationError saying why not."""
    row = InviteRow(
        email=email,
        name=name,
        position=position,
        language=language,
        groups=groups or [],
        organisation_obj=organisation,
        line=1,
    )
    report = invite_many(inviter, [row], occasion=occasion, custom_message=custom_message)
    if not report.invited:
        problem = (report.problems + report.duplicates + report.members)[0]
        raise InvitationError(problem.reason)
    return report.invited[0]


def permissions_check(user: User) -> None:
    if not permissions.can_invite(user):
        raise InvitationError(_("Only moderators and staff can invite people."))


def _send(invitation: Invitation, token: str, *, sender: User | None, now, has_account: bool) -> int:
    """Owe one email for this send of the invitation in the outbox (the caller saves the invitation
    in the same transaction, so the email exists exactly when the send does); returns its id, for
    :func:`_send_after_commit`."""
    from notifications.services import queue_message

    invitation.send_count += 1
    invitation.sent_at = now
    invitation.sent_by = sender
    message = build_email(invitation, token, has_account=has_account)
    row = queue_message(message, urgent=True, kind="invitation", send=False)
    invitation.last_message_id = row.pk
    return row.pk


def _send_after_commit(message_ids: list[int]) -> None:
    from notifications.services import queue_sending

    if message_ids:
        ids = list(message_ids)
        transaction.on_commit(lambda: queue_sending(ids), robust=True)


@functools.cache
def _link_prefix() -> str:
    # Resolved once: a list of two thousand invitations would otherwise reverse the URL each time.
    return reverse("accounts:invitation", args=["-"])[:-1]


def link_for(token: str) -> str:
    return settings.SITE_URL.rstrip("/") + _link_prefix() + token


def build_email(invitation: Invitation, token: str, *, has_account: bool = False) -> EmailMessage:
    """The invitation email, in the invitee's language: who invites them, to what, the link."""
    language = invitation.language or settings.LANGUAGE_CODE
    with translation.override(language):
        starts = ""
        if invitation.occasion_starts_at:
            zone = _zone(invitation.occasion_time_zone)
            local = timezone.localtime(invitation.occasion_starts_at, zone)
            starts = f"{formats.date_format(local, 'DATETIME_FORMAT')} ({zone.key})"
        inviter = invitation.inviter
        context = {
            "invitation": invitation,
            "inviter_name": inviter.name if inviter else _("The forum's team"),
            "inviter_organisation": inviter.organisation.name if inviter and inviter.organisation_id else "",
            "occasion_title": invitation.occasion_title(language),
            "occasion_starts": starts,
            "expires": formats.date_format(invitation.expires_at, "DATE_FORMAT"),
            "link": link_for(token),
            "has_account": has_account,
            "site_url": settings.SITE_URL.rstrip("/") + "/",
        }
        if context["occasion_title"]:
            subject = _("%(inviter)s invites you to “%(occasion)s” on the Metropolis Peer Learning Forum") % {
                "inviter": context["inviter_name"],
                "occasion": context["occasion_title"],
            }
        else:
            subject = _("%(inviter)s invites you to the Metropolis Peer Learning Forum") % {
                "inviter": context["inviter_name"]
            }
        body = render_to_string("accounts/email/invitation.txt", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])


def _zone(name: str):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _announce(action: str, actor: User | None, invitations: list[Invitation], **extra) -> None:
    if invitations:
        items = list(invitations)
        transaction.on_commit(
            lambda: invitation_event.send(Invitation, action=action, actor=actor, invitations=items, **extra)
        )


# --- resend, revoke ----------------------------------------------------------------------


@transaction.atomic
def resend(invitation: Invitation, *, actor: User) -> Invitation:
    """Send a pending or expired invitation again (moderators and staff): a new link (the old one
    stops working), a new expiry, one more email. Counts against the actor's daily limit."""
    permissions_check(actor)
    invitation = (
        Invitation.objects.select_for_update(of=("self",)).select_related("inviter").get(pk=invitation.pk)
    )
    if invitation.state in (InvitationState.ACCEPTED, InvitationState.REVOKED):
        raise InvitationError(_("This invitation was accepted or revoked; it cannot be sent again."))
    if remaining_today(actor) <= 0:
        raise InvitationError(
            _("You reached your daily limit of %(limit)d invitations. Try again tomorrow.")
            % {"limit": settings.INVITATIONS_PER_DAY}
        )
    if verified_emails([invitation.email]):
        raise InvitationError(_("This address belongs to a verified official now: no invitation is needed."))
    _renew(invitation, sender=actor)
    _announce("resend", actor, [invitation])
    return invitation


def _renew(invitation: Invitation, *, sender: User | None) -> None:
    """A new link (the old one stops working), a new expiry, one more email."""
    now = timezone.now()
    token, invitation.token_hash = new_token()
    invitation.state = InvitationState.PENDING
    invitation.expires_at = now + timedelta(days=settings.INVITATION_VALID_DAYS)
    try:
        with transaction.atomic():
            message_id = _send(
                invitation,
                token,
                sender=sender,
                now=now,
                has_account=bool(registered_emails([invitation.email])),
            )
            invitation.save()
    except IntegrityError as error:  # a newer invitation to the address is pending
        raise InvitationError(_("A newer invitation to this address is pending.")) from error
    _send_after_commit([message_id])


@transaction.atomic
def revoke(invitation: Invitation, *, actor: User) -> bool:
    """Withdraw a pending invitation (moderators and staff): its link says so from now on.
    Returns False when it was no longer pending (accepted or revoked already)."""
    permissions_check(actor)
    invitation = Invitation.objects.select_for_update(of=("self",)).get(pk=invitation.pk)
    if invitation.state not in (InvitationState.PENDING, InvitationState.EXPIRED):
        return False
    invitation.state = InvitationState.REVOKED
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["state", "revoked_at", "revoked_by"])
    _announce("revoke", actor, [invitation])
    return True


@transaction.atomic
def send_new_link(token: str) -> Invitation | None:
    """Whoever holds an expired link asks for a new one: it goes to the invited address (never to
    the asker), at most once an hour. Returns the invitation, or None when nothing is sent."""
    found = find(token)
    if found is None:
        return None
    invitation = Invitation.objects.select_for_update(of=("self",)).select_related("inviter").get(pk=found.pk)
    if not invitation.is_expired or verified_emails([invitation.email]):
        return None
    if invitation.sent_at and invitation.sent_at > timezone.now() - NEW_LINK_EVERY:
        return None
    try:
        _renew(invitation, sender=None)
    except InvitationError:
        return None
    return invitation


# --- accepting ---------------------------------------------------------------------------


def unavailable_reason(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used: "unknown", "accepted", "revoked", "expired"; None when it can."""
    if invitation is None:
        return "unknown"
    if invitation.state == InvitationState.ACCEPTED:
        return "accepted"
    if invitation.state == InvitationState.REVOKED:
        return "revoked"
    if invitation.is_expired:
        return "expired"
    return None


# Lazy: read in the language of whoever opens the link.
UNAVAILABLE = {
    "unknown": gettext_lazy("This invitation link is not valid. Check that you copied all of it."),
    "accepted": gettext_lazy("This invitation has already been used."),
    "revoked": gettext_lazy("This invitation was withdrawn by the person who sent it."),
    "expired": gettext_lazy("This invitation has expired."),
    "registered": gettext_lazy("This address already has an account: sign in instead."),
    "other_account": gettext_lazy(
        "This invitation is for another account. Sign in with the invited address."
    ),
}


def _lock_usable(token: str) -> Invitation:
    """The invitation behind a link, locked, if it can still be accepted; else InvitationError."""
    found = find(token)
    reason = unavailable_reason(found)
    if reason is None:
        found = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("organisation", "inviter")
            .get(pk=found.pk)
        )
        reason = unavailable_reason(found)
    if reason:
        raise InvitationError(UNAVAILABLE[reason])
    return found


@transaction.atomic
def accept(token: str, *, name: str, position: str, password: str = "", ip: str | None = None) -> User:
    """Create the invitee's account from a valid link (anyone holding it; it proves the mailbox).

    The address is confirmed, the person is a verified official of the invitation's
    organisation (route "invitation", by the inviter; or the email-domain route when the address
    is on an official domain), and the link is used up. Without a password the account signs in by
    links sent to the address. Raises InvitationError (the message for the person) or
    ValidationError (on the fields "name", "position", "password").
    """
    from allauth.account.models import EmailAddress
    from allauth.utils import generate_unique_username

    invitation = _lock_usable(token)
    if registered_emails([invitation.email]):
        raise InvitationError(UNAVAILABLE["registered"])
    name = clean.clean_line(name, "name")
    position = clean.clean_line(position, "position")
    if not name:
        raise ValidationError({"name": _("Write your name as colleagues know it.")})
    user = User(
        username=generate_unique_username([name, invitation.email.split("@")[0], "official"]),
        email=invitation.email,
        display_name=name[:150],
        position=position[:200],
        preferred_language=invitation.language,
        languages=[invitation.language] if invitation.language else [],
    )
    if password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from error
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=invitation.email, verified=True, primary=True)
    _verify(user, invitation, position=position, ip=ip)
    _mark_accepted(invitation, user)
    user.refresh_from_db()
    return user


def account_for(invitation: Invitation) -> User | None:
    """The account that owns the invited address (confirmed), if one exists."""
    from allauth.account.models import EmailAddress

    address = (
        EmailAddress.objects.select_related("user")
        .filter(email__iexact=invitation.email, verified=True)
        .first()
    )
    return address.user if address else None


@transaction.atomic
def accept_as_member(token: str, user: User, *, ip: str | None = None) -> User:
    """A member who already has an account accepts, signed in as the owner of the invited address:
    they become a verified official of the invitation's organisation (route "invitation").
    Raises InvitationError when the link cannot be used or the account is not the invited one."""
    invitation = _lock_usable(token)
    owner = account_for(invitation)
    if owner is None or owner.pk != user.pk:
        raise InvitationError(UNAVAILABLE["other_account"])
    _verify(user, invitation, position=user.position or invitation.position, ip=ip)
    _mark_accepted(invitation, user)
    user.refresh_from_db()
    return user


def _verify(user: User, invitation: Invitation, *, position: str, ip: str | None) -> None:
    """Verify the invitee: by the domain rule when the address is on an official domain, else by
    the invitation, vouched for by the inviter. No "you are verified" email: they are on the page."""
    official = services.find_domain(invitation.email)
    if official is not None:
        services.verify_official(
            user,
            official.organisation,
            method=VerificationMethod.EMAIL_DOMAIN,
            domain=official.domain,
            position=position,
            reason=_("Accepted an invitation sent to an address on %(domain)s.")
            % {"domain": official.domain},
            ip=ip,
            notify=False,
        )
        return
    inviter = invitation.inviter
    services.verify_official(
        user,
        invitation.organisation,
        method=VerificationMethod.INVITATION,
        actor=inviter,
        position=position,
        reason=_("Invited by %(inviter)s on %(date)s.")
        % {
            "inviter": inviter.username if inviter else _("a former moderator"),
            "date": invitation.created_at.date().isoformat(),
        },
        ip=ip,
        notify=False,
    )


def _mark_accepted(invitation: Invitation, user: User) -> None:
    invitation.state = InvitationState.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["state", "accepted_at", "accepted_by"])
    _announce("accept", invitation.inviter, [invitation], user=user)


def landing_url(invitation: Invitation) -> str:
    """Where the new member goes after accepting: the event's live page, the topic, or home."""
    url = invitation.landing_url or "/"
    return url if url.startswith("/") and not url.startswith("//") else "/"
