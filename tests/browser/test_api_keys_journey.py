import re

import pytest
import requests

from tests.browser_fixtures import audit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_make_a_key_on_a_phone_use_it_then_revoke_it(phone_page, live_server):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from tests.factories import DEFAULT_PASSWORD, OfficialFactory, StaffFactory

    staff = StaffFactory(email="secretariat@metropolis.example")
    OfficialFactory(username="harare_ict")
    page = phone_page
    page.goto("/accounts/login/")
    page.locator("#id_login").fill(staff.email)
    page.locator("#id_password").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    TOTP.activate(staff, generate_totp_secret())

    page.goto("/api/keys/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(page)
    # A mistake keeps what was typed.
    page.get_by_label("Username the key acts as").fill("harare-ict")
    page.get_by_label("Description (what the key is for)").fill("Weekly digest script")
    page.get_by_role("button", name="Create the key").click()
    page.get_by_text("No one has this username.").wait_for()
    assert page.get_by_label("Description (what the key is for)").input_value() == "Weekly digest script"
    audit(page)

    page.get_by_label("Username the key acts as").fill("harare_ict")
    page.get_by_role("button", name="Create the key").click()
    page.get_by_text("Copy it now").wait_for()
    key = page.locator("#new-key").input_value()
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    audit(page)

    answer = requests.get(
        f"{live_server.url}/session/current.json",
        headers={"Api-Key": key, "Api-Username": "harare_ict"},
        timeout=10,
    )
    assert answer.json()["current_user"]["username"] == "harare_ict"

    page.goto("/api/keys/")
    assert key not in page.content()
    page.get_by_role("button", name=f"Revoke the key {key[:4]}").click()
    page.get_by_text("The key is revoked").wait_for()
    audit(page)
    again = requests.get(f"{live_server.url}/session/current.json", headers={"Api-Key": key}, timeout=10)
    assert again.status_code == 403
