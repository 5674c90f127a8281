"""The site's error pages pass the audit, signed in and out, on a laptop and a phone, and lead back."""

import pytest

from tests.browser_fixtures import audit, sign_in
from tests.factories import OfficialFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_the_404_page_in_french_on_a_laptop_and_a_phone(page, phone_page, live_server, signed_in):
    for tab in (page, phone_page):
        if signed_in:
            sign_in(tab, live_server.url, OfficialFactory())
        tab.context.add_cookies([{"name": "django_language", "value": "fr", "url": live_server.url}])
        response = tab.goto("/t/nope/99999")
        assert response.status == 404
        assert tab.locator("html").get_attribute("lang") == "fr"
        assert tab.locator("h1").inner_text() == "Page introuvable"
        assert tab.evaluate("document.documentElement.scrollWidth") <= tab.viewport_size["width"]
        audit(tab)
        tab.get_by_role("link", name="Aller à la page d'accueil").click()
        tab.wait_for_url(f"{live_server.url}/")
