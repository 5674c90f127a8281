from django.urls import path, re_path

from core import page_cache

from . import (
    feeds,
    live_views,
    message_views,
    moderation_views,
    poll_views,
    search_views,
    upload_views,
    views,
    watch_views,
)

app_name = "forum"


def _list_scopes(request, *args, **kwargs) -> list[str]:
    return [page_cache.LISTS]


def _topic_scopes(request, slug, topic_id, post_number=None) -> list[str]:
    return [page_cache.topic_scope(topic_id)]


def _count_view(request, slug, topic_id, post_number=None) -> None:
    views.count_cached_view(request, topic_id)


# These pages come whole from the cache (core/page_cache.py): anonymous readers share one copy
# per language, each signed-in reader has their own.
cached_list = page_cache.cached_page(_list_scopes)
latest = cached_list(views.latest)
topic = page_cache.cached_page(_topic_scopes, on_hit=_count_view)(moderation_views.topic)

urlpatterns = [
    path("", latest, name="home"),
    path("latest", latest, name="latest"),
    path("latest.rss", feeds.LatestTopicsFeed(), name="latest_rss"),
    path("latest.atom", feeds.LatestTopicsAtomFeed(), name="latest_atom"),
    path("new", views.new, name="new"),
    path("unread", views.unread, name="unread"),
    path("top", views.top, name="top"),
    path("mark-all-read", views.mark_all_read, name="mark_all_read"),
    path("search", search_views.search_page, name="search"),
    path("search.json", search_views.search_json, name="search_json"),
    path("c/<slug:slug>/<int:category_id>", cached_list(views.category), name="category"),
    path("c/<slug:slug>/<int:category_id>.rss", feeds.CategoryFeed(), name="category_rss"),
    path("c/<slug:slug>/<int:category_id>.atom", feeds.CategoryAtomFeed(), name="category_atom"),
    path("tag/<str:name>", cached_list(views.tag), name="tag"),
    path("tag/<str:name>/names", moderation_views.tag_names, name="tag_names"),
    path("new-topic", views.new_topic, name="new_topic"),
    path("t/<slug:slug>/<int:topic_id>", topic, name="topic"),
    path("t/<slug:slug>/<int:topic_id>.rss", feeds.TopicFeed(), name="topic_rss"),
    path("t/<slug:slug>/<int:topic_id>.atom", feeds.TopicAtomFeed(), name="topic_atom"),
    path("t/<slug:slug>/<int:topic_id>/<int:post_number>", topic, name="topic_post"),
    path("t/<int:topic_id>/reply", views.reply, name="reply"),
    path("t/<int:topic_id>/moderate", views.moderate_topic, name="moderate_topic"),
    path("posts/<int:post_id>/edit", views.edit_post, name="edit_post"),
    path("posts/<int:post_id>/history", views.post_history, name="post_history"),
    path("posts/<int:post_id>/withdraw", views.withdraw, name="withdraw_post"),
    path("posts/<int:post_id>/hide", views.hide, name="hide_post"),
    path("posts/<int:post_id>/like", views.like, name="like_post"),
    path("posts/<int:post_id>/likes", views.likers, name="post_likers"),
    path("posts/<int:post_id>/bookmark", views.bookmark, name="bookmark_post"),
    path("posts/<int:post_id>/replies", views.post_replies, name="post_replies"),
    path("composer/preview", views.preview, name="preview"),
    path("composer/draft", views.save_draft, name="save_draft"),
    path("composer/mentions", views.mention_suggestions, name="mention_suggestions"),
    path("u/<str:username>/activity", views.activity, name="activity"),
    path("u/<str:username>/bookmarks", views.bookmarks, name="bookmarks"),
    path("bookmarks", views.my_bookmarks, name="my_bookmarks"),
]

# --- Moderation and peer-learning outputs (forum/moderation_views.py) -----------------------

urlpatterns += [
    path("review/", moderation_views.review_queue, name="review"),
    path("review/items/<int:item_id>", moderation_views.review_act, name="review_act"),
    path("review/log", moderation_views.moderation_log, name="moderation_log"),
    path("review/log.csv", moderation_views.moderation_log_csv, name="moderation_log_csv"),
    path("review/people/<str:username>", moderation_views.person, name="person"),
    path("posts/<int:post_id>/flag", moderation_views.flag, name="flag_post"),
    path("posts/<int:post_id>/highlight", moderation_views.highlight, name="highlight_post"),
    path("t/<int:topic_id>/summary", moderation_views.summary, name="summary"),
    path("t/<int:topic_id>/surgery", moderation_views.surgery, name="surgery"),
    path("t/<slug:slug>/<int:topic_id>/digest", moderation_views.digest, name="digest"),
    path("t/<slug:slug>/<int:topic_id>/digest.md", moderation_views.digest_md, name="digest_md"),
    path("c/<slug:slug>/<int:category_id>/digest", moderation_views.category_digest, name="category_digest"),
    path(
        "c/<slug:slug>/<int:category_id>/digest.md",
        moderation_views.category_digest_md,
        name="category_digest_md",
    ),
]

urlpatterns += [
    path("insights/", moderation_views.insights, name="insights"),
    path("insights.csv", moderation_views.insights_csv, name="insights_csv"),
]

# --- Live updates: what open pages fetch after a live event (forum/live_views.py) ----------

urlpatterns += [
    path("t/<int:topic_id>/live/posts", live_views.topic_posts, name="live_posts"),
    path("t/<int:topic_id>/live/composer", live_views.topic_composer, name="live_composer"),
    path("new-topics.json", live_views.new_topics, name="live_new_topics"),
]

# --- Watching levels (forum/watch_views.py) -------------------------------------------------

urlpatterns += [
    path("t/<int:topic_id>/watch", watch_views.topic_watch, name="topic_watch"),
    path("c/<int:category_id>/watch", watch_views.category_watch, name="category_watch"),
    path("my/watching", watch_views.my_watching, name="my_watching"),
]

# --- Files and images in posts (forum/upload_views.py) ----------------------------------------

urlpatterns += [
    re_path(
        r"^uploads/original/(?P<sha1>[0-9a-f]{40})\.(?P<extension>[a-z0-9]{1,10})$",
        upload_views.serve,
        name="upload",
    ),
    re_path(
        r"^uploads/optimized/(?P<sha1>[0-9a-f]{40})\.(?P<extension>[a-z0-9]{1,10})$",
        upload_views.serve,
        {"thumbnail": True},
        name="upload_thumbnail",
    ),
    re_path(
        r"^uploads/short-url/(?P<key>[0-9A-Za-z]{1,40})\.(?P<extension>[a-z0-9]{1,10})$",
        upload_views.short_url,
        name="upload_short",
    ),
    path("review/uploads", upload_views.review, name="review_uploads"),
    path("review/uploads/<int:upload_id>/remove", upload_views.remove, name="remove_upload"),
]

# --- Polls in posts (forum/poll_views.py) -----------------------------------------------------

urlpatterns += [
    path("posts/<int:post_id>/polls/<str:name>/vote", poll_views.vote, name="poll_vote"),
    path("posts/<int:post_id>/polls/<str:name>/withdraw", poll_views.withdraw, name="poll_withdraw"),
    path("posts/<int:post_id>/polls/<str:name>/status", poll_views.status, name="poll_status"),
    path("posts/<int:post_id>/polls/<str:name>", poll_views.block, name="poll_block"),
    path("posts/<int:post_id>/polls/<str:name>/voters", poll_views.voters, name="poll_voters"),
    path("t/<slug:slug>/<int:topic_id>/polls/<str:name>/present", poll_views.present, name="poll_present"),
]

# --- Personal messages (forum/message_views.py) ---------------------------------------------

urlpatterns += [
    path("u/<str:username>/messages", message_views.box, name="messages"),
    path("u/<str:username>/messages/<str:name>", message_views.box, name="messages_box"),
    path("messages/new", message_views.new_message, name="new_message"),
    path("messages/preferences", message_views.preferences, name="message_preferences"),
    path("t/<int:topic_id>/participants", message_views.participants, name="message_participants"),
    path("review/items/<int:item_id>/message", message_views.read_flagged, name="read_flagged_message"),
    path("g/<str:name>/messages", message_views.group_inbox, name="group_inbox"),
]
