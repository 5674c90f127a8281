"""Categories, topics, posts and what people do with them (likes, bookmarks, reading, drafts).

Every write to these tables goes through forum/services.py; models hold fields,
constraints and small read helpers only.
"""

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from core.indexes import GinIndexOnPostgres

TITLE_MIN_LENGTH = 15
TITLE_MAX_LENGTH = 255
RAW_MAX_LENGTH = 32_000
MAX_TAGS = 5
# Tree paths hold zero-padded post numbers so that ordering by path is tree order.
PATH_DIGITS = 7
FORUM_LANGUAGES = ("en", "es", "fr")


def current_language() -> str:
    """The reader's language reduced to one the forum holds content in ('en' otherwise)."""
    language = (get_language() or "en").split("-")[0]
    return language if language in FORUM_LANGUAGES else "en"


class ReadAccess(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    SIGNED_IN = "signed_in", _("Signed-in members")
    VERIFIED = "verified", _("Verified officials")


class StartAccess(models.TextChoices):
    VERIFIED = "verified", _("Verified officials")
    MODERATORS = "moderators", _("Moderators only")


class Category(models.Model):
    """A place for topics; one level of sub-categories under a parent."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
    )
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100, blank=True)
    name_fr = models.CharField(_("name (French)"), max_length=100, blank=True)
    description = models.TextField(_("description (English)"), blank=True)
    description_es = models.TextField(_("description (Spanish)"), blank=True)
    description_fr = models.TextField(_("description (French)"), blank=True)
    colour = models.CharField(
        _("colour"),
        max_length=7,
        default="#0b5cad",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Enter a colour such as #0b5cad."))],
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    read_access = models.CharField(
        _("who may read"), max_length=16, choices=ReadAccess.choices, default=ReadAccess.EVERYONE
    )
    start_access = models.CharField(
        _("who may start topics"), max_length=16, choices=StartAccess.choices, default=StartAccess.VERIFIED
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("forum:category", args=[self.slug, self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.parent_id and self.parent and self.parent.parent_id:
            raise ValidationError({"parent": _("Sub-categories cannot have sub-categories of their own.")})

    @property
    def localized_name(self) -> str:
        language = current_language()
        if language == "en":
            return self.name
        return getattr(self, f"name_{language}", "") or self.name

    @property
    def localized_description(self) -> str:
        language = current_language()
        if language == "en":
            return self.description
        return getattr(self, f"description_{language}", "") or self.description


class TopicStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class PinScope(models.TextChoices):
    NONE = "none", _("Not pinned")
    CATEGORY = "category", _("Pinned in its category")
    GLOBAL = "global", _("Pinned everywhere")


class Topic(models.Model):
    """A question or discussion: its first post plus replies, with denormalised counters."""

    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="topics"
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH)
    slug = models.SlugField(_("slug"), max_length=100, allow_unicode=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="topics", verbose_name=_("author")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TopicStatus.choices, default=TopicStatus.OPEN
    )
    # A scheduled topic accepts replies from everyone the moment this passes; no worker needed.
    opens_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    pin_scope = models.CharField(_("pinned"), max_length=16, choices=PinScope.choices, default=PinScope.NONE)
    pinned_at = models.DateTimeField(null=True, blank=True)
    pinned_until = models.DateTimeField(_("pinned until"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    tags = TaggableManager(blank=True)
    # People allowed to reply before opens_at (the events app fills it with speakers).
    invited_posters = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="invited_topics", verbose_name=_("invited posters")
    )
    # Seeded questions carry their title in several languages: {"es": "...", "fr": "..."}.
    title_translations = models.JSONField(default=dict, blank=True)
    # A banner above the topic, set by other apps in the forum's own terms (e.g. the events app:
    # "Discussed live at the webinar on 17 May"): {"en": "...", "es": "..."} plus a link.
    announcement = models.JSONField(default=dict, blank=True)
    announcement_url = models.CharField(max_length=500, blank=True)

    created_at = models.DateTimeField(default=timezone.now)
    bumped_at = models.DateTimeField(default=timezone.now)
    last_posted_at = models.DateTimeField(default=timezone.now)
    last_poster = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The last number handed out; incremented under a row lock so numbers never clash.
    highest_post_number = models.PositiveIntegerField(default=0)
    posts_count = models.PositiveIntegerField(default=0)
    replies_count = models.PositiveIntegerField(default=0)
    likes_count = models.PositiveIntegerField(default=0)
    views_count = models.PositiveIntegerField(default=0)
    participants_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        indexes = [
            models.Index(fields=["-bumped_at"], name="topic_latest"),
            models.Index(fields=["category", "-bumped_at"], name="topic_category_latest"),
            models.Index(fields=["pin_scope", "-bumped_at"], name="topic_pinned"),
            models.Index(fields=["-created_at"], name="topic_new"),
            models.Index(fields=["-likes_count"], name="topic_top"),
            models.Index(fields=["status", "opens_at"], name="topic_status_opens"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forum:topic", args=[self.slug or "topic", self.pk])

    def post_url(self, number: int) -> str:
        return reverse("forum:topic_post", args=[self.slug or "topic", self.pk, number])

    @property
    def localized_title(self) -> str:
        return self.title_translations.get(current_language()) or self.title

    @property
    def localized_announcement(self) -> str:
        return self.announcement.get(current_language()) or self.announcement.get("en", "")

    def is_scheduled_now(self, now=None) -> bool:
        """Still waiting to open: scheduled and opens_at not reached (checked at request time)."""
        now = now or timezone.now()
        return self.status == TopicStatus.SCHEDULED and (self.opens_at is None or self.opens_at > now)

    def effective_status(self, now=None) -> str:
        if self.status == TopicStatus.SCHEDULED and not self.is_scheduled_now(now):
            return TopicStatus.OPEN
        return self.status

    def is_pinned_now(self, now=None) -> bool:
        now = now or timezone.now()
        return self.pin_scope != PinScope.NONE and (self.pinned_until is None or self.pinned_until > now)


class PostState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    WITHDRAWN = "withdrawn", _("Withdrawn by the author")
    HIDDEN = "hidden", _("Hidden by a moderator")


class Post(models.Model):
    """One message in a topic, numbered from 1 (the opening post)."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="posts")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="posts")
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies"
    )
    # Tree position: depth 0 answers the topic; root_number is the top-level answer the post sits under.
    depth = models.PositiveIntegerField(default=0)
    root_number = models.PositiveIntegerField(default=0)
    path = models.TextField(default="", blank=True)
    raw = models.TextField(validators=[MaxLengthValidator(RAW_MAX_LENGTH)])
    cooked = models.TextField(blank=True)
    # Seeded opening posts carry their text in several languages: {"es": "<p>...</p>"}.
    cooked_translations = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=PostState.choices, default=PostState.VISIBLE)
    hidden_reason = models.CharField(max_length=500, blank=True)
    reply_count = models.PositiveIntegerField(default=0)
    like_count = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)
    idempotency_key = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Topic title (weight A) and text (B), written by forum.search.index_posts from the services.
    search_vector = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["topic", "number"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "number"], name="post_number_unique_in_topic"),
            models.UniqueConstraint(
                fields=["author", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="post_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["topic", "root_number", "depth"], name="post_tree"),
            models.Index(fields=["topic", "depth", "number"], name="post_tree_roots"),
            # "Has this person posted here before?" (participants count) on long topics.
            models.Index(fields=["topic", "author"], name="post_topic_author"),
            models.Index(fields=["author", "-created_at"], name="post_author_activity"),
            GinIndexOnPostgres(fields=["search_vector"], name="post_search"),
        ]

    def __str__(self) -> str:
        return f"{self.topic_id}#{self.number}"

    def get_absolute_url(self) -> str:
        return self.topic.post_url(self.number)

    @property
    def is_visible(self) -> bool:
        return self.state == PostState.VISIBLE

    @property
    def localized_cooked(self) -> str:
        return self.cooked_translations.get(current_language()) or self.cooked


class PostRevision(models.Model):
    """An edit of a post: what it read before and after. Edits within 5 minutes fold into one."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raw_before = models.TextField()
    raw_after = models.TextField()
    title_before = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    title_after = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "number"]
        constraints = [
            models.UniqueConstraint(fields=["post", "number"], name="revision_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.post_id} revision {self.number}"


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="like_once")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.post_id}"


class Bookmark(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="bookmarks")
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="bookmarks")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "post"], name="bookmark_once")]
        indexes = [models.Index(fields=["user", "-created_at"], name="bookmark_list")]

    def __str__(self) -> str:
        return f"{self.user_id} bookmarked {self.post_id}"


class TopicReadState(models.Model):
    """How far a person has read a topic, and where they were at their previous visit."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="read_states")
    last_read_number = models.PositiveIntegerField(default=0)
    # The highest number read before the current visit: the "last visit" marker.
    last_visit_number = models.PositiveIntegerField(default=0)
    last_visit_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="read_state_once")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.topic_id} to {self.last_read_number}"


class ReadMarker(models.Model):
    """'Mark all read': topics with no post after this time count as read."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    all_read_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id} read all at {self.all_read_at}"


class Draft(models.Model):
    """A composer's text kept on the server, so it survives a reload or a change of device."""

    NEW_TOPIC = "new-topic"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    # "new-topic" or "topic:<id>".
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=TITLE_MAX_LENGTH, blank=True)
    raw = models.TextField(blank=True)
    reply_to_number = models.PositiveIntegerField(null=True, blank=True)
    category = models.ForeignKey(Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="draft_once_per_composer")]

    def __str__(self) -> str:
        return f"{self.user_id} draft {self.key}"

    @staticmethod
    def key_for_topic(topic_id: int) -> str:
        return f"topic:{topic_id}"
