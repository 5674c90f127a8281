"""Polls in Discourse's shapes (its poll plugin): the ``polls`` and ``polls_votes`` of a post's
JSON, and ``PUT /polls/vote``, ``DELETE /polls/vote``, ``PUT /polls/toggle_status`` and
``GET /polls/voters.json``, with the same rules as the pages (forum/polls.py).
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from forum import permissions, polls, services
from forum.models import Poll, PollStatus, PollType, Post, PostState

from . import serializers
from .http import ApiError, Params, api_view, bad_parameter, error_response, json_response, validation_errors

PRELOADED_VOTERS = polls.VOTERS_SHOWN
MAX_VOTERS_PAGE = 50


def poll_json(poll: Poll) -> dict:
    """One poll as Discourse's PollSerializer writes it; ``poll`` comes from forum.polls.load."""
    data = {
        "name": poll.name,
        "type": poll.type,
        "status": poll.effective_status(),
        "public": poll.public,
        "results": poll.results,
        "options": [
            {
                "id": option.digest,
                "html": option.html,
                **({"votes": option.votes_count} if poll.show_results else {}),
            }
            for option in poll.option_list
        ],
        "voters": poll.voters_count,
        "chart_type": poll.chart_type,
        "title": poll.title or None,
    }
    for key in ("min", "max", "step"):
        if getattr(poll, key) is not None:
            data[key] = getattr(poll, key)
    if poll.close_at:
        data["close"] = poll.close_at
    if poll.public and poll.show_results:
        data["preloaded_voters"] = {
            option.digest: [serializers.basic_user(person) for person in option.voters]
            for option in poll.option_list
            if option.voters
        }
    return data


def add_polls(viewer, posts: list[Post], data: list[dict]) -> None:
    """Add ``polls`` (and the viewer's ``polls_votes``) to the JSON of the posts that have any.

    No query for posts without polls; three at most for a page that has some."""
    shown = [post for post in posts if post.state == PostState.VISIBLE and polls.has_polls(post)]
    if not shown:
        return
    found = polls.load(viewer, shown)
    by_id = {item["id"]: item for item in data}
    for post in shown:
        post_polls = found.get(post.pk, [])
        if not post_polls or post.pk not in by_id:
            continue
        by_id[post.pk]["polls"] = [poll_json(poll) for poll in post_polls]
        votes = {
            poll.name: [option.digest for option in poll.option_list if option.chosen]
            for poll in post_polls
            if poll.voted
        }
        if votes:
            by_id[post.pk]["polls_votes"] = votes


def _poll(request, params: Params) -> Poll:
    post_id = params.get_int("post_id", required=True)
    name = params.get("poll_name")
    if not isinstance(name, str) or not name:
        raise bad_parameter(_("poll_name is required."))
    try:
        poll = polls.find(post_id, name)
    except Poll.DoesNotExist:
        raise ApiError(error_response([_("No such poll.")], "not_found", 404)) from None
    if not permissions.can_read(request.user, poll.post.topic) or poll.post.state != PostState.VISIBLE:
        raise ApiError(error_response([_("No such poll.")], "not_found", 404))
    return poll


def _seen(request, poll: Poll) -> Poll:
    post = poll.post
    return next(
        candidate for candidate in polls.load(request.user, [post])[post.pk] if candidate.name == poll.name
    )


def _refused(error: ValidationError):
    return error_response(validation_errors(error), "invalid_parameters", 422)


@api_view(("PUT", "DELETE"))
def vote(request):
    """PUT /polls/vote (``post_id``, ``poll_name``, ``options[]``): ``{"poll", "vote"}``; DELETE withdraws."""
    params = Params(request)
    poll = _poll(request, params)
    if request.method == "DELETE":
        services.withdraw_vote(request.user, poll)
        return json_response({"poll": poll_json(_seen(request, poll))})
    options = [str(option) for option in params.getlist("options")]
    try:
        chosen = services.vote(request.user, poll, options)
    except ValidationError as error:
        return _refused(error)
    return json_response({"poll": poll_json(_seen(request, poll)), "vote": chosen})


@api_view(("PUT",))
def toggle_status(request):
    """PUT /polls/toggle_status (``post_id``, ``poll_name``, ``status`` open|closed): moderators."""
    params = Params(request)
    poll = _poll(request, params)
    status = params.get("status")
    if status not in PollStatus.values:
        raise bad_parameter(_("status must be open or closed."))
    services.set_poll_status(poll, status, by=request.user)
    return json_response({"poll": poll_json(_seen(request, poll))})


@api_view()
def voters(request):
    """GET /polls/voters.json (``post_id``, ``poll_name``, optional ``option_id``, ``page`` from 1,
    ``limit``): ``{"voters": {option_id: [user]}}``, or a list for number polls. Public polls
    whose results the person may see only."""
    params = Params(request)
    poll = _poll(request, params)
    seen = _seen(request, poll)
    if not (poll.public and seen.show_results):
        raise ApiError(error_response([_("Who voted is not shown for this poll.")], "invalid_access", 403))
    page = params.get_int("page") or 1
    limit = min(max(params.get_int("limit") or 25, 1), MAX_VOTERS_PAGE)
    option_id = params.get("option_id")
    options = {option.digest: option for option in seen.option_list}
    if option_id and option_id not in options:
        raise bad_parameter(_("option_id is not an option of this poll."))
    chosen = [options[option_id]] if option_id else list(options.values())
    start = (max(page, 1) - 1) * limit
    if poll.type == PollType.NUMBER and not option_id:
        rows = polls.voters(poll)[start : start + limit]
        return json_response({"voters": [serializers.basic_user(row.user) for row in rows]})
    result = {
        option.digest: [
            serializers.basic_user(row.user) for row in polls.voters(poll, option)[start : start + limit]
        ]
        for option in chosen
    }
    return json_response({"voters": result})
