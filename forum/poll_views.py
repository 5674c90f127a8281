"""Poll pages and forms (forum/polls.py does the writing and decides what a reader sees).

Every form works without JavaScript (a redirect back to the post, with a message); htmx gets
the poll's block (forum/_poll.html) back, with the error in it when the vote was refused.
"""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import live as forum_live
from . import permissions, polls, services
from .models import Poll, PollStatus, Post, PostState, Topic


def _poll_for(request, post_id: int, name: str) -> Poll:
    try:
        poll = polls.find(post_id, name)
    except Poll.DoesNotExist:
        raise Http404 from None
    post = poll.post
    if not permissions.can_read(request.user, post.topic):
        raise PermissionDenied(_("This topic is only open to some members."))
    if post.state != PostState.VISIBLE and not permissions.can_see_post_text(request.user, post):
        raise Http404
    return poll


def _back_to(poll: Poll) -> str:
    post = poll.post
    return f"{post.topic.post_url(post.number)}#poll-{post.pk}-{poll.name}"


def _block(request, poll: Poll, *, error: str = "", status: int = 200) -> HttpResponse:
    """The poll as this reader sees it now."""
    post = Post.objects.select_related("topic__category").get(pk=poll.post_id)
    fresh = polls.load(request.user, [post])[post.pk]
    current = next(candidate for candidate in fresh if candidate.name == poll.name)
    return HttpResponse(polls.render_poll(request, current, post.topic, error=error), status=status)


def _respond(request, poll: Poll, *, done: str = "", error: str = ""):
    if request.htmx:
        # htmx swaps only 2xx answers: a refusal comes back as the block with its message.
        return _block(request, poll, error=error)
    if error:
        messages.error(request, error)
    elif done:
        messages.success(request, done)
    return redirect(_back_to(poll))


def _refused(request, poll: Poll, error: Exception):
    """A refused vote: htmx gets the block saying why; a plain form gets the 403 page for a
    permission (as a like does) or the poll again with the message for a wrong choice."""
    if isinstance(error, PermissionDenied) and not request.htmx:
        raise error
    if isinstance(error, ValidationError):
        message = " ".join(error.messages)
    else:
        message = str(error) or _("You cannot vote in this poll.")
    return _respond(request, poll, error=message)


def _cast(request, post_id: int, name: str, act, done: str):
    poll = _poll_for(request, post_id, name)
    if not request.user.is_authenticated:
        return redirect_to_login(_back_to(poll))
    try:
        act(poll)
    except (PermissionDenied, ValidationError) as error:
        return _refused(request, poll, error)
    return _respond(request, poll, done=done)


@require_POST
def vote(request, post_id: int, name: str):
    def act(poll):
        services.vote(request.user, poll, request.POST.getlist("options"))

    return _cast(request, post_id, name, act, _("Your vote is counted."))


@require_POST
def withdraw(request, post_id: int, name: str):
    return _cast(
        request,
        post_id,
        name,
        lambda poll: services.withdraw_vote(request.user, poll),
        _("Your vote is withdrawn."),
    )


@require_POST
def status(request, post_id: int, name: str):
    """Close or reopen (moderators)."""
    poll = _poll_for(request, post_id, name)
    if not request.user.is_authenticated:
        return redirect_to_login(_back_to(poll))
    wanted = request.POST.get("status", "")
    if wanted not in PollStatus.values:
        return _respond(request, poll, error=_("A poll is open or closed."))
    services.set_poll_status(poll, wanted, by=request.user)  # PermissionDenied: 403
    done = _("The poll is closed.") if wanted == PollStatus.CLOSED else _("The poll is open again.")
    return _respond(request, poll, done=done)


def block(request, post_id: int, name: str):
    """The poll alone, as this reader sees it (live pages refetch it when a vote lands)."""
    return _block(request, _poll_for(request, post_id, name))


def voters(request, post_id: int, name: str):
    """Who voted for what, in a public poll whose results this reader may see."""
    poll = _poll_for(request, post_id, name)
    shown = polls.load(request.user, [poll.post])[poll.post_id]
    current = next(candidate for candidate in shown if candidate.name == poll.name)
    if not (poll.public and current.show_results):
        raise PermissionDenied(_("Who voted is not shown for this poll."))
    page = Paginator(polls.voters(poll), 100).get_page(request.GET.get("page"))
    context = {"poll": current, "topic": poll.post.topic, "page": page, "back": _back_to(poll)}
    return render(request, "forum/poll_voters.html", context)


def present(request, slug: str, topic_id: int, name: str):
    """The projector view: the question and results in large type, live, with no site chrome.

    ``?post=N`` picks the post; without it, the latest visible post with a poll of that name."""
    topic = get_object_or_404(Topic.objects.select_related("category"), pk=topic_id)
    if not permissions.can_read(request.user, topic):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(_("This topic is only open to some members."))
    candidates = Poll.objects.filter(post__topic=topic, name=name, post__state=PostState.VISIBLE)
    number = request.GET.get("post", "")
    if number.isdigit():
        candidates = candidates.filter(post__number=int(number))
    poll = candidates.select_related("post").order_by("-post__number").first()
    if poll is None:
        raise Http404
    post = poll.post
    post.topic = topic
    current = next(
        candidate for candidate in polls.load(request.user, [post])[post.pk] if candidate.name == name
    )
    polls.prepare(current, topic)
    context = {
        "poll": current,
        "topic": topic,
        "poll_ui": polls.labels(),
        "live_channel": forum_live.topic_channel(topic.pk),
        "live_since": forum_live.since(topic),
    }
    if request.htmx:
        return render(request, "forum/_poll_present.html", context)
    return render(request, "forum/poll_present.html", context)
