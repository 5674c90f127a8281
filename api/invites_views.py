"""Discourse's invitation endpoints: ``POST /invites.json`` and ``POST /invites/upload_csv``.

Thin: writes go through accounts/invitations.py with the pages' rules (moderators and staff,
the daily limit, one pending invitation per address). Differences from Discourse, on purpose:
an invitation always goes to an email address (no shareable links: the link in the email is the
proof that the person reads that mailbox), so the answer carries no ``link`` or ``invite_key``;
and it names the invitee's organisation (``organisation``: an id, name or slug; else the address's
official domain), since accepting makes them a verified official of it.
"""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts import invitations
from accounts import permissions as accounts_permissions
from accounts.models import Invitation, Organisation
from forum import permissions
from forum.models import Topic

from .http import Params, api_view, bad_parameter, error_response, json_response

MAX_CSV_BYTES = 2 * 1024 * 1024


def _topic_occasion(request, topic_id) -> invitations.Occasion | None:
    if topic_id in (None, ""):
        return None
    try:
        topic = get_object_or_404(Topic, pk=int(topic_id))
    except (TypeError, ValueError) as error:
        raise bad_parameter(_("topic_id must be a whole number.")) from error
    if not permissions.can_read(request.user, topic):
        raise bad_parameter(_("topic_id is not a topic you can read."))
    return invitations.Occasion(
        key=f"topic:{topic.pk}", titles={"en": topic.title}, landing_url=topic.get_absolute_url()
    )


def _organisation(value) -> Organisation | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    found = Organisation.objects.filter(pk=int(text)).first() if text.isdigit() else None
    found = found or invitations.organisations_by_name().get(text.lower())
    if found is None:
        raise bad_parameter(_("No organisation is called “%(name)s”.") % {"name": text})
    return found


def _group_names(params: Params) -> list[str]:
    names = []
    for value in params.getlist("group_names"):
        names += [name.strip() for name in str(value).split(",") if name.strip()]
    return list(dict.fromkeys(names))


def serialize(invitation: Invitation, topic_id: int | None = None) -> dict:
    """Discourse's InviteSerializer, as far as an email invitation has the fields."""
    topics = []
    if invitation.occasion.startswith("topic:"):
        topics = [{"id": int(invitation.occasion.split(":", 1)[1]), "title": invitation.occasion_title()}]
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "emailed": invitation.send_count > 0,
        "custom_message": invitation.custom_message or None,
        "created_at": invitation.created_at,
        "updated_at": invitation.sent_at or invitation.created_at,
        "expires_at": invitation.expires_at,
        "expired": invitation.is_expired,
        "topics": topics,
        "groups": [{"name": name} for name in invitation.group_names],
    }


def _may_not_invite():
    return error_response([_("Only moderators and staff can invite people.")], "invalid_access", 403)


@api_view(("POST",))
def create(request):
    """POST /invites.json: email, topic_id, group_names, custom_message (and organisation, name,
    position, language). 200 with the invitation; 422 with the reason when it cannot be sent."""
    if not accounts_permissions.can_invite(request.user):
        return _may_not_invite()
    params = Params(request)
    email = params.get_text("email").strip()
    if not email:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "email"})
    occasion = _topic_occasion(request, params.get_text("topic_id"))
    try:
        invitation = invitations.invite_one(
            request.user,
            email,
            organisation=_organisation(params.get_text("organisation")),
            name=params.get_text("name"),
            position=params.get_text("position"),
            language=params.get_text("language"),
            groups=_group_names(params),
            occasion=occasion,
            custom_message=params.get_text("custom_message"),
        )
    except invitations.InvitationError as error:
        return error_response([str(error)], "invalid_parameters", 422, failed="FAILED")
    return json_response(serialize(invitation))


@api_view(("POST",))
def upload_csv(request):
    """POST /invites/upload_csv (multipart ``file``): Discourse's bulk invite, done at once. Rows
    are ``email, groups, topic_id`` (Discourse's order) unless a header names the columns (ours:
    email, name, position, organisation, language, groups). Answers ``{"success": "OK"}`` with
    what was invited and each row left out, and why; 422 when nothing could be invited."""
    if not accounts_permissions.can_invite(request.user):
        return _may_not_invite()
    upload = request.FILES.get("file") or next(iter(request.FILES.getlist("files[]")), None)
    if upload is None:
        raise bad_parameter(_("param is missing or the value is empty: %(name)s") % {"name": "file"})
    if upload.size > MAX_CSV_BYTES:
        return error_response(
            [_("The file is larger than 2 MB; split it into several files.")],
            "invalid_parameters",
            422,
            failed="FAILED",
        )
    raw = upload.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    rows, problems = invitations.parse_csv(text, columns=("email", "groups", "topic_id"))
    by_topic: dict[str, list] = {}
    for row in rows:
        by_topic.setdefault(row.topic_id.strip(), []).append(row)
    invited, left_out = [], [*problems]
    for topic_id, topic_rows in by_topic.items():
        try:
            occasion = _topic_occasion(request, topic_id)
        except Exception:  # noqa: BLE001 - an unknown or unreadable topic leaves only its rows out
            reason = _("topic_id is not a topic you can read.")
            left_out += [invitations.RowProblem(row.line, row.email, reason) for row in topic_rows]
            continue
        report = invitations.invite_many(request.user, topic_rows, occasion=occasion)
        invited += report.invited
        left_out += report.problems + report.duplicates + report.members
    skipped = [
        {"line": problem.line, "email": problem.email, "reason": problem.reason}
        for problem in sorted(left_out, key=lambda problem: problem.line)
    ]
    if not invited:
        errors = [_("No invitation was sent.")] + [
            f"{item['line']}: {item['reason']}" for item in skipped[:20]
        ]
        return error_response(errors, "invalid_parameters", 422, failed="FAILED", skipped=skipped)
    return json_response({"success": "OK", "invited": len(invited), "skipped": skipped})
