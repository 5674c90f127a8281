"""Passwords are kept with Argon2id at OWASP's parameters (accounts/hashers.py); passwords kept
before with PBKDF2 still sign in, and are kept anew with Argon2id at that sign-in."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from accounts.models import User
from config.settings import base
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-passphrase-42"
ARGON2ID_OWASP = "argon2$argon2id$v=19$m=19456,t=2,p=1$"


@pytest.fixture(autouse=True)
def _production_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_a_new_account_keeps_its_password_with_argon2id():
    response = Client().post(
        "/accounts/signup/",
        {
            "email": "new.official@cityhall.example",
            "username": "new_official",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "display_name": "New Official",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new_official")
    assert user.password.startswith(ARGON2ID_OWASP)
    assert user.check_password(PASSWORD) and not user.check_password(PASSWORD + "x")


def test_a_password_kept_with_pbkdf2_still_signs_in_and_is_kept_anew():
    user = UserFactory(email="mayor@cityhall.example")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    guesser = Client()
    wrong = guesser.post("/accounts/login/", {"login": "mayor@cityhall.example", "password": "not-it-at-all"})
    assert wrong.status_code == 200 and "_auth_user_id" not in guesser.session
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")  # a wrong password changes nothing

    client = Client()
    response = client.post("/accounts/login/", {"login": "mayor@cityhall.example", "password": PASSWORD})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.password.startswith(ARGON2ID_OWASP)
    assert (
        Client()
        .post("/accounts/login/", {"login": "mayor@cityhall.example", "password": PASSWORD})
        .status_code
        == 302
    )
