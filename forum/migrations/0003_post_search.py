# Full-text search: on PostgreSQL the unaccent extension, text search configurations per
# language (unaccent in front of the stemmer) and Post.search_vector with a GIN index; on
# SQLite an FTS5 table. Existing posts are indexed at the end.

import core.indexes
import django.contrib.postgres.search
from django.conf import settings
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

# (configuration, copied from, stemmer dictionary)
CONFIGS = [
    ("forum_english", "english", "english_stem"),
    ("forum_spanish", "spanish", "spanish_stem"),
    ("forum_french", "french", "french_stem"),
    ("forum_simple", "simple", "simple"),
]
FTS_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS forum_post_fts USING fts5("
    "title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
)


class UnaccentOnPostgres(UnaccentExtension):
    """CreateExtension already skips other databases going forwards; do the same backwards."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_search_backend(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for name, source, stemmer in CONFIGS:
            schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
            schema_editor.execute(f"CREATE TEXT SEARCH CONFIGURATION {name} (COPY = {source})")
            schema_editor.execute(
                f"ALTER TEXT SEARCH CONFIGURATION {name} "
                f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stemmer}"
            )
    elif connection.vendor == "sqlite":
        schema_editor.execute(FTS_CREATE)


def drop_search_backend(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for name, _source, _stemmer in CONFIGS:
            schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {name}")
    elif connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS forum_post_fts")


def index_existing_posts(apps, schema_editor):
    # The current indexing code reads only columns that exist at this point
    # (titles, texts, translations, language), so calling it here is safe.
    from forum.search import reindex_all

    reindex_all(using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ('forum', '0002_post_tree_roots_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        UnaccentOnPostgres(),
        migrations.RunPython(create_search_backend, drop_search_backend),
        migrations.AddField(
            model_name='post',
            name='search_vector',
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name='post',
            index=core.indexes.GinIndexOnPostgres(fields=['search_vector'], name='post_search'),
        ),
        migrations.RunPython(index_existing_posts, migrations.RunPython.noop),
    ]
