"""Polls in posts (issue 19): Discourse's [poll] syntax stored with the post, voting (change,
withdraw, closing by time and by a moderator), each reader's own view of a shared post, the
no-JS and htmx forms, live events, the presenter view and the query budget."""

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core import live, poll_markup
from core.markdown import render
from forum import polls, services
from forum.models import ModerationAction, ModerationLogEntry, Poll, PollStatus, PollVote
from tests.factories import ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

BARRIER = """Over to you:

[poll name=barrier public=true]
# Which barrier matters most in your city?
* Cost of access
* Skills
* Devices
[/poll]
"""
TWO_POLLS = """[poll name=first]
* Yes
* No
[/poll]

[poll name=tried type=multiple min=1 max=2 results=on_vote]
# Which of these has your city tried?
* Free wifi
* Training
* Device loans
[/poll]
"""


@pytest.fixture(autouse=True)
def _in_process_broker(settings):
    settings.REDIS_URL = ""


def make_poll(raw=BARRIER, name="barrier"):
    topic = TopicFactory(raw=raw)
    return Poll.objects.get(post__topic=topic, name=name)


def ids(poll, *texts):
    return [poll.options.get(text=text).digest for text in texts]


# --- The syntax ---------------------------------------------------------------------------------


def test_the_markup_is_read_with_its_attributes():
    (spec,) = poll_markup.extract(
        "[poll name=q type=multiple results=on_close public=true close=2026-05-17T16:00:00Z min=2 max=3]\n"
        "# Which?\n* A\n* B\n* C\n[/poll]"
    )
    assert (spec.name, spec.type, spec.results, spec.public, spec.min, spec.max) == (
        "q",
        "multiple",
        "on_close",
        True,
        2,
        3,
    )
    assert spec.close_at.isoformat() == "2026-05-17T16:00:00+00:00"
    assert spec.title == "Which?"
    assert [text for _id, text in spec.options] == ["A", "B", "C"]
    assert spec.errors == []


def test_number_polls_offer_the_range():
    (spec,) = poll_markup.extract("[poll type=number min=0 max=10 step=5]\n[/poll]")
    assert [text for _id, text in spec.options] == ["0", "5", "10"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ("[poll]\n[/poll]", "needs at least one option"),
        ("[poll]\n* A\n* a\n[/poll]", "same option twice"),
        ("[poll]\n* A\n[/poll]\n[poll]\n* B\n[/poll]", "Two polls are named"),
        ("[poll type=multiple min=3]\n* A\n* B\n[/poll]", "1 ≤ min ≤ max"),
        ("[poll type=ranked]\n* A\n[/poll]", "regular, multiple or number"),
        ("[poll close=tomorrow]\n* A\n[/poll]", "closing time"),
        ("[poll type=number min=5 max=1]\n[/poll]", "min must be below"),
    ],
)
def test_bad_markup_is_refused_with_the_text_kept(raw, message):
    author = OfficialFactory()
    topic = TopicFactory()
    with pytest.raises(ValidationError) as refusal:
        services.create_reply(author, topic, raw)
    assert message in " ".join(refusal.value.messages)
    assert topic.posts.count() == 1


def test_polls_in_code_and_quotes_are_not_polls():
    raw = '```\n[poll]\n* A\n[/poll]\n```\n\n[quote="ana, post:1, topic:1"]\n[poll]\n* B\n[/poll]\n[/quote]'
    assert poll_markup.extract(raw) == []
    assert "data-poll-name" not in render(raw)


def test_the_stored_html_holds_a_static_block_for_every_reader():
    html = render(BARRIER)
    assert (
        '<div class="poll" data-poll-name="barrier"><p>Which barrier matters most in your city?</p>' in html
    )
    assert "<li>Devices</li>" in html
    assert poll_markup.BLOCK_HTML_RE.search(html)


# --- Stored with the post -----------------------------------------------------------------------


def test_a_post_stores_its_polls_and_options():
    topic = TopicFactory(raw=TWO_POLLS)
    first, tried = Poll.objects.filter(post__topic=topic).order_by("position")
    assert (first.name, tried.name, tried.type, tried.results) == ("first", "tried", "multiple", "on_vote")
    assert list(tried.options.values_list("text", flat=True)) == ["Free wifi", "Training", "Device loans"]
    assert tried.options.first().digest == poll_markup.option_id("Free wifi")


def test_editing_keeps_votes_while_the_options_stay():
    poll = make_poll()
    voter = OfficialFactory()
    services.vote(voter, poll, ids(poll, "Skills"))
    post = poll.post
    services.edit_post(post.author, post, BARRIER.replace("matters most", "matters the most"))
    poll.refresh_from_db()
    assert poll.title == "Which barrier matters the most in your city?"
    assert poll.voters_count == 1
    with pytest.raises(ValidationError, match="can no longer"):
        services.edit_post(post.author, post, BARRIER.replace("* Devices", "* Phones"))
    moderator = ModeratorFactory()
    services.edit_post(moderator, post, BARRIER.replace("* Skills", "* Digital skills"))
    poll.refresh_from_db()
    assert poll.voters_count == 0
    assert not PollVote.objects.filter(poll=poll).exists()


def test_removing_a_poll_without_votes_deletes_it():
    poll = make_poll()
    services.edit_post(poll.post.author, poll.post, "No poll after all, tell us in words.")
    assert not Poll.objects.filter(pk=poll.pk).exists()


# --- Voting -------------------------------------------------------------------------------------


def test_vote_change_and_withdraw_keep_exact_counts():
    poll = make_poll()
    ana, ben = OfficialFactory(), OfficialFactory()
    services.vote(ana, poll, ids(poll, "Skills"))
    services.vote(ben, poll, ids(poll, "Skills"))
    services.vote(ana, poll, ids(poll, "Devices"))
    counts = dict(poll.options.values_list("text", "votes_count"))
    assert counts == {"Cost of access": 0, "Skills": 1, "Devices": 1}
    poll.refresh_from_db()
    assert poll.voters_count == 2
    services.withdraw_vote(ana, poll)
    poll.refresh_from_db()
    assert poll.voters_count == 1
    assert dict(poll.options.values_list("text", "votes_count"))["Devices"] == 0


def test_multiple_choice_respects_min_and_max():
    poll = make_poll(TWO_POLLS, "tried")
    voter = OfficialFactory()
    with pytest.raises(ValidationError, match="between 1 and 2"):
        services.vote(voter, poll, ids(poll, "Free wifi", "Training", "Device loans"))
    assert services.vote(voter, poll, ids(poll, "Training", "Free wifi")) == ids(
        poll, "Free wifi", "Training"
    )
    poll.refresh_from_db()
    assert poll.voters_count == 1


@pytest.mark.parametrize("options", [[], ["0" * 32], None])
def test_a_regular_poll_takes_exactly_one_known_option(options):
    poll = make_poll()
    chosen = ids(poll, "Skills", "Devices") if options is None else options
    with pytest.raises(ValidationError):
        services.vote(OfficialFactory(), poll, chosen)
    assert not PollVote.objects.exists()


def test_members_vote_only_when_the_settings_say_so(settings):
    poll = make_poll()
    member = UserFactory()
    with pytest.raises(PermissionDenied, match="verified officials"):
        services.vote(member, poll, ids(poll, "Skills"))
    settings.POLLS_MEMBERS_MAY_VOTE = True
    services.vote(member, poll, ids(poll, "Skills"))
    assert PollVote.objects.filter(user=member).exists()


def test_a_poll_closes_by_its_time_with_no_worker():
    poll = make_poll(BARRIER.replace("public=true", "close=2020-01-01T00:00:00Z"))
    assert poll.status == PollStatus.OPEN and poll.is_closed()
    with pytest.raises(PermissionDenied, match="closed"):
        services.vote(OfficialFactory(), poll, ids(poll, "Skills"))


def test_moderators_close_and_reopen_with_a_log_entry():
    poll = make_poll()
    moderator, official = ModeratorFactory(), OfficialFactory()
    with pytest.raises(PermissionDenied):
        services.set_poll_status(poll, PollStatus.CLOSED, by=official)
    services.set_poll_status(poll, PollStatus.CLOSED, by=moderator)
    with pytest.raises(PermissionDenied, match="closed"):
        services.vote(official, poll, ids(poll, "Skills"))
    with pytest.raises(PermissionDenied, match="closed"):
        services.withdraw_vote(official, poll)
    services.set_poll_status(poll, PollStatus.OPEN, by=moderator)
    services.vote(official, poll, ids(poll, "Skills"))
    actions = list(ModerationLogEntry.objects.order_by("pk").values_list("action", "actor", "post"))
    assert actions == [
        (ModerationAction.POLL_CLOSE, moderator.pk, poll.post_id),
        (ModerationAction.POLL_OPEN, moderator.pk, poll.post_id),
    ]


def test_an_archived_topic_takes_no_votes():
    poll = make_poll()
    services.archive_topic(poll.post.topic, by=ModeratorFactory())
    with pytest.raises(PermissionDenied, match="archived"):
        services.vote(OfficialFactory(), Poll.objects.get(pk=poll.pk), ids(poll, "Skills"))


def test_votes_are_published_after_commit_with_ids_only(django_capture_on_commit_callbacks):
    poll = make_poll()
    channel = f"/topic/{poll.post.topic_id}"
    cursor = live.last_id(channel)
    with django_capture_on_commit_callbacks(execute=True):
        services.vote(OfficialFactory(), poll, ids(poll, "Skills"))
    with django_capture_on_commit_callbacks(execute=True):
        services.set_poll_status(poll, PollStatus.CLOSED, by=ModeratorFactory())
    found, _gap = live.read_after(channel, cursor)
    data = {"post_id": poll.post_id, "number": 1, "poll_name": "barrier"}
    assert [(event.event, event.data) for event in found] == [("poll_voted", data), ("poll_status", data)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_count_each_person_once():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises every writer, so there is no race to test")
    poll = make_poll()
    people = [OfficialFactory() for _ in range(12)]
    skills, devices = ids(poll, "Skills", "Devices")
    barrier = threading.Barrier(len(people) * 2)
    errors: list[BaseException] = []

    def cast(person, option):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.vote(person, Poll.objects.get(pk=poll.pk), [option])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            thread_connection.close()

    # Each person votes twice at once (a double click on two options): one vote each survives.
    threads = [threading.Thread(target=cast, args=(p, o)) for p in people for o in (skills, devices)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    poll.refresh_from_db()
    assert poll.voters_count == len(people) == PollVote.objects.filter(poll=poll).count()
    assert sum(poll.options.values_list("votes_count", flat=True)) == len(people)


# --- Pages --------------------------------------------------------------------------------------


def test_each_reader_sees_their_own_vote_in_a_shared_post(client):
    poll = make_poll()
    ana, ben = OfficialFactory(), OfficialFactory()
    services.vote(ana, poll, ids(poll, "Skills"))
    url = poll.post.topic.get_absolute_url()
    client.force_login(ana)
    page = client.get(url).content.decode()
    assert f'value="{ids(poll, "Skills")[0]}" checked' in page
    assert "Change my vote" in page and "your vote" in page
    client.force_login(ben)  # the post's body now comes from the shared cache
    page = client.get(url).content.decode()
    assert " checked" not in page.split('id="poll-')[1].split("</section>")[0]
    assert "your vote" not in page
    assert ">Vote</button>" in page
    assert "1 vote, 33%" not in page and "1 vote, 100%" in page
    client.logout()
    page = client.get(url).content.decode()
    assert "Sign in to vote." in page and "1 vote, 100%" in page


def test_a_reply_to_a_poll_shows_the_answered_poll_static(client):
    poll = make_poll(BARRIER.replace("name=barrier", "name=poll"), name="poll")
    topic = poll.post.topic
    services.create_reply(OfficialFactory(), topic, "Context first.")
    other = services.create_reply(OfficialFactory(), topic, "[poll]\n* Other\n[/poll]")
    # A poll named like the one of the post it answers, which shows above it.
    services.create_reply(OfficialFactory(), topic, "[poll]\n* Mine\n[/poll]", reply_to=other)
    client.force_login(OfficialFactory())
    page = client.get(topic.get_absolute_url()).content.decode()
    assert page.count('<section class="poll"') == 3  # each poll once, in its own post
    assert (
        '<div class="poll" data-poll-name="poll"><ul><li>Other</li></ul></div>' in page
    )  # quoted above the answer


def test_public_polls_name_voters_with_their_organisation(client):
    poll = make_poll()
    ana = OfficialFactory(display_name="Ana Ruiz")
    services.vote(ana, poll, ids(poll, "Devices"))
    page = client.get(poll.post.topic.get_absolute_url()).content.decode()
    assert "Ana Ruiz" in page and ana.organisation.display_name in page
    voters = client.get(f"/posts/{poll.post_id}/polls/barrier/voters")
    assert voters.status_code == 200 and "Ana Ruiz" in voters.content.decode()


def test_private_polls_show_counts_only(client):
    poll = make_poll(BARRIER.replace(" public=true", ""))
    services.vote(OfficialFactory(display_name="Ana Ruiz"), poll, ids(poll, "Devices"))
    page = client.get(poll.post.topic.get_absolute_url()).content.decode()
    assert "1 vote, 100%" in page and "Ana Ruiz" not in page
    assert client.get(f"/posts/{poll.post_id}/polls/barrier/voters").status_code == 403


def test_on_vote_results_show_after_voting(client):
    poll = make_poll(TWO_POLLS, "tried")
    official = OfficialFactory()
    client.force_login(official)
    url = f"/posts/{poll.post_id}/polls/tried"
    assert "Vote to see the results." in client.get(url).content.decode()
    client.post(url + "/vote", {"options": ids(poll, "Training")})
    assert "1 vote, 100%" in client.get(url).content.decode()


def test_an_anonymous_page_with_a_poll_stays_cacheable(client):
    poll = make_poll()
    url = poll.post.topic.get_absolute_url()
    assert "Sign in to vote." in client.get(url).content.decode()
    again = client.get(url)
    assert again["X-Page-Cache"] == "hit" and "Sign in to vote." in again.content.decode()
    services.vote(OfficialFactory(), poll, ids(poll, "Skills"))  # a vote drops the copy
    fresh = client.get(url)
    assert not fresh.has_header("X-Page-Cache") and "1 vote, 100%" in fresh.content.decode()


def test_the_form_works_without_javascript(client):
    poll = make_poll()
    client.force_login(OfficialFactory())
    response = client.post(f"/posts/{poll.post_id}/polls/barrier/vote", {"options": ids(poll, "Skills")})
    assert response.status_code == 302
    assert response["Location"].endswith(f"#poll-{poll.post_id}-barrier")
    assert "Your vote is counted." in client.get(response["Location"]).content.decode()
    response = client.post(f"/posts/{poll.post_id}/polls/barrier/vote", {}, follow=True)
    assert "Choose an option before voting." in response.content.decode()
    assert PollVote.objects.count() == 1


def test_htmx_gets_the_block_back_with_any_refusal(client):
    poll = make_poll()
    client.force_login(OfficialFactory())
    url = f"/posts/{poll.post_id}/polls/barrier/vote"
    response = client.post(url, {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'role="alert">Choose an option before voting.' in response.content.decode()
    response = client.post(url, {"options": ids(poll, "Skills")}, HTTP_HX_REQUEST="true")
    assert 'class="poll' in response.content.decode() and "Withdraw my vote" in response.content.decode()
    withdrawn = client.post(f"/posts/{poll.post_id}/polls/barrier/withdraw", HTTP_HX_REQUEST="true")
    assert ">Vote</button>" in withdrawn.content.decode()


def test_moderators_see_close_and_presenter_buttons(client):
    poll = make_poll()
    client.force_login(ModeratorFactory())
    page = client.get(poll.post.topic.get_absolute_url()).content.decode()
    assert "Close the poll" in page and "/polls/barrier/present?post=1" in page
    response = client.post(f"/posts/{poll.post_id}/polls/barrier/status", {"status": "closed"}, follow=True)
    assert "The poll is closed." in response.content.decode()
    assert "Reopen the poll" in response.content.decode()


def test_the_presenter_view_shows_results_without_chrome(client):
    poll = make_poll()
    services.vote(OfficialFactory(), poll, ids(poll, "Skills"))
    topic = poll.post.topic
    response = client.get(f"/t/{topic.slug}/{topic.pk}/polls/barrier/present")
    page = response.content.decode()
    assert response.status_code == 200
    assert "site-header" not in page
    assert f'data-live-channels="/topic/{topic.pk}"' in page
    assert "Which barrier matters most in your city?" in page and "1 vote, 100%" in page
    partial = client.get(f"/t/{topic.slug}/{topic.pk}/polls/barrier/present?post=1", HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div class="poll-present-body"')
    assert client.get(f"/t/{topic.slug}/{topic.pk}/polls/nothing/present").status_code == 404


def test_a_topic_with_polls_keeps_a_fixed_query_count(client, settings):
    """Polls cost three queries per page (options, my votes, public voters), whatever their number."""
    settings.PAGE_CACHE_SIGNED_IN = False  # the cost of rendering the page, not of the reader's copy
    official = OfficialFactory()
    plain = TopicFactory()
    one = TopicFactory(raw=BARRIER)
    many = TopicFactory(raw=TWO_POLLS)
    services.create_reply(official, many, BARRIER)
    for poll in Poll.objects.all():
        services.vote(official, poll, [poll.options.first().digest])
    client.force_login(official)
    counts = {}
    for name, topic in {"plain": plain, "one": one, "many": many}.items():
        url = topic.get_absolute_url()
        client.get(url)  # warm the shared fragments and the page's read position
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts[name] = len(queries)
    assert counts["one"] == counts["many"] == counts["plain"] + 3


def test_a_poll_closes_on_cached_anonymous_pages_at_its_time(client, settings):
    import time_machine

    # An in-process cache, whose expiry follows the travelling clock (Redis keeps real time).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    soon = timezone.now() + timedelta(seconds=30)
    poll = make_poll(BARRIER.replace("public=true", f"close={soon.isoformat()}"))
    url = poll.post.topic.get_absolute_url()
    assert "Closes" in client.get(url).content.decode() and "(UTC)" in client.get(url).content.decode()
    assert client.get(url)["X-Page-Cache"] == "hit"
    with time_machine.travel(soon + timedelta(seconds=1)):
        page = client.get(url)
        assert not page.has_header("X-Page-Cache")  # the copy was kept until the closing time only
        assert "<strong>Closed</strong>" in page.content.decode()


def test_polls_of_topics_lists_them_for_the_control_room():
    poll = make_poll()
    found = polls.polls_of_topics([poll.post.topic_id])
    assert [p.name for p in found] == ["barrier"]


@pytest.mark.parametrize("voters", [1, 6])
def test_poll_pages_have_a_fixed_query_budget(client, django_assert_num_queries, voters):
    poll = make_poll()
    for _ in range(voters):
        services.vote(OfficialFactory(), poll, ids(poll, "Skills"))
    topic = poll.post.topic
    client.force_login(OfficialFactory())
    # Each: the person (the session is signed), the poll, its options, the reader's votes, the
    # first voters of each option; the block reads its post again (with topic and category), the
    # presenter view reads the topic first, the voters page reads a page of votes and counts them.
    budgets = {
        f"/posts/{poll.post_id}/polls/barrier": 6,
        f"/t/{topic.slug}/{topic.pk}/polls/barrier/present": 6,
        f"/posts/{poll.post_id}/polls/barrier/voters": 7,
    }
    for url, budget in budgets.items():
        client.get(url)
        with django_assert_num_queries(budget):
            assert client.get(url).status_code == 200
