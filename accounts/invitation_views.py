"""Invitation pages: inviting (one address or a CSV) and tracking them at /review/invitations, the
link an invitee opens (/invites/<token>), and signing in by an emailed link. Thin: writes go
through accounts/invitations.py."""

import csv

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from notifications.models import OutboxMessage, OutboxState

from . import invitations, permissions, services
from .decorators import moderator_required
from .forms import AcceptInvitationForm, InviteCsvForm, InviteOneForm, SignInLinkForm
from .models import Invitation, InvitationState
from .signals import client_ip
from .views import _csv_safe, _Echo

PER_PAGE = 50
BACKEND = "allauth.account.auth_backends.AuthenticationBackend"
STATUSES = ("pending", "accepted", "expired", "bounced", "revoked")


# --- inviting ------------------------------------------------------------------------------


def invite_forms(request, occasion: invitations.Occasion | None = None) -> tuple[dict, bool]:
    """Handle the "invite one" and "upload a CSV" forms (POST action "invite_one" / "invite_csv")
    for /review/invitations/new and an event's invitation page. Returns the page context and
    whether something was invited (then the caller redirects after showing the report)."""
    context = {
        "one_form": InviteOneForm(),
        "csv_form": InviteCsvForm(),
        "remaining": invitations.remaining_today(request.user),
        "report": None,
    }
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "invite_one":
        form = InviteOneForm(request.POST)
        context["one_form"] = form
        if form.is_valid():
            data = form.cleaned_data
            try:
                invitation = invitations.invite_one(
                    request.user,
                    data["email"],
                    organisation=data["organisation"],
                    name=data["name"],
                    position=data["position"],
                    language=data["language"],
                    groups=data["groups"],
                    occasion=occasion,
                    custom_message=data["custom_message"],
                )
            except invitations.InvitationError as error:
                form.add_error("email", str(error))
            else:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return context, True
    elif action == "invite_csv":
        form = InviteCsvForm(request.POST, request.FILES)
        context["csv_form"] = form
        if form.is_valid():
            rows, problems = invitations.parse_csv(form.cleaned_data["attendees"])
            report = invitations.invite_many(
                request.user, rows, occasion=occasion, custom_message=form.cleaned_data["custom_message"]
            )
            report.problems = sorted(problems + report.problems, key=lambda problem: problem.line)
            context["report"] = report
            context["remaining"] = invitations.remaining_today(request.user)
    return context, False


@moderator_required
def invite(request):
    context, done = invite_forms(request)
    if done:
        return redirect("accounts:invitations")
    status = 400 if request.method == "POST" and context["report"] is None else 200
    return render(request, "accounts/invitations/new.html", context, status=status)


# --- tracking ------------------------------------------------------------------------------


def _filtered(request):
    status = request.GET.get("status", "")
    query = request.GET.get("q", "").strip()
    items = Invitation.objects.select_related("organisation", "inviter", "accepted_by")
    now = timezone.now()
    pending = Q(state=InvitationState.PENDING, expires_at__gt=now)
    if status == "pending":
        items = items.filter(pending)
    elif status == "expired":
        items = items.filter(
            Q(state=InvitationState.EXPIRED) | Q(state=InvitationState.PENDING, expires_at__lte=now)
        )
    elif status in ("accepted", "revoked"):
        items = items.filter(state=status)
    elif status == "bounced":
        failed = OutboxMessage.objects.filter(state=OutboxState.FAILED, kind="invitation").values("pk")
        items = items.filter(last_message_id__in=failed)
    else:
        status = ""
    if query:
        items = items.filter(Q(email__icontains=query) | Q(name__icontains=query))
    return items.order_by("-created_at", "-pk"), status, query


def _bounced_ids(items) -> set[int]:
    ids = [item.last_message_id for item in items if item.last_message_id]
    return set(
        OutboxMessage.objects.filter(pk__in=ids, state=OutboxState.FAILED).values_list("pk", flat=True)
    )


@moderator_required
def invitation_list(request):
    items, status, query = _filtered(request)
    page = Paginator(items, PER_PAGE).get_page(request.GET.get("page"))
    bounced = _bounced_ids(page)
    language = get_language()
    for item in page:
        item.bounced = item.last_message_id in bounced
        item.occasion_label = item.occasion_title(language)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "page": page,
        "status": status,
        "query": query,
        "statuses": [
            (key, InvitationState(key).label if key != "bounced" else _("Bounced")) for key in STATUSES
        ],
        "querystring": querystring,
        "remaining": invitations.remaining_today(request.user),
    }
    return render(request, "accounts/invitations/list.html", context)


@moderator_required
def invitation_csv(request):
    items, _status, _query = _filtered(request)
    writer = csv.writer(_Echo())
    failed = set(
        OutboxMessage.objects.filter(state=OutboxState.FAILED, kind="invitation").values_list("pk", flat=True)
    )

    def rows():
        yield writer.writerow(
            ["email", "name", "position", "organisation", "language", "groups", "status", "invited by",
             "invited at", "expires at", "accepted by", "accepted at", "occasion", "emails sent"]
        )  # fmt: skip
        for item in items.iterator(chunk_size=500):
            status = "bounced" if item.last_message_id in failed and item.status == "pending" else item.status
            yield writer.writerow(
                _csv_safe(value)
                for value in (
                    item.email,
                    item.name,
                    item.position,
                    item.organisation.name,
                    item.language,
                    ";".join(item.group_names),
                    status,
                    item.inviter.username if item.inviter else "",
                    item.created_at.isoformat(),
                    item.expires_at.isoformat(),
                    item.accepted_by.username if item.accepted_by else "",
                    item.accepted_at.isoformat() if item.accepted_at else "",
                    item.occasion_title(),
                    item.send_count,
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invitations.csv"'
    return response


@moderator_required
@require_POST
def invitation_act(request, pk: int):
    invitation = get_object_or_404(Invitation, pk=pk)
    action = request.POST.get("action")
    try:
        if action == "resend":
            invitations.resend(invitation, actor=request.user)
            messages.success(request, _("Invitation sent again to %(email)s.") % {"email": invitation.email})
        elif action == "revoke":
            if invitations.revoke(invitation, actor=request.user):
                messages.success(request, _("Invitation to %(email)s revoked.") % {"email": invitation.email})
            else:
                messages.info(request, _("This invitation was already accepted or revoked."))
    except invitations.InvitationError as error:
        messages.error(request, str(error))
    return redirect(request.POST.get("next") if _safe(request.POST.get("next")) else "accounts:invitations")


def _safe(url: str | None) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


# --- the invitee's link --------------------------------------------------------------------


def accept(request, token: str):
    """The link in the email: a short form that creates the account, or a page saying why the
    link no longer works (used, expired, revoked) with what to do instead."""
    invitation = invitations.find(token)
    reason = invitations.unavailable_reason(invitation)
    if reason:
        return _unavailable(request, token, invitation, reason)
    if invitations.registered_emails([invitation.email]):
        owner = invitations.account_for(invitation)
        if owner is None or owner.is_verified_official:
            return _unavailable(request, token, invitation, "registered")
        return _accept_as_member(request, token, invitation, owner)
    form = AcceptInvitationForm(
        request.POST or None, initial={"display_name": invitation.name, "position": invitation.position}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = invitations.accept(
                token,
                name=data["display_name"],
                position=data["position"],
                password=data["password"],
                ip=client_ip(request),
            )
        except invitations.InvitationError:  # used or revoked while the form was open
            fresh = invitations.find(token)
            return _unavailable(request, token, fresh, invitations.unavailable_reason(fresh) or "registered")
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    field = "display_name" if field == "name" else field
                    form.add_error(field if field in form.fields else None, message)
        else:
            login(request, user, backend=BACKEND)
            messages.success(
                request,
                _("Welcome, %(name)s. You are a verified official of %(organisation)s.")
                % {"name": user.name, "organisation": user.organisation.name},
            )
            return redirect(invitations.landing_url(invitation))
    status = 400 if request.method == "POST" else 200
    context = {
        "form": form,
        "invitation": invitation,
        "occasion_title": invitation.occasion_title(request.LANGUAGE_CODE),
    }
    return render(request, "accounts/invitations/accept.html", context, status=status)


def _accept_as_member(request, token: str, invitation, owner):
    """A member with an account (an event's registrant): signed in as that account, one button."""
    is_owner = request.user.is_authenticated and request.user.pk == owner.pk
    if is_owner and request.method == "POST":
        try:
            user = invitations.accept_as_member(token, request.user, ip=client_ip(request))
        except invitations.InvitationError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("You are now a verified official of %(organisation)s.")
                % {"organisation": user.organisation.name},
            )
            return redirect(invitations.landing_url(invitation))
    context = {
        "invitation": invitation,
        "is_owner": is_owner,
        "occasion_title": invitation.occasion_title(request.LANGUAGE_CODE),
    }
    return render(request, "accounts/invitations/accept_member.html", context)


def _unavailable(request, token: str, invitation, reason: str):
    context = {
        "reason": reason,
        "message": invitations.UNAVAILABLE[reason],
        "invitation": invitation,
        "token": token,
        "can_ask": reason == "expired",
    }
    return render(
        request, "accounts/invitations/unavailable.html", context, status=410 if invitation else 404
    )


@require_POST
def new_link(request, token: str):
    """An expired link asks for a fresh one, sent to the invited address."""
    invitations.send_new_link(token)
    messages.success(
        request,
        _(
            "If this invitation can be renewed, a new link is on its way to the invited address. "
            "Check that mailbox."
        ),
    )
    return redirect("accounts:invitation", token=token)


# --- signing in by a link ------------------------------------------------------------------


def sign_in_link(request):
    form = SignInLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.send_sign_in_link(form.cleaned_data["email"])
        return render(request, "accounts/sign_in_link_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "accounts/sign_in_link.html", {"form": form}, status=400 if form.errors else 200)


def sign_in_link_use(request, token: str):
    # A GET shows a button only: mail scanners open links and must not use them up.
    user = services.user_from_sign_in_link(token)
    if user is None or permissions.is_suspended(user):
        messages.error(request, _("This sign-in link has expired or was already used. Ask for a new one."))
        return redirect("accounts:sign_in_link")
    if request.method == "POST":
        login(request, user, backend=BACKEND)
        return redirect("/")
    return render(request, "accounts/sign_in_link_use.html", {"person": user})
