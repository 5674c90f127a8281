"""Who hears about a post: replies, mentions, quotes, grouped likes, watched topics and categories."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from forum import notify, services, watching
from forum.models import (
    CategoryWatch,
    NotificationJob,
    ReadAccess,
    ReviewItem,
    ReviewState,
    TopicWatch,
    WatchLevel,
    WatchReason,
)
from forum.tasks import drain_notification_jobs, fan_out
from notifications.models import Notification, OutboxEmail, OutboxState
from notifications.tasks import drain_outbox
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_email_delay(settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 0


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and run what it queued after commit (the tasks run eagerly in tests)."""

    def call(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return call


@pytest.fixture
def people():
    names = ["ana", "bea", "cara", "dan", "eve"]
    return {name: OfficialFactory(username=name, display_name=name.title()) for name in names}


def kinds(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).order_by("pk").values_list("kind", flat=True))


def test_a_reply_notifies_the_author_of_the_replied_to_post_once(run, people):
    ana, bea, cara = people["ana"], people["bea"], people["cara"]
    topic = run(TopicFactory, author=ana, title="How do you run open data portals?")
    first = topic.posts.get(number=1)
    answer = run(services.create_reply, bea, topic, "We publish monthly.", reply_to=first)

    notification = Notification.objects.get(recipient=ana)
    assert notification.kind == "reply"
    assert notification.actor == bea
    assert notification.title == "Bea replied to you in “How do you run open data portals?”"
    assert notification.url == topic.post_url(2)
    assert notification.data["excerpt"] == "We publish monthly."
    assert kinds(bea) == []  # not for the actor himself

    # Cara answers Bea: Bea hears of the reply; Ana, who watches her own topic, of a new post.
    run(services.create_reply, cara, topic, "Which format do you use?", reply_to=answer)
    assert kinds(bea) == ["reply"]
    assert kinds(ana) == ["reply", "watched_post"]
    assert (
        Notification.objects.filter(recipient=ana).first().title
        == "Cara posted in “How do you run open data portals?”"
    )
    assert kinds(cara) == []
    # One email for each reply, none for the watched post (a daily summary by default).
    assert sorted(m.to[0] for m in mail.outbox) == [ana.email, bea.email]


def test_a_reply_to_the_topic_notifies_its_author(run, people):
    ana, bea = people["ana"], people["bea"]
    topic = run(TopicFactory, author=ana)
    run(services.create_reply, bea, topic, "An answer to the question.")
    assert kinds(ana) == ["reply"]


def test_mentions_reach_readers_only_never_the_writer_and_at_most_ten(run, people):
    ana, bea, cara, dan = people["ana"], people["bea"], people["cara"], people["dan"]
    member = UserFactory(username="member")  # not verified: cannot read a verified-only category
    others = [OfficialFactory(username=f"extra{n}") for n in range(11)]
    category = CategoryFactory(read_access=ReadAccess.VERIFIED)
    topic = run(TopicFactory, author=ana, category=category)
    raw = "Asking @cara, @dan, @member, @nobody and myself @bea"
    run(services.create_reply, bea, topic, raw)
    assert kinds(cara) == ["mention"] and kinds(dan) == ["mention"]
    assert Notification.objects.get(recipient=cara).title.startswith("Bea mentioned you in “")
    assert kinds(member) == [] and kinds(bea) == []
    assert kinds(ana) == ["reply"]

    many = " ".join(f"@{person.username}" for person in others)
    run(services.create_reply, cara, topic, f"Everyone: {many}")
    assert Notification.objects.filter(recipient__in=others, kind="mention").count() == notify.MAX_MENTIONS


def test_a_quote_notifies_the_quoted_author(run, people):
    ana, bea, cara = people["ana"], people["bea"], people["cara"]
    topic = run(TopicFactory, author=ana)
    run(services.create_reply, bea, topic, "Libraries opened their rooms.")
    quote = (
        f'[quote="bea, post:2, topic:{topic.pk}"]\nLibraries opened their rooms.\n[/quote]\n\nSo did ours.'
    )
    run(services.create_reply, cara, topic, quote)
    assert kinds(bea) == ["quote"]
    assert Notification.objects.get(recipient=bea).title.startswith("Cara quoted you in “")


def test_one_notification_per_post_and_the_most_personal_wins(run, people):
    ana, bea, cara = people["ana"], people["bea"], people["cara"]
    topic = run(TopicFactory, author=ana)
    answer = run(services.create_reply, bea, topic, "Our budget doubled.")
    run(watching.set_topic_level, bea, topic, WatchLevel.WATCHING)
    quote = f'[quote="bea, post:2, topic:{topic.pk}"]\nOur budget doubled.\n[/quote]\n\n@bea how?'
    run(services.create_reply, cara, topic, quote, reply_to=answer)
    # Watching, quoted, answered and mentioned: one notification, the mention.
    assert kinds(bea) == ["mention"]
    # Ana watches her topic: one notification for the post, though she is neither answered nor named.
    assert kinds(ana)[-1] == "watched_post"


def test_likes_are_grouped_in_one_notification_per_post(run, people):
    ana, bea, cara, dan = people["ana"], people["bea"], people["cara"], people["dan"]
    topic = run(TopicFactory, author=ana, title="Who runs a digital twin of the city?")
    post = topic.posts.get(number=1)
    for liker in (bea, cara, dan):
        run(services.toggle_like, liker, post)
    notification = Notification.objects.get(recipient=ana)
    assert notification.kind == "like" and notification.count == 3 and notification.actor == dan
    assert notification.title == "Dan and 2 others liked your post in “Who runs a digital twin of the city?”"

    # Taking a like back and giving it again notifies nobody a second time.
    run(services.toggle_like, bea, post)
    run(services.toggle_like, bea, post)
    assert Notification.objects.filter(recipient=ana).count() == 1
    assert Notification.objects.get(recipient=ana).count == 3
    assert mail.outbox == []  # likes are not emailed by default

    # Once read, the next like starts a new line.
    Notification.objects.update(read_at=timezone.now())
    run(services.toggle_like, people["eve"], post)
    latest = Notification.objects.filter(recipient=ana).first()
    assert latest.count == 1 and latest.title.startswith("Eve and 3 others liked your post")


def test_a_single_like_names_one_person(run, people):
    topic = run(TopicFactory, author=people["ana"], title="Smart street lights in practice")
    run(services.toggle_like, people["bea"], topic.posts.get(number=1))
    assert Notification.objects.get().title == "Bea liked your post in “Smart street lights in practice”"


def test_muted_topics_and_categories_are_silent_even_for_mentions(run, people):
    ana, bea, cara = people["ana"], people["bea"], people["cara"]
    category = CategoryFactory()
    topic = run(TopicFactory, author=ana, category=category)
    run(watching.set_topic_level, ana, topic, WatchLevel.MUTED)
    run(watching.set_category_level, cara, category, WatchLevel.MUTED)
    run(services.create_reply, bea, topic, "Thoughts, @ana and @cara?", reply_to=topic.posts.get(number=1))
    run(services.toggle_like, bea, topic.posts.get(number=1))
    assert kinds(ana) == [] and kinds(cara) == []

    # A level chosen for the topic itself wins over the category's.
    run(watching.set_topic_level, cara, topic, WatchLevel.NORMAL)
    run(services.create_reply, bea, topic, "Still there, @cara?")
    assert kinds(cara) == ["mention"]


def test_watching_a_topic_notifies_every_post(run, people):
    ana, bea, eve = people["ana"], people["bea"], people["eve"]
    topic = run(TopicFactory, author=ana)
    run(watching.set_topic_level, eve, topic, WatchLevel.WATCHING)
    run(services.create_reply, bea, topic, "First answer.")
    run(services.create_reply, bea, topic, "Second answer.")
    assert kinds(eve) == ["watched_post", "watched_post"]
    # Tracking and normal hear only of what concerns them.
    run(watching.set_topic_level, eve, topic, WatchLevel.TRACKING)
    run(services.create_reply, bea, topic, "Third answer.")
    assert len(kinds(eve)) == 2


def test_watching_a_category_notifies_new_topics_and_posts_to_readers_only(run, people):
    ana, bea, eve = people["ana"], people["bea"], people["eve"]
    category = CategoryFactory(name="Open data", read_access=ReadAccess.VERIFIED)
    member = UserFactory()
    run(watching.set_category_level, eve, category, WatchLevel.WATCHING)
    # Someone who may no longer read the category (e.g. lost verification) keeps a stale row.
    CategoryWatch.objects.create(user=member, category=category, level=WatchLevel.WATCHING)

    topic = run(TopicFactory, author=ana, category=category, title="Publishing budgets as open data")
    assert (
        Notification.objects.get(recipient=eve).title
        == "Ana started “Publishing budgets as open data” in Open data"
    )
    run(services.create_reply, bea, topic, "We use CSV and an API.")
    assert kinds(eve) == ["watched_post", "watched_post"]
    assert kinds(member) == []


def test_held_posts_notify_only_once_approved(run, people, settings):
    settings.FORUM_HOLD_FIRST_POSTS = 1
    ana = people["ana"]
    ModeratorFactory()  # moderators are exempt from holds, and approve
    moderator = ModeratorFactory()
    topic = run(TopicFactory, author=ana)  # Ana's first post is not held: nobody is notified of it anyway
    Notification.objects.all().delete()
    newcomer = OfficialFactory(username="newcomer")

    def post_as_the_view_does(author, raw):
        post = services.create_reply(author, topic, raw, reply_to=topic.posts.get(number=1))
        services.after_posting(author, post)
        return post

    held = run(post_as_the_view_does, newcomer, "My first post, @bea.")
    held.refresh_from_db()
    assert held.state == "hidden"
    assert Notification.objects.count() == 0 and not NotificationJob.objects.exists()

    item = ReviewItem.objects.get(post=held)
    run(services.resolve_review, moderator, item, ReviewState.AGREED)
    assert kinds(ana) == ["reply"]
    assert kinds(people["bea"]) == ["mention"]

    rejected = run(post_as_the_view_does, OfficialFactory(), "Another first post, @cara.")
    run(services.resolve_review, moderator, ReviewItem.objects.get(post=rejected), ReviewState.DISAGREED)
    assert kinds(people["cara"]) == []


def test_an_edit_that_adds_a_mention_notifies_only_the_new_name(run, people):
    ana, bea, cara, dan = people["ana"], people["bea"], people["cara"], people["dan"]
    topic = run(TopicFactory, author=ana)
    post = run(services.create_reply, bea, topic, "Asking @cara.")
    assert kinds(cara) == ["mention"]
    run(services.edit_post, bea, post, "Asking @cara and @dan.")
    assert kinds(dan) == ["mention"] and kinds(cara) == ["mention"]
    assert kinds(ana) == ["reply"]  # the edit is not a new post
    run(services.edit_post, bea, post, "Asking @cara and @dan, thank you.")
    assert Notification.objects.count() == 3


def test_authors_watch_their_topics_and_repliers_track_unless_they_chose(run, people):
    ana, bea, cara = people["ana"], people["bea"], people["cara"]
    topic = run(TopicFactory, author=ana)
    assert TopicWatch.objects.get(user=ana, topic=topic).level == WatchLevel.WATCHING
    run(services.create_reply, bea, topic, "An answer.")
    watch = TopicWatch.objects.get(user=bea, topic=topic)
    assert (watch.level, watch.reason) == (WatchLevel.TRACKING, WatchReason.REPLIED)

    run(watching.set_topic_level, cara, topic, WatchLevel.MUTED)
    run(services.create_reply, cara, topic, "A muted answer.")
    assert TopicWatch.objects.get(user=cara, topic=topic).level == WatchLevel.MUTED
    run(services.create_reply, ana, topic, "The author answers too.")
    assert TopicWatch.objects.get(user=ana, topic=topic).level == WatchLevel.WATCHING  # never lowered


def test_a_post_saved_while_the_broker_is_down_notifies_once_it_is_back(run, people, monkeypatch):
    ana, bea = people["ana"], people["bea"]
    topic = run(TopicFactory, author=ana)

    def broker_down(*args, **kwargs):
        raise ConnectionError("Redis is unreachable")

    monkeypatch.setattr(fan_out, "apply_async", broker_down)
    post = run(services.create_reply, bea, topic, "Written during the outage.")
    assert post.pk and kinds(ana) == []
    job = NotificationJob.objects.get()
    monkeypatch.undo()

    assert drain_notification_jobs.apply().get() == {"done": 0, "failed": 0}  # too young: its task may come
    NotificationJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=2))
    with_callbacks = run(drain_notification_jobs.apply)
    assert with_callbacks.get() == {"done": 1, "failed": 0}
    assert kinds(ana) == ["reply"] and not NotificationJob.objects.exists()
    assert len(mail.outbox) == 1

    # A task redelivered after all (acks_late) finds nothing left to do.
    assert notify.run_job(job.pk) is None
    assert Notification.objects.count() == 1


def test_a_job_run_twice_notifies_nobody_twice(people):
    ana, bea = people["ana"], people["bea"]
    topic = TopicFactory(author=ana)
    post = services.create_reply(bea, topic, "Same job twice.")
    job = NotificationJob.objects.get(post=post)
    copy = NotificationJob.objects.create(kind=job.kind, post=post)
    notify.run_job(job.pk)
    notify.run_job(copy.pk)
    assert kinds(ana) == ["reply"]
    assert OutboxEmail.objects.count() == 1
    assert not NotificationJob.objects.filter(post=post).exists()


def test_no_email_for_a_reply_already_read_in_the_topic(run, people, settings):
    settings.NOTIFICATION_EMAIL_DELAY_SECONDS = 300
    ana, bea = people["ana"], people["bea"]
    topic = run(TopicFactory, author=ana)
    run(services.create_reply, bea, topic, "Read before the email goes.")
    services.mark_read(ana, topic, 2)
    OutboxEmail.objects.update(send_after=timezone.now())
    drain_outbox.apply()
    assert OutboxEmail.objects.get().state == OutboxState.SKIPPED
    assert mail.outbox == []


def test_each_watcher_reads_the_title_in_their_own_language(run):
    topic = run(TopicFactory, title="Open data portals")
    watchers = {code: OfficialFactory(preferred_language=code) for code in ("en", "es", "fr")}
    for person in watchers.values():
        run(watching.set_topic_level, person, topic, WatchLevel.WATCHING)
    author = OfficialFactory(display_name="Amina Diallo")
    run(services.create_reply, author, topic, "We publish every dataset weekly.")
    titles = {
        code: Notification.objects.get(recipient=person, kind="watched_post").title
        for code, person in watchers.items()
    }
    assert titles["en"] == "Amina Diallo posted in “Open data portals”"
    assert titles["es"].startswith("Amina Diallo publicó") and titles["fr"].startswith(
        "Amina Diallo a publié"
    )
