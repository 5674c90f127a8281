import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, TextField
from django.db.models.functions import Cast
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from taggit.models import Tag

from . import avatars, permissions, services
from .decorators import moderator_required, staff_required
from .forms import (
    LANGUAGE_CHOICES,
    ApproveForm,
    AskForm,
    DomainForm,
    OrganisationForm,
    ProfileForm,
    RejectForm,
    RevokeForm,
    RosterForm,
    VerificationRequestForm,
)
from .models import (
    Organisation,
    OrganisationDomain,
    User,
    VerificationEvent,
    VerificationRequest,
    VerificationState,
)
from .profile_sections import render_profile_sections
from .signals import client_ip

DIRECTORY_PAGE_SIZE = 30


# --- profiles and directory ---------------------------------------------------------------


@require_GET
def letter_avatar(request, username: str, size: int, version: str):
    """A person's letter avatar as SVG. Cached for a year: the URL changes when its letters do."""
    person = (
        User.objects.filter(username=username, is_active=True)
        .only("username", "display_name", "first_name", "last_name")
        .first()
    )
    if person is None:
        raise Http404
    size = avatars.nearest_size(size)
    response = HttpResponse(avatars.svg(person, size), content_type="image/svg+xml")
    if version == avatars.version(person):
        response["Cache-Control"] = "public, max-age=31536000, immutable"
    else:  # an old URL (the name changed since): today's letters, briefly cached
        response["Cache-Control"] = "public, max-age=3600"
    # An image, never a document: nothing in it may run or load anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def profile(request, username: str):
    person = get_object_or_404(
        User.objects.select_related("organisation").prefetch_related("expertise"),
        username=username,
        is_active=True,
    )
    language_names = dict(LANGUAGE_CHOICES)
    context = {
        "person": person,
        "languages": [language_names.get(code, code) for code in person.languages],
        "is_self": request.user == person,
        "can_revoke": permissions.can_revoke_verification(request.user, person),
        "revoke_form": RevokeForm(),
        "sections": render_profile_sections(request, person),
    }
    return render(request, "accounts/profile.html", context)


@login_required
def profile_edit(request):
    user = request.user
    if request.method == "POST":
        form = ProfileForm(request.POST, request.FILES, instance=user)
        if form.is_valid():
            services.update_profile(
                form.save(commit=False),
                languages=form.cleaned_data["languages"],
                preferred_language=form.cleaned_data["preferred_language"],
                expertise=form.cleaned_data["expertise"],
                avatar=form.cleaned_data["avatar_upload"],
                remove_avatar=form.cleaned_data["remove_avatar"],
            )
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile", user.username)
        messages.error(request, _("Some fields need your attention; nothing you typed was lost."))
        user.refresh_from_db()
    else:
        form = ProfileForm(instance=user)
    return render(request, "accounts/profile_edit.html", {"form": form})


def directory(request):
    people = permissions.verified_officials().select_related("organisation").prefetch_related("expertise")
    filters = {
        "organisation": request.GET.get("organisation", ""),
        "country": request.GET.get("country", ""),
        "region": request.GET.get("region", ""),
        "expertise": request.GET.get("expertise", ""),
        "language": request.GET.get("language", ""),
        "q": request.GET.get("q", "").strip(),
    }
    if filters["organisation"]:
        people = people.filter(organisation__slug=filters["organisation"])
    if filters["country"]:
        people = people.filter(organisation__country=filters["country"])
    if filters["region"]:
        people = people.filter(organisation__metropolis_region=filters["region"])
    if filters["expertise"]:
        people = people.filter(expertise__slug=filters["expertise"])
    if filters["language"]:
        # Works on SQLite and PostgreSQL alike: the JSON list as text contains "xx".
        people = people.annotate(languages_text=Cast("languages", TextField())).filter(
            languages_text__contains=f'"{filters["language"]}"'
        )
    if filters["q"]:
        people = people.filter(
            Q(display_name__icontains=filters["q"])
            | Q(username__icontains=filters["q"])
            | Q(position__icontains=filters["q"])
        )
    page = Paginator(people.order_by("display_name", "username").distinct(), DIRECTORY_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    organisations = Organisation.objects.only("slug", "name")
    facets = Organisation.objects.values_list("country", "metropolis_region")
    context = {
        "page": page,
        "filters": filters,
        "organisations": organisations,
        "countries": sorted({c for c, _r in facets if c}),
        "regions": sorted({r for _c, r in facets if r}),
        "tags": Tag.objects.filter(
            taggit_taggeditem_items__content_type=ContentType.objects.get_for_model(User)
        )
        .distinct()
        .order_by("name"),
        "language_choices": LANGUAGE_CHOICES,
        "querystring": request.GET.copy(),
    }
    context["querystring"].pop("page", None)
    return render(request, "accounts/directory.html", context)


# --- verification -------------------------------------------------------------------------


@login_required
def verification(request):
    user = request.user
    open_request = VerificationRequest.objects.filter(
        user=user, state__in=VerificationRequest.OPEN_STATES
    ).first()
    resubmission = bool(open_request and open_request.state == VerificationRequest.State.NEEDS_INFORMATION)
    may_file = not user.is_verified_official and (open_request is None or resubmission)
    form = None
    if may_file:
        form = VerificationRequestForm(
            request.POST or None,
            request.FILES or None,
            resubmission=resubmission,
            initial={"organisation": user.organisation_id, "position": user.position},
        )
    if request.method == "POST":
        if form is None:
            if user.is_verified_official:
                messages.info(request, _("You are already a verified official."))
            else:
                messages.error(request, _("You already have a request waiting for review."))
            return redirect("accounts:verification")
        if form.is_valid():
            data = form.cleaned_data
            evidence = services.Evidence(url=data["evidence_url"], file=data["evidence_file"] or None)
            try:
                if resubmission:
                    services.resubmit_verification_request(
                        open_request,
                        position=data["position"],
                        evidence=evidence,
                        message=data["message"],
                        ip=client_ip(request),
                    )
                else:
                    services.request_verification(
                        user,
                        position=data["position"],
                        organisation=data["organisation"],
                        proposed_organisation=data["proposed_organisation"],
                        evidence=evidence,
                        message=data["message"],
                        ip=client_ip(request),
                    )
            except services.VerificationError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("Thank you. A moderator will review your request."))
                return redirect("accounts:verification")
        else:
            messages.error(
                request,
                _("Your request was not sent: see the fields marked below. What you typed is still there; "
                  "files must be chosen again."),
            )  # fmt: skip
    latest_request = (
        open_request or VerificationRequest.objects.filter(user=user).order_by("-created_at").first()
    )
    context = {
        "form": form,
        "open_request": open_request,
        "latest_request": latest_request,
        "latest_event": VerificationEvent.objects.filter(subject=user).select_related("organisation").first(),
        "block_reason": permissions.posting_block_reason(user),
        "can_renew": user.verification_method in ("email_domain", "roster")
        and user.verification_state in (VerificationState.VERIFIED, VerificationState.EXPIRED),
    }
    return render(request, "accounts/verification.html", context)


@login_required
@require_POST
def verification_send_renewal(request):
    user = request.user
    if user.verification_method not in ("email_domain", "roster") or user.verification_state not in (
        VerificationState.VERIFIED,
        VerificationState.EXPIRED,
    ):
        messages.error(request, _("Only verifications by official email can be renewed by email."))
    else:
        services.send_renewal_link(user)
        messages.success(request, _("We sent a renewal link to your email address."))
    return redirect("accounts:verification")


def verification_renew(request, token: str):
    # A GET only shows a button: mail scanners follow links, and must not renew anything.
    if request.method == "POST":
        try:
            services.renew_verification(token, ip=client_ip(request))
        except services.VerificationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your verification was renewed. Thank you."))
            return redirect("accounts:verification" if request.user.is_authenticated else "forum:home")
    return render(request, "accounts/verification_renew.html", {"token": token})


# --- review queue -------------------------------------------------------------------------


@moderator_required
def review_verifications(request):
    requests = (
        VerificationRequest.objects.filter(state=VerificationRequest.State.PENDING)
        .select_related("user", "user__organisation", "organisation")
        .order_by("created_at")
    )
    waiting = VerificationRequest.objects.filter(state=VerificationRequest.State.NEEDS_INFORMATION).count()
    page = Paginator(requests, 20).get_page(request.GET.get("page"))
    organisation_choices = list(Organisation.objects.values_list("pk", "name"))
    for item in page:
        item.approve_form = ApproveForm(
            initial={
                "organisation": item.organisation_id,
                "new_organisation": item.proposed_organisation,
                "position": item.position,
            },
            prefix=f"r{item.pk}",
            organisation_choices=organisation_choices,
        )
        item.reject_form = RejectForm(prefix=f"r{item.pk}")
        item.ask_form = AskForm(prefix=f"r{item.pk}")
    return render(request, "accounts/review_verifications.html", {"page": page, "waiting": waiting})


@moderator_required
@require_POST
def review_decide(request, pk: int):
    item = get_object_or_404(VerificationRequest.objects.select_related("user"), pk=pk)
    action = request.POST.get("action")
    prefix = f"r{item.pk}"
    ip = client_ip(request)
    try:
        if action == "approve":
            form = ApproveForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise services.VerificationError(_("Confirm the organisation and the position to approve."))
            organisation = form.cleaned_data["organisation"] or services.create_organisation(
                form.cleaned_data["new_organisation"], actor=request.user
            )
            done = services.approve_verification_request(
                item,
                moderator=request.user,
                organisation=organisation,
                position=form.cleaned_data["position"],
                ip=ip,
            )
            message = _("%(name)s is now a verified official.") % {"name": item.user.name}
        elif action == "reject":
            form = RejectForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise services.VerificationError(_("Choose a reason from the list."))
            done = services.reject_verification_request(
                item,
                moderator=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                ip=ip,
            )
            message = _("The request of %(name)s was rejected.") % {"name": item.user.name}
        elif action == "ask":
            form = AskForm(request.POST, prefix=prefix)
            if not form.is_valid():
                raise services.VerificationError(_("Write what you need to know; the person will read it."))
            done = services.ask_for_information(
                item, moderator=request.user, question=form.cleaned_data["question"], ip=ip
            )
            message = _("Your question was sent to %(name)s.") % {"name": item.user.name}
        else:
            raise services.VerificationError(_("Choose approve, reject or ask for more information."))
    except services.VerificationError as error:
        messages.error(request, str(error))
    else:
        if done:
            messages.success(request, message)
        else:
            messages.info(request, _("This request was already decided; nothing changed."))
    return redirect("accounts:review_verifications")


@moderator_required
def review_evidence(request, pk: int):
    item = get_object_or_404(VerificationRequest, pk=pk)
    if not item.evidence_file:
        raise Http404(_("The evidence was deleted after the decision."))
    response = FileResponse(item.evidence_file.open("rb"), as_attachment=True, filename=item.evidence_name)
    # Never rendered inline: an uploaded document is not trusted content.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@moderator_required
@require_POST
def revoke(request, username: str):
    person = get_object_or_404(User, username=username)
    form = RevokeForm(request.POST)
    if form.is_valid():
        try:
            services.revoke_verification(
                person, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
        except services.VerificationError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The verification of %(name)s was revoked.") % {"name": person.name})
    else:
        messages.error(request, _("Give a reason for the revocation; the person will read it."))
    return redirect("accounts:profile", person.username)


# --- audit trail --------------------------------------------------------------------------


def _audit_events(request):
    events = VerificationEvent.objects.select_related("subject", "actor", "organisation")
    subject = request.GET.get("subject", "").strip()
    if subject:
        events = events.filter(subject__username=subject)
    return events, subject


@staff_required
def audit(request):
    events, subject = _audit_events(request)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "accounts/audit.html", {"page": page, "subject": subject})


class _Echo:
    def write(self, value):
        return value


def _csv_safe(value) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@staff_required
def audit_csv(request):
    events, _subject = _audit_events(request)
    writer = csv.writer(_Echo())
    header = ["time", "subject", "actor", "action", "from", "to", "method", "organisation", "reason", "ip"]

    def rows():
        yield writer.writerow(header)
        for event in events.iterator(chunk_size=500):
            yield writer.writerow(
                _csv_safe(value)
                for value in (
                    event.created_at.isoformat(),
                    event.subject.username,
                    event.actor.username if event.actor else "",
                    event.action,
                    event.from_state,
                    event.to_state,
                    event.method,
                    event.organisation.name if event.organisation else "",
                    event.reason,
                    event.ip_address or "",
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="verification-audit.csv"'
    return response


# --- organisations ------------------------------------------------------------------------


def organisations(request):
    items = Organisation.objects.annotate(
        officials_count=Count("members", filter=Q(members__verification_state=VerificationState.VERIFIED))
    )
    return render(
        request,
        "accounts/organisations.html",
        {"organisations": items, "can_manage": permissions.is_staff(request.user)},
    )


def organisation_detail(request, slug: str):
    organisation = get_object_or_404(Organisation, slug=slug)
    officials = (
        permissions.verified_officials()
        .filter(organisation=organisation)
        .select_related("organisation")
        .prefetch_related("expertise")
        .order_by("display_name", "username")
    )
    page = Paginator(officials, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    can_manage = permissions.is_staff(request.user)
    context = {
        "organisation": organisation,
        "page": page,
        "can_manage": can_manage,
        "domains": list(organisation.domains.all()) if can_manage else [],
        "roster_count": organisation.roster.count() if can_manage else 0,
    }
    return render(request, "accounts/organisation_detail.html", context)


@staff_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        organisation = services.save_organisation(form.save(commit=False), actor=request.user)
        messages.success(request, _("The organisation was created. Add its official email domains below."))
        return redirect("accounts:organisation_edit", organisation.slug)
    return render(request, "accounts/organisation_form.html", {"form": form, "organisation": None})


@staff_required
def organisation_edit(request, slug: str):
    organisation = get_object_or_404(Organisation, slug=slug)
    form = OrganisationForm(instance=organisation)
    domain_form = DomainForm(prefix="domain")
    roster_form = RosterForm(prefix="roster")
    ip = client_ip(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "save":
            form = OrganisationForm(request.POST, instance=organisation)
            if form.is_valid():
                organisation = services.save_organisation(form.save(commit=False), actor=request.user)
                messages.success(request, _("The organisation was saved."))
                return redirect("accounts:organisation_edit", organisation.slug)
            organisation.refresh_from_db()
        elif action == "add_domain":
            domain_form = DomainForm(request.POST, prefix="domain")
            if domain_form.is_valid():
                try:
                    services.add_organisation_domain(
                        organisation,
                        domain_form.cleaned_data["domain"],
                        include_subdomains=domain_form.cleaned_data["include_subdomains"],
                        actor=request.user,
                    )
                except ValidationError as error:
                    domain_form.add_error("domain", error)
                else:
                    messages.success(request, _("The domain was added."))
                    return redirect("accounts:organisation_edit", organisation.slug)
        elif action == "remove_domain":
            domain = get_object_or_404(
                OrganisationDomain, pk=request.POST.get("domain_id"), organisation=organisation
            )
            revoked = services.remove_organisation_domain(domain, actor=request.user, ip=ip)
            messages.success(
                request,
                _(
                    "The domain was removed; %(count)s verification(s) that rested on it "
                    "were revoked, with notice."
                )
                % {"count": revoked},
            )
            return redirect("accounts:organisation_edit", organisation.slug)
        elif action == "roster":
            roster_form = RosterForm(request.POST, request.FILES, prefix="roster")
            if roster_form.is_valid():
                added, verified_now, rejected = services.import_roster(
                    organisation, roster_form.cleaned_data["roster"], actor=request.user, ip=ip
                )
                messages.success(
                    request,
                    _("Roster imported: %(added)s new address(es); %(verified)s person(s) verified at once.")
                    % {"added": added, "verified": verified_now},
                )
                if rejected:
                    messages.warning(
                        request,
                        _("These values are not valid email addresses and were skipped: %(values)s")
                        % {"values": ", ".join(rejected[:20])},
                    )
                return redirect("accounts:organisation_edit", organisation.slug)
    context = {
        "organisation": organisation,
        "form": form,
        "domain_form": domain_form,
        "roster_form": roster_form,
        "domains": organisation.domains.all(),
        "roster_count": organisation.roster.count(),
    }
    return render(request, "accounts/organisation_form.html", context)
