"""An official follows a topic closely: the watching control on the topic page (htmx, and the
same form without it), then the list of what they watch. Every page passes the axe-core audit."""

import pytest

from forum.models import TopicWatch, WatchLevel
from tests.browser_fixtures import audit, sign_in
from tests.factories import OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_official_watches_a_topic_and_finds_it_in_the_list(page, live_server):
    topic = TopicFactory(title="Sharing ICT procurement templates between cities")
    eve = OfficialFactory(display_name="Eve Lagos")
    sign_in(page, live_server.url, eve)

    page.goto(topic.get_absolute_url())
    control = page.locator("#watch-control")
    control.locator("summary").click()
    assert "Notifications: Normal" in control.locator("summary").inner_text()
    audit(page)

    page.get_by_label("Watching").check()
    control.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved: Watching.").wait_for()
    assert page.url.endswith(topic.get_absolute_url())  # swapped in place, no reload
    assert TopicWatch.objects.get(user=eve, topic=topic).level == WatchLevel.WATCHING

    page.get_by_role("link", name="Everything you watch").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "What you watch"
    audit(page)
    page.get_by_label(f"Level for {topic.title}").select_option("muted")
    page.get_by_role("row", name=topic.title).get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert "Notification level saved: Muted." in page.content()
    assert TopicWatch.objects.get(user=eve, topic=topic).level == WatchLevel.MUTED
