"""What a client asks first about a site: /about.json and /site/basic-info.json.

Discourse's MCP server and mobile apps read them before anything else (the title, the
language, whether reading needs a log-in). Both are the same for every reader except the
counts, which are over what this reader may see.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
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
    topics = permissions.visible_topics(request.user)
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
                "stats": stats,
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
