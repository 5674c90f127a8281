"""API keys: stored hashed, shown once, scoped, revocable, acting as one person or (staff) as anyone."""

import hashlib
import re
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.test import Client

from api import services
from api.models import ApiKey
from tests.conftest import make_user
from tests.factories import OfficialFactory, StaffFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db

INVALID = "You are not permitted to view the requested resource. The API username or key is invalid."


def get_as(path, key, username=None):
    headers = {"Api-Key": key}
    if username is not None:
        headers["Api-Username"] = username
    return Client(headers=headers).get(path)


def test_a_key_is_64_hex_characters_and_only_its_sha256_is_stored():
    person = OfficialFactory()
    key, raw = services.create_api_key(None, person, description="digest bot")
    assert re.fullmatch(r"[0-9a-f]{64}", raw)
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.key_hash, stored.truncated_key, stored.description}
    assert stored.truncated_key == raw[:4]


def test_only_staff_make_keys_and_only_staff_keys_act_as_anyone():
    member = UserFactory()
    with pytest.raises(PermissionDenied):
        services.create_api_key(OfficialFactory(), member)
    with pytest.raises(ValidationError):
        services.create_api_key(None, OfficialFactory(), all_users=True)
    services.create_api_key(StaffFactory(), member)


def test_a_key_acts_as_its_person_with_or_without_api_username():
    person = OfficialFactory()
    _key, raw = services.create_api_key(None, person)
    for username in (None, person.username):
        response = get_as("/session/current.json", raw, username)
        assert response.status_code == 200
        assert response.json()["current_user"]["username"] == person.username


def test_one_persons_key_cannot_act_as_another():
    person, other = OfficialFactory(), OfficialFactory()
    _key, raw = services.create_api_key(None, person)
    response = get_as("/session/current.json", raw, other.username)
    assert response.status_code == 403
    assert response.json() == {"errors": [INVALID], "error_type": "invalid_access"}


def test_a_wrong_key_and_a_wrong_username_get_the_same_answer():
    person = OfficialFactory()
    _key, raw = services.create_api_key(None, person)
    wrong_key = get_as("/latest.json", "0" * 64, person.username)
    wrong_user = get_as("/latest.json", raw, "nobody-at-all")
    short_key = get_as("/latest.json", "abc", person.username)
    assert wrong_key.status_code == wrong_user.status_code == short_key.status_code == 403
    assert wrong_key.content == wrong_user.content == short_key.content
    assert wrong_key["Content-Type"] == "application/json; charset=utf-8"


def test_a_revoked_key_stops_working_at_once():
    person = OfficialFactory()
    key, raw = services.create_api_key(None, person)
    assert get_as("/latest.json", raw).status_code == 200
    services.revoke_api_key(None, key)
    assert get_as("/latest.json", raw).status_code == 403


def test_an_inactive_persons_key_stops_working():
    person = OfficialFactory()
    _key, raw = services.create_api_key(None, person)
    person.is_active = False
    person.save()
    assert get_as("/latest.json", raw).status_code == 403


def test_a_staff_all_users_key_acts_as_the_person_named():
    staff, official = StaffFactory(), OfficialFactory()
    _key, raw = services.create_api_key(None, staff, all_users=True)
    assert get_as("/session/current.json", raw, official.username).json()["current_user"]["id"] == official.pk
    assert get_as("/session/current.json", raw).json()["current_user"]["id"] == staff.pk
    assert get_as("/session/current.json", raw, "nobody-at-all").status_code == 403


def test_an_all_users_key_stops_when_its_owner_is_no_longer_staff():
    staff, official = StaffFactory(), OfficialFactory()
    _key, raw = services.create_api_key(None, staff, all_users=True)
    staff.is_staff = False
    staff.save()
    assert get_as("/session/current.json", raw, official.username).status_code == 403


def test_last_used_time_is_recorded():
    person = OfficialFactory()
    key, raw = services.create_api_key(None, person)
    assert key.last_used_at is None
    get_as("/latest.json", raw)
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_create_api_key_prints_the_key_as_its_last_line():
    person = OfficialFactory(username="harare_ict")
    out = StringIO()
    call_command("create_api_key", "harare_ict", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert re.fullmatch(r"[0-9a-f]{64}", raw)
    response = get_as("/session/current.json", raw, "harare_ict")
    assert response.json()["current_user"]["id"] == person.pk


def test_create_api_key_options():
    StaffFactory(username="secretariat")
    OfficialFactory(username="bot_owner")
    out = StringIO()
    call_command("create_api_key", "bot_owner", "--read-only", stdout=out)
    assert ApiKey.objects.get(user__username="bot_owner").read_only
    call_command("create_api_key", "secretariat", "--all-users", stdout=out)
    assert ApiKey.objects.get(user__username="secretariat").all_users
    with pytest.raises(CommandError):
        call_command("create_api_key", "bot_owner", "--all-users", stdout=out)
    with pytest.raises(CommandError):
        call_command("create_api_key", "nobody-at-all", stdout=out)


# --- The staff page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role, status",
    [
        ("anonymous", 302),
        ("member", 403),
        ("verified", 403),
        ("moderator", 403),
        ("staff", 200),
        ("silenced", 403),
        ("suspended", 403),
    ],
)
def test_key_page_permission_matrix(client_as, role, status):
    client = client_as(role)
    response = client.get("/api/keys/")
    assert response.status_code == status
    if role == "anonymous":
        assert "/accounts/login/" in response["Location"]


def test_staff_without_mfa_are_sent_to_enrol(client):
    client.force_login(StaffFactory())
    response = client.get("/api/keys/")
    assert response.status_code == 302
    assert "totp" in response["Location"]


def test_staff_create_a_key_on_the_page_and_see_it_once(client_as):
    client = client_as("staff")
    official = OfficialFactory(username="toronto_bot")
    response = client.post("/api/keys/", {"username": "toronto_bot", "description": "Weekly digest"})
    assert response.status_code == 200
    raw = re.search(r'value="([0-9a-f]{64})"', response.content.decode()).group(1)
    assert get_as("/session/current.json", raw).json()["current_user"]["id"] == official.pk
    listing = client.get("/api/keys/").content.decode()
    assert "Weekly digest" in listing
    assert raw not in listing


def test_a_mistake_on_the_page_keeps_what_was_typed(client_as):
    client = client_as("staff")
    response = client.post("/api/keys/", {"username": "no-such-person", "description": "Weekly digest"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "No one has this username." in page
    assert 'value="Weekly digest"' in page
    assert 'value="no-such-person"' in page
    assert not ApiKey.objects.exists()


def test_staff_revoke_a_key_on_the_page(client_as):
    client = client_as("staff")
    key, raw = services.create_api_key(None, OfficialFactory())
    response = client.post(f"/api/keys/{key.pk}/revoke")
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert key.revoked_by == client.user
    assert get_as("/latest.json", raw).status_code == 403


def test_a_member_cannot_revoke_a_key(client_as):
    client = client_as("verified")
    key, _raw = services.create_api_key(None, make_user("verified"))
    assert client.post(f"/api/keys/{key.pk}/revoke").status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None


def test_the_key_page_is_usable(client_as):
    TopicFactory()
    client = client_as("staff")
    page = client.get("/api/keys/").content.decode()
    assert '<label for="id_username">' in page
    assert 'name="csrfmiddlewaretoken"' in page


def test_keys_open_the_api_only_never_pages_or_the_admin():
    staff = StaffFactory()
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(staff, generate_totp_secret())
    _key, raw = services.create_api_key(None, staff, all_users=True)
    for path in ("/admin/", "/api/keys/", "/review/verifications", "/latest"):
        response = get_as(path, raw)
        assert response.status_code == 403, path
        assert response.json()["error_type"] == "invalid_access"
    assert get_as("/latest.json", raw).status_code == 200


def test_an_api_request_does_not_use_up_the_persons_in_site_notice():
    person = OfficialFactory(verification_notice="verified")
    _key, raw = services.create_api_key(None, person)
    assert get_as("/latest.json", raw).status_code == 200
    person.refresh_from_db()
    assert person.verification_notice == "verified"
