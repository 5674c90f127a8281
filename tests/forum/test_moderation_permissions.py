"""Who gets what from every moderation page: one row per view, one column per role."""

import pytest
from taggit.models import Tag

from forum import services
from forum.models import FlagReason, ReviewItem
from tests.conftest import ROLES
from tests.factories import OfficialFactory, TopicFactory

pytestmark = pytest.mark.django_db

LOGIN = "login"


def expect(default, **overrides):
    table = dict.fromkeys(ROLES, default)
    table.update(overrides)
    return table


MODERATORS = expect(403, anonymous=LOGIN, moderator=200, staff=200)
MODERATORS_POST = expect(403, anonymous=LOGIN, moderator=302, staff=302)
MATRIX = {
    "review": ("get", "/review/", None, MODERATORS),
    "review_kind": ("get", "/review/?kind=flagged_post", None, MODERATORS),
    "review_claim": ("post", "/review/items/{item.pk}", {"action": "claim"}, MODERATORS_POST),
    # Moderators: the log of the categories they moderate; staff: all (test_moderation_log_verification).
    "log": ("get", "/review/log", None, MODERATORS),
    "log_csv": ("get", "/review/log.csv", None, MODERATORS),
    "person": ("get", "/review/people/{author.username}", None, MODERATORS),
    "flag_page": (
        "get",
        "/posts/{post.pk}/flag",
        None,
        expect(403, anonymous=LOGIN, verified=200, moderator=200, staff=200),
    ),
    "flag": (
        "post",
        "/posts/{post.pk}/flag",
        {"reason": "off_topic"},
        expect(403, anonymous=LOGIN, verified=302, moderator=302, staff=302),
    ),
    "highlight": ("post", "/posts/{post.pk}/highlight", None, MODERATORS_POST),
    "summary": ("get", "/t/{topic.pk}/summary", None, MODERATORS),
    "tag_names": ("get", "/tag/matrix-tag/names", None, MODERATORS),
    "tag_names_save": ("post", "/tag/matrix-tag/names", {"name_es": "Etiqueta"}, MODERATORS_POST),
    "surgery": ("get", "/t/{topic.pk}/surgery", None, MODERATORS),
    "digest": ("get", "/t/{topic.slug}/{topic.pk}/digest", None, expect(200)),
    "digest_md": ("get", "/t/{topic.slug}/{topic.pk}/digest.md", None, expect(200)),
    "category_digest": ("get", "/c/{topic.category.slug}/{topic.category.pk}/digest", None, expect(200)),
    "category_digest_md": (
        "get",
        "/c/{topic.category.slug}/{topic.category.pk}/digest.md",
        None,
        expect(200),
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("view", list(MATRIX))
def test_permission_matrix(client_as, view, role):
    method, url, data, expected = MATRIX[view]
    author = OfficialFactory()
    topic = TopicFactory(author=author)
    post = services.create_reply(OfficialFactory(), topic, "An answer")
    services.flag_post(OfficialFactory(), post, FlagReason.SPAM)
    item = ReviewItem.objects.get(post=post)
    Tag.objects.create(name="matrix-tag", slug="matrix-tag")
    client = client_as(role)
    names = {"topic": topic, "post": post, "author": author, "item": item}
    url = url.format(**names)
    response = getattr(client, method)(url, data or {})
    wanted = expected[role]
    if wanted == LOGIN:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], response
    else:
        assert response.status_code == wanted, (view, role, response.status_code)
