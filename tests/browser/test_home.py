import pytest

from tests.browser_fixtures import audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_in_english_then_spanish_passes_the_audit(page):
    page.goto("/")
    assert page.title() == "Latest topics · Metropolis Peer Learning Forum"
    audit(page)

    page.select_option("#language-select", "es")
    page.get_by_role("button", name="Change language").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "es"
    assert "Foro de aprendizaje entre pares de Metropolis" in page.title()
    audit(page)


def test_home_page_is_usable_at_360_px(phone_page):
    phone_page.goto("/")
    width = phone_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    audit(phone_page)
