"""Faces, skip to reply, the character counter, and pages the other journeys leave unaudited,
signed out and in (the audit checks WCAG 2.2 AA, target size included, at 1280 and 360 px)."""

import pytest

from forum.models import Topic
from forum.seed import seed_forum
from tests.browser_fixtures import audit, sign_in
from tests.factories import OfficialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signed_out_pages_pass_the_audit(page):
    seed_forum()
    topic = Topic.objects.get(slug="ict-challenges-opportunities")
    author = topic.author
    for url in (
        "/latest",
        topic.get_absolute_url(),
        f"/u/{author.username}",
        "/u/",
        "/search?q=internet",
        "/events/",
    ):
        page.goto(url)
        audit(page)
    # Letter avatars load as images.
    page.goto("/latest")
    face = page.locator(".topic-posters img").first
    assert face.evaluate("img => img.complete && img.naturalWidth") == 24


def test_faces_name_their_organisation_on_focus(page):
    seed_forum()
    page.goto("/latest")
    poster = page.locator(".topic-posters a.poster").first
    card = poster.locator(".poster-card")
    assert card.bounding_box()["width"] <= 1
    poster.focus()
    assert card.bounding_box()["width"] > 50
    assert card.inner_text().startswith("Opening poster: ")
    page.keyboard.press("Escape")  # dismissed without moving focus (WCAG 1.4.13)
    assert card.bounding_box()["width"] <= 1
    assert page.evaluate("document.activeElement.classList.contains('poster')")


def test_skip_to_reply_and_the_character_counter(page, live_server):
    seed_forum()
    topic = Topic.objects.get(slug="ict-challenges-opportunities")
    sign_in(page, live_server.url, OfficialFactory())
    page.goto(topic.get_absolute_url())
    audit(page)
    page.keyboard.press("Tab")  # skip to content
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Skip to reply"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "composer-raw"

    counter = page.locator("[data-char-counter=composer-raw] .char-counter-text")
    assert counter.is_visible()
    assert counter.inner_text() == "Characters left: 32,000"
    page.keyboard.type("Hello")
    assert counter.inner_text() == "Characters left: 31,995"
    page.locator("#composer-raw").fill("x" * 31_950)
    assert counter.inner_text() == "Characters left: 50"
    assert (
        page.locator("[data-char-counter=composer-raw] [role=status]").inner_text() == "Characters left: 50"
    )
    page.locator("#composer-raw").fill("x" * 32_010)
    assert counter.inner_text() == "Characters over the limit: 10"
    assert page.locator("#composer-raw").get_attribute("aria-invalid") == "true"
    audit(page)


def test_sign_in_notifications_and_tag_pages_pass_the_audit(page, live_server):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import ModeratorFactory

    seed_forum()
    page.goto("/accounts/login/")
    audit(page)
    page.context.add_cookies([{"name": "django_language", "value": "es", "url": live_server.url}])
    page.goto("/tag/digital-divide")
    assert page.locator("h1").inner_text() == "Temas con la etiqueta Brecha digital"
    assert page.locator("a.tag", has_text="#Brecha digital").count() >= 1
    audit(page)
    page.context.clear_cookies()

    sign_in(page, live_server.url, OfficialFactory())
    page.goto("/notifications")
    audit(page)

    moderator = ModeratorFactory()
    TOTP.activate(moderator, generate_totp_secret())
    page.context.clear_cookies()
    sign_in(page, live_server.url, moderator)
    page.goto("/tag/digital-divide")
    page.get_by_role("link", name="Name this tag in each language").click()
    page.wait_for_load_state()
    audit(page)
    page.get_by_label("Name in French").fill("Fracture numérique (FR)")
    page.get_by_role("button", name="Save the names").click()
    page.wait_for_load_state()
    assert page.get_by_label("Name in French").input_value() == "Fracture numérique (FR)"
    audit(page)
