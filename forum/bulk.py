"""Bulk writes for volume data (seed_bench) and large test topics.

The same guarantees as forum.services.create_reply — consecutive numbers, tree
positions, exact counters — but with batched INSERTs instead of one post at a time.
Not for user-facing writes: no permission checks, no Markdown per post.
"""

from collections.abc import Callable, Sequence
from datetime import timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from core import page_cache

from . import search
from .models import Post, Topic, recent_poster_ids
from .services import _tree_position, cook

SAMPLE_TEXTS = [
    "In our city the first step was a public map of where people cannot get online.",
    "We trained librarians as digital mentors; older residents trust them.",
    "Open data only helped once we published it with a plain-language guide.",
    "Procurement rules slowed us down more than the technology did.",
    "Free public wifi in markets brought many small traders online.",
]


def bulk_add_replies(
    topic: Topic,
    authors: Sequence,
    count: int,
    *,
    batch_size: int = 2000,
    every_nth_is_answer: int = 3,
    on_batch: Callable[[int], None] | None = None,
) -> None:
    """Append `count` replies to `topic`; every `every_nth_is_answer`-th one answers an earlier post."""
    if count <= 0:
        return
    cooked = [(text, cook(text)) for text in SAMPLE_TEXTS]
    with transaction.atomic():
        topic = Topic.objects.select_for_update().get(pk=topic.pk)
        known: dict[int, Post] = {
            post.number: post
            for post in Post.objects.filter(topic=topic).only("id", "number", "depth", "root_number", "path")
        }
        start = topic.highest_post_number + 1
        now = timezone.now()
        first_time = now - timedelta(minutes=count)
        last_author = None
        end = start + count
        for batch_start in range(start, end, batch_size):
            batch: list[Post] = []
            for number in range(batch_start, min(batch_start + batch_size, end)):
                parent = None
                if number % every_nth_is_answer == 0 and number > 2:
                    # Answer a recent post, so threads grow a few levels deep.
                    candidate = known.get(number - 1 - (number % 7))
                    parent = candidate if candidate and candidate.number < number else None
                depth, root_number, path = _tree_position(number, parent)
                raw, html = cooked[number % len(cooked)]
                last_author = authors[number % len(authors)]
                post = Post(
                    topic=topic,
                    number=number,
                    author=last_author,
                    reply_to=parent,
                    depth=depth,
                    root_number=root_number,
                    path=path,
                    raw=raw,
                    cooked=html,
                    created_at=first_time + timedelta(minutes=number - start),
                )
                batch.append(post)
            Post.objects.bulk_create(batch, batch_size=batch_size)
            if any(post.pk is None for post in batch):
                # Backends that do not return ids: read them back for the tree.
                ids = dict(
                    Post.objects.filter(topic=topic, number__gte=batch[0].number).values_list("number", "id")
                )
                for post in batch:
                    post.pk = post.id = ids[post.number]
            known.update({post.number: post for post in batch})
            if on_batch:
                on_batch(len(batch))
        _recount_replies(topic)
        participants = Post.objects.filter(topic=topic).aggregate(n=Count("author", distinct=True))["n"]
        posts_count = topic.highest_post_number + count
        Topic.objects.filter(pk=topic.pk).update(
            highest_post_number=posts_count,
            posts_count=posts_count,
            replies_count=posts_count - 1,
            participants_count=participants,
            recent_poster_ids=recent_poster_ids(topic.pk, topic.author_id),
            last_poster=last_author,
            last_posted_at=now,
            bumped_at=now,
        )
        search.index_posts(topic_ids=[topic.pk])
        page_cache.changed(topic_ids=[topic.pk])


def _recount_replies(topic: Topic) -> None:
    """Set each post's reply_count from the rows, in one statement per parent with replies."""
    counts = (
        Post.objects.filter(topic=topic, reply_to__isnull=False)
        .values("reply_to_id")
        .annotate(n=Count("id"))
        .values_list("reply_to_id", "n")
    )
    updates = [Post(pk=post_id, reply_count=n) for post_id, n in counts]
    Post.objects.bulk_update(updates, ["reply_count"], batch_size=1000)
