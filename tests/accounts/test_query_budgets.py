"""Directory, organisation and profile pages cost the same number of queries whatever the data size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import OfficialFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def officials(n, organisation=None):
    for i in range(n):
        person = OfficialFactory(
            organisation=organisation or OrganisationFactory(),
            languages=["en", "es"],
            display_name=f"Person {i}",
        )
        person.expertise.add(f"topic {i}", "open data")


def count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("signed_in", [False, True])
def test_directory_budget(client, django_assert_num_queries, signed_in):
    if signed_in:
        client.force_login(OfficialFactory())
    officials(2)
    small = count(client, "/u/?language=en")
    officials(8)
    with django_assert_num_queries(small):
        client.get("/u/?language=en")
    assert small <= (12 if signed_in else 8)


def test_organisation_pages_budget(client, django_assert_num_queries):
    city = OrganisationFactory(slug="toronto")
    officials(2, city)
    small_list, small_detail = count(client, "/organisations/"), count(client, "/organisations/toronto/")
    officials(8, city)
    OrganisationFactory.create_batch(5)
    with django_assert_num_queries(small_list):
        client.get("/organisations/")
    with django_assert_num_queries(small_detail):
        client.get("/organisations/toronto/")
    assert small_list <= 2 and small_detail <= 5


def test_profile_budget(client, django_assert_num_queries):
    person = OfficialFactory()
    person.expertise.add("a")
    small = count(client, f"/u/{person.username}")
    person.expertise.add(*[f"tag {i}" for i in range(10)])
    with django_assert_num_queries(small):
        client.get(f"/u/{person.username}")
    assert small <= 3


def pending_requests(n):
    from accounts import services
    from tests.factories import UserFactory

    for _ in range(n):
        services.request_verification(
            UserFactory(),
            position="Clerk",
            organisation=OrganisationFactory(),
            evidence=services.Evidence(url="https://a.example"),
        )


@pytest.mark.parametrize(
    ("role", "url"), [("moderator", "/review/verifications"), ("staff", "/review/verifications/audit")]
)
def test_review_queue_and_audit_budget(client_as, django_assert_num_queries, role, url):
    client = client_as(role)
    pending_requests(2)
    small = count(client, url)
    pending_requests(8)
    with django_assert_num_queries(small):
        client.get(url)
    assert small <= 12
