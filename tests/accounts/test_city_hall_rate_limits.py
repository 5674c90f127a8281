"""A city hall's officials sign up and sign in from one address; guessing one account is still stopped."""

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"
CITY_HALL_IP = "203.0.113.10"


def test_a_delegation_behind_one_address_can_all_sign_up():
    # Well past the old limit of 10 a minute per address.
    for n in range(40):
        client = Client(REMOTE_ADDR=CITY_HALL_IP)
        response = client.post(
            "/accounts/signup/",
            {
                "email": f"official{n}@cityhall.example",
                "username": f"official{n}",
                "password1": PASSWORD,
                "password2": PASSWORD,
                "display_name": f"Official {n}",
            },
        )
        assert response.status_code == 302, n
    assert User.objects.filter(email__endswith="@cityhall.example").count() == 40


def test_officials_behind_one_address_can_all_sign_in():
    for n in range(40):
        UserFactory(email=f"colleague{n}@cityhall.example", password=PASSWORD)
    for n in range(40):
        client = Client(REMOTE_ADDR=CITY_HALL_IP)
        response = client.post(
            "/accounts/login/", {"login": f"colleague{n}@cityhall.example", "password": PASSWORD}
        )
        assert response.status_code == 302, n
        assert "_auth_user_id" in client.session


def test_guessing_one_accounts_password_is_stopped():
    UserFactory(email="mayor@cityhall.example", password=PASSWORD)
    client = Client(REMOTE_ADDR=CITY_HALL_IP)
    statuses = [
        client.post(
            "/accounts/login/", {"login": "mayor@cityhall.example", "password": f"guess-{n}"}
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200] * 5  # the form again, with an error
    # The sixth try is refused, even with the right password, and even from another address.
    other = Client(REMOTE_ADDR="198.51.100.7")
    refused = other.post("/accounts/login/", {"login": "mayor@cityhall.example", "password": PASSWORD})
    assert "Too many failed login attempts" in refused.content.decode()
    assert "_auth_user_id" not in other.session
