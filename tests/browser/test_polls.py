"""Issue 19's journey in two browsers: during a live webinar a moderator posts a poll in a linked
question; an official votes on the event's live page; the presenter view in the moderator's
browser shows the new count within a second, without a reload; closing the poll stops further
votes (the official's page says so at once); the event's digest shows the final result. Every page
visited passes the axe-core audit (1280 and 360 px)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from events import banner, services
from forum.models import Poll, PollVote
from tests.browser_fixtures import audit, sign_in
from tests.conftest import make_user
from tests.factories import CategoryFactory, EventFactory, OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLL = """Before we start, a quick poll:

[poll name=barrier public=true]
# Which barrier matters most in your city?
* Cost of access
* Skills
* Devices
[/poll]"""


def _signed_in_page(browser, server, user):
    page = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(10_000)
    sign_in(page, server.url, user)
    return page


def test_a_poll_at_the_webinar_moves_on_the_projector(browser, asgi_server):
    moderator = make_user("moderator")
    question = TopicFactory(
        category=CategoryFactory(), author=moderator, title="Which barriers does your city meet?"
    )
    event = EventFactory(starts_at=timezone.now() - timedelta(minutes=1))
    services.link_forum(event, make_user("staff"), topics=[question])
    services.go_live(event, None)
    banner.refresh()
    official = OfficialFactory(display_name="Ana Ruiz")
    room = _signed_in_page(browser, asgi_server, moderator)
    seat = _signed_in_page(browser, asgi_server, official)
    try:
        # An official follows the live page; the moderator asks the room from its composer.
        seat.goto(event.get_absolute_url())
        expect(seat.locator("html")).to_have_attribute("data-live", "stream")
        room.goto(event.get_absolute_url())
        room.get_by_label("Your reply (Markdown)").fill(POLL)
        room.get_by_role("button", name="Post reply").click()
        poll_block = room.locator("section.poll", has_text="Which barrier matters most in your city?")
        expect(poll_block).to_be_visible()
        poll = Poll.objects.get(post__topic=question, name="barrier")
        room.goto(f"/t/{question.slug}/{question.pk}/polls/barrier/present?post={poll.post.number}")
        expect(room.locator("html")).to_have_attribute("data-live", "stream")
        expect(room.locator(".poll-present-bars")).to_contain_text("0 votes, 0%")
        audit(room)

        # The poll appears on the official's live page without a reload; they vote there (htmx
        # swaps the poll in place).
        block = seat.locator("section.poll")
        expect(block).to_contain_text("Which barrier matters most in your city?")
        block.get_by_label("Skills").check()
        audit(seat)
        block.get_by_role("button", name="Vote").click()
        expect(seat.locator("section.poll")).to_contain_text("1 vote, 100%")
        expect(seat.get_by_role("button", name="Change my vote")).to_be_visible()

        # The projector moves within a second, without a reload.
        skills = room.locator(".poll-present-bars li", has_text="Skills")
        expect(skills).to_contain_text("1 vote, 100%", timeout=1000)
        expect(room.locator("[data-poll-voters]")).to_have_text("1 voter")

        # Closing the poll stops further votes; the official's page learns it live.
        room.goto(event.get_absolute_url())
        room.locator("section.poll").get_by_role("button", name="Close the poll").click()
        expect(room.locator("section.poll")).to_contain_text("Closed")
        expect(seat.locator("section.poll")).to_contain_text("Closed", timeout=2000)
        expect(seat.locator("section.poll form.poll-form")).to_have_count(0)
        token = seat.evaluate("document.querySelector('[name=csrfmiddlewaretoken]').value")
        late = seat.request.post(
            f"/posts/{poll.post_id}/polls/barrier/vote",
            form={"options": poll.options.get(text="Devices").digest, "csrfmiddlewaretoken": token},
            headers={"X-CSRFToken": token, "Referer": asgi_server.url},
            max_redirects=0,
        )
        assert late.status == 403
        assert list(PollVote.objects.values_list("option__text", flat=True)) == ["Skills"]

        # The digest keeps the final result.
        room.goto(f"/events/{event.slug}/digest")
        digest = room.locator(".digest-poll")
        expect(digest).to_contain_text("Which barrier matters most in your city?")
        expect(digest).to_contain_text("1 voter, closed")
        expect(digest).to_contain_text("Skills: 1 vote, 100%")
        audit(room)
    finally:
        room.context.close()
        seat.context.close()
