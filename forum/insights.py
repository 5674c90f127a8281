"""Participation figures for the secretariat (/insights/): read-only aggregates, one query each.

People are only ever counted, never listed, except as authors of public posts. Gender is
shown only for people who chose to state it, and any group under SMALL_GROUP is suppressed.
"""

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import Archetype, PollVote, Post, PostState

SMALL_GROUP = 5
TOP_ROWS = 20
# Up to three days are shown per hour (an event), longer periods per day.
HOURLY_UP_TO = timedelta(days=3)

logger = logging.getLogger(__name__)


@dataclass
class Table:
    """A chart's data: what it is about, its column headings and rows of (label, value...)."""

    key: str
    title: str
    description: str
    headings: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""

    @property
    def bars(self) -> list[dict]:
        """Rows as horizontal bars (label, value, width in % of the largest) for the SVG chart."""
        values = [row[1] for row in self.rows if isinstance(row[1], int)]
        largest = max(values or [1]) or 1
        return [
            {
                "label": str(row[0]),
                "value": row[1],
                "width": round(100 * row[1] / largest, 1),
                "y": index * 22,
            }
            for index, row in enumerate(self.rows)
            if isinstance(row[1], int)
        ]

    @property
    def height(self) -> int:
        return max(22, len(self.rows) * 22)


def period_from(since: str | None, until: str | None) -> tuple[datetime, datetime]:
    """The period asked for (dates, inclusive), 90 days to now by default."""
    from django.utils.dateparse import parse_date

    now = timezone.now()
    end_day = parse_date(until or "") or now.date()
    start_day = parse_date(since or "") or (end_day - timedelta(days=89))
    if start_day > end_day:
        start_day, end_day = end_day, start_day
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start_day, time.min, tzinfo=tz),
        datetime.combine(end_day + timedelta(days=1), time.min, tzinfo=tz),
    )


def _posts(start: datetime, end: datetime, categories=None):
    """Visible posts of the period; only in `categories` when given (a moderator's view). Never the
    posts of personal messages, whoever looks."""
    posts = Post.objects.filter(
        state=PostState.VISIBLE, created_at__gte=start, created_at__lt=end, topic__archetype=Archetype.REGULAR
    )
    if categories is not None:
        posts = posts.filter(topic__category__in=categories)
    return posts


def over_time(start: datetime, end: datetime, categories=None) -> Table:
    hourly = end - start <= HOURLY_UP_TO
    trunc = TruncHour("created_at") if hourly else TruncDay("created_at")
    rows = (
        _posts(start, end, categories)
        .annotate(bucket=trunc)
        .values("bucket")
        .annotate(posts=Count("pk"), people=Count("author", distinct=True))
        .order_by("bucket")
    )
    fmt = "%Y-%m-%d %H:00" if hourly else "%Y-%m-%d"
    return Table(
        "over_time",
        _("Posts per hour") if hourly else _("Posts per day"),
        _("How many posts were written, and by how many people, in each period."),
        [_("Period"), _("Posts"), _("People")],
        [[timezone.localtime(row["bucket"]).strftime(fmt), row["posts"], row["people"]] for row in rows],
    )


def _by(
    start, end, field_name: str, key: str, title: str, heading: str, empty_label: str, categories=None
) -> Table:
    rows = (
        _posts(start, end, categories)
        .values(field_name)
        .annotate(posts=Count("pk"), people=Count("author", distinct=True))
        .order_by("-posts", field_name)[:TOP_ROWS]
    )
    return Table(
        key,
        title,
        _("Posts and the number of people who wrote them, largest first (top 20)."),
        [heading, _("Posts"), _("People")],
        [[row[field_name] or empty_label, row["posts"], row["people"]] for row in rows],
    )


def replies_per_question(start, end, categories=None) -> Table:
    rows = (
        _posts(start, end, categories)
        .filter(number__gt=1)
        .values("topic_id", "topic__title")
        .annotate(replies=Count("pk"), people=Count("author", distinct=True))
        .order_by("-replies", "topic_id")[:TOP_ROWS]
    )
    return Table(
        "replies_per_question",
        _("Replies per question"),
        _("The topics with the most replies in the period (top 20)."),
        [_("Topic"), _("Replies"), _("People")],
        [[row["topic__title"], row["replies"], row["people"]] for row in rows],
    )


def invitations_per_event(start, end) -> Table:
    """Invitations sent for each event in the period and how many were accepted (accounts'
    invitations name their event as "event:<id>")."""
    from accounts.models import Invitation, InvitationState

    rows = (
        Invitation.objects.filter(occasion__startswith="event:", created_at__gte=start, created_at__lt=end)
        .values("occasion", "occasion_titles")
        .annotate(sent=Count("pk"), accepted=Count("pk", filter=Q(state=InvitationState.ACCEPTED)))
        .order_by("-accepted", "-sent", "occasion")[:TOP_ROWS]
    )
    language = get_language() or "en"
    return Table(
        "invitations_per_event",
        _("Invitations accepted per event"),
        _("People invited to each event in the period, and how many joined through their invitation."),
        [_("Event"), _("Accepted"), _("Invited")],
        [
            [
                (row["occasion_titles"] or {}).get(language)
                or (row["occasion_titles"] or {}).get("en", row["occasion"]),
                row["accepted"],
                row["sent"],
            ]
            for row in rows
        ],  # fmt: skip
    )


def poll_participation(start, end, categories=None) -> Table:
    """Votes cast in the period per poll, and by how many people (top 20)."""
    votes = PollVote.objects.filter(
        created_at__gte=start, created_at__lt=end, poll__post__state=PostState.VISIBLE
    )
    if categories is not None:
        votes = votes.filter(poll__post__topic__category__in=categories)
    rows = (
        votes.values("poll_id", "poll__title", "poll__name", "poll__post__topic__title")
        .annotate(votes=Count("pk"), people=Count("user", distinct=True))
        .order_by("-people", "poll_id")[:TOP_ROWS]
    )
    return Table(
        "polls",
        _("Participation in polls"),
        _("The polls with the most voters in the period, with the votes they received (top 20)."),
        [_("Poll"), _("Voters"), _("Votes")],
        [
            [
                f"{row['poll__title'] or row['poll__name']} ({row['poll__post__topic__title']})",
                row["people"],
                row["votes"],
            ]
            for row in rows
        ],
    )


def gender_balance(start, end, categories=None) -> Table:
    """Among people who posted and chose to state a gender; groups under 5 are suppressed."""
    from accounts.models import Gender

    labels = dict(Gender.choices)
    counts = (
        get_user_model()
        .objects.filter(
            pk__in=_posts(start, end, categories).values("author_id"),
        )
        .exclude(gender="")
        .values("gender")
        .annotate(people=Count("pk"))
        .order_by("gender")
    )
    rows = []
    suppressed = 0
    for row in counts:
        if row["people"] < SMALL_GROUP:
            suppressed += 1
            continue
        rows.append([labels.get(row["gender"], row["gender"]), row["people"]])
    note = ""
    if suppressed:
        note = _("Groups of fewer than %(n)d people are not shown, so that nobody can be recognised.") % {
            "n": SMALL_GROUP
        }
    return Table(
        "gender",
        _("Gender of the people who posted"),
        _("Only people who chose to state their gender in their private profile are counted."),
        [_("Gender"), _("People")],
        rows,
        note,
    )


def headline(start, end, categories=None) -> dict:
    User = get_user_model()
    totals = _posts(start, end, categories).aggregate(
        posts=Count("pk"),
        people=Count("author", distinct=True),
        topics=Count("topic", distinct=True),
        organisations=Count("author__organisation", distinct=True),
    )
    verified = User.objects.aggregate(
        verified=Count("pk", filter=Q(verification_state="verified")),
    )
    return {**totals, **verified}


def organisations_on_map(start, end, categories=None) -> list[dict]:
    """Taking-part organisations with coordinates: name, lat, lon, posts."""
    rows = (
        _posts(start, end, categories)
        .filter(author__organisation__latitude__isnull=False, author__organisation__longitude__isnull=False)
        .values(
            "author__organisation__name", "author__organisation__latitude", "author__organisation__longitude"
        )
        .annotate(posts=Count("pk"))
        .order_by("-posts")[:200]
    )
    return [
        {
            "name": row["author__organisation__name"],
            "lat": float(row["author__organisation__latitude"]),
            "lon": float(row["author__organisation__longitude"]),
            "posts": row["posts"],
        }
        for row in rows
    ]


def insights(since: str | None = None, until: str | None = None, categories=None) -> dict:
    """Everything the insights page and its CSV show, for the period (a fixed number of queries);
    only the posts in `categories` when given (forum.permissions.moderated_categories)."""
    start, end = period_from(since, until)
    unknown = _("Not stated")
    tables = [
        over_time(start, end, categories),
        _by(
            start,
            end,
            "author__organisation__name",
            "organisation",
            _("By organisation"),
            _("Organisation"),
            unknown,
            categories,
        ),
        _by(
            start,
            end,
            "author__organisation__country",
            "country",
            _("By country"),
            _("Country"),
            unknown,
            categories,
        ),
        _by(
            start,
            end,
            "author__organisation__metropolis_region",
            "region",
            _("By Metropolis region"),
            _("Region"),
            unknown,
            categories,
        ),
        _by(
            start,
            end,
            "topic__language",
            "language",
            _("By language of the topic"),
            _("Language"),
            unknown,
            categories,
        ),
        replies_per_question(start, end, categories),
        poll_participation(start, end, categories),
        gender_balance(start, end, categories),
        invitations_per_event(start, end),
    ]
    return {
        "start": start.date(),
        "end": (end - timedelta(days=1)).date(),
        "headline": headline(start, end, categories),
        "tables": tables,
        "points": organisations_on_map(start, end, categories),
    }


# --- The world map ---------------------------------------------------------------------------

MAP_WIDTH, MAP_HEIGHT = 720, 360
WORLD_ATLAS = "node_modules/world-atlas/countries-110m.json"


def project(lon: float, lat: float) -> tuple[float, float]:
    """Equirectangular projection onto the map's box."""
    return round((lon + 180) / 360 * MAP_WIDTH, 1), round((90 - lat) / 180 * MAP_HEIGHT, 1)


_outline_cache: dict[str, str] = {}


def world_outline(path: Path | None = None) -> str:
    """The SVG path of the countries from npm's world-atlas (Natural Earth, public domain), or ''.

    Decoded once per process from the TopoJSON file. When the file is missing or unreadable
    (`npm ci` not run), the page says so under the map and a warning names the file in the log.
    """
    path = path or Path(settings.BASE_DIR) / WORLD_ATLAS
    key = str(path)
    if key in _outline_cache:
        return _outline_cache[key]
    try:
        topology = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        logger.warning("World map outlines unavailable (run `npm ci`): %s: %s", path, error)
        return ""
    _outline_cache[key] = topojson_to_path(topology, "countries")
    return _outline_cache[key]


def topojson_to_path(topology: dict, object_name: str) -> str:
    """Decode a quantised TopoJSON object (polygons) into one SVG path 'd' string."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            if transform:
                x, y = x + dx, y + dy
                lon = x * transform["scale"][0] + transform["translate"][0]
                lat = y * transform["scale"][1] + transform["translate"][1]
            else:
                lon, lat = dx, dy
            points.append(project(lon, lat))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
            points.extend(arc[1:] if points else arc)
        return points

    parts = []
    geometries = topology["objects"][object_name].get("geometries", [])
    for geometry in geometries:
        polygons = []
        if geometry.get("type") == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["arcs"]
        for polygon in polygons:
            for indexes in polygon:
                points = ring(indexes)
                if len(points) > 2:
                    parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + "Z")
    return "".join(parts)


def map_points(points: list[dict]) -> list[dict]:
    largest = max((p["posts"] for p in points), default=1)
    for point in points:
        point["x"], point["y"] = project(point["lon"], point["lat"])
        point["r"] = round(3 + 7 * (point["posts"] / largest) ** 0.5, 1)
    return points


def today() -> date:
    return timezone.localdate()
