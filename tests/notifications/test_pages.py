"""The notification pages: list, read state, preferences, unsubscribe, the bell."""

import pytest
from django.core import mail

from notifications import services
from notifications.models import EmailFrequency, EmailPreference, Notification
from notifications.tasks import drain_outbox
from tests.conftest import ROLES
from tests.factories import OfficialFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_email_delay(settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0


def _notify(user, n: int, **kwargs):
    return services.notify(
        user,
        kwargs.pop("kind", "reply"),
        actor=kwargs.pop("actor", None),
        title=f"Reply number {n}",
        url=f"/t/topic/1/{n}",
        dedupe_key=f"reply:{user.pk}:{n}",
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/notifications", "/notifications/preferences"])
def test_permission_matrix(role, path, client_as):
    client = client_as(role)
    response = client.get(path)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix_for_read_actions(role, client_as):
    client = client_as(role)
    owner = OfficialFactory()
    theirs = _notify(owner, 1)
    for path in ["/notifications/read-all", f"/notifications/{theirs.pk}/read"]:
        response = client.post(path)
        assert response.status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None  # Nobody but the owner marks it read.
    response = client.get(f"/notifications/{theirs.pk}/open")
    assert response.status_code == (302 if role == "anonymous" else 404)


def test_the_list_shows_unread_first_marks_one_and_all_read(client):
    bea = OfficialFactory()
    first, second, third = (_notify(bea, n) for n in (1, 2, 3))
    client.force_login(bea)
    html = client.get("/notifications").content.decode()
    assert html.index("Reply number 3") < html.index("Reply number 1")
    assert "Mark all read" in html
    assert 'class="bell-count" data-live-unread-count>3<' in html

    client.post(f"/notifications/{first.pk}/read", {"next": "/notifications"})
    first.refresh_from_db()
    assert first.read_at is not None
    assert "data-live-unread-count>2<" in client.get("/notifications").content.decode()

    response = client.get(f"/notifications/{second.pk}/open")
    assert response.status_code == 302 and response["Location"] == "/t/topic/1/2"

    response = client.post("/notifications/read-all", follow=True)
    assert "All notifications are marked as read." in response.content.decode()
    assert not Notification.objects.filter(recipient=bea, read_at__isnull=True).exists()
    assert "Mark all read" not in response.content.decode()


def test_the_list_has_a_query_budget_that_does_not_grow(client, django_assert_num_queries):
    bea = OfficialFactory()
    actor = OfficialFactory()
    client.force_login(bea)
    for n in range(3):
        _notify(bea, n, actor=actor)
    client.get("/notifications")  # Warm the session and the cached count.
    # The user, the page count, the page with its actors (session and unread count are cached).
    with django_assert_num_queries(3):
        assert client.get("/notifications").status_code == 200
    for n in range(3, 40):
        _notify(bea, n, actor=OfficialFactory())
    client.get("/notifications")  # The new notifications reset the cached count.
    with django_assert_num_queries(3):
        assert client.get("/notifications").status_code == 200


def test_the_bell_costs_no_query_once_counted(client, django_assert_num_queries):
    bea = OfficialFactory()
    _notify(bea, 1)
    client.force_login(bea)
    client.get("/")
    with django_assert_num_queries(1):  # The user only: session and unread count are cached.
        html = client.get("/").content.decode()
    assert 'href="/notifications"' in html
    assert "Notifications: 1 unread" in html


def test_preferences_are_saved(client):
    bea = OfficialFactory()
    client.force_login(bea)
    html = client.get("/notifications/preferences").content.decode()
    assert "Replies to my posts" in html
    data = services.email_preferences(bea) | {"reply": "weekly", "like": "immediately"}
    response = client.post("/notifications/preferences", data, follow=True)
    assert "Your email preferences are saved." in response.content.decode()
    assert services.email_preferences(bea)["reply"] == "weekly"
    assert services.email_preferences(bea)["like"] == "immediately"


def test_a_bad_preference_is_refused_and_the_other_choices_are_kept(client):
    bea = OfficialFactory()
    client.force_login(bea)
    data = services.email_preferences(bea) | {"reply": "hourly", "mention": "weekly"}
    response = client.post("/notifications/preferences", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Select a valid choice" in html
    assert '<option value="weekly" selected>' in html
    assert not EmailPreference.objects.exists()


def test_the_unsubscribe_link_in_an_email_works_without_signing_in(client):
    bea = OfficialFactory()
    _notify(bea, 1)
    drain_outbox.apply()
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = link.removeprefix("http://127.0.0.1:8000")

    page = client.get(path)  # A link checker's visit changes nothing.
    assert page.status_code == 200
    assert "Replies to my posts" in page.content.decode()
    assert services.email_preferences(bea)["reply"] == EmailFrequency.IMMEDIATELY

    # The mail program's one-click POST (RFC 8058): no session, no CSRF token.
    client.handler.enforce_csrf_checks = True
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert services.email_preferences(bea)["reply"] == EmailFrequency.NEVER
    assert services.email_preferences(bea)["mention"] == EmailFrequency.IMMEDIATELY

    _notify(bea, 2)
    drain_outbox.apply()
    assert len(mail.outbox) == 1


def test_stop_all_emails_and_tampered_links(client):
    bea = OfficialFactory()
    token = services.make_unsubscribe_token(bea, ["reply"])
    client.post(f"/notifications/unsubscribe/{token}", {"scope": "all"})
    assert set(services.email_preferences(bea).values()) == {EmailFrequency.NEVER}

    response = client.get(f"/notifications/unsubscribe/{token[:-2]}xx")
    assert response.status_code == 400
    assert "This unsubscribe link is not valid." in response.content.decode()
