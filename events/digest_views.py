"""The digest of an event ("who said what"): each of its linked questions, then the contributions.

Read-only; built by forum.digest, so it reads exactly like a topic's digest.
"""

from django.http import HttpResponse
from django.shortcuts import render

from forum import digest as forum_digest
from forum import permissions as forum_permissions

from .views import _get_event


def event_digest(request, slug: str, markdown: bool = False):
    event = _get_event(request, slug)
    topics = list(
        forum_permissions.visible_topics(request.user)
        .filter(pk__in=event.linked_topics.values("pk"))
        .select_related("category")
        .order_by("created_at", "pk")
    )
    sections = forum_digest.topic_sections(topics, request.GET.get("replies"))
    context = {
        "title": event.localized_title,
        "sections": sections,
        "event": event,
        "choice": request.GET.get("replies", ""),
    }
    if markdown:
        response = HttpResponse(
            forum_digest.as_markdown(context), content_type="text/markdown; charset=utf-8"
        )
        response["Content-Disposition"] = f'inline; filename="{event.slug}-digest.md"'
        return response
    return render(request, "forum/moderation/digest.html", context)


def event_digest_md(request, slug: str):
    return event_digest(request, slug, markdown=True)
