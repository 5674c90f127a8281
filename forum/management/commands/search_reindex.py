"""Rebuild the search index of every post (after bulk inserts such as seed_bench).

python manage.py search_reindex
"""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from core import page_cache
from forum.models import Post
from forum.search import reindex_all


class Command(BaseCommand):
    help = "Recompute the full-text search index of every post."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=20_000)

    def handle(self, *args, batch_size: int, **options):
        total = Post.objects.count()
        with tqdm(total=total, unit="post", desc="search_reindex", disable=options["verbosity"] == 0) as bar:
            done = reindex_all(batch_size=batch_size, progress=bar.update)
        page_cache.changed(lists=False, search=True)  # searches kept from the old index
        self.stdout.write(f"Indexed {done} posts.")
