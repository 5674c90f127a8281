"""What a client asks first about a site: /about.json and /site/basic-info.json.

Discourse's MCP server and mobile apps read them before anything else (the title, the
language, whether reading needs a log-in). Both are the same for every reader except the
counts, which are over what this reader may see.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import permissions
from forum.models import Post, PostState, current_language

from . import serializers
from .http import api_view, json_response

# The header's ink and paper (static/css/site.css --ink, --paper), as Discourse gives colours: hex, no '#'.
HEADER_PRIMARY_COLOUR = "1c1f24"
HEADER_BACKGROUND_COLOUR = "ffffff"


def _description() -> str:
    return _(
        "Where the officials of the world's big cities learn from one another: questions, answers "
        "and experience from member governments of Metropolis."
    )


# The counts are over what the reader may see; all readers of one access level share them.
STATS_SECONDS = 300


def _stats(user) -> dict:
    """The about page's counts, cached a few minutes per access level: never COUNTs per request."""
    levels = ",".join(permissions.readable_access_levels(user))
    key = f"api:about:stats:{levels}:{permissions.is_moderator(user)}"
    stats = cache.get(key)
    if stats is None:
        User = get_user_model()
        topics = permissions.visible_topics(user)
        posts = Post.objects.filter(topic__in=topics, state=PostState.VISIBLE)
        week_ago = timezone.now() - timedelta(days=7)
        stats = {
            "topic_count": topics.count(),
            "post_count": posts.count(),
            "user_count": User.objects.filter(is_active=True).count(),
            "topics_7_days": topics.filter(created_at__gte=week_ago).count(),
            "posts_7_days": posts.filter(created_at__gte=week_ago).count(),
            "active_users_7_days": User.objects.filter(is_active=True, last_login__gte=week_ago).count(),
        }
        cache.set(key, stats, STATS_SECONDS)
    return stats


@api_view()
def about(request):
    """/about.json: the site's title and description, its staff and public counts."""
    User = get_user_model()
    staff = list(
        User.objects.filter(Q(is_staff=True) | Q(is_superuser=True) | Q(is_moderator=True), is_active=True)
        .select_related("organisation")
        .order_by("pk")
    )
    admins = [person for person in staff if person.is_staff or person.is_superuser]
    moderators = [person for person in staff if person not in admins]
    return json_response(
        {
            "about": {
                "title": str(settings.SITE_NAME),
                "description": _description(),
                "extended_site_description": None,
                "banner_image": None,
                "site_creation_date": None,
                "locale": current_language(),
                "version": "metropolis",
                "https": request.is_secure(),
                "can_see_about_stats": True,
                "contact_url": "",
                "contact_email": "",
                "moderator_ids": [person.pk for person in moderators],
                "admin_ids": [person.pk for person in admins],
                "admins": [serializers.basic_user(person) for person in admins],
                "moderators": [serializers.basic_user(person) for person in moderators],
                "category_moderators": [],
                "stats": _stats(request.user),
            }
        }
    )


@api_view()
def site_basic_info(request):
    """/site/basic-info.json: title, description, logos and colours, whether reading needs a log-in."""
    # The site has a text header and no logo or icon files: Discourse gives "" for those unset.
    return json_response(
        {
            "logo_url": "",
            "logo_small_url": "",
            "apple_touch_icon_url": "",
            "favicon_url": "",
            "mobile_logo_url": "",
            "title": str(settings.SITE_NAME),
            "description": _description(),
            "header_primary_color": HEADER_PRIMARY_COLOUR,
            "header_background_color": HEADER_BACKGROUND_COLOUR,
            # Categories open to everyone are readable without an account.
            "login_required": False,
            "locale": current_language(),
            "include_in_discourse_discover": False,
        }
    )


# --- /site.json's remaining fields -----------------------------------------------------------

# Discourse's Notification.types (the ones /notifications.json uses are mapped in
# api/notification_views.py).
NOTIFICATION_TYPES = {
    "mentioned": 1,
    "replied": 2,
    "quoted": 3,
    "edited": 4,
    "liked": 5,
    "private_message": 6,
    "invited_to_private_message": 7,
    "invitee_accepted": 8,
    "posted": 9,
    "moved_post": 10,
    "linked": 11,
    "linked_consolidated": 39,
    "granted_badge": 12,
    "invited_to_topic": 13,
    "custom": 14,
    "group_mentioned": 15,
    "group_message_summary": 16,
    "watching_first_post": 17,
    "topic_reminder": 18,
    "liked_consolidated": 19,
    "post_approved": 20,
    "code_review_commit_approved": 21,
    "membership_request_accepted": 22,
    "membership_request_consolidated": 23,
    "bookmark_reminder": 24,
    "reaction": 25,
    "votes_released": 26,
    "event_reminder": 27,
    "event_invitation": 28,
    "chat_mention": 29,
    "chat_message": 30,
    "chat_invitation": 31,
    "chat_group_mention": 32,
    "chat_quoted": 33,
    "assigned": 34,
    "question_answer_user_commented": 35,
    "watching_category_or_tag": 36,
    "new_features": 37,
    "admin_problems": 38,
    "following": 800,
    "following_created_topic": 801,
    "following_replied": 802,
    "circles_activity": 900,
}


def post_action_types() -> list[dict]:
    """Likes and the four flags of the site's flag page (forum/moderation.py), as Discourse lists them."""
    rows = [
        (2, "like", _("Like"), False, False),
        (3, "off_topic", _("Off topic"), True, False),
        (4, "inappropriate", _("Inappropriate"), True, False),
        (7, "notify_moderators", _("Something else"), True, True),
        (8, "spam", _("Spam"), True, False),
    ]
    return [
        {
            "id": number,
            "name_key": key,
            "name": name,
            "description": name,
            "short_description": name,
            "is_flag": is_flag,
            "require_message": needs_message,
            "enabled": True,
            "applies_to": ["Post"],
            "is_used": True,
            "position": position,
            "auto_action_type": number == 2,
        }
        for position, (number, key, name, is_flag, needs_message) in enumerate(rows)
    ]


def site_groups(user) -> list[dict]:
    """The groups this person may see, as /site.json lists them (groups/, one query)."""
    from groups import permissions as group_permissions

    return [
        {"id": group.pk, "name": group.name, "flair_url": None, "flair_bg_color": None, "flair_color": None}
        for group in group_permissions.visible_groups(user).order_by("name")
    ]


def site_extras(user) -> dict:
    """What /site.json says beside categories and post action types: no custom user fields,
    themes or external log-ins here (django-allauth signs people in with email)."""
    return {
        "notification_types": NOTIFICATION_TYPES,
        "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
        "topic_flag_types": [],
        "groups": site_groups(user),
        "user_fields": [],
        "user_field_max_length": 2048,
        "auth_providers": [],
        "user_themes": [],
        "user_color_schemes": [],
        "default_dark_color_scheme": None,
        "censored_regexp": [],
        "custom_emoji_translation": {},
        "watched_words_replace": None,
        "watched_words_link": None,
        "can_tag_pms": False,
        "tags_filter_regexp": "[/\\?#\\[\\]@!\\$&'\\(\\)\\*\\+,;=\\.%\\\\`^\\s|\\{\\}\"<>]+",
        "topic_featured_link_allowed_category_ids": [],
        # No "Uncategorized" here: every topic has a category. 0 names none.
        "uncategorized_category_id": 0,
        "full_name_required_for_signup": False,
        "full_name_visible_in_signup": True,
    }


def site_category(row: dict) -> dict:
    """/site.json lists categories as Discourse's SiteCategorySerializer: a top-level category
    has no `parent_category_id` key, and `topic_url` is a string."""
    row = {**row, "topic_url": row["topic_url"] or ""}
    if row["parent_category_id"] is None:
        del row["parent_category_id"]
    return row
