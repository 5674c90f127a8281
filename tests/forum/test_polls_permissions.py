"""Who may do what with a poll: one row per poll view, one column per role (as test_permission_matrix)."""

import pytest

from forum import services
from forum.models import Poll, PollVote
from tests.conftest import ROLES
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

LOGIN = "login"
POLL = "[poll name=barrier public=true]\n# Which barrier?\n* Cost\n* Skills\n[/poll]"


def expect(default, **overrides):
    table = dict.fromkeys(ROLES, default)
    table.update(overrides)
    return table


READ_ALL = expect(200)
VOTERS = expect(403, anonymous=LOGIN, verified=302, moderator=302, staff=302)
MATRIX = {
    "poll": ("get", "/posts/{post.pk}/polls/barrier", None, READ_ALL),
    "voters": ("get", "/posts/{post.pk}/polls/barrier/voters", None, READ_ALL),
    "present": ("get", "/t/{topic.slug}/{topic.pk}/polls/barrier/present", None, READ_ALL),
    "vote": ("post", "/posts/{post.pk}/polls/barrier/vote", {"options": "{option}"}, VOTERS),
    "withdraw": ("post", "/posts/{post.pk}/polls/barrier/withdraw", None, VOTERS),
    "close": (
        "post",
        "/posts/{post.pk}/polls/barrier/status",
        {"status": "closed"},
        expect(403, anonymous=LOGIN, moderator=302, staff=302),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_poll_permission_matrix(client_as, view, role):
    method, url, data, expected = MATRIX[view]
    topic = TopicFactory(category=CategoryFactory(), author=ModeratorFactory(), raw=POLL)
    poll = Poll.objects.get(post__topic=topic)
    services.vote(OfficialFactory(), poll, [poll.options.first().digest])
    client = client_as(role)
    names = {"post": poll.post, "topic": topic, "option": poll.options.last().digest}
    url = url.format(**names)
    data = {key: value.format(**names) for key, value in (data or {}).items()}
    response = getattr(client, method)(url, data)
    wanted = expected[role]
    if wanted == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response
    else:
        assert response.status_code == wanted, (view, role, response.status_code)
    if view == "vote":
        assert PollVote.objects.filter(poll=poll).count() == (2 if wanted == 302 else 1)


def test_a_private_topics_polls_are_not_shown_to_outsiders(client_as):
    topic = TopicFactory(category=CategoryFactory(read_access="verified"), raw=POLL)
    post = topic.posts.get(number=1)
    client = client_as("member")
    assert client.get(f"/posts/{post.pk}/polls/barrier").status_code == 403
    assert client.get(f"/t/{topic.slug}/{topic.pk}/polls/barrier/present").status_code == 403
