"""Full-text search over posts, in English, Spanish and French, with filters.

Two backends behind one interface (`index_posts`, `parse_query`, `search`):

- PostgreSQL: `Post.search_vector` (topic title weight A, text weight B) with a GIN
  index. Each post is indexed with the text search configuration of its topic's
  language (`forum_english`, `forum_spanish`, `forum_french`, `forum_simple`
  otherwise); the migration creates these as copies of the built-in ones with the
  `unaccent` dictionary in front of the stemmer, so "digitalizacion" finds
  "digitalización". Seeded questions carry their title and text in several
  languages; each translation is indexed with its own language's configuration.
  A query is parsed here (quotes, OR, -word, filters) and each word becomes
  "any of its forms in the three languages", so a Spanish plural finds the
  singular whatever the reader's interface language.
- SQLite (`make run`): an FTS5 table `forum_post_fts` (title, body) with the
  `porter unicode61 remove_diacritics 2` tokenizer: accents are folded on both
  sides, but stemming is English-only (Porter), so Spanish and French stems are
  weaker there ("brechas" still finds "brecha"; irregular forms do not).

The vectors and the FTS rows are written by `index_posts`, called from the
service functions that write post texts and titles (forum/services.py). Hidden
and withdrawn posts keep their vectors; every search filters on the post's
state, so they never show up, and unhiding needs no re-indexing.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from core import clean

from .models import FORUM_LANGUAGES, Bookmark, Category, Post, PostState, Topic, TopicStatus, current_language
from .permissions import readable_topics, visible_categories, visible_topics

# --- Settings -------------------------------------------------------------------------------

LANGUAGE_CONFIGS = {"en": "forum_english", "es": "forum_spanish", "fr": "forum_french"}
FALLBACK_CONFIG = "forum_simple"
# A query word matches any of its forms in these configurations (the three languages first).
QUERY_CONFIGS = ("forum_english", "forum_spanish", "forum_french", FALLBACK_CONFIG)
FTS_TABLE = "forum_post_fts"
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
PER_PAGE = 20
MAX_PAGE = 50
# How many of the newest matching posts are ranked for each page of results (see search()).
CANDIDATES_PER_PAGE = 500
# How many of the newest posts are scanned directly before turning to the index (see _newest_matches).
RECENT_WINDOW = 20_000
# Text rank counts double for a post written today, 1.5x at this many days old, ~1x after a year.
RECENCY_DAYS = 30.0

# Highlight markers: private-use characters, stripped from the text before highlighting,
# so nothing a person writes can turn into a marker (and so into markup).
START, STOP = "\ue000", "\ue001"
HIGHLIGHT_OPTIONS = (
    f'StartSel={START}, StopSel={STOP}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)


# --- Text -----------------------------------------------------------------------------------

_TAG_RE = re.compile(r"<[^>]*>")


def plain_text(cooked_html: str) -> str:
    """The words of a cooked post: tags dropped, entities decoded, markers removed."""
    text = html.unescape(_TAG_RE.sub(" ", cooked_html or ""))
    return " ".join(text.replace(START, "").replace(STOP, "").split())


def fold(text: str) -> str:
    """Lower case without accents: 'Digitalización' -> 'digitalizacion'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def highlight_html(marked: str) -> SafeString:
    """Escape everything, then turn only our own markers into <mark>."""
    escaped = escape(marked)
    # ts_headline/snippet always emit markers in pairs, but never trust a count.
    if escaped.count(START) != escaped.count(STOP):
        escaped = escaped.replace(START, "").replace(STOP, "")
    return mark_safe(escaped.replace(START, "<mark>").replace(STOP, "</mark>"))


def highlight_words_html(text: str, words: Iterable[str]) -> SafeString:
    """Mark words of `text` that start like one of `words` (accent- and case-insensitively)."""
    stems = [fold(word)[: max(3, len(word) - 2)] for word in words if len(word) > 2]
    out = []
    for token in re.split(r"(\w+)", text):
        if token and stems and any(fold(token).startswith(stem) for stem in stems):
            out.append(f"{START}{token}{STOP}")
        else:
            out.append(token)
    return highlight_html("".join(out))


def _is_postgres(using: str = "default") -> bool:
    return connections[using].vendor == "postgresql"


# --- Indexing -------------------------------------------------------------------------------


def _pg_config_sql(language_sql: str) -> str:
    whens = " ".join(f"WHEN '{code}' THEN '{cfg}'::regconfig" for code, cfg in LANGUAGE_CONFIGS.items())
    return f"(CASE split_part(lower({language_sql}), '-', 1) {whens} ELSE '{FALLBACK_CONFIG}'::regconfig END)"


def _pg_plain_sql(html_sql: str) -> str:
    """SQL twin of plain_text(): drop tags, decode the entities the Markdown renderer emits."""
    text = f"regexp_replace(coalesce({html_sql}, ''), '<[^>]*>', ' ', 'g')"
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "''"), ("&amp;", "&")):
        text = f"replace({text}, '{entity}', '{char}')"
    return f"translate({text}, '{START}{STOP}', '')"


# The names of the files a post shows (forum/uploads.py), split into words: "digital-inclusion_plan.pdf"
# is one token to PostgreSQL's parser, and a search for "inclusion" should find it.
_PG_FILE_NAMES = (
    "coalesce((SELECT string_agg(translate(u.original_filename, '._-', '   '), ' ') "
    "FROM forum_postupload pu JOIN forum_upload u ON u.id = pu.upload_id "
    "WHERE pu.post_id = p.id AND u.removed_at IS NULL), '')"
)


def _file_names(post_ids: list[int]) -> dict[int, str]:
    from .upload_models import PostUpload

    names: dict[int, list[str]] = {}
    rows = PostUpload.objects.filter(post_id__in=post_ids, upload__removed_at__isnull=True).values_list(
        "post_id", "upload__original_filename"
    )
    for post_id, name in rows:
        names.setdefault(post_id, []).append(name.replace("_", " ").replace("-", " "))
    return {post_id: " ".join(found) for post_id, found in names.items()}


def _pg_vector_sql() -> str:
    """The tsvector of a post `p` in topic `t`: titles weight A, texts weight B, each in its language."""
    own = _pg_config_sql("t.language")
    parts = [f"setweight(to_tsvector({own}, t.title), 'A')"]
    for code in FORUM_LANGUAGES:
        cfg = LANGUAGE_CONFIGS.get(code, FALLBACK_CONFIG)
        title = f"coalesce(t.title_translations ->> '{code}', '')"
        parts.append(f"setweight(to_tsvector('{cfg}'::regconfig, {title}), 'A')")
    parts.append(f"setweight(to_tsvector({own}, {_pg_plain_sql('p.cooked')}), 'B')")
    parts.append(f"setweight(to_tsvector({own}, {_PG_FILE_NAMES}), 'B')")
    for code in FORUM_LANGUAGES:
        cfg = LANGUAGE_CONFIGS.get(code, FALLBACK_CONFIG)
        translated = _pg_plain_sql(f"p.cooked_translations ->> '{code}'")
        parts.append(f"setweight(to_tsvector('{cfg}'::regconfig, {translated}), 'B')")
    return " || ".join(parts)


def index_posts(
    *, post_ids: Iterable[int] = (), topic_ids: Iterable[int] = (), using: str = "default"
) -> None:
    """(Re)compute the search index of these posts and of every post of these topics.

    Called by the services after writing a post's text or a topic's title (titles are
    part of every post's vector, so a renamed topic re-indexes all its posts).
    """
    post_ids, topic_ids = [int(i) for i in post_ids], [int(i) for i in topic_ids]
    if not post_ids and not topic_ids:
        return
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE forum_post AS p SET search_vector = {_pg_vector_sql()} "
                "FROM forum_topic AS t WHERE t.id = p.topic_id AND (p.id = ANY(%s) OR p.topic_id = ANY(%s))",
                [post_ids, topic_ids],
            )
    elif connection.vendor == "sqlite":
        posts = Post.objects.using(using).filter(Q(pk__in=post_ids) | Q(topic_id__in=topic_ids))
        _fts_write(connection, posts)


def reindex_all(*, batch_size: int = 20_000, using: str = "default", progress=None) -> int:
    """Index every post (after bulk inserts such as seed_bench, or a change of the index)."""
    connection = connections[using]
    bounds = Post.objects.using(using).order_by("pk").values_list("pk", flat=True)
    first, last = bounds.first(), bounds.last()
    if first is None:
        return 0
    done = 0
    for start in range(first, last + 1, batch_size):
        end = start + batch_size - 1
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE forum_post AS p SET search_vector = {_pg_vector_sql()} "
                    "FROM forum_topic AS t WHERE t.id = p.topic_id AND p.id BETWEEN %s AND %s",
                    [start, end],
                )
                count = cursor.rowcount
        else:
            count = _fts_write(connection, Post.objects.using(using).filter(pk__range=(start, end)))
        done += count
        if progress:
            progress(count)
    return done


def _fts_write(connection, posts: QuerySet) -> int:
    values = list(
        posts.values_list("pk", "topic__title", "topic__title_translations", "cooked", "cooked_translations")
    )
    files = _file_names([row[0] for row in values])
    rows = [
        (
            post_id,
            _joined(title, titles),
            " ".join(
                filter(None, [_joined(plain_text(cooked), translations, cooked=True), files.get(post_id)])
            ),
        )
        for post_id, title, titles, cooked, translations in values
    ]
    with connection.cursor() as cursor:
        ids = [row[0] for row in rows]
        for chunk in range(0, len(ids), 500):
            part = ids[chunk : chunk + 500]
            cursor.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({', '.join(['%s'] * len(part))})", part)
        cursor.executemany(f"INSERT INTO {FTS_TABLE} (rowid, title, body) VALUES (%s, %s, %s)", rows)
    return len(rows)


def _joined(first: str, translations, *, cooked: bool = False) -> str:
    texts = [first or ""]
    for value in (translations or {}).values():
        texts.append(plain_text(value) if cooked else str(value))
    return " · ".join(t.replace(START, "").replace(STOP, "") for t in texts if t)


# --- Parsing --------------------------------------------------------------------------------


@dataclass
class Term:
    text: str
    phrase: bool = False


@dataclass
class ParsedQuery:
    """What a person asked for: words (AND of OR-groups), excluded words and filters."""

    text: str = ""
    groups: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)
    category: str = ""
    tags: list[str] = field(default_factory=list)
    username: str = ""
    organisation: str = ""
    after: date | None = None
    before: date | None = None
    status: str = ""
    in_title: bool = False
    in_bookmarks: bool = False
    topic_id: int | None = None
    order: str = "relevance"
    notes: list[str] = field(default_factory=list)

    @property
    def has_words(self) -> bool:
        return bool(self.groups)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.category
            or self.tags
            or self.username
            or self.organisation
            or self.after
            or self.before
            or self.status
            or self.in_title
            or self.in_bookmarks
            or self.topic_id
        )

    @property
    def words(self) -> list[str]:
        return [word for group in self.groups for term in group for word in term.text.split()]


STATUSES = {"open": TopicStatus.OPEN, "closed": TopicStatus.CLOSED, "archived": TopicStatus.ARCHIVED}
ORDERS = {"latest": "latest", "relevance": "relevance"}
_TOKEN_RE = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD_RE = re.compile(r"\w", re.UNICODE)


def _parse_date(value: str, notes: list[str]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        notes.append(
            _("Write dates as YYYY-MM-DD, for example 2026-05-17; “%(value)s” was ignored.")
            % {"value": value}
        )
        return None


def parse_query(text: str) -> ParsedQuery:
    """Split a search box entry into words, phrases, OR, -exclusions and filters.

    Filters: #category or category:slug, tag:name (tags:a,b), @username or user:name,
    org:slug, after:/before:YYYY-MM-DD, status:open|closed|archived, in:title,
    in:bookmarks, topic:<id>, order:latest. Anything else is words; punctuation-only
    tokens (operator soup) are dropped, so no input reaches the database as syntax.
    """
    parsed = ParsedQuery(text=text or "")
    notes = parsed.notes
    text = " ".join((text or "").split())
    if len(text) > MAX_QUERY_CHARS:
        notes.append(
            _("Searches are limited to %(max)d characters; only the beginning of yours was used.")
            % {"max": MAX_QUERY_CHARS}
        )
        text = text[:MAX_QUERY_CHARS]
    if text.count('"') % 2:
        notes.append(_("A quotation mark was not closed, so the words after it were searched one by one."))
        last = text.rfind('"')
        text = text[:last] + " " + text[last + 1 :]

    pending_or = False
    terms = 0
    for match in _TOKEN_RE.finditer(text):
        negated, quoted, bare = match.group(1), match.group(2), match.group(3)
        term: Term | None = None
        exclude = False
        if quoted is not None:
            if _WORD_RE.search(quoted):
                term, exclude = Term(" ".join(quoted.split()), phrase=True), bool(negated)
        else:
            token = bare
            if token.upper() == "OR":
                pending_or = bool(parsed.groups)
                continue
            if _apply_filter(parsed, token):
                continue
            exclude = token.startswith("-") and len(token) > 1
            word = token[1:] if exclude else token
            if _WORD_RE.search(word):
                term = Term(word)
        if term is None:
            continue
        terms += 1
        if terms > MAX_TERMS:
            if terms == MAX_TERMS + 1:
                notes.append(_("Only the first %(max)d words were searched.") % {"max": MAX_TERMS})
            continue
        if exclude:
            parsed.excluded.append(term)
        elif pending_or and parsed.groups:
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        pending_or = False
    return parsed


def _apply_filter(parsed: ParsedQuery, token: str) -> bool:
    """Apply `token` if it is a filter; False when it is an ordinary word."""
    notes = parsed.notes
    if token.startswith("@") and len(token) > 1:
        parsed.username = token[1:]
        return True
    if token.startswith("#") and len(token) > 1:
        parsed.category = token[1:]
        return True
    key, sep, value = token.partition(":")
    if not sep or not value:
        return False
    key = key.lower()
    if key == "category":
        parsed.category = value
    elif key in {"tag", "tags"}:
        parsed.tags.extend(name for name in value.lower().split(",") if name)
    elif key in {"user", "username"}:
        parsed.username = value.lstrip("@")
    elif key in {"org", "organisation", "organization"}:
        parsed.organisation = value
    elif key == "after":
        parsed.after = _parse_date(value, notes)
    elif key == "before":
        parsed.before = _parse_date(value, notes)
    elif key == "status":
        if value.lower() in STATUSES:
            parsed.status = value.lower()
        else:
            notes.append(
                _("Status can be open, closed or archived; “%(value)s” was ignored.") % {"value": value}
            )
    elif key == "in":
        if value.lower() == "title":
            parsed.in_title = True
        elif value.lower() == "bookmarks":
            parsed.in_bookmarks = True
        else:
            notes.append(_("Use in:title or in:bookmarks; “%(value)s” was ignored.") % {"value": value})
    elif key == "topic":
        if topic_id := clean.bounded_int(value, minimum=1):
            parsed.topic_id = topic_id
        else:
            notes.append(_("topic: needs a topic number; “%(value)s” was ignored.") % {"value": value})
    elif key == "order":
        parsed.order = ORDERS.get(value.lower(), "relevance")
    else:
        return False
    return True


def apply_form_filters(parsed: ParsedQuery, data) -> ParsedQuery:
    """Fill in the filters chosen in the search form (they add to the ones typed in the box)."""
    notes = parsed.notes
    if value := (data.get("category") or "").strip():
        parsed.category = value
    if value := (data.get("tag") or "").strip():
        parsed.tags.extend(name for name in value.lower().replace(" ", ",").split(",") if name)
    if value := (data.get("username") or "").strip().lstrip("@"):
        parsed.username = value
    if value := (data.get("organisation") or "").strip():
        parsed.organisation = value
    if value := (data.get("after") or "").strip():
        parsed.after = _parse_date(value, notes)
    if value := (data.get("before") or "").strip():
        parsed.before = _parse_date(value, notes)
    if (value := (data.get("status") or "").strip().lower()) in STATUSES:
        parsed.status = value
    if data.get("in_title"):
        parsed.in_title = True
    if data.get("in_bookmarks"):
        parsed.in_bookmarks = True
    if topic_id := clean.bounded_int((data.get("topic") or "").strip(), minimum=1):
        parsed.topic_id = topic_id
    if (value := (data.get("order") or "").strip()) in ORDERS:
        parsed.order = value
    return parsed


# --- Searching ------------------------------------------------------------------------------


@dataclass
class SearchHit:
    post: Post
    topic: Topic
    title_html: SafeString
    blurb_html: SafeString
    matches_in_topic: int
    score: float


@dataclass
class SearchResults:
    query: ParsedQuery
    hits: list[SearchHit] = field(default_factory=list)
    page: int = 1
    has_next: bool = False
    # Why there is nothing to show, in words for the person (the search did not run).
    error: str = ""
    # Context resolved from the filters, for the page ("in the topic …").
    topic: Topic | None = None
    category: Category | None = None

    @property
    def notes(self) -> list[str]:
        return self.query.notes


def search(user, query: ParsedQuery | str, *, page: int = 1, per_page: int = PER_PAGE) -> SearchResults:
    """Posts this person may read that match, best first, one hit per topic (its best post).

    Never returns hidden or withdrawn posts, nor posts of topics outside
    `visible_topics(user)`. Bad input gives `error` or `notes`, never an exception.
    """
    results, posts = prepare(user, query, page=page)
    if posts is not None:
        run(results, posts, per_page=per_page)
    return results


def prepare(user, query: ParsedQuery | str, *, page: int = 1) -> tuple[SearchResults, QuerySet | None]:
    """A search up to the point of running it: its checks and filters (errors, the topic or
    category it is narrowed to, in ``results``) and the posts that match, not yet fetched
    (None: there is nothing to run). ``run`` finishes it; ``cache_name`` names it."""
    parsed = parse_query(query) if isinstance(query, str) else query
    results = SearchResults(query=parsed, page=max(1, min(page, MAX_PAGE)))
    if not parsed.has_words and not parsed.has_filters:
        if parsed.excluded:
            results.error = _("Add a word to look for: a search cannot only leave words out.")
        elif parsed.text.strip():
            results.error = _("Type a word or two to search for; punctuation alone finds nothing.")
        else:
            results.error = _("Type what you are looking for.")
        return results, None
    if parsed.has_words and not parsed.has_filters and sum(len(w) for w in parsed.words) < 2:
        results.error = _("Type at least two letters to search.")
        return results, None
    if parsed.in_bookmarks and not user.is_authenticated:
        results.error = _("Sign in to search your bookmarks.")
        return results, None

    # Searching inside one topic works wherever its link does, unlisted topics included.
    topics = readable_topics(user) if parsed.topic_id else visible_topics(user)
    posts = Post.objects.filter(state=PostState.VISIBLE, topic__in=topics)
    posts = _apply_filters(user, parsed, posts, results)
    if results.error:
        return results, None

    backend = _backend(parsed)
    if parsed.has_words:
        posts = posts.filter(backend.match())
        if parsed.in_title:
            posts = posts.filter(number=1).filter(backend.match_title())
    elif parsed.in_title:
        posts = posts.filter(number=1)
    return results, posts


def cache_name(results: SearchResults, posts: QuerySet, *, per_page: int = PER_PAGE) -> str | None:
    """A name for what ``run`` finds, for a cache: the matching posts' query itself (so every
    visibility, person's filter and word has its own), the page, the order and the language.
    None when the answer cannot be kept under the forum's versions: a search of one's bookmarks
    (they change with the person's own version only) or of open topics (it holds the clock)."""
    parsed = results.query
    if parsed.in_bookmarks or parsed.status == "open":
        return None
    sql, params = posts.query.sql_with_params()
    digest = hashlib.sha1(f"{sql}|{params!r}".encode(), usedforsecurity=False).hexdigest()
    return f"{digest}:{results.page}:{per_page}:{parsed.order}:{current_language()}"


def _backend(parsed: ParsedQuery):
    return _PostgresBackend(parsed) if _is_postgres() else _SqliteBackend(parsed)


def run(results: SearchResults, posts: QuerySet, *, per_page: int = PER_PAGE) -> SearchResults:
    """Fetch a prepared search's page of hits into ``results`` (see ``prepare``)."""
    parsed = results.query
    backend = _backend(parsed)
    candidates = _newest_matches(posts, CANDIDATES_PER_PAGE * results.page, words=parsed.has_words)
    ranked = Post.objects.filter(pk__in=candidates)
    if parsed.has_words and parsed.order == "relevance":
        ranked = ranked.annotate(score=backend.score())
        ordering = [F("score").desc(), F("id").desc()]
    else:
        ranked = ranked.annotate(score=RawSQL("0.0", [], output_field=FloatField()))
        ordering = [F("created_at").desc(), F("id").desc()]
    best_per_topic = (
        ranked.annotate(
            topic_position=Window(RowNumber(), partition_by=[F("topic_id")], order_by=ordering),
            topic_matches=Window(Count("id"), partition_by=[F("topic_id")]),
        )
        .filter(topic_position=1)
        .order_by(*ordering)
    )
    offset = (results.page - 1) * per_page
    rows = list(best_per_topic.values_list("id", "score", "topic_matches")[offset : offset + per_page + 1])
    results.has_next = len(rows) > per_page
    rows = rows[:per_page]
    if not rows:
        if parsed.has_words and backend.only_common_words():
            results.error = _("Those words are too common to search for; add a more specific word.")
        return results

    page_posts = Post.objects.filter(pk__in=[row[0] for row in rows]).select_related(
        "topic__category", "author__organisation"
    )
    if parsed.has_words:
        page_posts = page_posts.annotate(marked_blurb=backend.blurb())
    by_id = {post.pk: post for post in page_posts}
    language = current_language()
    for post_id, score, matches in rows:
        post = by_id.get(post_id)
        if post is None:  # deleted between the two queries
            continue
        topic = post.topic
        title = topic.localized_title
        if parsed.has_words:
            title_html = highlight_words_html(title, parsed.words)
            blurb_html = highlight_html(post.marked_blurb or "")
        else:
            title_html = escape(title)
            blurb_html = escape(
                Truncator(plain_text(post.cooked_translations.get(language) or post.cooked)).words(40)
            )
        results.hits.append(
            SearchHit(
                post=post,
                topic=topic,
                title_html=mark_safe(title_html),
                blurb_html=mark_safe(blurb_html),
                matches_in_topic=matches,
                score=score or 0.0,
            )
        )
    return results


def _newest_matches(posts: QuerySet, limit: int, *, words: bool) -> list[int]:
    """Ids of the newest `limit` posts of `posts`, at a bounded cost whatever the words.

    Only these are ranked: a word found in a fifth of 200,000 posts would otherwise mean
    ranking 40,000 rows per request. The newest RECENT_WINDOW posts are scanned first by
    primary key (cheap, and enough for common words); only when they hold too few matches
    are older posts found through the GIN index (rare words, so few rows). Two bounded
    queries instead of one whose plan depends on how common the planner thinks a word is.
    """
    if not words:
        return list(posts.order_by("-id").values_list("id", flat=True)[:limit])
    newest = Post.objects.order_by("-id").values_list("id", flat=True).first() or 0
    floor = newest - RECENT_WINDOW
    ids = list(posts.filter(pk__gt=floor).order_by("-id").values_list("id", flat=True)[:limit])
    if len(ids) < limit and floor > 0:
        # Ordering by an expression keeps PostgreSQL off a backwards primary-key walk.
        older = posts.filter(pk__lte=floor).order_by((F("id") + 0).desc()).values_list("id", flat=True)
        ids += list(older[: limit - len(ids)])
    return ids


def _apply_filters(user, parsed: ParsedQuery, posts: QuerySet, results: SearchResults) -> QuerySet:
    """Narrow `posts` by the filters; unknown names set `results.error` (within what the person may see)."""
    if parsed.category:
        categories = visible_categories(user)
        key = parsed.category
        category = (
            categories.filter(pk=clean.bounded_int(key)).first()
            if clean.bounded_int(key) is not None
            else categories.filter(slug__iexact=key).first()
        )
        if category is None:
            results.error = _("There is no category “%(name)s” that you can read.") % {"name": key}
            return posts
        results.category = category
        posts = posts.filter(Q(topic__category=category) | Q(topic__category__parent=category))
    if parsed.tags:
        posts = posts.filter(topic__in=Topic.objects.filter(tags__name__in=parsed.tags).values("pk"))
    if parsed.username:
        author = get_user_model().objects.filter(username__iexact=parsed.username).only("pk").first()
        if author is None:
            results.error = _("Nobody goes by @%(username)s here.") % {"username": parsed.username}
            return posts
        posts = posts.filter(author=author)
    if parsed.organisation:
        key = parsed.organisation
        posts = posts.filter(
            Q(author__organisation__slug__iexact=key)
            | Q(author__organisation__name__iexact=key)
            | Q(author__organisation__short_name__iexact=key)
        )
    if parsed.after:
        posts = posts.filter(created_at__gte=_start_of(parsed.after))
    if parsed.before:
        posts = posts.filter(created_at__lt=_start_of(parsed.before))
    if parsed.status == "open":
        posts = posts.filter(
            Q(topic__status=TopicStatus.OPEN)
            | Q(topic__status=TopicStatus.SCHEDULED, topic__opens_at__lte=timezone.now())
        )
    elif parsed.status:
        posts = posts.filter(topic__status=STATUSES[parsed.status])
    if parsed.in_bookmarks:
        posts = posts.filter(Exists(Bookmark.objects.filter(user=user, post=OuterRef("pk"))))
    if parsed.topic_id:
        topic = readable_topics(user).filter(pk=parsed.topic_id).first()
        if topic is None:
            results.error = _("There is no topic number %(id)s that you can read.") % {"id": parsed.topic_id}
            return posts
        results.topic = topic
        posts = posts.filter(topic=topic)
    return posts


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class SqlAround(Func):
    """Literal SQL around model columns: `{0}`, `{1}`... in `template` become the compiled
    expressions (so table aliases are Django's, inside subqueries too); `params` fill the
    template's own %s placeholders, in order."""

    def __init__(self, template: str, *expressions, params=(), output_field):
        super().__init__(*expressions, output_field=output_field)
        self.sql_template, self.sql_params = template, list(params)

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = self.sql_template, []
        for index, expression in enumerate(self.source_expressions):
            column_sql, column_params = compiler.compile(expression)
            if column_params:
                raise ValueError("SqlAround takes plain columns only")
            sql = sql.replace(f"{{{index}}}", column_sql)
        return sql, [*params, *self.sql_params]


class _PostgresBackend:
    """tsquery built from the parsed words: each word is OR of its forms in every configuration."""

    def __init__(self, parsed: ParsedQuery):
        self.parsed = parsed
        self.tsquery, self.params = self._tsquery(parsed)
        # ts_rank counts excluded words as missing ones: rank on the wanted words only.
        self.rank_tsquery, self.rank_params = self._tsquery(parsed, with_excluded=False)

    @staticmethod
    def _term(term: Term) -> tuple[str, list]:
        function = "phraseto_tsquery" if term.phrase else "plainto_tsquery"
        forms = [f"{function}('{cfg}'::regconfig, %s)" for cfg in QUERY_CONFIGS]
        # A stop word in any of the three languages ("de", "the", "les") would make the
        # AND impossible for posts in that language: such a word is left out instead.
        stop_word = " OR ".join(f"numnode({form}) = 0" for form in forms[:3])
        sql = f"(CASE WHEN {stop_word} THEN ''::tsquery ELSE ({' || '.join(forms)}) END)"
        return sql, [term.text] * (3 + len(forms))

    def _tsquery(self, parsed: ParsedQuery, *, with_excluded: bool = True) -> tuple[str, list]:
        parts, params = [], []
        for group in parsed.groups:
            sqls = []
            for term in group:
                sql, term_params = self._term(term)
                sqls.append(sql)
                params += term_params
            parts.append("(" + " || ".join(sqls) + ")")
        for term in parsed.excluded if with_excluded else []:
            sql, term_params = self._term(term)
            parts.append(f"!!{sql}")
            params += term_params
        return "(" + " && ".join(parts) + ")", params

    def match(self) -> SqlAround:
        return SqlAround(
            "{0} @@ " + self.tsquery, F("search_vector"), params=self.params, output_field=BooleanField()
        )

    def match_title(self) -> SqlAround:
        # Titles carry weight A in the vector: keep only those lexemes before matching.
        return SqlAround(
            "ts_filter({0}, '{a}') @@ " + self.tsquery,
            F("search_vector"),
            params=self.params,
            output_field=BooleanField(),
        )

    def score(self) -> SqlAround:
        age_days = "greatest(extract(epoch from (now() - {1})) / 86400.0, 0.0)"
        return SqlAround(
            f"ts_rank({{0}}, {self.rank_tsquery}) * (1.0 + {RECENCY_DAYS} / ({RECENCY_DAYS} + {age_days}))",
            F("search_vector"),
            F("created_at"),
            params=self.rank_params,
            output_field=FloatField(),
        )

    def blurb(self) -> SqlAround:
        texts = ", ".join(
            f"nullif({_pg_plain_sql(column)}, '')"
            for column in ["{0}"] + [f"{{1}} ->> '{code}'" for code in FORUM_LANGUAGES]
        )
        return SqlAround(
            f"ts_headline({_pg_config_sql('{2}')}, concat_ws(' · ', {texts}), {self.rank_tsquery}, %s)",
            F("cooked"),
            F("cooked_translations"),
            F("topic__language"),
            params=[*self.rank_params, HIGHLIGHT_OPTIONS],
            output_field=TextField(),
        )

    def only_common_words(self) -> bool:
        with connections["default"].cursor() as cursor:
            cursor.execute(f"SELECT numnode({self.tsquery})", self.params)
            return cursor.fetchone()[0] == 0


class _SqliteBackend:
    """An FTS5 MATCH expression built from the parsed words; every word is a quoted string."""

    def __init__(self, parsed: ParsedQuery):
        self.parsed = parsed
        self.expression = self._expression(parsed)

    @staticmethod
    def _quote(term: Term) -> str:
        return '"' + term.text.replace('"', '""') + '"'

    def _expression(self, parsed: ParsedQuery) -> str:
        groups = ["(" + " OR ".join(self._quote(term) for term in group) + ")" for group in parsed.groups]
        expression = " AND ".join(groups)
        if parsed.excluded:
            expression = f"({expression}) NOT (" + " OR ".join(self._quote(t) for t in parsed.excluded) + ")"
        return expression

    def _in_fts(self, expression: str) -> SqlAround:
        return SqlAround(
            f"{{0}} IN (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s)",
            F("pk"),
            params=[expression],
            output_field=BooleanField(),
        )

    def match(self) -> SqlAround:
        return self._in_fts(self.expression)

    def match_title(self) -> SqlAround:
        return self._in_fts(f"{{title}} : ({self.expression})")

    def score(self) -> SqlAround:
        # bm25() is lower for better matches; the title column counts four times the text.
        age_days = "max(julianday('now') - julianday({1}), 0.0)"
        return SqlAround(
            f"(SELECT -bm25({FTS_TABLE}, 4.0, 1.0) FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s AND rowid = {{0}}) "
            f"* (1.0 + {RECENCY_DAYS} / ({RECENCY_DAYS} + {age_days}))",
            F("pk"),
            F("created_at"),
            params=[self.expression],
            output_field=FloatField(),
        )

    def blurb(self) -> SqlAround:
        return SqlAround(
            f"(SELECT snippet({FTS_TABLE}, 1, %s, %s, ' … ', 30) FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH %s AND rowid = {{0}})",
            F("pk"),
            params=[START, STOP, self.expression],
            output_field=TextField(),
        )

    def only_common_words(self) -> bool:
        return False
