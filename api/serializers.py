"""Our rows in Discourse's JSON shapes (its serializers' field names), plus our own fields beside them.

Plain functions over objects already loaded: none of them queries the database, so each
endpoint's query count is fixed by the view (tests/api/test_query_budgets.py).
"""

from django.utils.html import escape, strip_tags
from django.utils.text import Truncator

from accounts import avatars
from accounts import permissions as accounts_permissions
from forum import permissions as forum_permissions
from forum.models import Category, PinScope, Post, PostState, Topic, TopicStatus

LIKE = 2
CHUNK_SIZE = 20


def avatar_template(user) -> str:
    """Discourse clients replace {size}: a letter avatar at that size, or the upload (one size)."""
    return avatars.template(user)


def official(user) -> dict:
    """Ours: whether the person is a verified official, their position and organisation."""
    organisation = user.organisation if user.organisation_id else None
    return {
        "verified": user.is_verified_official,
        "position": user.position,
        "organisation": (
            {"id": organisation.pk, "name": organisation.name, "slug": organisation.slug}
            if organisation
            else None
        ),
    }


def basic_user(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user),
        "trust_level": _trust_level(user),
        "moderator": accounts_permissions.is_moderator(user),
        "admin": accounts_permissions.is_staff(user),
        "official": official(user),
    }


def _trust_level(user) -> int:
    # Discourse's levels, read from our roles: staff 4, moderators 3, officials 2, members 1.
    if accounts_permissions.is_staff(user):
        return 4
    if accounts_permissions.is_moderator(user):
        return 3
    return 2 if user.is_verified_official else 1


def user_detail(user, viewer) -> dict:
    data = basic_user(user)
    data.update(
        {
            "title": user.position,
            "created_at": user.date_joined,
            "last_seen_at": user.last_login,
            "bio_raw": user.bio,
            "bio_cooked": escape(user.bio).replace("\n", "<br>") if user.bio else "",
            "bio_excerpt": Truncator(user.bio).chars(200) if user.bio else "",
            "location": user.organisation.name if user.organisation_id else "",
            "website": user.organisation.website if user.organisation_id else "",
            "staff": accounts_permissions.is_moderator(user),
            "silenced_till": user.silenced_until,
            "suspended_till": user.suspended_until,
            "can_edit": viewer.is_authenticated and viewer.pk == user.pk,
            "badge_count": 0,
            "department": user.department,
            "languages": list(user.languages or []),
        }
    )
    return data


def post(post: Post, viewer, *, topic: Topic, liked: set[int] | frozenset = frozenset(), raw=False) -> dict:
    author = post.author
    show_text = forum_permissions.can_see_post_text(viewer, post)
    may_like = forum_permissions.can_like(viewer, post)
    reply_to = post.reply_to if post.reply_to_id else None
    is_mine = viewer.is_authenticated and viewer.pk == author.pk
    data = {
        "id": post.pk,
        "name": author.name,
        "username": author.username,
        "avatar_template": avatar_template(author),
        "created_at": post.created_at,
        "cooked": post.localized_cooked if show_text else "",
        "post_number": post.number,
        "post_type": 1,
        "updated_at": post.edited_at or post.created_at,
        "reply_count": post.reply_count,
        "reply_to_post_number": reply_to.number if reply_to else None,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 0,
        "score": 0,
        "yours": is_mine,
        "topic_id": topic.pk,
        "topic_slug": topic.slug,
        "display_username": author.name,
        "version": post.version,
        "can_edit": forum_permissions.can_edit_post(viewer, post),
        "can_delete": forum_permissions.can_withdraw_post(viewer, post),
        "can_recover": False,
        "can_wiki": False,
        "read": True,
        "user_title": author.position,
        "bookmarked": False,
        "actions_summary": [
            {"id": LIKE, "count": post.like_count, "acted": post.pk in liked, "can_act": may_like}
            if post.like_count or may_like or post.pk in liked
            else {"id": LIKE, "can_act": False}
        ],
        "moderator": accounts_permissions.is_moderator(author) and not accounts_permissions.is_staff(author),
        "admin": accounts_permissions.is_staff(author),
        "staff": accounts_permissions.is_moderator(author),
        "user_id": author.pk,
        "hidden": post.state == PostState.HIDDEN,
        "trust_level": _trust_level(author),
        "deleted_at": None,
        "user_deleted": post.state == PostState.WITHDRAWN,
        "edit_reason": None,
        "can_view_edit_history": show_text,
        "wiki": False,
        "like_count": post.like_count,
        "official": official(author),
        **post_extras(post, viewer, topic),
    }
    if reply_to is not None:
        data["reply_to_user"] = {
            "username": reply_to.author.username,
            "name": reply_to.author.name,
            "avatar_template": avatar_template(reply_to.author),
        }
    if raw:
        data["raw"] = post.raw if show_text else ""
    return data


# --- Issue 20: the fields Discourse's OpenAPI document requires beside ours -----------------
# Groups, flair, reviewables, read counts and per-person options are Discourse features this
# forum does not have: they get Discourse's "none" values, never invented data.

NO_GROUP = {
    "primary_group_name": None,
    "flair_name": None,
    "flair_url": None,
    "flair_bg_color": None,
    "flair_color": None,
}


def post_extras(post: Post, viewer, topic: Topic) -> dict:
    """A post's remaining Discourse fields; no query (the topic is given)."""
    return {
        **NO_GROUP,
        "post_url": f"/t/{topic.slug or 'topic'}/{topic.pk}/{post.number}",
        "posts_count": topic.posts_count,
        "readers_count": 0,
        "link_counts": [],
        # 0: no review item (the review queue is for moderators, at /review/).
        "reviewable_id": 0,
        "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0,
        "can_see_hidden_post": forum_permissions.is_moderator(viewer),
        "draft_sequence": 0,
    }


def topic_details_extras(topic: Topic, viewer) -> dict:
    """`details.can_*` of /t/<id>.json, from the forum's permission functions."""
    moderator = forum_permissions.is_moderator(viewer)
    return {
        "can_delete": moderator,
        "can_close_topic": moderator,
        "can_archive_topic": moderator,
        "can_pin_unpin_topic": moderator,
        "can_toggle_topic_visibility": moderator,
        "can_split_merge_topic": moderator,
        "can_move_posts": moderator,
        "can_moderate_category": moderator,
        "can_review_topic": moderator,
        "can_edit_staff_notes": moderator,
        "can_convert_topic": False,
        "can_remove_allowed_users": False,
        "can_remove_self_id": viewer.pk if viewer.is_authenticated else 0,
    }


def suggested_topic(topic: Topic, excerpt: str) -> dict:
    """A row of `suggested_topics` (Discourse's SuggestedTopicSerializer); no query."""
    return {
        "excerpt": excerpt,
        "image_url": None,
        "bookmarked": None,
        "liked": None,
        "unpinned": None,
        **topic_row(topic),
        "tags": [],
        "tags_descriptions": {},
        "like_count": topic.likes_count,
        "views": topic.views_count,
        "category_id": topic.category_id,
        "featured_link": None,
        "posters": [],
    }


def category_extras(category: Category, viewer, counts: dict, subcategory_ids) -> dict:
    """A category's remaining Discourse fields; counts by period come from the view's one query."""
    return {
        "subcategory_count": len(subcategory_ids) or None,
        "topics_day": counts.get("topics_day", 0),
        "topics_week": counts.get("topics_week", 0),
        "topics_month": counts.get("topics_month", 0),
        "topics_year": counts.get("topics_year", 0),
        "topics_all_time": counts.get("topic_count", 0),
        "default_list_filter": "all",
        "uploaded_logo_dark": None,
        "uploaded_background_dark": None,
        "read_only_banner": None,
        "required_tag_groups": [],
        "allowed_tags": [],
        "allowed_tag_groups": [],
        "allow_global_tags": False,
        "all_topics_wiki": False,
        "allow_badges": False,
        "allow_unlimited_owner_edits_on_first_post": False,
        "auto_close_based_on_last_post": False,
        "auto_close_hours": None,
        "available_groups": [],
        "group_permissions": [],
        "can_delete": False,
        "custom_fields": {},
        "default_slow_mode_seconds": None,
        "email_in": None,
        "email_in_allow_strangers": False,
        "mailinglist_mirror": False,
        "search_priority": 0,
        "topic_featured_link_allowed": False,
    }


def _message_abilities(user, viewer, is_self: bool) -> dict:
    """Whether the viewer may start personal messages, and one with this person (forum/messages.py)."""
    may_send = forum_permissions.can_start_message(viewer)
    to_user = may_send and not is_self and forum_permissions.message_block_reason(viewer, user) is None
    return {"can_send_private_messages": may_send, "can_send_private_message_to_user": to_user}


def user_profile_extras(user, viewer, *, post_count: int, last_posted_at) -> dict:
    """/u/<username>.json's remaining Discourse fields. Preferences are the person's own:
    others see Discourse's defaults, never their settings (and never the email)."""
    is_self = viewer.is_authenticated and viewer.pk == user.pk
    return {
        **NO_GROUP,
        "primary_group_id": None,
        "flair_group_id": None,
        "last_posted_at": last_posted_at,
        "post_count": post_count,
        "time_read": 0,
        "recent_time_read": 0,
        "profile_view_count": 0,
        "pending_count": 0,
        "staged": False,
        "ignored": False,
        "muted": False,
        "can_ignore_user": False,
        "can_mute_user": False,
        **_message_abilities(user, viewer, is_self),
        "can_edit_username": False,
        "can_edit_email": False,
        "can_edit_name": is_self,
        "can_change_bio": is_self,
        "can_change_location": False,
        "can_change_website": False,
        "can_change_tracking_preferences": is_self,
        "can_upload_profile_header": False,
        "can_upload_user_card_background": False,
        "can_be_deleted": False,
        "can_delete_all_posts": False,
        "custom_fields": {},
        "featured_topic": None,
        "featured_user_badge_ids": [],
        "has_title_badges": False,
        "uploaded_avatar_id": None,
        "system_avatar_upload_id": None,
        "system_avatar_template": avatar_template(user),
        "use_logo_small_as_avatar": False,
        "second_factor_enabled": False,
        "locale": (user.preferred_language or None) if is_self else None,
        "invited_by": None,
        "muted_category_ids": [],
        "regular_category_ids": [],
        "tracked_category_ids": [],
        "watched_category_ids": [],
        "watched_first_post_category_ids": [],
        "watched_tags": [],
        "watching_first_post_tags": [],
        "tracked_tags": [],
        "muted_tags": [],
        "muted_usernames": [],
        "ignored_usernames": [],
        "allowed_pm_usernames": [],
        "mailing_list_posts_per_day": 0,
        "user_api_keys": None,
        "user_auth_tokens": [],
        "user_notification_schedule": {
            "enabled": False,
            **{
                f"day_{day}_{edge}_time": (480 if edge == "start" else 1020)
                for day in range(7)
                for edge in ("start", "end")
            },
        },
        "groups": [],
        "group_users": [],
        "user_option": _user_option(user, is_self),
    }


def _user_option(user, is_self: bool) -> dict:
    return {
        "user_id": user.pk,
        "mailing_list_mode": False,
        "mailing_list_mode_frequency": 1,
        "email_digests": True,
        "email_level": 1,
        "email_messages_level": 0,
        "external_links_in_new_tab": False,
        "color_scheme_id": None,
        "dark_scheme_id": None,
        "dynamic_favicon": False,
        "enable_quoting": True,
        "enable_smart_lists": True,
        "enable_defer": False,
        "digest_after_minutes": 10080,
        "automatically_unpin_topics": True,
        "auto_track_topics_after_msecs": 240000,
        "notification_level_when_replying": 2,
        "new_topic_duration_minutes": 2880,
        "email_previous_replies": 2,
        "email_in_reply_to": True,
        "like_notification_frequency": 1,
        "include_tl0_in_digests": False,
        "theme_ids": [],
        "theme_key_seq": 0,
        "allow_private_messages": False,
        "enable_allowed_pm_users": False,
        "homepage_id": None,
        "hide_profile_and_presence": False,
        "hide_profile": False,
        "hide_presence": False,
        "text_size": "normal",
        "text_size_seq": 0,
        "title_count_mode": "notifications",
        "timezone": user.time_zone if is_self else None,
        "skip_new_user_tips": True,
        "topics_unread_when_closed": True,
    }


# --- end of issue 20's block ------------------------------------------------------------------


def topic_row(topic: Topic) -> dict:
    """What every topic row says (lists, suggested topics): its counts, dates and state; no query."""
    return {
        "id": topic.pk,
        "title": topic.localized_title,
        "fancy_title": escape(topic.localized_title),
        "slug": topic.slug,
        "posts_count": topic.posts_count,
        "reply_count": topic.replies_count,
        "highest_post_number": topic.highest_post_number,
        "created_at": topic.created_at,
        "last_posted_at": topic.last_posted_at,
        "bumped": True,
        "bumped_at": topic.bumped_at,
        "archetype": topic.archetype,
        "unseen": False,
        **_topic_state(topic),
    }


def _pinned(topic: Topic) -> bool:
    return topic.is_pinned_now()


def _topic_state(topic: Topic) -> dict:
    status = topic.effective_status()
    return {
        "visible": not topic.unlisted,
        "closed": status in (TopicStatus.CLOSED, TopicStatus.ARCHIVED),
        "archived": status == TopicStatus.ARCHIVED,
        "pinned": _pinned(topic),
        "pinned_globally": _pinned(topic) and topic.pin_scope == PinScope.GLOBAL,
        # Ours: when a scheduled topic opens for replies (None once open).
        "opens_at": topic.opens_at if topic.is_scheduled_now() else None,
    }


def list_topic(topic: Topic, viewer) -> dict:
    """A topic row of a topic_list. Needs author, last_poster, category and tags loaded.

    `posters` as Discourse lists them: the original poster first, then up to five recent
    posters (reading.attach_posters), the most recent last.
    """
    posters = [
        {
            "extras": None if topic.last_poster_id not in (None, topic.author_id) else "latest single",
            "description": "Original Poster",
            "user_id": topic.author_id,
            "primary_group_id": None,
        }
    ]
    recent = [person.pk for person in getattr(topic, "recent_posters", [])]
    if (
        topic.last_poster_id
        and topic.last_poster_id != topic.author_id
        and topic.last_poster_id not in recent
    ):
        recent.insert(0, topic.last_poster_id)
    for position, user_id in enumerate(reversed(recent)):
        latest = position == len(recent) - 1 and user_id == topic.last_poster_id
        posters.append(
            {
                "extras": "latest" if latest else None,
                "description": "Most Recent Poster" if latest else "Frequent Poster",
                "user_id": user_id,
                "primary_group_id": None,
            }
        )
    data = {
        **topic_row(topic),
        "tags": [tag.name for tag in topic.tags.all()],
        "tags_descriptions": {},
        "views": topic.views_count,
        "like_count": topic.likes_count,
        "has_summary": False,
        "last_poster_username": topic.last_poster.username if topic.last_poster_id else None,
        # A personal message sits in no category a client could show (Discourse: null).
        "category_id": None if topic.is_private_message else topic.category_id,
        "featured_link": None,
        "posters": posters,
        "participant_count": topic.participants_count,
    }
    if viewer.is_authenticated:
        read_number = getattr(topic, "read_number", None)
        data["unseen"] = read_number is None
        if read_number is not None:
            data["last_read_post_number"] = read_number
        data["unread_posts"] = getattr(topic, "unread", 0)
        data["new_posts"] = getattr(topic, "unread", 0)
    return data


def list_users(topics: list[Topic]) -> list[dict]:
    """The `users` beside a topic_list: each poster of the page's `posters` once."""
    users: dict[int, dict] = {}
    for topic in topics:
        for person in (topic.author, topic.last_poster, *getattr(topic, "recent_posters", [])):
            if person is not None and person.pk not in users:
                users[person.pk] = basic_user(person)
    return list(users.values())


def category(category: Category, viewer, *, counts: dict | None = None, subcategory_ids=()) -> dict:
    counts = counts or {}
    can_create = forum_permissions.can_start_topic(viewer, category)
    return {
        "id": category.pk,
        "name": category.localized_name,
        "color": category.colour.lstrip("#"),
        "text_color": "FFFFFF",
        "slug": category.slug,
        "topic_count": counts.get("topic_count", 0),
        "post_count": counts.get("post_count", 0),
        "position": category.position,
        "description": category.localized_description,
        "description_text": strip_tags(category.localized_description),
        "description_excerpt": Truncator(strip_tags(category.localized_description)).chars(300),
        "topic_url": None,
        "read_restricted": category.read_access != "everyone",
        # Discourse's permission levels: 1 create topics, 2 reply, 3 read only.
        "permission": 1 if can_create else (2 if viewer.is_authenticated and _may_reply(viewer) else 3),
        "notification_level": 1,
        "can_edit": accounts_permissions.is_staff(viewer),
        "topic_template": None,
        "has_children": bool(subcategory_ids),
        "subcategory_ids": list(subcategory_ids),
        "sort_order": None,
        "sort_ascending": None,
        "show_subcategory_list": False,
        "num_featured_topics": 3,
        "default_view": None,
        "subcategory_list_style": "rows_with_featured_topics",
        "default_top_period": "all",
        "minimum_required_tags": 0,
        "navigate_to_first_post_after_read": False,
        "uploaded_logo": None,
        "uploaded_background": None,
        "parent_category_id": category.parent_id,
        # Ours: who may read and who may start topics, in our terms.
        "read_access": category.read_access,
        "start_access": category.start_access,
        **category_extras(category, viewer, counts, subcategory_ids),
    }


def _may_reply(viewer) -> bool:
    return forum_permissions.posting_block_reason(viewer) is None


def topic_detail(
    topic: Topic,
    viewer,
    posts: list[dict],
    stream: list[int],
    *,
    participants,
    tags,
    suggested=(),
    excerpts: dict[int, str] | None = None,
) -> dict:
    """/t/<id>.json. `participants` are user objects; the first is the original poster."""
    read_state = getattr(topic, "read_number", None)
    created_by = topic.author
    last_poster = topic.last_poster
    return {
        "post_stream": {"posts": posts, "stream": stream},
        "suggested_topics": [suggested_topic(row, (excerpts or {}).get(row.pk, "")) for row in suggested],
        "unpinned": None,
        "timeline_lookup": [],
        "tags": tags,
        "tags_descriptions": {},
        "id": topic.pk,
        "title": topic.localized_title,
        "fancy_title": escape(topic.localized_title),
        "posts_count": topic.posts_count,
        "created_at": topic.created_at,
        "views": topic.views_count,
        "reply_count": topic.replies_count,
        "like_count": topic.likes_count,
        "last_posted_at": topic.last_posted_at,
        **_topic_state(topic),
        "has_summary": False,
        "archetype": topic.archetype,
        "slug": topic.slug,
        "category_id": topic.category_id,
        "word_count": None,
        "deleted_at": None,
        "user_id": topic.author_id,
        "featured_link": None,
        "pinned_at": topic.pinned_at,
        "pinned_until": topic.pinned_until,
        "image_url": None,
        "slow_mode_seconds": 0,
        "draft": None,
        "draft_key": f"topic_{topic.pk}",
        "draft_sequence": 0,
        "highest_post_number": topic.highest_post_number,
        "last_read_post_number": read_state,
        "deleted_by": None,
        "has_deleted": False,
        "actions_summary": [],
        "chunk_size": CHUNK_SIZE,
        "bookmarked": False,
        "bookmarks": [],
        "topic_timer": None,
        "message_bus_last_id": 0,
        "participant_count": topic.participants_count,
        "show_read_indicator": False,
        "thumbnails": None,
        "slow_mode_enabled_until": None,
        "language": topic.language,
        # Ours: the banner above the topic (the events app announces the webinar a question belongs to).
        "announcement": (
            {"text": topic.localized_announcement, "url": topic.announcement_url or None}
            if topic.announcement
            else None
        ),
        "details": {
            "can_edit": forum_permissions.is_moderator(viewer),
            "notification_level": 1,
            "can_create_post": forum_permissions.can_reply(viewer, topic),
            "can_reply_as_new_topic": False,
            **topic_details_extras(topic, viewer),
            "participants": [
                {**basic_user(person), **NO_GROUP, "post_count": count} for person, count in participants
            ],
            "created_by": _brief_user(created_by),
            "last_poster": _brief_user(last_poster or created_by),
        },
    }


def _brief_user(user) -> dict:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "avatar_template": avatar_template(user),
    }
