"""docs/api.md's curl examples name endpoints that exist, and every endpoint of issue 20 has one."""

import re

from django.conf import settings
from django.urls import resolve

DOC = settings.BASE_DIR / "docs" / "api.md"
CURL_URL = re.compile(r'(?:\$F|https://forum\.example\.org)(/[^"\s?]*)')


def _curl_paths() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [
        match.group(1) for line in text.splitlines() if "curl" in line for match in CURL_URL.finditer(line)
    ]


def test_every_curl_example_names_an_api_endpoint():
    paths = _curl_paths()
    assert len(paths) > 40
    for path in paths:
        match = resolve(path)
        assert getattr(match.func, "api_endpoint", False), path


def test_the_endpoints_added_for_discourses_clients_have_curl_examples():
    documented = {resolve(path).url_name for path in _curl_paths()}
    wanted = {
        "about",
        "site_basic_info",
        "notifications",
        "notifications_mark_read_json",
        "topic_notifications_json",
        "directory_items",
        "user_actions",
        "user_summary",
        "unread",
        "filter",
        "category_by_slug",
        "post_replies",
        "post_revision",
        "raw_post",
        "topic_bookmark_json",
        "topic_remove_bookmarks_json",
        "topic_timer_json",
        "topic_delete",
        "api_admin_users_list",
    }
    assert wanted <= documented, wanted - documented
