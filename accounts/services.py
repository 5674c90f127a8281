"""Every write to verification, organisations and rosters happens here.

The verification of an official is a small state machine on ``User.verification_state``
(unverified, pending, verified, rejected, revoked, expired). Each change goes
through ``_transition``, which writes one row of the append-only audit trail
(``VerificationEvent``) and queues the notice for the person after commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from core import clean, page_cache

from . import notifications
from .models import (
    Organisation,
    OrganisationDomain,
    RosterEntry,
    User,
    VerificationEvent,
    VerificationMethod,
    VerificationRequest,
    VerificationState,
)

RENEWAL_SALT = "accounts.verification.renew"
RENEWAL_MAX_AGE = timedelta(days=14)
DOMAIN_RE = re.compile(
    r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*\.[a-z]{2,63}$"
)


class VerificationError(Exception):
    """A verification step that cannot happen now; the message is for the person who tried."""


# --- helpers -----------------------------------------------------------------------------


def normalise_domain(value: str) -> str:
    """Lower-case an official email domain and check its form; raise ValidationError if malformed."""
    domain = (value or "").strip().lower().rstrip(".")
    if domain.startswith("@"):
        domain = domain[1:]
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise ValidationError(_("“%(domain)s” is not a valid domain name.") % {"domain": value}) from error
    if not DOMAIN_RE.match(domain):
        raise ValidationError(
            _("“%(domain)s” is not a valid domain name (for example: toronto.ca).") % {"domain": value}
        )
    return domain


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def find_domain(email: str) -> OrganisationDomain | None:
    """The official domain an email belongs to: the exact domain, else a parent that counts subdomains."""
    domain = email_domain(email)
    if not domain:
        return None
    labels = domain.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    matches = {
        d.domain: d
        for d in OrganisationDomain.objects.select_related("organisation").filter(domain__in=candidates)
    }
    for candidate in candidates:  # most specific first
        found = matches.get(candidate)
        if found and found.matches(domain):
            return found
    return None


def _expiry_for(method: str, now):
    days = settings.VERIFICATION_VALID_DAYS.get(method, 0)
    return now + timedelta(days=days) if days else None


def _transition(
    user: User,
    to_state: str,
    *,
    action: str,
    actor: User | None,
    method: str = "",
    organisation: Organisation | None = None,
    reason: str = "",
    ip: str | None = None,
    notice: str | None = None,
    notice_context: dict | None = None,
) -> VerificationEvent:
    """Record one change of state in the audit trail and queue the person's notice after commit."""
    event = VerificationEvent.objects.create(
        subject=user,
        actor=actor,
        action=action,
        from_state=user.verification_state,
        to_state=to_state,
        method=method or user.verification_method,
        organisation=organisation or user.organisation,
        reason=reason,
        ip_address=ip or None,
    )
    user.verification_state = to_state
    page_cache.changed(lists=False, site=True)  # the "verified" badge next to their posts
    if notice:
        notifications.notify_verification(user, notice, **(notice_context or {}))
    return event


# --- verifying ---------------------------------------------------------------------------


@transaction.atomic
def verify_official(
    user: User,
    organisation: Organisation,
    *,
    method: str,
    actor: User | None = None,
    position: str = "",
    domain: str = "",
    reason: str = "",
    ip: str | None = None,
    notify: bool = True,
) -> bool:
    """Make `user` a verified official of `organisation` by `method` (email domain, review, roster).

    Called by the email-confirmation hook, the review queue, roster import and the demo
    seed (with notify=False); never directly from a view. Verifying again by the same
    route renews the expiry. After commit the person is emailed. Returns False when
    nothing changed.
    """
    now = timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    same = (
        user.verification_state == VerificationState.VERIFIED
        and user.organisation_id == organisation.pk
        and user.verification_method == method
        and (not position or user.position == position)
    )
    user.verification_expires_at = _expiry_for(method, now)
    user.verification_reminded_at = None
    user.verification_domain = domain if method == VerificationMethod.EMAIL_DOMAIN else ""
    if same:
        if user.verification_expires_at:
            # A renewal: the state stays, the end date moves; the audit trail still says so.
            VerificationEvent.objects.create(
                subject=user,
                actor=actor,
                action="renew",
                from_state=user.verification_state,
                to_state=user.verification_state,
                method=method,
                organisation=organisation,
                reason=reason,
                ip_address=ip or None,
            )
        user.save(
            update_fields=["verification_expires_at", "verification_reminded_at", "verification_domain"]
        )
        return False
    _transition(
        user,
        VerificationState.VERIFIED,
        action="verify",
        actor=actor,
        method=method,
        organisation=organisation,
        reason=reason,
        ip=ip,
        notice="verified" if notify else None,
        notice_context={"organisation": organisation.name},
    )
    user.organisation = organisation
    if position:
        user.position = position
    user.verification_method = method
    user.verified_at = now
    user.save()
    return True


def _lose_verification(
    user: User, to_state: str, *, action: str, actor: User | None, reason: str, ip: str | None, notice: str
) -> bool:
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.verification_state != VerificationState.VERIFIED:
        return False
    _transition(
        user, to_state, action=action, actor=actor, reason=reason, ip=ip, notice=notice,
        notice_context={"reason": reason},
    )  # fmt: skip
    user.verification_expires_at = None
    user.verification_domain = ""
    user.save()
    return True


@transaction.atomic
def revoke_verification(user: User, *, actor: User | None, reason: str, ip: str | None = None) -> bool:
    """Withdraw someone's verification (moderators, or the system when a domain goes away).

    Their posts stay; the badge goes. The person is emailed the reason after commit.
    Returns False if they were not verified.
    """
    if not reason.strip():
        raise VerificationError(_("Give a reason for the revocation; the person will read it."))
    return _lose_verification(
        user, VerificationState.REVOKED, action="revoke", actor=actor, reason=reason, ip=ip, notice="revoked"
    )


def handle_confirmed_email(user: User, email: str, *, ip: str | None = None) -> bool:
    """Run verification after `user` confirmed `email` (sign-up, or a changed address).

    Called by the allauth `email_confirmed` receiver. An official domain or a roster
    entry verifies at once; a new address that no longer rests on the domain or roster
    that verified them revokes that verification. Returns True when they end up verified.
    """
    email = email.strip().lower()
    official = find_domain(email)
    if official is not None:
        verify_official(
            user,
            official.organisation,
            method=VerificationMethod.EMAIL_DOMAIN,
            domain=official.domain,
            reason=_("Confirmed an email address on %(domain)s.") % {"domain": official.domain},
            ip=ip,
        )
        return True
    entry = RosterEntry.objects.select_related("organisation").filter(email=email).first()
    if entry is not None:
        verify_official(
            user,
            entry.organisation,
            method=VerificationMethod.ROSTER,
            reason=_("Confirmed an email address on the organisation's roster."),
            ip=ip,
        )
        return True
    user.refresh_from_db()
    if user.verification_state == VerificationState.VERIFIED and user.verification_method in (
        VerificationMethod.EMAIL_DOMAIN,
        VerificationMethod.ROSTER,
    ):
        with transaction.atomic():
            _lose_verification(
                user,
                VerificationState.REVOKED,
                action="email_changed",
                actor=user,
                reason=_("The email address that proved the verification was replaced."),
                ip=ip,
                notice="revoked",
            )
    return False


# --- requests and review -----------------------------------------------------------------


@dataclass
class Evidence:
    url: str = ""
    file: object | None = None  # an UploadedFile already checked by accounts.forms.validate_evidence_file


def _store_evidence(request_obj: VerificationRequest, evidence: Evidence) -> None:
    request_obj.evidence_url = evidence.url or request_obj.evidence_url
    if evidence.file is not None:
        _delete_evidence_file(request_obj)
        digest = hashlib.sha256()
        for chunk in evidence.file.chunks():
            digest.update(chunk)
        evidence.file.seek(0)
        request_obj.evidence_sha256 = digest.hexdigest()
        request_obj.evidence_name = evidence.file.name[:255]
        request_obj.evidence_file.save(evidence.file.name, evidence.file, save=False)


def _delete_evidence_file(request_obj: VerificationRequest) -> None:
    """Evidence is kept only until a decision; its sha256 stays for the record."""
    if request_obj.evidence_file:
        request_obj.evidence_file.delete(save=False)
        request_obj.evidence_file = ""


@transaction.atomic
def request_verification(
    user: User,
    *,
    position: str,
    organisation: Organisation | None = None,
    proposed_organisation: str = "",
    evidence: Evidence | None = None,
    message: str = "",
    ip: str | None = None,
) -> VerificationRequest:
    """File a member's request to be verified. The member themself calls it, from /verification/.

    Refused while another request is open or when already verified. Moves them to
    "pending"; moderators see it in /review/verifications.
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.verification_state == VerificationState.VERIFIED:
        raise VerificationError(_("You are already a verified official."))
    if VerificationRequest.objects.filter(user=user, state__in=VerificationRequest.OPEN_STATES).exists():
        raise VerificationError(
            _("You already have a request waiting for review. You will hear from us when it is decided.")
        )
    if organisation is None and not proposed_organisation.strip():
        raise VerificationError(_("Choose your organisation, or name it if it is not in the list."))
    evidence = evidence or Evidence()
    if not evidence.url and evidence.file is None:
        raise VerificationError(_("Add a link to an official page or a document that shows your position."))
    request_obj = VerificationRequest(
        user=user,
        organisation=organisation,
        proposed_organisation="" if organisation else proposed_organisation.strip(),
        position=position.strip(),
        message=message,
    )
    _store_evidence(request_obj, evidence)
    try:
        with transaction.atomic():
            request_obj.save()
    except IntegrityError as error:
        # Two submissions at once (a double click): the database keeps one open request.
        _delete_evidence_file(request_obj)
        raise VerificationError(
            _("You already have a request waiting for review. You will hear from us when it is decided.")
        ) from error
    _transition(
        user,
        VerificationState.PENDING,
        action="request",
        actor=user,
        method=VerificationMethod.REVIEW,
        organisation=organisation,
        ip=ip,
        reason=message[:500],
    )
    user.save(update_fields=["verification_state"])
    return request_obj


@transaction.atomic
def resubmit_verification_request(
    request_obj: VerificationRequest,
    *,
    position: str,
    evidence: Evidence | None = None,
    message: str = "",
    ip: str | None = None,
) -> VerificationRequest:
    """The member answers a moderator's question: new evidence or message; back to the queue."""
    request_obj = VerificationRequest.objects.select_for_update().get(pk=request_obj.pk)
    if request_obj.state != VerificationRequest.State.NEEDS_INFORMATION:
        raise VerificationError(_("This request is not waiting for more information."))
    _store_evidence(request_obj, evidence or Evidence())
    request_obj.position = position.strip() or request_obj.position
    if message:
        request_obj.message = message
    request_obj.state = VerificationRequest.State.PENDING
    request_obj.updated_at = timezone.now()
    request_obj.save()
    user = request_obj.user
    _transition(user, VerificationState.PENDING, action="resubmit", actor=user, ip=ip, reason=message[:500])
    user.save(update_fields=["verification_state"])
    return request_obj


def _decide(request_obj: VerificationRequest, allowed: tuple) -> VerificationRequest:
    locked = VerificationRequest.objects.select_for_update().select_related("user").get(pk=request_obj.pk)
    if locked.state not in allowed:
        return None
    return locked


@transaction.atomic
def approve_verification_request(
    request_obj: VerificationRequest,
    *,
    moderator: User,
    organisation: Organisation,
    position: str,
    ip: str | None = None,
) -> bool:
    """A moderator approves, confirming organisation and position. Idempotent: a second
    approval (double click, two moderators) changes nothing and returns False.
    The evidence file is deleted; the person is emailed after commit.
    """
    if request_obj.user_id == moderator.pk:
        raise VerificationError(_("Another moderator must review your own request."))
    locked = _decide(request_obj, VerificationRequest.OPEN_STATES)
    if locked is None:
        return False
    locked.state = VerificationRequest.State.APPROVED
    locked.organisation = organisation
    locked.position = position or locked.position
    locked.decided_by = moderator
    locked.decided_at = locked.updated_at = timezone.now()
    _delete_evidence_file(locked)
    locked.save()
    verify_official(
        locked.user,
        organisation,
        method=VerificationMethod.REVIEW,
        actor=moderator,
        position=locked.position,
        reason=_("Request approved."),
        ip=ip,
    )
    return True


@transaction.atomic
def reject_verification_request(
    request_obj: VerificationRequest, *, moderator: User, reason: str, note: str = "", ip: str | None = None
) -> bool:
    """A moderator rejects with a reason from the list (plus a note). The member may file again."""
    if reason not in VerificationRequest.RejectReason.values:
        raise VerificationError(_("Choose a reason from the list."))
    locked = _decide(request_obj, VerificationRequest.OPEN_STATES)
    if locked is None:
        return False
    locked.state = VerificationRequest.State.REJECTED
    locked.reject_reason = reason
    locked.moderator_note = note
    locked.decided_by = moderator
    locked.decided_at = locked.updated_at = timezone.now()
    _delete_evidence_file(locked)
    locked.save()
    user = locked.user
    text = str(VerificationRequest.RejectReason(reason).label)
    full_reason = f"{text}. {note}".strip() if note else text
    _transition(
        user,
        VerificationState.REJECTED,
        action="reject",
        actor=moderator,
        method=VerificationMethod.REVIEW,
        reason=full_reason,
        ip=ip,
        notice="rejected",
        notice_context={"reason": full_reason},
    )
    user.save(update_fields=["verification_state"])
    return True


@transaction.atomic
def ask_for_information(
    request_obj: VerificationRequest, *, moderator: User, question: str, ip: str | None = None
) -> bool:
    """A moderator asks the member for more; the request leaves the queue until they answer."""
    if not question.strip():
        raise VerificationError(_("Write what you need to know; the person will read it."))
    locked = _decide(request_obj, (VerificationRequest.State.PENDING,))
    if locked is None:
        return False
    locked.state = VerificationRequest.State.NEEDS_INFORMATION
    locked.moderator_note = question
    locked.decided_by = moderator
    locked.updated_at = timezone.now()
    locked.save()
    user = locked.user
    _transition(
        user,
        VerificationState.PENDING,
        action="ask_information",
        actor=moderator,
        method=VerificationMethod.REVIEW,
        reason=question,
        ip=ip,
        notice="needs_information",
        notice_context={"reason": question},
    )
    user.save(update_fields=["verification_state"])
    return True


# --- expiry and renewal ------------------------------------------------------------------


def expire_verifications(now=None) -> tuple[int, int]:
    """Prompt those whose verification lapses soon, expire those past the date.

    Run hourly by Celery beat (or the in-process scheduler). Returns (reminded, expired).
    """
    now = now or timezone.now()
    soon = now + timedelta(days=settings.VERIFICATION_REMINDER_DAYS)
    verified = User.objects.filter(verification_state=VerificationState.VERIFIED)
    reminded = 0
    for user in verified.filter(
        verification_expires_at__gt=now,
        verification_expires_at__lte=soon,
        verification_reminded_at__isnull=True,
    ):
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(verification_reminded_at=now)
            notifications.notify_verification(
                user, "expiring", expires_at=user.verification_expires_at, renew_url=renewal_path(user)
            )
        reminded += 1
    expired = 0
    for user in verified.filter(verification_expires_at__lte=now):
        with transaction.atomic():
            if _lose_verification(
                user,
                VerificationState.EXPIRED,
                action="expire",
                actor=None,
                reason=_("The verification reached its end date."),
                ip=None,
                notice="expired",
            ):
                expired += 1
    return reminded, expired


def renewal_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "e": user.email.lower()}, salt=RENEWAL_SALT)


def renewal_path(user: User) -> str:
    from django.urls import reverse

    return reverse("accounts:verification_renew", args=[renewal_token(user)])


def renew_verification(token: str, *, ip: str | None = None) -> User:
    """Re-confirm an email-domain or roster verification from the link in the reminder email.

    Whoever holds the link proves they still read that official mailbox, so it works
    signed in or not. The address must still be on the domain or roster.
    """
    try:
        data = signing.loads(token, salt=RENEWAL_SALT, max_age=RENEWAL_MAX_AGE)
    except signing.BadSignature as error:
        raise VerificationError(_("This renewal link is invalid or too old. Ask for a new one.")) from error
    user = User.objects.filter(pk=data["u"], email__iexact=data["e"]).first()
    if user is None or user.verification_state not in (VerificationState.VERIFIED, VerificationState.EXPIRED):
        raise VerificationError(_("This renewal link is invalid or too old. Ask for a new one."))
    if not handle_confirmed_email(user, user.email, ip=ip):
        raise VerificationError(
            _("Your email address is no longer on an official domain; file a verification request instead.")
        )
    user.refresh_from_db()
    return user


def send_renewal_link(user: User) -> None:
    """Email the renewal link to the person's address (from the verification page)."""
    notifications.notify_verification(
        user, "expiring", expires_at=user.verification_expires_at, renew_url=renewal_path(user)
    )


# --- organisations, domains, roster ------------------------------------------------------


def unique_slug(name: str, exclude_pk: int | None = None) -> str:
    base = slugify(name)[:90] or "organisation"
    slug, n = base, 2
    while Organisation.objects.exclude(pk=exclude_pk).filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def save_organisation(organisation: Organisation, *, actor: User) -> Organisation:
    """Create or update an organisation (staff only, from /organisations/)."""
    if not organisation.slug:
        organisation.slug = unique_slug(organisation.name, organisation.pk)
    organisation.save()
    page_cache.changed(lists=False, site=True)  # shown next to its officials' names
    return organisation


@transaction.atomic
def add_organisation_domain(
    organisation: Organisation, domain: str, *, include_subdomains: bool, actor: User
) -> OrganisationDomain:
    """Add an official email domain (staff). Existing accounts on it are not verified until they
    confirm an email again; new sign-ups on it are verified at once."""
    domain = normalise_domain(domain)
    if OrganisationDomain.objects.filter(domain=domain).exists():
        raise ValidationError(
            _("The domain %(domain)s already belongs to an organisation.") % {"domain": domain}
        )
    return OrganisationDomain.objects.create(
        organisation=organisation, domain=domain, include_subdomains=include_subdomains
    )


@transaction.atomic
def remove_organisation_domain(official: OrganisationDomain, *, actor: User, ip: str | None = None) -> int:
    """Remove an official domain (staff) and revoke, with notice, the verifications that rested on it.

    Returns how many people lost their verification.
    """
    revoked = 0
    for user in User.objects.filter(
        verification_state=VerificationState.VERIFIED,
        verification_method=VerificationMethod.EMAIL_DOMAIN,
        verification_domain=official.domain,
    ):
        revoked += _lose_verification(
            user,
            VerificationState.REVOKED,
            action="domain_removed",
            actor=actor,
            reason=_("The domain %(domain)s is no longer an official domain of %(organisation)s.")
            % {"domain": official.domain, "organisation": official.organisation.name},
            ip=ip,
            notice="revoked",
        )
    official.delete()
    return revoked


ROSTER_MAX_ROWS = 5000


@transaction.atomic
def import_roster(
    organisation: Organisation, csv_text: str, *, actor: User, ip: str | None = None
) -> tuple[int, int, list[str]]:
    """Add the emails of a CSV roster to an organisation (staff).

    Any cell that is an email counts (so a header row or a name column is fine).
    People who already confirmed one of these addresses are verified now; the others
    when they confirm it. Returns (added, verified now, rejected values).
    """
    emails, rejected = [], []
    for row in csv.reader(io.StringIO(csv_text)):
        for cell in row:
            value = cell.strip().lower()
            if not value or "@" not in value:
                continue
            try:
                validate_email(value)
            except ValidationError:
                rejected.append(cell.strip())
                continue
            emails.append(value)
    emails = list(dict.fromkeys(emails))[:ROSTER_MAX_ROWS]
    existing = set(
        RosterEntry.objects.filter(organisation=organisation, email__in=emails).values_list(
            "email", flat=True
        )
    )
    new = [
        RosterEntry(organisation=organisation, email=e, added_by=actor) for e in emails if e not in existing
    ]
    RosterEntry.objects.bulk_create(new)
    from allauth.account.models import EmailAddress

    verified_now = 0
    confirmed = EmailAddress.objects.filter(email__in=emails, verified=True).select_related("user")
    for address in confirmed:
        if address.user.verification_state != VerificationState.VERIFIED and verify_official(
            address.user,
            organisation,
            method=VerificationMethod.ROSTER,
            actor=actor,
            reason=_("On the organisation's roster."),
            ip=ip,
        ):
            verified_now += 1
    return len(new), verified_now, rejected


@transaction.atomic
def create_organisation(name: str, *, actor: User) -> Organisation:
    """Create an organisation a member proposed (moderators, while approving a request)."""
    name = clean.clean_line(name, "name")
    existing = Organisation.objects.filter(name__iexact=name).first()
    if existing:
        return existing
    return save_organisation(Organisation(name=name), actor=actor)


# --- profiles ----------------------------------------------------------------------------


@transaction.atomic
def update_profile(
    user: User,
    *,
    languages: list[str],
    preferred_language: str,
    expertise: list[str],
    avatar=None,
    remove_avatar: bool = False,
) -> User:
    """Save a person's own profile edits (the person themself, from /profile/edit).

    `avatar` is an already re-encoded image (accounts.forms.reencode_avatar); the old
    file is deleted after commit so a rolled-back save keeps the picture.
    """
    old_avatar = user.avatar.name if user.avatar else ""
    user.languages = list(languages)
    user.preferred_language = preferred_language
    if avatar is not None:
        user.avatar.save("avatar.png", avatar, save=False)
    elif remove_avatar:
        user.avatar = ""
    user.save()
    page_cache.changed(lists=False, site=True)  # the avatar next to their posts
    user.expertise.set(expertise, clear=True)
    new_avatar = user.avatar.name if user.avatar else ""
    if old_avatar and old_avatar != new_avatar:
        storage = user.avatar.storage
        transaction.on_commit(lambda: storage.delete(old_avatar))
    return user


def complete_signup_profile(user: User, *, display_name: str, position: str) -> User:
    """Store the name and position given at sign-up (allauth calls this through SignupExtraForm)."""
    user.display_name = clean.clean_line(display_name, "display_name")
    user.position = clean.clean_line(position, "position")
    user.save(update_fields=["display_name", "position"])
    page_cache.changed(lists=False, site=True)
    return user


# --- signing in by a link sent by email --------------------------------------------------

SIGN_IN_LINK_SALT = "accounts.sign_in_link"
SIGN_IN_LINK_MAX_AGE = timedelta(minutes=30)
SIGN_IN_LINK_EVERY = 3 * 60  # seconds


def _last_login_stamp(user: User) -> str:
    return user.last_login.isoformat() if user.last_login else ""


def sign_in_link_path(user: User) -> str:
    from django.urls import reverse

    token = signing.dumps({"u": user.pk, "l": _last_login_stamp(user)}, salt=SIGN_IN_LINK_SALT)
    return reverse("accounts:sign_in_link_use", args=[token])


def send_sign_in_link(email: str) -> bool:
    """Email a one-click sign-in link to the account with this confirmed address, if there is one
    (invitees who chose no password sign in this way). The page says the same either way, so it
    reveals nobody's address. The link works once (signing in changes `last_login`), for 30 min;
    one per address every 3 minutes; never for an account with a second factor (moderators)."""
    from allauth.account.models import EmailAddress
    from django.core.cache import cache
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.utils import translation

    from notifications.services import queue_message

    from . import permissions

    email = email.strip().lower()
    # One link per address every SIGN_IN_LINK_EVERY: the form cannot be used to flood a mailbox.
    if not cache.add(
        f"accounts:sign_in_link:{hashlib.sha256(email.encode()).hexdigest()}", 1, SIGN_IN_LINK_EVERY
    ):
        return False
    address = (
        EmailAddress.objects.select_related("user")
        .filter(email__iexact=email, verified=True, user__is_active=True)
        .first()
    )
    if address is None or permissions.has_mfa(address.user):
        return False  # a second factor is never skipped by a link: they sign in with it
    user = address.user
    with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
        subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + _("Your sign-in link")
        body = render_to_string(
            "accounts/email/sign_in_link.txt",
            {
                "user": user,
                "link": notifications.site_url(sign_in_link_path(user)),
                "site_url": notifications.site_url("/"),
            },
        )
    queue_message(
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [address.email]),
        urgent=True,
        kind="sign_in_link",
    )
    return True


def user_from_sign_in_link(token: str) -> User | None:
    """The active person a sign-in link is for, while it is fresh and unused; else None."""
    try:
        data = signing.loads(token, salt=SIGN_IN_LINK_SALT, max_age=SIGN_IN_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    from . import permissions

    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or _last_login_stamp(user) != data.get("l") or permissions.has_mfa(user):
        return None
    return user
