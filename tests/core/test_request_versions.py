"""The page cache's versions are read once per request (core.page_cache.RequestVersionsMiddleware)."""

from unittest import mock

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from core import page_cache
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def in_request(body, user=None):
    """Run ``body()`` inside the middleware, as a view would, and return what it returned."""
    request = RequestFactory().get("/")
    if user is not None:
        request._cached_user = user
    answers = []

    def view(request):
        answers.append(body())
        return HttpResponse()

    page_cache.RequestVersionsMiddleware(view)(request)
    return answers[0]


def test_one_cache_read_serves_every_stamp_of_a_request():
    user = UserFactory()
    page_cache.stamp([page_cache.LISTS, page_cache.reader_scope(user.pk)])  # the versions exist

    def body():
        with mock.patch.object(cache, "get_many", wraps=cache.get_many) as get_many:
            stamps = [
                page_cache.stamp([page_cache.LISTS]),
                page_cache.stamp([]),
                page_cache.stamp([page_cache.LISTS, page_cache.reader_scope(user.pk)]),
            ]
        return stamps, get_many.call_count

    stamps, reads = in_request(body, user=user)
    assert reads == 1
    assert stamps == [
        page_cache.stamp([page_cache.LISTS]),
        page_cache.stamp([]),
        page_cache.stamp([page_cache.LISTS, page_cache.reader_scope(user.pk)]),
    ]


def test_a_change_made_during_the_request_is_read_afresh():
    def body():
        before = page_cache.stamp([page_cache.LISTS])
        page_cache.changed(lists=True)
        return before, page_cache.stamp([page_cache.LISTS])

    before, after = in_request(body)
    assert before != after
    assert after == page_cache.stamp([page_cache.LISTS])


def test_requests_do_not_share_versions_and_none_is_kept_outside_a_request():
    first = in_request(lambda: page_cache.stamp([page_cache.LISTS]))
    page_cache.changed(lists=True)
    second = in_request(lambda: page_cache.stamp([page_cache.LISTS]))
    assert first != second
    assert page_cache._request_versions.get() is None
    outside = page_cache.stamp([page_cache.LISTS])
    page_cache.changed(lists=True)
    assert page_cache.stamp([page_cache.LISTS]) != outside


def test_a_version_not_yet_started_is_started_and_the_cache_away_means_none():
    scope = page_cache.topic_scope(987654)
    value = in_request(lambda: page_cache.stamp([scope]))
    assert value is not None and value == page_cache.stamp([scope])
    with mock.patch.object(cache, "get_many", return_value={}):
        assert in_request(lambda: page_cache.stamp([page_cache.LISTS])) is None
