"""Index types that degrade gracefully on SQLite (the development database)."""

from django.contrib.postgres.indexes import GinIndex
from django.db.models import Index


class GinIndexOnPostgres(GinIndex):
    """A GIN index on PostgreSQL; a plain index elsewhere.

    SQLite has no GIN, and `make run` must migrate on it; search there goes
    through an FTS5 table instead, so the stand-in index is never used for searching.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "postgresql":
            return Index.create_sql(self, model, schema_editor, using=using, **kwargs)
        return super().create_sql(model, schema_editor, using=using, **kwargs)
