"""Seed a database from the shared bench-peers data set, for compare.py side by side with Spirit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_project \\
        .venv/bin/python bench/peers/seed.py [--dataset ../shared/bench-peers/dataset] [--force]

Creates the database if it is missing, migrates it, and (unless it already holds this data
set, by fingerprint) empties the forum and fills it with the data set's 200 users
(`user001`..`user200`, password `password`, verified officials who sign in with
`authenticate(username=..., password=...)` or by email `user001@bench.example`), 5 categories,
2,000 topics and 52,000 posts. Bulk INSERTs, with everything the services would leave behind
set exactly: Markdown rendered by core.markdown (services.cook), post numbers and tree
positions, topic counters and last-post fields, each poster's read state and automatic watch,
the search index (forum.search.index_posts). Then VACUUM ANALYZE, and last `seed_urls.env`
next to this file (page URLs + the data set's fingerprint).
"""

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# ../shared/bench-peers, where compare.py expects it; --dataset or BENCH_PEERS_DATASET otherwise.
DEFAULT_DATASET = ROOT.parent / "shared" / "bench-peers" / "dataset"
BATCH = 5000


def log(message: str) -> None:
    print(f"[seed {time.strftime('%H:%M:%S', time.gmtime())}] {message}", flush=True)


def ensure_database(url: str) -> None:
    """CREATE DATABASE when it does not exist yet (PostgreSQL only)."""
    import psycopg
    from django.db import connection
    from psycopg import sql

    if connection.vendor != "postgresql":
        return
    params = connection.get_connection_params()
    name = connection.settings_dict["NAME"]
    admin = {k: v for k, v in params.items() if k in {"host", "port", "user", "password"}}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            log(f"creating database {name}")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default=os.environ.get("BENCH_PEERS_DATASET", str(DEFAULT_DATASET)))
    parser.add_argument("--urls-file", default=str(HERE / "seed_urls.env"))
    parser.add_argument("--force", action="store_true", help="reseed even if the fingerprint matches")
    args = parser.parse_args()

    sys.path.insert(0, args.dataset)
    import django
    from dataset import build_dataset, fingerprint

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    ensure_database(os.environ.get("DATABASE_URL", ""))
    connection.close()
    call_command("migrate", verbosity=0)

    log("building the data set")
    ds = build_dataset()
    fp = fingerprint(ds)
    log(f"fingerprint {fp}")
    urls_file = Path(args.urls_file)
    if not args.force and urls_file.exists() and f"FINGERPRINT={fp}" in urls_file.read_text().split():
        from forum.models import Post

        if Post.objects.count() == sum(len(t.posts) for t in ds.topics):
            log(f"up to date ({urls_file}); --force reseeds")
            return
    seed(ds)
    write_urls(ds, fp, urls_file)


def seed(ds) -> None:
    from django.contrib.auth.hashers import make_password
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.utils.text import slugify

    from accounts.models import User, VerificationMethod, VerificationState
    from forum import search, services
    from forum.models import (
        Category,
        Post,
        ReadAccess,
        Topic,
        TopicReadState,
        TopicWatch,
        WatchLevel,
        WatchReason,
    )

    with transaction.atomic():
        log("emptying the forum")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE forum_category, forum_topic, forum_post, account_emailaddress, "
                    "accounts_user, django_session RESTART IDENTITY CASCADE"
                )
        else:
            Post.objects.all().delete()
            Topic.objects.all().delete()
            Category.objects.all().delete()
            User.objects.all().delete()

        log(f"{len(ds.usernames)} users")
        password = make_password("password")  # one hash: the same password for everyone
        users = User.objects.bulk_create(
            [
                User(
                    username=name,
                    email=f"{name}@bench.example",
                    display_name=name,
                    password=password,
                    date_joined=joined,
                    verification_state=VerificationState.VERIFIED,
                    verification_method=VerificationMethod.REVIEW,
                    verified_at=joined,
                )
                for name, joined in zip(ds.usernames, ds.user_joined, strict=True)
            ]
        )
        users = list(User.objects.filter(username__in=ds.usernames).order_by("username"))
        from allauth.account.models import EmailAddress

        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users]
        )

        categories = [
            Category.objects.create(
                name=title, slug=slugify(title), position=i + 1, read_access=ReadAccess.EVERYONE
            )
            for i, title in enumerate(ds.categories)
        ]

        log(f"{len(ds.topics)} topics")
        topics = []
        for t in ds.topics:
            first, last = t.posts[0], t.posts[-1]
            topics.append(
                Topic(
                    category=categories[t.category],
                    title=t.title,
                    slug=slugify(t.title)[:100] or "topic",
                    author=users[t.user],
                    created_at=first.date,
                    bumped_at=last.date,
                    last_posted_at=last.date,
                    last_poster=users[last.user],
                    highest_post_number=len(t.posts),
                    posts_count=len(t.posts),
                    replies_count=len(t.posts) - 1,
                    views_count=t.view_count,
                    participants_count=len({p.user for p in t.posts}),
                )
            )
        Topic.objects.bulk_create(topics, batch_size=BATCH)

        total = sum(len(t.posts) for t in ds.topics)
        log(f"{total} posts (Markdown through services.cook)")
        cooked_cache: dict[str, str] = {}
        batch: list[Post] = []
        done = 0
        for topic, t in zip(topics, ds.topics, strict=True):
            for number, p in enumerate(t.posts, start=1):
                html = cooked_cache.get(p.body)
                if html is None:
                    html = cooked_cache[p.body] = services.cook(p.body)
                depth, root_number, path = services._tree_position(number, None)
                batch.append(
                    Post(
                        topic=topic,
                        number=number,
                        author=users[p.user],
                        depth=depth,
                        root_number=root_number,
                        path=path,
                        raw=p.body,
                        cooked=html,
                        created_at=p.date,
                    )
                )
                if len(batch) >= BATCH:
                    Post.objects.bulk_create(batch)
                    done += len(batch)
                    batch = []
                    log(f"  {done}/{total}")
        Post.objects.bulk_create(batch)

        # What create_topic / create_reply leave per poster: a read state at their last post,
        # and an automatic watch (the starter watches, repliers track).
        log("read states and watches")
        states, watches = [], []
        for topic, t in zip(topics, ds.topics, strict=True):
            last_number: dict[int, tuple[int, object]] = {}
            for number, p in enumerate(t.posts, start=1):
                last_number[p.user] = (number, p.date)
            for user_index, (number, when) in last_number.items():
                user = users[user_index]
                states.append(
                    TopicReadState(
                        user=user,
                        topic=topic,
                        last_read_number=number,
                        last_visit_number=number,
                        last_visit_at=when,
                    )
                )
                starter = user_index == t.user
                watches.append(
                    TopicWatch(
                        user=user,
                        topic=topic,
                        level=WatchLevel.WATCHING if starter else WatchLevel.TRACKING,
                        reason=WatchReason.CREATED if starter else WatchReason.REPLIED,
                        updated_at=when,
                    )
                )
        TopicReadState.objects.bulk_create(states, batch_size=BATCH)
        TopicWatch.objects.bulk_create(watches, batch_size=BATCH)

        log("search index")
        ids = [topic.pk for topic in topics]
        for start in range(0, len(ids), 200):
            search.index_posts(topic_ids=ids[start : start + 200])

    if connection.vendor == "postgresql":
        log("VACUUM ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    cache.clear()  # nothing cached from an earlier seed may outlive it


def write_urls(ds, fp: str, path: Path) -> None:
    from forum.models import Category, Topic
    from forum.reading import POSTS_PER_PAGE

    topics = list(Topic.objects.order_by("pk")[:2])
    mega, typical = topics[0], topics[1]
    assert mega.posts_count == len(ds.topics[0].posts) and typical.posts_count == len(ds.topics[1].posts)
    last_page = (mega.highest_post_number + POSTS_PER_PAGE - 1) // POSTS_PER_PAGE
    first_category = Category.objects.order_by("position").first()
    lines = {
        "HOME_URL": "/",
        "TYPICAL_URL": typical.get_absolute_url(),
        "MEGA_URL": mega.get_absolute_url(),
        "MEGA_LAST_URL": f"{mega.get_absolute_url()}?page={last_page}",
        "CATEGORY_URL": first_category.get_absolute_url(),
        "SEARCH_URL": "/search?q=database+performance",
        "FINGERPRINT": fp,
    }
    path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    log(f"wrote {path}")
    for key, value in lines.items():
        print(f"  {key}={value}")


if __name__ == "__main__":
    main()
