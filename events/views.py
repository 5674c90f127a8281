import csv
import uuid
import zoneinfo

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.decorators import moderator_required, staff_required
from accounts.invitation_views import invite_forms
from accounts.invitations import invitation_counts
from core import csp

from . import calendar as ical
from . import linked, permissions, presence, services, stream_check
from .forms import EventForm, ForumLinksForm, MessageForm, RegisterForm, SessionForm, SpeakerForm
from .models import (
    Event,
    EventStatus,
    Registration,
    RegistrationStatus,
    Session,
    Speaker,
    validate_stream_url,
)

PAST_EVENTS_SHOWN = 20


def _viewer_zone(request) -> zoneinfo.ZoneInfo:
    name = getattr(request.user, "time_zone", "") or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _get_event(request, slug: str) -> Event:
    event = get_object_or_404(Event, slug=slug)
    if not permissions.can_view(request.user, event):
        raise Http404(_("No such event."))
    return event


def event_list(request):
    now = timezone.now()
    events = permissions.visible_events(request.user).annotate(
        seats_taken=Count("registrations", filter=Q(registrations__status=RegistrationStatus.REGISTERED))
    )
    upcoming = list(
        events.filter(ends_at__gt=now)
        .exclude(status__in=[EventStatus.ENDED, EventStatus.CANCELLED])
        .order_by("starts_at")
    )
    past = list(
        events.filter(
            Q(ends_at__lte=now) | Q(status__in=[EventStatus.ENDED, EventStatus.CANCELLED])
        ).order_by("-starts_at")[:PAST_EVENTS_SHOWN]
    )
    mine = {}
    if request.user.is_authenticated:
        mine = dict(
            Registration.objects.filter(user=request.user, event__in=[e.pk for e in upcoming])
            .exclude(status=RegistrationStatus.CANCELLED)
            .values_list("event_id", "status")
        )
    for event in upcoming:
        event.my_status = mine.get(event.pk)
    context = {
        "upcoming": upcoming,
        "past": past,
        "viewer_zone": _viewer_zone(request),
        "can_create": permissions.can_control(request.user),
        "feed_url": (
            request.build_absolute_uri(reverse("events:personal_feed", args=[ical.feed_token(request.user)]))
            if request.user.is_authenticated
            else None
        ),
    }
    return render(request, "events/list.html", context)


def _detail_context(request, event: Event, register_form=None, composer: dict | None = None) -> dict:
    now = timezone.now()
    user = request.user
    speakers = list(event.speakers.select_related("user__organisation"))
    sessions = list(
        event.sessions.prefetch_related(
            Prefetch("speakers", queryset=Speaker.objects.select_related("user__organisation"))
        )
    )
    counts = dict(event.registrations.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    registration = (
        Registration.objects.filter(event=event, user=user).first() if user.is_authenticated else None
    )
    if registration and not registration.is_active:
        registration = None
    block_reason = None if registration else permissions.registration_block_reason(user, event, now)
    is_organiser = permissions.is_organiser(user, event)
    seats_taken = counts.get(RegistrationStatus.REGISTERED, 0)
    live_preview = event.is_live or (request.GET.get("preview") == "live" and permissions.can_control(user))
    linked_topics = linked.topics_for_page(request, event)
    return {
        "event": event,
        "speakers": speakers,
        "sessions": sessions,
        "days": _agenda_days(event, sessions),
        "registration": registration,
        "block_reason": block_reason,
        "register_form": register_form or RegisterForm(),
        "seats_taken": seats_taken,
        "waitlisted": counts.get(RegistrationStatus.WAITLISTED, 0),
        "seats_left": None if event.capacity is None else max(event.capacity - seats_taken, 0),
        "show_join_link": permissions.can_see_join_link(user, event, registration, now)
        or (is_organiser and permissions.can_see_join_link(user, event, None, now)),
        "join_link_from": event.join_link_visible_from(),
        "is_organiser": is_organiser,
        "can_control": permissions.can_control(user),
        "viewer_zone": _viewer_zone(request),
        "live_preview": live_preview,
        "live": linked.live_context(request, event, linked_topics) if live_preview else None,
        "linked_topics": linked_topics,
        "composer": composer or {},
        "idempotency_key": uuid.uuid4(),
    }


def _agenda_days(event: Event, sessions: list[Session]) -> list[tuple]:
    days: dict = {}
    for session in sessions:
        days.setdefault(session.starts_at.astimezone(event.zone).date(), []).append(session)
    return sorted(days.items())


def _detail_page(request, context: dict, status: int = 200):
    """The event page; its live version may frame the stream player's host, and only that one."""
    response = render(request, "events/detail.html", context, status=status)
    event = context["event"]
    if context["live_preview"] and event.stream_url:
        try:
            validate_stream_url(event.stream_url)  # stored before the allowlist? never framed
        except ValidationError:
            return response
        csp.allow_frames(response, [csp.origin(event.stream_url)])
    return response


def event_detail(request, slug: str):
    event = _get_event(request, slug)
    return _detail_page(request, _detail_context(request, event))


@require_POST
def register(request, slug: str):
    event = _get_event(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(event.get_absolute_url())
    form = RegisterForm(request.POST)
    form.is_valid()
    try:
        registration = services.register(
            request.user, event, show_publicly=form.cleaned_data.get("show_publicly", False)
        )
    except services.RegistrationRefused as refusal:
        messages.error(request, str(refusal))
        return _detail_page(request, _detail_context(request, event, form), status=403)
    if registration.status == RegistrationStatus.REGISTERED:
        messages.success(request, _("You are registered. We have emailed you a calendar file."))
    else:
        messages.info(
            request,
            _("The event is full, so you are on the waiting list. A freed seat goes to you automatically."),
        )
    return redirect(event)


@require_POST
def cancel(request, slug: str):
    event = _get_event(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(event.get_absolute_url())
    registration = Registration.objects.filter(event=event, user=request.user).first()
    if registration is None or not registration.is_active:
        messages.info(request, _("You were not registered for this event."))
        return redirect(event)
    services.cancel_registration(registration, request.user)
    messages.success(request, _("Your registration is cancelled."))
    return redirect(event)


@require_POST
def live_reply(request, slug: str):
    """Reply to one of the event's questions from the live page; the text is kept on any refusal."""
    event = _get_event(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(event.get_absolute_url())
    raw = request.POST.get("raw", "")
    topic = next(
        (t for t in linked.topics_for_page(request, event) if str(t.pk) == request.POST.get("topic")), None
    )
    composer = {"raw": raw, "topic": request.POST.get("topic", ""), "errors": []}
    held = False
    if topic is None:
        composer["errors"].append(_("Choose the question you are answering."))
    else:
        try:
            key = request.POST.get("idempotency_key") or None
            _post, held = services.reply_live(request.user, event, topic, raw, idempotency_key=key)
        except PermissionDenied as refusal:
            composer["errors"].append(str(refusal) or _("You cannot reply to this question now."))
        except ValidationError as error:
            composer["errors"].extend(error.messages)
    if composer["errors"]:
        context = _detail_context(request, event, composer=composer)
        if request.htmx:
            return render(request, "events/_live_discussion.html", context, status=400)
        return _detail_page(request, context, status=400)
    notice = (
        _("Your reply is saved and waits for a moderator's approval before others see it.")
        if held
        else _("Your reply is posted.")
    )
    if request.htmx:
        context = _detail_context(request, event, composer={"notice": notice})
        return render(request, "events/_live_discussion.html", context)
    messages.success(request, notice)
    return redirect(event.get_absolute_url() + "#live-discussion")


def live_posts(request, slug: str):
    """The newest replies and the counters, refetched by the live page when a reply arrives
    (shared by everyone who may read the same linked topics: events.linked.live_posts_html)."""
    event = _get_event(request, slug)
    return HttpResponse(linked.live_posts_html(event, linked.topics_for_page(request, event)))


def live_polls(request, slug: str):
    """The polls of the linked questions as this person sees them, refetched by the live page
    when a post with a poll arrives (static/js/polls.js adds the new ones)."""
    event = _get_event(request, slug)
    topics = linked.topics_for_page(request, event)
    context = {"event": event, "live": {"polls": linked.poll_blocks(request, topics)}}
    return render(request, "events/_live_polls.html", context)


@require_POST
def here(request, slug: str):
    """An open live page says it is still open (once a minute); answers with the counters."""
    event = _get_event(request, slug)
    if event.is_live:
        presence.mark_here(event.pk)
    present = presence.people_here(event.pk)
    label = ngettext("%(people)s person on this page", "%(people)s people on this page", present) % {
        "people": present
    }
    return JsonResponse({"present": present, "label": label})


def _ics_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def event_ics(request, slug: str):
    event = _get_event(request, slug)
    return _ics_response(
        ical.build_calendar([event], ical.site_base_url(request), event.localized_title), f"{event.slug}.ics"
    )


def calendar_feed(request):
    """The public feed: every published event from a year ago onwards."""
    since = timezone.now() - timezone.timedelta(days=365)
    events = Event.objects.filter(
        status__in=[EventStatus.PUBLISHED, EventStatus.LIVE, EventStatus.ENDED, EventStatus.CANCELLED],
        ends_at__gte=since,
    ).order_by("starts_at")
    return _ics_response(
        ical.build_calendar(events, ical.site_base_url(request), _("Metropolis events")), "events.ics"
    )


def personal_feed(request, token: str):
    """A person's registrations, at a URL only they know (calendar programs cannot sign in)."""
    user_id = ical.user_id_from_feed_token(token)
    if user_id is None:
        raise Http404(_("No such calendar."))
    # One condition on the person's own registration: an exclude() across the relation would
    # drop an event as soon as anyone at all had cancelled theirs.
    mine = Registration.objects.filter(user_id=user_id).exclude(status=RegistrationStatus.CANCELLED)
    events = (
        Event.objects.filter(pk__in=mine.values("event_id"))
        .exclude(status=EventStatus.DRAFT)
        .order_by("starts_at")
    )
    return _ics_response(
        ical.build_calendar(events, ical.site_base_url(request), _("My Metropolis events")), "my-events.ics"
    )


def attendees(request, slug: str):
    """Everyone sees who chose to appear; organisers see everyone and can export the list."""
    event = _get_event(request, slug)
    is_organiser = permissions.can_manage(request.user, event)
    registrations = event.registrations.select_related("user__organisation").exclude(
        status=RegistrationStatus.CANCELLED
    )
    if not is_organiser:
        registrations = registrations.filter(status=RegistrationStatus.REGISTERED, show_publicly=True)
    return render(
        request,
        "events/attendees.html",
        {"event": event, "registrations": registrations, "is_organiser": is_organiser},
    )


def attendees_csv(request, slug: str):
    event = _get_event(request, slug)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    permissions.check_manage(request.user, event)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}-attendees.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Name"),
            _("Email"),
            _("Position"),
            _("Organisation"),
            _("Status"),
            _("Public"),
            _("Registered at"),
        ]
    )
    for registration in event.registrations.select_related("user__organisation").exclude(
        status=RegistrationStatus.CANCELLED
    ):
        person = registration.user
        writer.writerow(
            [
                _csv_safe(person.name),
                person.email,
                _csv_safe(person.position),
                _csv_safe(person.organisation.name if person.organisation else ""),
                registration.get_status_display(),
                _("yes") if registration.show_publicly else _("no"),
                registration.created_at.isoformat(),
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    # Spreadsheets run cells starting with these as formulas.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


FORMS = {
    "links": ("links_form", ForumLinksForm),
    "speaker": ("speaker_form", SpeakerForm),
    "session": ("session_form", SessionForm),
}


def _apply(action: str, event: Event, actor, data: dict) -> None:
    if action == "links":
        services.link_forum(
            event,
            actor,
            topics=data["topics"],
            launch_categories=data["launch_categories"],
            invitees=data["invitees"],
        )
    elif action == "speaker":
        services.add_speaker(
            event,
            actor,
            user=data["user"],
            name=data["name"],
            position=data["position"],
            organisation=data["organisation"],
        )
    elif action == "session":
        services.add_session(event, actor, **data)


@staff_required
def control_room(request, slug: str):
    event = get_object_or_404(Event, slug=slug)
    counts = dict(event.registrations.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    context = {
        "event": event,
        "links_form": ForumLinksForm(event=event),
        "speaker_form": SpeakerForm(),
        "session_form": SessionForm(event=event),
        "speakers": list(event.speakers.select_related("user__organisation")),
        "sessions": list(event.sessions.all()),
        "checklist": linked.checklist(event, counts),
        "registered": counts.get(RegistrationStatus.REGISTERED, 0),
        "waitlisted": counts.get(RegistrationStatus.WAITLISTED, 0),
        "message_form": MessageForm(),
        "viewer_zone": _viewer_zone(request),
        "invitations": invitation_counts(services.invitation_occasion(event).key),
        "polls": linked.event_polls(event),
    }
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "poll_status":
            return _poll_status(request, event, context["polls"])
        if action == "go_live":
            if services.go_live(event, request.user):
                messages.success(request, _("The event is live."))
            else:
                messages.info(request, _("The event was already live or has ended."))
            return redirect("events:control", slug=event.slug)
        if action == "check_stream":
            permissions.check_control(request.user, event)
            result = stream_check.check(event)
            level = messages.success if result["ok"] else messages.error
            level(request, result["detail"])
            return redirect("events:control", slug=event.slug)
        if action == "end":
            if services.end_event(event, request.user):
                messages.success(request, _("The event has ended. Attendees get a follow-up email."))
            else:
                messages.info(request, _("Only a live event can be ended."))
            return redirect("events:control", slug=event.slug)
        if action in FORMS:
            form_name, form_class = FORMS[action]
            form = form_class(request.POST, event=event) if action != "speaker" else form_class(request.POST)
            if form.is_valid():
                try:
                    _apply(action, event, request.user, form.cleaned_data)
                except ValidationError as error:
                    for field, errors in error.message_dict.items():
                        for message in errors:
                            form.add_error(field if field in form.fields else None, message)
                else:
                    messages.success(request, _("Saved."))
                    return redirect("events:control", slug=event.slug)
            context[form_name] = form
            return render(request, "events/control.html", context, status=400)
        if action == "message":
            form = MessageForm(request.POST)
            if form.is_valid():
                try:
                    sent = services.message_registered(event, request.user, **form.cleaned_data)
                except ValidationError as error:
                    for field, errors in error.message_dict.items():
                        for message in errors:
                            form.add_error(field, message)
                else:
                    messages.success(
                        request, _("Message sent to %(count)d registered people.") % {"count": sent}
                    )
                    return redirect("events:control", slug=event.slug)
            context["message_form"] = form
            return render(request, "events/control.html", context, status=400)
    return render(request, "events/control.html", context)


@moderator_required
def invite(request, slug: str):
    """Invite an event's attendees (moderators and staff): one address, a CSV of the attendee list,
    or every registrant not yet verified. The invitations name the event and land on its page."""
    event = get_object_or_404(Event, slug=slug)
    # An invitation's link lands on the event page: nobody is invited to one they cannot see.
    blocked = {
        EventStatus.DRAFT: _("Publish the event before inviting people to it: its page is not public yet."),
        EventStatus.CANCELLED: _("This event has been cancelled."),
    }.get(event.status)
    if blocked:
        context = {"report": None, "blocked": blocked}
    else:
        context, done = invite_forms(request, services.invitation_occasion(event))
        if done:
            return redirect("events:invite", slug=event.slug)
        if request.method == "POST" and request.POST.get("action") == "invite_registrants":
            context["report"] = services.invite_registrants(event, request.user)
    context.update(event=event, unverified=services.unverified_registrants(event).count())
    failed = request.method == "POST" and context["report"] is None
    return render(request, "events/invite.html", context, status=400 if failed else 200)


def _poll_status(request, event: Event, polls: list):
    """Close or reopen a poll of one of the event's questions (logged in the moderation log)."""
    poll = next((poll for poll in polls if str(poll.pk) == request.POST.get("poll")), None)
    if poll is None:
        messages.error(request, _("That poll is not in this event's questions."))
    else:
        try:
            linked.set_poll_status(poll, request.POST.get("status", ""), request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, _("The poll is closed.") if poll.status == "closed" else _("The poll is open again.")
            )
    return redirect(reverse("events:control", args=[event.slug]) + "#polls")


@staff_required
def event_form(request, slug: str | None = None):
    event = get_object_or_404(Event, slug=slug) if slug else None
    form = EventForm(request.POST or None, instance=event)
    if request.method == "POST" and form.is_valid():
        changes = form.changes()
        try:
            if event is None:
                event = services.create_event(request.user, organisers=[request.user], **changes)
            else:
                if not changes.get("slug"):
                    changes.pop("slug", None)
                event = services.update_event(event, request.user, **changes)
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("The event is saved."))
            return redirect(event)
    status = 400 if request.method == "POST" else 200
    return render(request, "events/form.html", {"form": form, "event": event}, status=status)
