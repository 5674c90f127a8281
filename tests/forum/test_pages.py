"""Forum pages as a reader and a writer meet them: lists, topic pages, the composer, moderation."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from forum import services
from forum.models import Draft, PinScope, Post, ReadAccess, Topic, TopicStatus
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation():
    """A topic with an answer, a follow-up and a follow-up to that."""
    topic = TopicFactory(title="How did your city connect its markets?")
    ana, bo = OfficialFactory(username="ana"), OfficialFactory(username="bo")
    answer = services.create_reply(ana, topic, "Free wifi in every market hall.")
    follow = services.create_reply(bo, topic, "Who paid for it, @ana?", reply_to=answer)
    services.create_reply(ana, topic, "The metropolitan area, with EU funds.", reply_to=follow)
    topic.refresh_from_db()
    return topic


def test_home_lists_topics_with_pinned_first(client):
    older = TopicFactory(title="An older but pinned question")
    newer = TopicFactory(title="A newer unpinned question")
    services.pin_topic(older, PinScope.GLOBAL)
    html = client.get("/").content.decode()
    assert html.index("An older but pinned question") < html.index("A newer unpinned question")
    assert newer.get_absolute_url() in html


def test_pinned_topics_come_first_on_every_page_of_the_lists(client, monkeypatch):
    """Pinned topics are read apart from the rest (forum.reading.PinnedFirst): pages that span
    the pinned ones, the boundary and the rest show each topic once, in one order, in HTML and JSON."""
    monkeypatch.setattr("forum.reading.TOPICS_PER_PAGE", 2)
    category = CategoryFactory()
    now = timezone.now()
    titles = {}
    for age, name, pin, until in [
        (1, "plain newest", None, None),
        (2, "pinned in its category", PinScope.CATEGORY, None),
        (3, "pin that ended", PinScope.GLOBAL, now - timedelta(hours=1)),
        (4, "pinned newer", PinScope.GLOBAL, None),
        (5, "plain older", None, None),
        (6, "pinned until tomorrow", PinScope.GLOBAL, now + timedelta(days=1)),
        (7, "pinned oldest", PinScope.GLOBAL, None),
    ]:
        topic = TopicFactory(category=category, title=f"Question {name}")
        if pin:
            services.pin_topic(topic, pin, until=until)
        Topic.objects.filter(pk=topic.pk).update(bumped_at=now - timedelta(days=age))
        titles[topic.pk] = name
    expected = [
        "pinned newer",
        "pinned until tomorrow",
        "pinned oldest",
        "plain newest",
        "pinned in its category",
        "pin that ended",
        "plain older",
    ]

    def names_in(html: str) -> list[str]:
        shown = [
            (html.index(f"Question {name}<"), name) for name in titles.values() if f"Question {name}<" in html
        ]
        return [name for _, name in sorted(shown)]

    pages = [names_in(client.get(f"/latest?page={number}").content.decode()) for number in range(1, 5)]
    assert pages == [expected[0:2], expected[2:4], expected[4:6], expected[6:7]]
    assert "Page 2 of 4" in client.get("/latest?page=2").content.decode()
    json_pages = [client.get(f"/latest.json?page={number}").json()["topic_list"] for number in range(4)]
    assert [[titles[row["id"]] for row in page["topics"]] for page in json_pages] == pages
    assert [row["pinned"] for row in json_pages[1]["topics"]] == [True, False]
    assert "more_topics_url" in json_pages[2] and "more_topics_url" not in json_pages[3]
    in_category = [
        names_in(client.get(f"{category.get_absolute_url()}?page={number}").content.decode())
        for number in (1, 2)
    ]
    assert in_category == [
        ["pinned in its category", "pinned newer"],
        ["pinned until tomorrow", "pinned oldest"],
    ]


def test_new_and_unread_counts_follow_what_the_reader_reads(client):
    """The counts are kept per reader (forum.reading.list_counts): reading, or marking all read,
    shows on the very next list even when no topic changed meanwhile."""
    author, reader = OfficialFactory(), OfficialFactory()
    client.force_login(reader)
    topic = services.create_topic(author, CategoryFactory(), "How do you run a night market?", "Tell us.")
    assert '<span class="count">(1)</span>' in client.get("/").content.decode()  # one new topic
    client.get(topic.get_absolute_url())
    assert '<span class="count">' not in client.get("/").content.decode()
    services.create_reply(author, topic, "We close one street every Friday.")
    home = client.get("/").content.decode()
    assert 'href="/unread"' in home and '<span class="count">(1)</span>' in home  # one unread topic
    client.get(topic.get_absolute_url())
    assert '<span class="count">' not in client.get("/").content.decode()
    services.create_reply(author, topic, "And the neighbours agreed.")
    assert '<span class="count">(1)</span>' in client.get("/").content.decode()
    client.post(reverse("forum:mark_all_read"))
    assert '<span class="count">' not in client.get("/").content.decode()


def test_category_pins_apply_only_in_their_category(client):
    category = CategoryFactory()
    pinned = TopicFactory(category=category, title="Pinned in its own category")
    services.pin_topic(pinned, PinScope.CATEGORY)
    TopicFactory(category=category, title="Most recent in the category")
    html = client.get(category.get_absolute_url()).content.decode()
    assert html.index("Pinned in its own category") < html.index("Most recent in the category")
    home = client.get("/").content.decode()
    assert home.index("Most recent in the category") < home.index("Pinned in its own category")


def test_topic_page_shows_posts_in_order_with_reply_context(client, conversation):
    html = client.get(conversation.get_absolute_url()).content.decode()
    assert html.index("Free wifi") < html.index("Who paid for it") < html.index("The metropolitan area")
    assert "In reply to @ana" in html
    assert 'href="/u/ana" class="mention"' in html
    assert "1 reply" in html


def test_wrong_slug_redirects_to_the_canonical_address(client, conversation):
    response = client.get(f"/t/anything/{conversation.pk}/3?view=tree")
    assert response.status_code == 301
    assert response["Location"] == f"/t/{conversation.slug}/{conversation.pk}/3?view=tree"


def test_topic_pages_of_twenty_with_links_that_work_without_javascript(client):
    topic = TopicFactory()
    from forum.bulk import bulk_add_replies

    bulk_add_replies(topic, [OfficialFactory()], 45)
    first = client.get(topic.get_absolute_url()).content.decode()
    assert 'id="post-20"' in first and 'id="post-21"' not in first
    assert f'href="{topic.get_absolute_url()}?page=3"' in first
    by_number = client.get(topic.post_url(30)).content.decode()
    assert 'id="post-21"' in by_number and 'id="post-40"' in by_number and 'id="post-20"' not in by_number
    chunk = client.get(topic.get_absolute_url() + "?page=2&chunk=later", HTTP_HX_REQUEST="true")
    html = chunk.content.decode()
    assert "<html" not in html and 'id="post-21"' in html and "Load later posts" in html
    assert "Load earlier posts" not in html


def test_tree_view_indents_and_continues_deep_threads(client):
    topic = TopicFactory()
    people = [OfficialFactory() for _ in range(2)]
    parent = None
    for level in range(6):
        parent = services.create_reply(people[level % 2], topic, f"Level {level} answer", reply_to=parent)
    html = client.get(topic.get_absolute_url() + "?view=tree").content.decode()
    assert "depth-1" in html and "depth-4" in html and "depth-5" not in html
    assert "Level 3 answer" in html and "Level 4 answer" not in html
    assert "Continue this thread" in html
    deeper = client.get(topic.get_absolute_url() + "?view=tree&post=5").content.decode()
    assert "Level 4 answer" in deeper and "Level 5 answer" in deeper


def test_reply_to_a_specific_post_and_see_it_in_both_views(client, conversation):
    official = OfficialFactory()
    client.force_login(official)
    answer = conversation.posts.get(number=2)
    response = client.post(
        reverse("forum:reply", args=[conversation.pk]),
        {"raw": "We did the same in Quito.", "reply_to": "2", "idempotency_key": str(uuid.uuid4())},
    )
    post = Post.objects.get(topic=conversation, author=official)
    assert response.status_code == 302 and response["Location"].endswith(f"/{post.number}#post-{post.number}")
    assert post.reply_to == answer
    assert "We did the same in Quito." in client.get(conversation.get_absolute_url()).content.decode()
    assert (
        "We did the same in Quito."
        in client.get(conversation.get_absolute_url() + "?view=tree").content.decode()
    )


def test_double_submit_makes_one_post(client, conversation):
    client.force_login(OfficialFactory())
    data = {"raw": "Only once please", "idempotency_key": str(uuid.uuid4())}
    url = reverse("forum:reply", args=[conversation.pk])
    client.post(url, data)
    client.post(url, data)
    assert Post.objects.filter(raw="Only once please").count() == 1


def test_failed_reply_keeps_the_text(client, conversation):
    client.force_login(OfficialFactory())
    long_text = "word " * 6401
    response = client.post(reverse("forum:reply", args=[conversation.pk]), {"raw": long_text})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Posts are limited to 32000 characters" in html
    assert long_text.strip() in html


def test_reply_to_a_post_of_another_topic_is_refused_and_keeps_the_text(client, conversation):
    other = TopicFactory()
    client.force_login(OfficialFactory())
    response = client.post(reverse("forum:reply", args=[other.pk]), {"raw": "Misplaced", "reply_to": "4"})
    assert response.status_code == 400
    assert "That post is not in this topic." in response.content.decode()
    assert "Misplaced" in response.content.decode()


def test_closed_topic_explains_why_and_keeps_the_text(client, conversation):
    services.close_topic(conversation)
    client.force_login(OfficialFactory())
    page = client.get(conversation.get_absolute_url()).content.decode()
    assert "This topic is closed to new replies." in page
    response = client.post(reverse("forum:reply", args=[conversation.pk]), {"raw": "Typed before it closed"})
    assert response.status_code == 403
    assert "Typed before it closed" in response.content.decode()


def test_members_see_why_they_cannot_post_and_where_to_get_verified(client, conversation):
    client.force_login(UserFactory())
    for url in (conversation.get_absolute_url(), "/latest"):
        html = client.get(url).content.decode()
        assert "Only verified officials can post" in html
        assert 'href="/verification/"' in html


def test_scheduled_topic_is_listed_with_its_opening_time(client):
    opens_at = timezone.now() + timedelta(days=2)
    TopicFactory(title="A question for the launch webinar", status=TopicStatus.SCHEDULED, opens_at=opens_at)
    html = client.get("/").content.decode()
    assert "A question for the launch webinar" in html
    assert "Opens " in html


def test_new_topic_composer_creates_a_topic_and_keeps_text_on_error(client):
    category = CategoryFactory()
    client.force_login(OfficialFactory())
    bad = client.post(
        reverse("forum:new_topic"), {"category": category.pk, "title": "Short", "raw": "Keep me"}
    )
    assert bad.status_code == 400
    assert "at least 15 characters" in bad.content.decode() and "Keep me" in bad.content.decode()
    good = client.post(
        reverse("forum:new_topic"),
        {
            "category": category.pk,
            "title": "What does your open data portal publish?",
            "raw": "Ours: budgets.",
        },
    )
    topic = Topic.objects.get()
    assert good["Location"] == topic.get_absolute_url()


def test_drafts_autosave_and_come_back_on_another_device(client, conversation):
    official = OfficialFactory()
    client.force_login(official)
    response = client.post(
        reverse("forum:save_draft"),
        {"draft_key": Draft.key_for_topic(conversation.pk), "raw": "Half-written answer", "reply_to": "2"},
        HTTP_HX_REQUEST="true",
    )
    assert "Draft saved" in response.content.decode()
    from django.test import Client

    other_device = Client()
    other_device.force_login(official)
    html = other_device.get(conversation.get_absolute_url()).content.decode()
    assert "Half-written answer" in html and "Your draft is restored." in html


def test_preview_uses_the_same_renderer(client):
    client.force_login(OfficialFactory())
    response = client.post(reverse("forum:preview"), {"raw": "**bold** <script>x</script>"})
    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "<script>" not in html


def test_like_and_bookmark_work_without_javascript_and_with_htmx(client, conversation):
    reader = OfficialFactory()
    client.force_login(reader)
    post = conversation.posts.get(number=2)
    response = client.post(reverse("forum:like_post", args=[post.pk]))
    assert response.status_code == 302
    partial = client.post(reverse("forum:bookmark_post", args=[post.pk]), HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert "Bookmarked" in html and "1 like" in html and "<html" not in html
    bookmarks = client.get(reverse("forum:bookmarks", args=[reader.username])).content.decode()
    assert conversation.localized_title in bookmarks
    likers = client.get(reverse("forum:post_likers", args=[post.pk])).content.decode()
    assert reader.name in likers


def test_ones_bookmarks_are_found_from_the_header_and_ones_profile(client, conversation):
    reader = OfficialFactory()
    services.toggle_bookmark(reader, conversation.posts.get(number=2))
    client.force_login(reader)
    home = client.get("/").content.decode()
    assert 'href="/bookmarks"' in home
    response = client.get("/bookmarks")
    assert response.status_code == 302
    assert response["Location"] == reverse("forum:bookmarks", args=[reader.username])
    assert conversation.localized_title in client.get(response["Location"]).content.decode()

    own_profile = client.get(reverse("accounts:profile", args=[reader.username])).content.decode()
    assert f'href="/u/{reader.username}/bookmarks"' in own_profile
    assert 'href="/my/watching"' in own_profile
    someone_else = client.get(
        reverse("accounts:profile", args=[conversation.author.username])
    ).content.decode()
    assert "/bookmarks" not in someone_else.replace('href="/bookmarks"', "")


def test_edit_history_shows_a_readable_diff(client, conversation):
    post = conversation.posts.get(number=2)
    client.force_login(post.author)
    client.post(
        reverse("forum:edit_post", args=[post.pk]), {"raw": "Free wifi in every market hall, since 2019."}
    )
    html = client.get(reverse("forum:post_history", args=[post.pk])).content.decode()
    assert "-Free wifi in every market hall." in html
    assert "+Free wifi in every market hall, since 2019." in html


def test_withdrawn_and_hidden_posts_leave_a_placeholder(client, conversation):
    post = conversation.posts.get(number=2)
    client.force_login(post.author)
    assert (
        "Withdraw this post?" in client.get(reverse("forum:withdraw_post", args=[post.pk])).content.decode()
    )
    client.post(reverse("forum:withdraw_post", args=[post.pk]))
    client.logout()
    html = client.get(conversation.get_absolute_url()).content.decode()
    assert (
        "The author withdrew this post." in html
        and "Free wifi in every market hall."
        not in html.split("The author withdrew")[1].split("</article>")[0]
    )


def test_unread_and_new_counts_and_mark_all_read(client):
    reader = OfficialFactory()
    seen = TopicFactory(title="A topic the reader has opened")
    TopicFactory(title="A topic the reader never opened")
    client.force_login(reader)
    client.get(seen.get_absolute_url())
    services.create_reply(OfficialFactory(), seen, "Something new")
    services.create_reply(OfficialFactory(), seen, "Something newer")
    unread = client.get(reverse("forum:unread")).content.decode()
    assert "A topic the reader has opened" in unread and "2 unread posts" in unread
    new = client.get(reverse("forum:new")).content.decode()
    assert "A topic the reader never opened" in new and "A topic the reader has opened" not in new
    assert 'Unread <span class="count">(1)</span>' in new
    client.post(reverse("forum:mark_all_read"))
    assert "No topics yet." in client.get(reverse("forum:unread")).content.decode()
    assert "No topics yet." in client.get(reverse("forum:new")).content.decode()


def test_last_visit_marker_after_time_away(client):
    import time_machine

    topic = TopicFactory()
    reader = OfficialFactory()
    client.force_login(reader)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(topic.get_absolute_url())
        services.create_reply(OfficialFactory(), topic, "While you were away")
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        html = client.get(topic.get_absolute_url()).content.decode()
    assert html.index('id="post-1"') < html.index('id="last-visit"') < html.index('id="post-2"')


def test_top_tag_and_activity_lists(client, conversation):
    services.retag_topic(conversation, ["markets"])
    post = conversation.posts.get(number=2)
    services.toggle_like(OfficialFactory(), post)
    assert conversation.localized_title in client.get("/top?period=week").content.decode()
    assert conversation.localized_title in client.get("/tag/markets").content.decode()
    assert "Free wifi" in client.get(reverse("forum:activity", args=["ana"])).content.decode()


def test_restricted_categories_are_hidden_from_lists_and_pages(client):
    private = CategoryFactory(read_access=ReadAccess.VERIFIED)
    topic = TopicFactory(category=private, title="Only for verified officials")
    assert "Only for verified officials" not in client.get("/").content.decode()
    assert client.get(topic.get_absolute_url()).status_code == 302  # to sign in
    client.force_login(UserFactory())
    assert client.get(topic.get_absolute_url()).status_code == 403
    client.force_login(OfficialFactory())
    assert client.get(topic.get_absolute_url()).status_code == 200


def test_feeds(client, conversation):
    for url in (
        "/latest.rss",
        "/latest.atom",
        f"/c/{conversation.category.slug}/{conversation.category.pk}.rss",
        f"/t/{conversation.slug}/{conversation.pk}.rss",
        f"/t/{conversation.slug}/{conversation.pk}.atom",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert conversation.localized_title in response.content.decode()


def test_moderator_buttons_pin_close_and_move(client, conversation):
    moderator = ModeratorFactory()
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(moderator, generate_totp_secret())
    client.force_login(moderator)
    assert "Moderator actions" in client.get(conversation.get_absolute_url()).content.decode()
    url = reverse("forum:moderate_topic", args=[conversation.pk])
    client.post(url, {"action": "pin", "scope": "global"})
    client.post(url, {"action": "close"})
    elsewhere = CategoryFactory()
    client.post(url, {"action": "move", "category": elsewhere.pk})
    conversation.refresh_from_db()
    assert (conversation.pin_scope, conversation.status, conversation.category) == (
        "global",
        "closed",
        elsewhere,
    )
    response = client.post(url, {"action": "rename", "title": "short"}, follow=True)
    assert "at least 15 characters" in response.content.decode()


def test_expanding_replies_with_htmx(client, conversation):
    answer = conversation.posts.get(number=2)
    html = client.get(
        reverse("forum:post_replies", args=[answer.pk]), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "Who paid for it" in html
    assert client.get(reverse("forum:post_replies", args=[answer.pk])).status_code == 302


def test_mention_suggestions_for_signed_in_people(client):
    OfficialFactory(username="anabel", display_name="Anabel Ruiz")
    UserFactory(username="anonymous_member", display_name="Someone")
    assert client.get(reverse("forum:mention_suggestions") + "?q=an").status_code == 403
    client.force_login(OfficialFactory(display_name="Li Wei"))  # a random name may start with "An"
    people = client.get(reverse("forum:mention_suggestions") + "?q=@an").json()["people"]
    assert people[0] == {"username": "anabel", "name": "Anabel Ruiz", "position": "Head of ICT Division"}
    assert [p["username"] for p in people] == ["anabel", "anonymous_member"]


def test_category_page_includes_its_sub_categories(client):
    parent = CategoryFactory(name="Digitalisation")
    child = CategoryFactory(name="Open data", parent=parent)
    TopicFactory(category=child, title="Which datasets do residents use most?")
    html = client.get(parent.get_absolute_url()).content.decode()
    assert "Which datasets do residents use most?" in html
    assert f'href="{child.get_absolute_url()}"' in html


def test_preview_without_javascript_keeps_the_text_and_posts_nothing(client, conversation):
    client.force_login(OfficialFactory())
    response = client.post(
        reverse("forum:reply", args=[conversation.pk]), {"raw": "Our **pilot** worked", "preview": "1"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<strong>pilot</strong>" in html and "Our **pilot** worked" in html
    assert not Post.objects.filter(raw="Our **pilot** worked").exists()
    category = CategoryFactory()
    response = client.post(
        reverse("forum:new_topic"),
        {"category": category.pk, "title": "Not yet", "raw": "*draft*", "preview": "1"},
    )
    assert response.status_code == 200 and "<em>draft</em>" in response.content.decode()
    assert not Topic.objects.filter(category=category).exists()


def test_quote_without_javascript_prefills_the_composer(client, conversation):
    client.force_login(OfficialFactory())
    html = client.get(reverse("forum:reply", args=[conversation.pk]) + "?to=2&quote=1").content.decode()
    assert f"[quote=&quot;ana, post:2, topic:{conversation.pk}&quot;]" in html
    assert "Free wifi in every market hall." in html
    assert 'name="reply_to" id="composer-reply-to" value="2"' in html
