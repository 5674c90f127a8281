"""RSS and Atom feeds for the latest topics, each category and each topic.

Feed readers never sign in, so feeds only carry what everyone may read.
"""

from django.contrib.auth.models import AnonymousUser
from django.contrib.syndication.views import Feed
from django.db.models import OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import gettext_lazy as _

from . import permissions
from .models import Category, Post, PostState, Topic

FEED_SIZE = 30


def _public_topics():
    first_post = Post.objects.filter(topic=OuterRef("pk"), number=1).values("cooked")[:1]
    return (
        permissions.visible_topics(AnonymousUser())
        .select_related("author")
        .annotate(first_cooked=Subquery(first_post))
        .order_by("-created_at")
    )


class LatestTopicsFeed(Feed):
    title = _("Latest topics · Metropolis Peer Learning Forum")
    description = _("New topics in the Metropolis Peer Learning Forum.")

    def link(self):
        return reverse("forum:latest")

    def items(self):
        return _public_topics()[:FEED_SIZE]

    def item_title(self, topic):
        return topic.localized_title

    def item_description(self, topic):
        return topic.first_cooked

    def item_author_name(self, topic):
        return topic.author.name

    def item_pubdate(self, topic):
        return topic.created_at


class LatestTopicsAtomFeed(LatestTopicsFeed):
    feed_type = Atom1Feed
    subtitle = LatestTopicsFeed.description


class CategoryFeed(LatestTopicsFeed):
    def get_object(self, request, slug, category_id):
        category = get_object_or_404(Category, pk=category_id)
        if not permissions.can_read_category(AnonymousUser(), category):
            raise Http404
        return category

    def title(self, category):
        return category.localized_name

    def description(self, category):
        return category.localized_description

    def link(self, category):
        return category.get_absolute_url()

    def items(self, category):
        return _public_topics().filter(category=category)[:FEED_SIZE]


class CategoryAtomFeed(CategoryFeed):
    feed_type = Atom1Feed


class TopicFeed(Feed):
    def get_object(self, request, slug, topic_id):
        topic = get_object_or_404(Topic.objects.select_related("category"), pk=topic_id)
        if not permissions.can_read(AnonymousUser(), topic):
            raise Http404
        return topic

    def title(self, topic):
        return topic.localized_title

    def description(self, topic):
        return _("The latest posts of this topic.")

    def link(self, topic):
        return topic.get_absolute_url()

    def items(self, topic):
        # The newest posts by number range: no scan of the whole topic.
        return (
            topic.posts.filter(number__gt=topic.highest_post_number - FEED_SIZE, state=PostState.VISIBLE)
            .select_related("author")
            .order_by("-number")
        )

    def item_title(self, post):
        return f"#{post.number} · {post.author.name}"

    def item_description(self, post):
        return post.cooked

    def item_link(self, post):
        return post.topic.post_url(post.number)

    def item_author_name(self, post):
        return post.author.name

    def item_pubdate(self, post):
        return post.created_at


class TopicAtomFeed(TopicFeed):
    feed_type = Atom1Feed
