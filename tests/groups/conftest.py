import pytest


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Forum tests make many people; the real hasher would spend most of the run hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
