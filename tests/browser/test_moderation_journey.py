"""Three officials flag a spam reply: it is hidden at once; a moderator handles it from the review
queue, highlights a contribution, writes a summary, and the secretariat reads the digest and the
insights. Every page passes the axe-core audit."""

import pytest

from forum import services
from forum.models import FlagReason, PostState
from tests.browser_fixtures import audit, sign_in
from tests.conftest import make_user
from tests.factories import OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_moderator_handles_a_flag_from_the_review_queue(page, live_server):
    topic = TopicFactory(title="Which are the challenges of ICTs in metropolitan spaces?")
    answer = services.create_reply(
        OfficialFactory(display_name="Claudio Beato", position="Municipal Secretary"),
        topic,
        "Unequal access to digital technologies is one of the most difficult challenges.",
    )
    spam = services.create_reply(OfficialFactory(), topic, "Buy cheap watches today")
    for _ in range(3):
        services.flag_post(OfficialFactory(), spam, FlagReason.SPAM)
    spam.refresh_from_db()
    assert spam.state == PostState.HIDDEN

    moderator = make_user("moderator")
    sign_in(page, live_server.url, moderator)
    page.goto("/review/")
    assert page.locator("h1").inner_text() == "Review queue"
    item = page.locator("article.review-item").first
    assert "Buy cheap watches today" in item.inner_text()
    audit(page)
    item.get_by_role("button", name="Claim").click()
    page.wait_for_load_state()
    assert "You have claimed this item" in page.locator(".messages").inner_text()
    page.get_by_label("Reason the author will see (optional)").fill("Advertising is not allowed here.")
    page.get_by_role("button", name="Agree: keep it hidden").click()
    page.wait_for_load_state()
    assert "Nothing is waiting for review." in page.content()
    audit(page)
    spam.refresh_from_db()
    assert spam.state == PostState.HIDDEN and spam.hidden_reason == "Advertising is not allowed here."

    page.goto(topic.get_absolute_url())
    page.locator(f"#post-{answer.number}").get_by_role(
        "button", name=f"Highlight post {answer.number}"
    ).click()
    page.wait_for_load_state()
    assert "Key contributions" in page.locator(".highlights").inner_text()
    audit(page)
    page.get_by_text("Moderator actions").click()
    page.get_by_role("link", name="Write the summary").click()
    page.get_by_label("Summary (Markdown), shown above the first post").fill("Access is the first challenge.")
    page.get_by_role("button", name="Save the summary").click()
    page.wait_for_load_state()
    assert "Access is the first challenge." in page.locator(".topic-summary").inner_text()

    page.goto(f"/t/{topic.slug}/{topic.pk}/digest")
    assert "Claudio Beato" in page.locator(".digest").inner_text()
    audit(page)

    # The digest of the whole category over a period: linked from the category page.
    page.goto(topic.category.get_absolute_url())
    page.get_by_role("link", name="Who said what: the digest of this category").click()
    page.wait_for_load_state()
    assert "Claudio Beato" in page.locator(".digest").inner_text()
    audit(page)
    page.get_by_label("From").fill("2030-01-31")
    page.get_by_label("To").fill("2030-01-01")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state()
    assert "comes after the last day" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("From").input_value() == "2030-01-31"
    audit(page)


def test_staff_pages_pass_the_audit(page, live_server):
    topic = TopicFactory()
    moderator = make_user("moderator")
    services.close_topic(topic, by=moderator)
    sign_in(page, live_server.url, make_user("staff"))
    for url in (
        "/review/log",
        "/insights/",
        f"/review/people/{topic.author.username}",
        f"/t/{topic.pk}/surgery",
    ):
        page.goto(url)
        audit(page)
    page.goto(f"/posts/{topic.posts.get(number=1).pk}/flag")
    audit(page)


def test_a_moderator_opens_insights_the_log_and_schedules_from_the_composer(page, live_server):
    moderator = make_user("moderator")
    topic = TopicFactory()
    services.close_topic(topic, by=moderator)
    sign_in(page, live_server.url, moderator)
    for url in ("/review/log", "/insights/", "/bookmarks"):
        page.goto(url)
        assert "You cannot open this page" not in page.content()
        audit(page)
    page.goto("/new-topic")
    page.get_by_label("Open for replies at (UTC)").fill("2030-05-17T14:00")
    page.get_by_label("Title").fill("When does your city publish its budget data?")
    page.get_by_label("Your first post (Markdown)").fill("Scheduled from the composer for the webinar.")
    audit(page)
    page.get_by_role("button", name="Start the topic").click()
    page.get_by_text("Opens for replies May 17, 2030, 2 p.m. (UTC)").wait_for()
    audit(page)
