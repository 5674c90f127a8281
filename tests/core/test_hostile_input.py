"""Fuzz: every form and JSON endpoint gets generated hostile values (NUL, lone surrogates, 1 MB
strings, deep nesting, huge and negative numbers, wrong types, arrays for scalars) as anonymous,
member, official and moderator. Any 5xx, any exception, or any database error a request causes
fails the test (the services must clean input before the database sees it).

Hypothesis draws the values (derandomised: the same examples on every run, so a failure is
reproducible and the run stays within a minute).
"""

import json
from urllib.parse import quote

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user
from tests.factories import CategoryFactory, EventFactory, TopicFactory

pytestmark = [pytest.mark.django_db]

MEGABYTE = "x" * (1024 * 1024)
LONE_SURROGATE = "\ud800"

# Values an attacker (or a broken client) sends, as text.
HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "x" + LONE_SURROGATE + "y",
            "\udfff",
            "\x1b[31m\x07",
            "\u202etxt.exe",
            "\u200b" * 30,
            MEGABYTE,
            "99999999999999999999999",
            "-99999999999999999999999",
            "9" * 5000,
            "-1",
            "0",
            "1.5",
            "1e309",
            "NaN",
            "2026-13-45T25:61",
            "../../etc/passwd",
            "<script>alert(1)</script>",
            "%00",
            "\r\n\r\n",
            "/t/x/99999999999999999999999",
        ]
    ),
    st.text(max_size=40),
)
# Values only JSON can carry: other types, nesting, numbers beyond any column.
HOSTILE_JSON = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from([None, True, False, 10**30, -(10**30), 2**63, -1, 0, 1.5, 1e308, [], {}]),
    st.integers(),
    st.lists(HOSTILE_TEXT, max_size=3),
    st.just(json.loads("[" * 50 + "]" * 50)),
    st.dictionaries(st.sampled_from(["raw", "title", "id"]), HOSTILE_TEXT, max_size=2),
)

# (method, path, fields). {topic}, {post}, {category}, {event}, {user} are filled in per test.
FORMS = [
    ("post", "/t/{topic}/reply", ["raw", "reply_to", "idempotency_key", "preview"]),
    ("get", "/t/{topic}/reply", ["to", "quote"]),
    ("post", "/new-topic", ["title", "raw", "tags", "category", "idempotency_key"]),
    ("get", "/new-topic", ["category"]),
    ("post", "/posts/{post}/edit", ["raw", "title", "preview"]),
    ("post", "/posts/{post}/flag", ["reason", "message"]),
    ("post", "/posts/{post}/hide", ["reason"]),
    ("post", "/posts/{post}/like", []),
    ("post", "/posts/{post}/highlight", ["note"]),
    ("post", "/composer/draft", ["draft_key", "raw", "title", "reply_to", "category"]),
    ("post", "/composer/preview", ["raw"]),
    ("get", "/composer/mentions", ["q"]),
    ("post", "/t/{topic}/moderate", ["action", "until", "scope", "opens_at", "category", "title", "tags"]),
    ("post", "/t/{topic}/summary", ["raw"]),
    ("post", "/t/{topic}/surgery", ["action", "posts", "target", "title", "category", "reason"]),
    ("post", "/t/{topic}/watch", ["level"]),
    ("post", "/c/{category}/watch", ["level"]),
    ("get", "/t/x/{topic}", ["page", "post", "after", "view", "chunk"]),
    ("get", "/t/{topic}/live/posts", ["after", "number"]),
    ("get", "/new-topics.json", ["id", "category", "tag"]),
    ("get", "/latest", ["page", "q"]),
    ("get", "/top", ["period", "page"]),
    ("get", "/search", ["q", "page", "category", "status", "after", "before", "user"]),
    ("get", "/search.json", ["q", "page"]),
    ("get", "/u/", ["q", "organisation", "country", "region", "expertise", "language", "page"]),
    ("post", "/profile/edit", ["display_name", "username", "position", "department", "bio", "time_zone"]),
    ("post", "/verification/", ["organisation", "organisation_name", "position", "message", "evidence_url"]),
    ("get", "/review/log", ["action", "actor", "target", "since", "until", "page"]),
    ("get", "/insights/", ["since", "until"]),
    ("get", "/t/x/{topic}/digest", ["replies", "from", "to"]),
    ("post", "/notifications/preferences", ["mentions", "replies", "digest"]),
    ("get", "/notifications", ["page"]),
    ("post", "/events/{event}/register", ["show_publicly"]),
    ("post", "/events/{event}/reply", ["raw", "topic", "idempotency_key"]),
    ("get", "/events/{event}/", ["preview"]),
    ("get", "/live/poll", ["channel", "after"]),
    ("post", "/mark-all-read", ["next"]),
    ("post", "/notifications/read-all", ["next"]),
]

JSON_ENDPOINTS = [
    ("post", "/posts.json", ["raw", "title", "topic_id", "category", "tags", "reply_to_post_number"]),
    ("put", "/posts/{post}.json", ["post", "raw"]),
    ("put", "/t/-/{topic}.json", ["topic", "title", "category_id"]),
    ("put", "/t/{topic}/status.json", ["status", "enabled", "until"]),
    ("post", "/post_actions.json", ["id", "post_action_type_id", "message"]),
    (
        "post",
        "/categories.json",
        ["name", "color", "slug", "description", "parent_category_id", "read_access"],
    ),
    ("get", "/t/{topic}/posts.json", ["post_ids"]),
    ("get", "/latest.json", ["page", "order"]),
    ("get", "/top.json", ["period", "page"]),
    ("get", "/c/{category}.json", ["page"]),
    ("get", "/t/{topic}.json", ["page"]),
    ("get", "/posts.json", ["before"]),
    ("get", "/search.json", ["q", "page"]),
    ("get", "/post_action_users.json", ["id", "post_action_type_id"]),
]

ROLES = ["anonymous", "member", "verified", "moderator"]
EXAMPLES = 12


@pytest.fixture
def world(db):
    """A topic with a reply, its category, a live event: the ids the paths need."""
    topic = TopicFactory(category=CategoryFactory())
    event = EventFactory()
    return {
        "topic": topic.pk,
        "post": topic.posts.get(number=1).pk,
        "category": topic.category_id,
        "event": event.slug,
    }


def _client(role: str):
    user = make_user(role)
    client = Client()
    if user is not None:
        client.force_login(user)
    return client, user


def _form_body(values: dict) -> str:
    """application/x-www-form-urlencoded as a broken client sends it: lone surrogates become the
    bytes of no valid UTF-8, lists become repeated names (an array for a scalar)."""
    pairs = []
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            encoded = quote(str(item).encode("utf-8", "surrogatepass"), safe="")
            pairs.append(f"{quote(name)}={encoded}")
    return "&".join(pairs)


def _request(client, method: str, path: str, **kwargs):
    """One request in a savepoint: a query that failed inside it is a failure of this test."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(path, **kwargs)
    except DatabaseError as error:  # a statement failed and the request carried on regardless
        pytest.fail(f"{method.upper()} {path}: the database refused a value: {error}")
    assert response.status_code < 500, f"{method.upper()} {path} -> {response.status_code}"
    return response


def _fields(names):
    return st.fixed_dictionaries(
        {}, optional={name: st.one_of(HOSTILE_TEXT, st.lists(HOSTILE_TEXT, max_size=2)) for name in names}
    )


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _attack(client, method: str, path: str, strategy, *, as_json: bool) -> None:
    """Run the examples of ``strategy`` against one endpoint."""

    @FUZZ_SETTINGS
    @given(values=strategy)
    def attack(values):
        if method == "get":
            text = {k: v if isinstance(v, str | list) else json.dumps(v) for k, v in values.items()}
            query = _form_body(text)
            _request(client, "get", f"{path}?{query}" if query else path)
        elif as_json:
            _request(client, method, path, data=json.dumps(values), content_type="application/json")
        else:
            _request(
                client,
                method,
                path,
                data=_form_body(values),
                content_type="application/x-www-form-urlencoded",
            )

    attack()


def _each(attacks):
    """Attack every endpoint, then fail once listing each endpoint that failed (not just the first)."""

    def run(client):
        failures = []
        for method, path, strategy, as_json in attacks:
            try:
                _attack(client, method, path, strategy, as_json=as_json)
            except BaseException as error:  # noqa: BLE001 - pytest.fail's Failed is a BaseException
                if isinstance(error, KeyboardInterrupt):
                    raise
                failures.append(f"{method.upper()} {path}: {str(error)[:1500]}")
        if failures:
            pytest.fail(f"{len(failures)} endpoint(s) failed:\n\n" + "\n\n".join(failures))

    return run


@pytest.mark.parametrize("role", ROLES)
def test_forms_answer_hostile_values_with_a_4xx_never_a_5xx(world, role):
    client, _user = _client(role)
    _each((method, template.format(**world), _fields(names), False) for method, template, names in FORMS)(
        client
    )


@pytest.mark.parametrize("role", ROLES)
def test_json_endpoints_answer_hostile_values_with_a_4xx_never_a_5xx(world, role):
    from api.services import create_api_key

    _session, user = _client(role)
    if user is None:
        client = Client()
    else:
        _key, raw = create_api_key(None, user)
        client = Client(headers={"Api-Key": raw, "Api-Username": user.username})
    _each(
        (
            method,
            template.format(**world),
            st.fixed_dictionaries({}, optional=dict.fromkeys(names, HOSTILE_JSON)),
            True,
        )
        for method, template, names in JSON_ENDPOINTS
    )(client)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"raw": "' + "x" * (3 * 1024 * 1024) + '"}',
        '{"raw": "\\u0000", "topic_id": "\\ud800"}',
        "not json at all",
        '"a bare string"',
        "1e999999",
    ],
)
def test_json_bodies_no_parser_should_meet(world, body):
    from api.services import create_api_key

    user = make_user("verified")
    _key, raw = create_api_key(None, user)
    client = Client(headers={"Api-Key": raw, "Api-Username": user.username})
    for method, path in [
        ("post", "/posts.json"),
        ("put", f"/t/-/{world['topic']}.json"),
        ("post", "/post_actions.json"),
    ]:
        response = _request(client, method, path, data=body, content_type="application/json")
        assert response.status_code in {400, 403, 404, 413, 422}, (path, response.status_code)
