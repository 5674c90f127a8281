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
RECENT_POSTERS = 5
# Tree paths hold zero-padded post numbers so that ordering by path is tree order.
PATH_DIGITS = 7
FORUM_LANGUAGES = ("en", "es", "fr")


def current_language() -> str:
    """The reader's language reduced to one the forum holds content in ('en' otherwise)."""
    language = (get_language() or "en").split("-")[0]
    return language if language in FORUM_LANGUAGES else "en"


# The one category whose read access is PARTICIPANTS (made by forum/messages.py on first use).
MESSAGES_CATEGORY_SLUG = "personal-messages"


class ReadAccess(models.TextChoices):
    EVERYONE = "everyone", _("Everyone")
    SIGNED_IN = "signed_in", _("Signed-in members")
    VERIFIED = "verified", _("Verified officials")
    # The personal messages' own category: no reader level ever includes it, so every filter on
    # read access leaves messages out; can_read lets a message's participants in (permissions.py).
    PARTICIPANTS = "participants", _("The participants of each message")


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
    # True when CategoryGroup rows restrict it to groups (kept by services.restrict_category), so the
    # lists test membership only for such categories and a topic page knows without a query.
    group_restricted = models.BooleanField(default=False, editable=False)
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
        if self.read_access == ReadAccess.PARTICIPANTS and self.slug != MESSAGES_CATEGORY_SLUG:
            # Its topics would be readable by nobody: that access is the personal messages' own.
            raise ValidationError(
                {
                    "read_access": _(
                        "Only the personal messages category is read by each message's participants."
                    )
                }
            )

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


class Archetype(models.TextChoices):
    """Discourse's archetype: a topic in a category, or a personal message between participants."""

    REGULAR = "regular", _("Topic")
    PRIVATE_MESSAGE = "private_message", _("Personal message")


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
    # Unlisted, as Discourse's "visible: false": left out of lists, feeds and search for all but
    # moderators; its own URL still opens for anyone who may read the category.
    unlisted = models.BooleanField(_("unlisted"), default=False)
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
    # Up to RECENT_POSTERS people other than the author who posted most recently, latest first:
    # the faces in topic lists, kept by the posting services so lists need no per-topic query.
    recent_poster_ids = models.JSONField(default=list, blank=True)
    # A personal message lives in the category whose read access is PARTICIPANTS (forum/messages.py);
    # set when it is written, never changed.
    archetype = models.CharField(max_length=16, choices=Archetype.choices, default=Archetype.REGULAR)

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

    @property
    def is_private_message(self) -> bool:
        return self.archetype == Archetype.PRIVATE_MESSAGE

    def with_recent_poster(self, user_id: int) -> list[int]:
        """recent_poster_ids after `user_id` posts (the author is shown apart, never listed)."""
        ids = [pk for pk in self.recent_poster_ids or [] if pk != user_id]
        if user_id == self.author_id:
            return ids[:RECENT_POSTERS]
        return [user_id, *ids][:RECENT_POSTERS]

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
    HIDDEN = "hidden", _("Hidden")


class HiddenBy(models.TextChoices):
    """Who hid a hidden post, so the placeholder says so truthfully."""

    MODERATOR = "moderator", _("A moderator")
    FLAGS = "flags", _("Flags from members")
    APPROVAL = "approval", _("Waiting for approval")


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
    hidden_by = models.CharField(max_length=16, choices=HiddenBy.choices, blank=True, default="")
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
            # Lists leave out topics whose opening post is hidden (permissions.visible_topics):
            # a tiny index of just those, instead of a scan of every opening post per list.
            models.Index(fields=["topic"], name="post_hidden_opening", condition=Q(number=1, state="hidden")),
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


class TagLabel(models.Model):
    """A tag's display name in each language; the tag's name (its slug, in URLs) never changes."""

    tag = models.OneToOneField("taggit.Tag", on_delete=models.CASCADE, related_name="forum_label")
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    name_es = models.CharField(_("name (Spanish)"), max_length=100, blank=True)
    name_fr = models.CharField(_("name (French)"), max_length=100, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tag name")
        verbose_name_plural = _("tag names")

    def __str__(self) -> str:
        return self.name_en or self.tag.name

    def for_language(self, language: str) -> str:
        return getattr(self, f"name_{language}", "") or self.name_en


def tag_label(tag) -> str:
    """The tag as the reader should see it: its name in their language, else its English name, else its slug.

    From forum.tag_labels' copy of every label (no query on a page; the table is small).
    """
    from .tag_labels import labels_by_name

    name = getattr(tag, "name", tag)  # a Tag or its name
    names = labels_by_name().get(name)
    if not names:
        return name
    return names.get(current_language()) or names.get("en") or name


class Draft(models.Model):
    """A composer's text kept on the server, so it survives a reload or a change of device."""

    NEW_TOPIC = "new-topic"
    NEW_MESSAGE = "new-message"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts")
    # "new-topic", "new-message" or "topic:<id>".
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


# --- Moderation and peer-learning outputs (forum/moderation.py writes these) -----------------


class FlagReason(models.TextChoices):
    SPAM = "spam", _("Spam or advertising")
    INAPPROPRIATE = "inappropriate", _("Inappropriate or offensive")
    OFF_TOPIC = "off_topic", _("Off topic")
    NOTIFY_MODERATORS = "notify_moderators", _("Something else (a note to the moderators)")


class ReviewKind(models.TextChoices):
    FLAGGED_POST = "flagged_post", _("Flagged post")
    HELD_POST = "held_post", _("Post held for approval")


class ReviewState(models.TextChoices):
    PENDING = "pending", _("Waiting for a moderator")
    AGREED = "agreed", _("Agreed")
    DISAGREED = "disagreed", _("Disagreed")
    IGNORED = "ignored", _("Ignored")


class ReviewItem(models.Model):
    """Something a moderator must look at: a flagged post or a post held for approval."""

    kind = models.CharField(max_length=16, choices=ReviewKind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="review_items")
    state = models.CharField(max_length=16, choices=ReviewState.choices, default=ReviewState.PENDING)
    # True when the flags themselves hid the post (so "disagree" knows to show it again).
    hidden_by_flags = models.BooleanField(default=False)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["post", "kind"], condition=Q(state="pending"), name="one_pending_review_per_post"
            )
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="review_queue")]

    def __str__(self) -> str:
        return f"{self.kind} {self.post_id} ({self.state})"


class Flag(models.Model):
    """One person's flag on a post; at most one per person and post."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="flags")
    flagger = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=24, choices=FlagReason.choices)
    message = models.TextField(max_length=1000, blank=True)
    review_item = models.ForeignKey(ReviewItem, on_delete=models.SET_NULL, null=True, related_name="flags")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["post", "flagger"], name="flag_once_per_post")]

    def __str__(self) -> str:
        return f"{self.flagger_id} flagged {self.post_id}"


class ModerationAction(models.TextChoices):
    PIN = "pin", _("Pinned")
    UNPIN = "unpin", _("Unpinned")
    CLOSE = "close", _("Closed")
    OPEN = "open", _("Opened")
    SCHEDULE = "schedule", _("Scheduled")
    ARCHIVE = "archive", _("Archived")
    MOVE = "move", _("Moved to another category")
    RENAME = "rename", _("Renamed")
    RETAG = "retag", _("Retagged")
    TAG_NAMES = "tag_names", _("Named a tag in each language")
    HIDE = "hide", _("Hid a post")
    UNHIDE = "unhide", _("Showed a post again")
    WITHDRAW = "withdraw", _("Withdrew another's post")
    EDIT = "edit", _("Edited another's post")
    AUTO_HIDE = "auto_hide", _("Post hidden by flags")
    FLAG_AGREE = "flag_agree", _("Agreed with flags")
    FLAG_DISAGREE = "flag_disagree", _("Disagreed with flags")
    FLAG_IGNORE = "flag_ignore", _("Ignored flags")
    HOLD = "hold", _("Post held for approval")
    APPROVE = "approve", _("Approved a held post")
    REJECT = "reject", _("Rejected a held post")
    CLAIM = "claim", _("Claimed a review item")
    SILENCE = "silence", _("Silenced")
    UNSILENCE = "unsilence", _("Ended a silence")
    SUSPEND = "suspend", _("Suspended")
    UNSUSPEND = "unsuspend", _("Ended a suspension")
    MERGE = "merge", _("Merged topics")
    SPLIT = "split", _("Split posts into a new topic")
    MOVE_POSTS = "move_posts", _("Moved posts to another topic")
    READ_MESSAGE = "read_message", _("Read a flagged personal message")
    HIGHLIGHT = "highlight", _("Highlighted a key contribution")
    UNHIGHLIGHT = "unhighlight", _("Removed a highlight")
    SUMMARY = "summary", _("Wrote the topic summary")
    UNLIST = "unlist", _("Unlisted")
    RELIST = "relist", _("Listed again")
    VERIFY = "verify", _("Verified an official")
    DECLINE_VERIFICATION = "decline_verification", _("Declined a verification request")
    REVOKE = "revoke", _("Revoked a verification")
    REMOVE_UPLOAD = "remove_upload", _("Removed a file")
    INVITE = "invite", _("Invited someone")
    RESEND_INVITATION = "resend_invitation", _("Sent an invitation again")
    REVOKE_INVITATION = "revoke_invitation", _("Revoked an invitation")
    POLL_CLOSE = "poll_close", _("Closed a poll")
    POLL_OPEN = "poll_open", _("Reopened a poll")


class ModerationLogEntry(models.Model):
    """One moderator or staff action: who, what, on which topic/post/person, why, when. Append-only."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=24, choices=ModerationAction.choices, db_index=True)
    topic = models.ForeignKey(Topic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    post = models.ForeignKey(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the target was called at the time, so the log reads even after a delete or merge.
    target_label = models.CharField(max_length=300, blank=True)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("moderation log entry")
        verbose_name_plural = _("moderation log")

    def __str__(self) -> str:
        return f"{self.actor_id} {self.action} {self.target_label}"


class Highlight(models.Model):
    """A moderator marks a post as a key contribution (a badge, and the topic's highlights panel)."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="highlight")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="highlights")
    highlighted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["topic", "post__number"]

    def __str__(self) -> str:
        return f"highlight {self.post_id}"


class TopicSummary(models.Model):
    """A moderator-written summary shown above the first post; every change is a SummaryRevision."""

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="summary")
    raw = models.TextField(validators=[MaxLengthValidator(RAW_MAX_LENGTH)])
    cooked = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"summary of {self.topic_id}"


class SummaryRevision(models.Model):
    summary = models.ForeignKey(TopicSummary, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    raw = models.TextField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["summary", "-number"]
        constraints = [models.UniqueConstraint(fields=["summary", "number"], name="summary_revision_once")]

    def __str__(self) -> str:
        return f"summary {self.summary_id} v{self.number}"


class PostRedirect(models.Model):
    """Where a post went after a merge, split or move: old topic id and number -> the post."""

    old_topic_id = models.PositiveIntegerField()
    old_number = models.PositiveIntegerField()
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["old_topic_id", "old_number"], name="post_redirect_once")
        ]

    def __str__(self) -> str:
        return f"{self.old_topic_id}#{self.old_number} -> {self.post_id}"


class TopicRedirect(models.Model):
    """A topic merged into another: its old address leads to the topic that holds its posts now."""

    old_topic_id = models.PositiveIntegerField(unique=True)
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return f"{self.old_topic_id} -> {self.topic_id}"


# --- Watching levels and the notification jobs ----------------------------------------------


class WatchLevel(models.TextChoices):
    WATCHING = "watching", _("Watching")
    TRACKING = "tracking", _("Tracking")
    NORMAL = "normal", _("Normal")
    MUTED = "muted", _("Muted")


class WatchReason(models.TextChoices):
    """Why a watch exists: automatic ones never override what the person chose."""

    CHOSEN = "chosen", _("You chose it")
    CREATED = "created", _("You started the topic")
    REPLIED = "replied", _("You replied")
    EVENT = "event", _("You registered for its event")


class TopicWatch(models.Model):
    """How closely one person follows one topic (absent: their category's level, else normal)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="watches")
    level = models.CharField(max_length=16, choices=WatchLevel.choices, default=WatchLevel.NORMAL)
    reason = models.CharField(max_length=16, choices=WatchReason.choices, default=WatchReason.CHOSEN)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "topic"], name="topic_watch_once")]
        indexes = [
            models.Index(fields=["topic", "level"], name="topic_watchers"),
            models.Index(fields=["user", "-updated_at"], name="topic_watches_of_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} topic {self.topic_id}"


class CategoryWatch(models.Model):
    """How closely one person follows one category: watching notifies new topics and posts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="watches")
    level = models.CharField(max_length=16, choices=WatchLevel.choices, default=WatchLevel.NORMAL)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "category"], name="category_watch_once")]
        indexes = [models.Index(fields=["category", "level"], name="category_watchers")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.level} category {self.category_id}"


class NotificationJobKind(models.TextChoices):
    POST = "post", _("A post to announce")
    MENTIONS = "mentions", _("New mentions in an edited post")
    LIKE = "like", _("A like")


class NotificationJob(models.Model):
    """Notifications owed for one post, written in the post's transaction (forum/notify.py).

    The row is the promise: a task fans it out after commit and deletes it; the periodic
    drain runs whatever a lost task (broker or worker down) left behind.
    """

    kind = models.CharField(max_length=16, choices=NotificationJobKind.choices)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.kind} post {self.post_id}"


def recent_poster_ids(topic_id: int, author_id: int) -> list[int]:
    """Topic.recent_poster_ids computed from the posts (after moves, merges, seeding)."""
    rows = (
        Post.objects.filter(topic_id=topic_id)
        .exclude(author_id=author_id)
        .values("author_id")
        .annotate(latest=models.Max("number"))
        .order_by("-latest")[:RECENT_POSTERS]
    )
    return [row["author_id"] for row in rows]


# Files and images in posts (forum/upload_models.py, written by forum/uploads.py).
from .upload_models import PostUpload, Upload, UploadKind  # noqa: E402,F401

# --- Polls (Discourse's [poll] syntax; written by forum/polls.py) -----------------------------


class PollType(models.TextChoices):
    REGULAR = "regular", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    NUMBER = "number", _("A number")


class PollResults(models.TextChoices):
    ALWAYS = "always", _("Always")
    ON_VOTE = "on_vote", _("After voting")
    ON_CLOSE = "on_close", _("When closed")
    STAFF_ONLY = "staff_only", _("Moderators only")


class PollStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Poll(models.Model):
    """A poll written in a post (``[poll name=...]``); one per name per post.

    ``voters_count`` and each option's ``votes_count`` are kept by the voting service while the
    poll row is locked, so they are exact. A poll past ``close_at`` is closed whatever ``status``
    says: every check compares with the clock at request time.
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="polls")
    name = models.CharField(max_length=64)
    title = models.CharField(max_length=255, blank=True)
    type = models.CharField(max_length=16, choices=PollType.choices, default=PollType.REGULAR)
    results = models.CharField(max_length=16, choices=PollResults.choices, default=PollResults.ALWAYS)
    status = models.CharField(max_length=16, choices=PollStatus.choices, default=PollStatus.OPEN)
    public = models.BooleanField(default=False)
    chart_type = models.CharField(max_length=8, default="bar")
    close_at = models.DateTimeField(null=True, blank=True)
    min = models.IntegerField(null=True, blank=True)
    max = models.IntegerField(null=True, blank=True)
    step = models.IntegerField(null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    voters_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["post", "position"]
        constraints = [models.UniqueConstraint(fields=["post", "name"], name="poll_name_unique_in_post")]

    def __str__(self) -> str:
        return f"{self.post_id}/{self.name}"

    def is_closed(self, now=None) -> bool:
        if self.status == PollStatus.CLOSED:
            return True
        return self.close_at is not None and self.close_at <= (now or timezone.now())

    def effective_status(self, now=None) -> str:
        return PollStatus.CLOSED if self.is_closed(now) else PollStatus.OPEN


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    # Discourse's option id: an md5 digest of the option's text, stable across edits.
    digest = models.CharField(max_length=32)
    text = models.CharField(max_length=500)
    html = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    votes_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["poll", "position"]
        constraints = [models.UniqueConstraint(fields=["poll", "digest"], name="poll_option_unique")]

    def __str__(self) -> str:
        return self.text


class PollVote(models.Model):
    """One person's choice of one option (several rows for a multiple-choice poll)."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="poll_votes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["option", "user"], name="poll_vote_once_per_option")]
        indexes = [models.Index(fields=["poll", "user"], name="poll_vote_person")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.option_id}"


# --- Personal messages (forum/messages.py writes these) ----------------------------------------


class MessageParticipant(models.Model):
    """One person in a personal message: who may read and answer it, and their own inbox state."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="message_participants")
    # Deleting an account takes it out of its messages; the posts of the others stay.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "user"], name="message_participant_once")]
        indexes = [models.Index(fields=["user", "archived"], name="message_inbox")]

    def __str__(self) -> str:
        return f"{self.user_id} in message {self.topic_id}"


class MessageGroup(models.Model):
    """A group a message was sent to (its members became participants): the group's inbox lists it."""

    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="message_groups")
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="messages")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "group"], name="message_group_once")]

    def __str__(self) -> str:
        return f"message {self.topic_id} to group {self.group_id}"


class MessagePreference(models.Model):
    """A person's choice about personal messages (absent: they accept them)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # True: only moderators may start a message with this person.
    refuse_messages = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.user_id} refuses messages: {self.refuse_messages}"


# --- Categories restricted to groups (groups/ holds the groups) --------------------------------


class GroupPermission(models.TextChoices):
    READ = "read", _("Read")
    POST = "post", _("Read and post")


class CategoryGroup(models.Model):
    """A category restricted to groups: with any of these rows, only the groups' members (and staff)
    see the category; members of a POST group start topics and reply (permissions.py)."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="group_permissions")
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="category_permissions")
    permission = models.CharField(max_length=8, choices=GroupPermission.choices, default=GroupPermission.POST)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["category", "group"], name="category_group_once")]

    def __str__(self) -> str:
        return f"{self.group_id} {self.permission} {self.category_id}"
