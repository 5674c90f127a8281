"""Hostile input gets a clear 4xx, never a 500: the cleaning rule (core/clean.py), bounded
numbers, the API's JSON parsing and the BadInputMiddleware (the audit's cases, one by one)."""

import json
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from accounts import services as accounts_services
from core import clean, live
from forum import services
from forum.models import Post, Topic
from tests.conftest import make_user
from tests.factories import CategoryFactory, TopicFactory

pytestmark = pytest.mark.django_db

ZWSP = "\u200b"
RLO = "\u202e"


# --- The rule -------------------------------------------------------------------------------


def test_a_title_with_a_control_character_is_refused_naming_it():
    with pytest.raises(ValidationError) as error:
        clean.clean_line("A good title\x00 that is long", "title")
    assert "U+0000" in error.value.message_dict["title"][0]
    with pytest.raises(ValidationError):
        clean.clean_line("A bell \x07 in the title", "title")


def test_newlines_and_tabs_are_text_not_control_characters():
    assert clean.check_text("one\r\ntwo\tthree\rfour") == "one\ntwo\tthree\nfour"
    assert clean.clean_line("  a\ttitle\nacross lines ") == "a title across lines"


def test_pasted_text_loses_its_control_characters_and_lone_surrogates():
    assert clean.strip_controls("a\x00b\x1bc\ud800d\n\te") == "abcd\n\te"


def test_bidi_overrides_and_zero_width_characters_leave_titles_and_names():
    assert clean.clean_line(f"{RLO}txt.exe{ZWSP} \u2066x\u2069") == "txt.exe x"
    # Joiners stay: Persian and emoji need them.
    assert clean.clean_line("می\u200cخواهم") == "می\u200cخواهم"


@pytest.mark.parametrize("value", [ZWSP * 30, "\u3164" * 20, "\u0301" * 20, f" {RLO}\u2800 "])
def test_text_that_shows_nothing_is_refused(value):
    with pytest.raises(ValidationError) as error:
        clean.clean_line(value, "title")
    assert "visible" in error.value.message_dict["title"][0]


def test_bounded_int_refuses_what_no_column_holds():
    assert clean.bounded_int("42") == 42
    assert clean.bounded_int(" 7 ") == 7
    assert clean.bounded_int("99999999999999999999999") is None
    assert clean.bounded_int("-1") is None
    assert clean.bounded_int("1e3") is None
    assert clean.bounded_int(True) is None
    assert clean.bounded_int(["1"]) is None
    assert clean.bounded_int("9" * 5000) is None  # never parsed: Python refuses 4,300+ digits


# --- In the services -------------------------------------------------------------------------


def test_a_topic_of_zero_width_spaces_is_refused():
    author = make_user("verified")
    with pytest.raises(ValidationError) as error:
        services.create_topic(author, CategoryFactory(), ZWSP * 30, "A body that says something.")
    assert "title" in error.value.message_dict
    assert not Topic.objects.exists()


def test_a_right_to_left_override_is_not_stored_in_a_title():
    topic = services.create_topic(
        make_user("verified"), CategoryFactory(), f"Budget {RLO}fdp.exe for the year", "Some body text."
    )
    assert topic.title == "Budget fdp.exe for the year"


def test_a_display_name_with_an_override_or_nothing_visible():
    user = make_user("member")
    accounts_services.complete_signup_profile(user, display_name=f"Ana {RLO}zeréP", position="")
    assert user.display_name == "Ana zeréP"
    with pytest.raises(ValidationError):
        accounts_services.complete_signup_profile(user, display_name=ZWSP * 5, position="")


def test_the_profile_form_refuses_an_invisible_name(client):
    user = make_user("member")
    client.force_login(user)
    page = client.get("/profile/edit")
    assert page.status_code == 200
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields if name not in {"avatar_upload"}}
    data.update(display_name=ZWSP * 10, expertise="", languages=["en"])
    response = client.post("/profile/edit", data)
    assert response.status_code == 200
    assert "visible" in response.content.decode()


# --- Through the pages -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_pasted_into_a_reply_is_dropped_and_the_reply_saved(client):
    topic = TopicFactory()
    client.force_login(make_user("verified"))
    response = client.post(
        f"/t/{topic.pk}/reply", {"raw": "Pasted\x00 from a PDF.", "idempotency_key": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    assert Post.objects.get(topic=topic, number=2).raw == "Pasted from a PDF."


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_in_a_new_topic_title_is_refused_with_the_text_kept(client):
    category = CategoryFactory()
    client.force_login(make_user("verified"))
    response = client.post(
        "/new-topic",
        {"title": "Open data \x00 in our city hall", "raw": "What we learned.", "category": category.pk},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "U+0000" in page and "What we learned." in page
    assert not Topic.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/latest?q=%00", "/search?q=a%00b", "/top?period=%1b", "/u/x%00y/activity", "/latest.json?page=%00"],
)
def test_a_control_character_in_the_address_is_a_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    if ".json" in path:
        assert response.json()["error_type"] == "invalid_parameters"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/latest.json", "/top.json", "/c/{category}.json", "/new.json"])
def test_a_page_number_beyond_any_list_is_a_400_in_discourse_shape(client, path):
    topic = TopicFactory()
    response = client.get(path.format(category=topic.category_id), {"page": "99999999999999999999999"})
    assert response.status_code in {400, 403}
    assert set(response.json()) >= {"errors", "error_type"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path",
    [
        "/latest?page=99999999999999999999999",
        "/search?q=city&page=99999999999999999999999",
        "/t/x/99999999999999999999999",
        "/t/x/{topic}/99999999999999999999999",
        "/t/x/{topic}?page=-99999999999999999999999",
        "/t/x/{topic}?view=tree&after=99999999999999999999999&post=99999999999999999999999",
        "/t/{topic}/live/posts?after=99999999999999999999999",
        "/new-topics.json?id=99999999999999999999999&category=99999999999999999999999",
        "/posts/99999999999999999999999/replies",
    ],
)
def test_huge_numbers_in_urls_are_never_a_500(client, path):
    topic = TopicFactory()
    client.raise_request_exception = False
    assert client.get(path.format(topic=topic.pk)).status_code < 500


# --- The API's JSON bodies -------------------------------------------------------------------


@pytest.fixture
def api_member(db):
    from api.services import create_api_key

    user = make_user("verified")
    _key, raw = create_api_key(None, user)
    return Client(headers={"Api-Key": raw, "Api-Username": user.username})


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
        ('{"raw": {"a": ' + "[" * 25 + '"x"' + "]" * 25 + "}}", "nested too deeply"),
        ('{"raw": "lone \\ud800 surrogate", "topic_id": 1}', "not valid Unicode"),
        (json.dumps({"raw": "x" * (1024 * 1024 + 10)}), "too large"),
        (json.dumps({"raw": "A reply", "topic_id": 10**30}), "topic_id must be a whole number"),
        (json.dumps({"raw": ["A reply"], "topic_id": 1}), "raw must be text"),
    ],
)
def test_json_bodies_no_client_sends_are_a_400_in_discourse_shape(api_member, body, words):
    response = api_member.post("/posts.json", body, content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    answer = response.json()
    assert answer["error_type"] == "invalid_parameters"
    assert words in " ".join(answer["errors"])


@pytest.mark.django_db(transaction=True)
def test_a_nul_byte_in_a_json_title_is_refused_with_a_clear_message(api_member):
    category = CategoryFactory()
    response = api_member.post(
        "/posts.json",
        json.dumps(
            {"title": "Open data\u0000 in our city hall", "raw": "What we learned.", "category": category.pk}
        ),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "U+0000" in " ".join(response.json()["errors"])
    assert not Topic.objects.exists()


# --- The live stream's cursor ----------------------------------------------------------------


@pytest.mark.parametrize(
    "given",
    ["99999999999999999999-0", "1-99999999999999999999", "18446744073709551615-0", "-1-0", "abc", "1-2-3"],
)
def test_a_last_event_id_no_server_sent_starts_fresh(given):
    assert live.decode_cursor(given, ["/latest"]) == {"/latest": None}
    assert live.decode_cursor(f"/latest={given}", ["/latest"]) == {"/latest": None}


def test_a_real_last_event_id_is_kept():
    assert live.decode_cursor("1700000000000-3", ["/latest"]) == {"/latest": "1700000000000-3"}
