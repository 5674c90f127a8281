"""Drafts that survive the network: an official loses the connection mid-reply, reloads the page
with no network, finds every word, and the reply is posted once when the connection returns."""

import re

import pytest

from forum.models import Draft, Post
from tests.browser_fixtures import audit, sign_in
from tests.factories import OfficialFactory, TopicFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ONLINE_PART = "In Quito we publish every council decision as open data. "
OFFLINE_PART = "On the bus to the city hall, with no signal, I add: we also send them by SMS."


def test_a_reply_typed_offline_survives_a_reload_and_is_posted_once(page, live_server):
    topic = TopicFactory()
    official = OfficialFactory()
    sign_in(page, live_server.url, official)
    page.goto(topic.get_absolute_url())
    # The service worker takes over the page, then keeps a copy of it at the next load.
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()
    audit(page)

    composer = page.locator("#composer-raw")
    status = page.locator("#draft-status")
    composer.type(ONLINE_PART)
    page.wait_for_function("() => /Draft saved at/.test(document.getElementById('draft-status').textContent)")

    page.context.set_offline(True)
    composer.type(OFFLINE_PART)
    page.wait_for_function(
        "() => /Saved on this device; will sync/.test(document.getElementById('draft-status').textContent)"
    )
    page.get_by_role("button", name="Post reply").click()
    page.wait_for_function(
        "() => document.getElementById('draft-status').textContent.includes('You are offline')"
    )
    assert composer.input_value() == ONLINE_PART + OFFLINE_PART
    assert not Post.objects.filter(topic=topic, author=official).exists()

    # Reloaded with no network: the page comes from the service worker, the text from this device.
    page.reload()
    assert page.locator("#composer-raw").input_value() == ONLINE_PART + OFFLINE_PART
    assert "You are offline" in status.inner_text()
    audit(page)

    # Back online: the kept submit goes out by itself, once.
    page.context.set_offline(False)
    page.wait_for_url(re.compile(rf"/t/{topic.slug}/{topic.pk}/2"))
    page.get_by_text(OFFLINE_PART).wait_for()
    assert Post.objects.filter(topic=topic, author=official).count() == 1
    assert Post.objects.get(topic=topic, author=official).raw.strip() == (ONLINE_PART + OFFLINE_PART).strip()
    assert not Draft.objects.filter(user=official).exists()
    # Nothing is restored into the empty composer afterwards, and nothing is posted twice.
    page.reload()
    assert page.locator("#composer-raw").input_value() == ""
    assert Post.objects.filter(topic=topic, author=official).count() == 1
    audit(page)
