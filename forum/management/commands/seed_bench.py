"""Volume data for benchmarks: many topics, many posts, one very long topic.

    python manage.py seed_bench --topics 10000 --posts 200000

One topic gets --big-topic posts (10,000 by default) with a reply tree; the rest of
the posts are spread evenly over the other topics. Bulk INSERTs in batches, with
counters exactly as the services would leave them. Each run adds a new batch.
"""

from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User, VerificationState
from forum import search, services
from forum.bulk import SAMPLE_TEXTS, bulk_add_replies
from forum.models import RECENT_POSTERS, Category, Post, Topic

BATCH = 5000
AUTHORS = 50


class Command(BaseCommand):
    help = "Bulk-create volume data (topics, posts, one long topic) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--topics", type=int, default=10_000)
        parser.add_argument("--posts", type=int, default=200_000)
        parser.add_argument("--big-topic", type=int, default=10_000, help="posts in the one long topic")

    def handle(self, *args, topics: int, posts: int, big_topic: int, **options):
        if topics < 1 or posts < topics:
            raise CommandError("Give at least one topic and at least one post per topic.")
        big_topic = min(big_topic, posts - (topics - 1))
        run = timezone.now().strftime("%Y%m%d%H%M%S")
        category, _created = Category.objects.get_or_create(
            slug="bench", defaults={"name": "Benchmark", "description": "Volume data from seed_bench."}
        )
        authors = self._authors(run)
        progress = tqdm(total=posts, unit="post", desc="seed_bench", disable=options["verbosity"] == 0)

        big = services.create_topic(
            authors[0], category, f"A very long conversation ({run})", "The long benchmark topic."
        )
        progress.update(1)
        bulk_add_replies(big, authors, big_topic - 1, batch_size=BATCH, on_batch=progress.update)

        others = topics - 1
        remaining = posts - big_topic
        if others:
            self._small_topics(category, authors, others, remaining, run, progress)
        progress.close()
        if connection.vendor == "postgresql":
            # Fresh statistics: with the planner still counting the tables as small, searches
            # picked nested loops over every topic (about 0.5 s instead of 15 ms on 200,000 posts).
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE forum_category, forum_topic, forum_post")
        self.stdout.write(
            f"Created {topics} topics and {posts} posts; the long topic is {big.get_absolute_url()}"
        )

    def _authors(self, run: str) -> list[User]:
        password = make_password(None)
        users = [
            User(
                username=f"bench{run}_{i}",
                email=f"bench{run}_{i}@bench.example",
                display_name=f"Bench official {i}",
                password=password,
                verification_state=VerificationState.VERIFIED,
                verified_at=timezone.now(),
            )
            for i in range(AUTHORS)
        ]
        User.objects.bulk_create(users)
        return list(User.objects.filter(username__startswith=f"bench{run}_").order_by("pk"))

    def _small_topics(self, category, authors, count: int, posts: int, run: str, progress) -> None:
        base, extra = divmod(posts, count)
        cooked = [(text, services.cook(text)) for text in SAMPLE_TEXTS]
        now = timezone.now()
        for start in range(0, count, BATCH // 10):
            with transaction.atomic():
                batch = []
                for i in range(start, min(start + BATCH // 10, count)):
                    size = base + (1 if i < extra else 0)
                    when = now - timedelta(minutes=i)
                    batch.append(
                        Topic(
                            category=category,
                            title=f"How do metropolitan governments share data? Bench {run} #{i}",
                            slug=f"bench-{i}",
                            author=authors[i % len(authors)],
                            created_at=when - timedelta(hours=size),
                            bumped_at=when,
                            last_posted_at=when,
                            last_poster=authors[(i + size - 1) % len(authors)],
                            highest_post_number=size,
                            posts_count=size,
                            replies_count=size - 1,
                            likes_count=i % 17,
                            participants_count=min(size, len(authors)),
                            recent_poster_ids=_recent_posters(authors, i, size),
                        )
                    )
                Topic.objects.bulk_create(batch)
                if any(topic.pk is None for topic in batch):
                    ids = dict(
                        Topic.objects.filter(category=category, title__contains=f"Bench {run} #").values_list(
                            "title", "id"
                        )
                    )
                    for topic in batch:
                        topic.pk = topic.id = ids[topic.title]
                rows = []
                for offset, topic in enumerate(batch):
                    i = start + offset
                    for number in range(1, topic.posts_count + 1):
                        raw, html = cooked[(i + number) % len(cooked)]
                        rows.append(
                            Post(
                                topic=topic,
                                number=number,
                                author=authors[(i + number - 1) % len(authors)],
                                depth=0,
                                root_number=number,
                                path=str(number).zfill(7),
                                raw=raw,
                                cooked=html,
                                created_at=topic.created_at + timedelta(hours=number - 1),
                            )
                        )
                Post.objects.bulk_create(rows, batch_size=BATCH)
                # Bulk inserts bypass the services: index this batch as they would have.
                search.index_posts(topic_ids=[topic.pk for topic in batch])
                progress.update(len(rows))


def _recent_posters(authors, i: int, size: int) -> list[int]:
    """Topic.recent_poster_ids for a bench topic whose post n is by authors[(i + n - 1) % len]."""
    opener = authors[i % len(authors)].pk
    ids: list[int] = []
    for number in range(size, 1, -1):
        pk = authors[(i + number - 1) % len(authors)].pk
        if pk != opener and pk not in ids:
            ids.append(pk)
            if len(ids) == RECENT_POSTERS:
                break
    return ids
