import pytest
from django.test import Client

from tests.conftest import make_user


@pytest.fixture
def key_for(db):
    """key_for(user, read_only=False, all_users=False) -> the raw key (made by the service)."""
    from api.services import create_api_key

    def make(user, **options):
        _key, raw = create_api_key(None, user, **options)
        return raw

    return make


@pytest.fixture
def api_as(db, key_for):
    """api_as("verified") -> a test client sending a fresh key of a new user of that role.

    The client's `.user` is that person; anonymous gets a client with no key.
    """

    def make(role: str, **options):
        user = make_user(role)
        if user is None:
            client = Client()
        else:
            raw = key_for(user, **options)
            client = Client(headers={"Api-Key": raw, "Api-Username": user.username})
        client.user = user
        return client

    return make
