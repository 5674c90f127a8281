"""Forum pages. Thin: read through forum.reading, write through forum.services.

Every page works without JavaScript; htmx requests get partials instead of whole pages.
"""

import difflib
import uuid
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, Q, When
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from taggit.models import Tag

from core import clean, page_cache, timezones
from core.markdown import render as render_markdown

from . import fragments, moderation, permissions, reading, services, uploads, watching
from . import live as forum_live
from .models import (
    RAW_MAX_LENGTH,
    Bookmark,
    Category,
    Draft,
    PinScope,
    Post,
    PostState,
    Topic,
    current_language,
    tag_label,
)

TOP_PERIODS = {
    "day": timedelta(days=1),
    "week": timedelta(days=7),
    "month": timedelta(days=31),
    "year": timedelta(days=366),
    "all": None,
}


def _deny(request, message: str | None = None):
    """Anonymous people are sent to sign in; others are told why not."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    raise PermissionDenied(message)


def _validation_messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        messages_by_field = error.message_dict
        if "__all__" in messages_by_field:
            messages_by_field["form"] = messages_by_field.pop("__all__")
        return messages_by_field
    return {"form": error.messages}


# --- Lists ----------------------------------------------------------------------------------


# Lists whose query holds no clock time: their number of topics changes only with a write.
CACHED_COUNT_LISTS = {"latest", "category", "tag"}


def _topic_list(request, queryset, *, title: str, kind: str, extra: dict | None = None):
    user = request.user
    marker = reading.all_read_at(user)
    paginator = Paginator(reading.for_rows(queryset, user), reading.TOPICS_PER_PAGE)
    if kind in CACHED_COUNT_LISTS:
        whole = queryset.topics if isinstance(queryset, reading.PinnedFirst) else queryset
        paginator.count = page_cache.cached_count(whole)
    page = paginator.get_page(request.GET.get("page"))
    topics = list(page.object_list)
    reading.annotate_unread(topics, user, marker)
    fragments.topic_rows(topics)  # rows shared by every reader (whole topics read when not cached)
    _list_changes_at(request, topics)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {
        "topics": topics,
        "page": page,
        "querystring": querystring,
        "list_title": title,
        "list_kind": kind,
        "counts": reading.list_counts(user, marker),
        "categories": permissions.top_categories(user),
        "can_start_topic": user.is_authenticated and permissions.posting_block_reason(user) is None,
        # Signed-in people who cannot post see why, and what to do, above every list.
        "posting_block_reason": permissions.posting_block_reason(user) if user.is_authenticated else None,
        **(extra or {}),
    }
    # The new-topic channels of this reader's audiences: nothing about topics they may not see.
    context["live_channels"] = forum_live.list_channels(user, context.get("category"))
    return render(request, "forum/latest.html", context)


def _list_changes_at(request, topics: list[Topic]) -> None:
    """When this list will change by itself (a pin ends, a scheduled topic opens): the page cache's limit."""
    now = timezone.now()
    for topic in topics:
        if topic.pinned_until and topic.pinned_until > now:
            page_cache.valid_until(request, topic.pinned_until)
        if topic.opens_at and topic.opens_at > now:
            page_cache.valid_until(request, topic.opens_at)


def latest(request):
    queryset = reading.pinned_first(permissions.visible_topics(request.user), reading.pinned_scope_for_home())
    return _topic_list(request, queryset, title=_("Latest topics"), kind="latest")


def new(request):
    marker = reading.all_read_at(request.user)
    queryset = reading.new_topics(request.user, marker).order_by("-created_at", "-pk")
    return _topic_list(request, queryset, title=_("New topics"), kind="new")


def unread(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    marker = reading.all_read_at(request.user)
    queryset = reading.unread_topics(request.user, marker).order_by("-bumped_at", "-pk")
    return _topic_list(request, queryset, title=_("Unread topics"), kind="unread")


def top(request):
    period = request.GET.get("period", "month")
    if period not in TOP_PERIODS:
        period = "month"
    queryset = permissions.visible_topics(request.user)
    if TOP_PERIODS[period]:
        queryset = queryset.filter(created_at__gte=timezone.now() - TOP_PERIODS[period])
    queryset = queryset.order_by("-likes_count", "-posts_count", "-pk")
    return _topic_list(
        request,
        queryset,
        title=_("Top topics"),
        kind="top",
        extra={"period": period, "periods": list(TOP_PERIODS)},
    )


def category(request, slug: str, category_id: int):
    category = get_object_or_404(Category.objects.select_related("parent"), pk=category_id)
    if not permissions.can_read_category(request.user, category):
        return _deny(request, _("This category is only open to some members."))
    if slug != category.slug:
        return redirect(category.get_absolute_url(), permanent=True)
    children = list(permissions.visible_categories(request.user).filter(parent=category))
    queryset = permissions.visible_topics(request.user).filter(
        category__in=[category.pk, *(child.pk for child in children)]
    )
    queryset = reading.pinned_first(queryset, reading.pinned_scope_for_category())
    return _topic_list(
        request,
        queryset,
        title=category.localized_name,
        kind="category",
        extra={
            "category": category,
            "subcategories": children,
            "can_start_topic": permissions.can_start_topic(request.user, category),
            "watch": watching.category_control(request.user, category),
        },
    )


def tag(request, name: str):
    queryset = permissions.visible_topics(request.user).filter(tags__name=name).order_by("-bumped_at", "-pk")
    return _topic_list(
        request,
        queryset,
        title=_("Topics tagged %(tag)s") % {"tag": tag_label(name)},
        kind="tag",
        extra={"tag": name, "may_name_tag": permissions.is_moderator(request.user)},
    )


@require_POST
def mark_all_read(request):
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("forum:latest"))
    services.mark_all_read(request.user)
    messages.success(request, _("Everything is marked as read."))
    return redirect(_safe_next(request, reverse("forum:unread")))


def _safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next")
    # A path on this site only: "a b" would be taken for a URL name, a control character breaks headers.
    if (
        target
        and target.startswith("/")
        and not clean.has_control_characters(target)
        and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
    ):
        return target
    return default


# --- A topic --------------------------------------------------------------------------------


def _readable_topic(request, topic_id: int) -> Topic:
    topic = get_object_or_404(Topic.objects.select_related("category", "author"), pk=topic_id)
    if not permissions.can_read(request.user, topic):
        if not request.user.is_authenticated:
            raise _LoginNeeded
        permissions.not_found_if_message(topic)
        raise PermissionDenied(_("This topic is only open to some members."))
    return topic


class _LoginNeeded(Exception):
    pass


def _composer_context(request, topic: Topic, *, raw: str | None = None, reply_to: int | None = None):
    """What the reply composer needs: who may reply (or why not), the restored draft, a fresh key."""
    user = request.user
    reason = permissions.reply_block_reason(user, topic)
    draft = None
    if reason is None and raw is None:
        draft = Draft.objects.filter(user=user, key=Draft.key_for_topic(topic.pk)).first()
    return {
        "reply_block_reason": reason,
        "composer_raw": raw if raw is not None else (draft.raw if draft else ""),
        "composer_reply_to": reply_to if reply_to is not None else (draft.reply_to_number if draft else None),
        "draft": draft,
        "idempotency_key": uuid.uuid4(),
        "draft_key": Draft.key_for_topic(topic.pk),
        "raw_max_length": RAW_MAX_LENGTH,
        "upload": uploads.composer_context(user) if reason is None else None,
    }


def topic(request, slug: str, topic_id: int, post_number: int | None = None):
    try:
        topic = _readable_topic(request, topic_id)
    except _LoginNeeded:
        return redirect_to_login(request.get_full_path())
    if slug != topic.slug:
        url = topic.post_url(post_number) if post_number else topic.get_absolute_url()
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url, permanent=True)
    if request.GET.get("view") == "tree":
        return _topic_tree(request, topic)
    for moment in (topic.opens_at, topic.pinned_until):  # the page changes by itself then
        if moment and moment > timezone.now():
            page_cache.valid_until(request, moment)

    if "page" in request.GET:
        page_number = _int(request.GET["page"]) or 1
    else:
        page_number = reading.page_for_post(post_number or 1)
    page = reading.post_page(topic, page_number)
    posts = reading.posts_between(topic, page.first_number, page.last_number, request.user)
    state = services.mark_read(request.user, topic, page.last_number) if posts else None
    chunk = request.GET.get("chunk") if request.htmx else None
    context = {
        "topic": topic,
        "posts": posts,
        "page": page,
        "chunk": chunk,
        "last_visit_number": _last_visit_marker(state, topic),
        "focus_number": post_number,
        **reading.post_context(request, topic, posts),
    }
    if chunk in {"earlier", "later"}:
        return render(request, "forum/_post_page.html", context)
    services.count_view(topic)
    context["live_since"] = forum_live.since(topic)  # replay what arrives before the page connects
    context.update(_composer_context(request, topic))
    context.update(moderation.topic_panel(topic))  # summary and highlights (forum/moderation.py)
    context["tags"] = list(topic.tags.all())
    context["watch"] = watching.topic_control(request.user, topic)  # forum/watching.py
    if topic.is_private_message:
        from .message_views import topic_context

        context.update(topic_context(request, topic))  # participants (forum/message_views.py)
    elif permissions.is_moderator(request.user):
        context["move_categories"] = list(Category.objects.exclude(pk=topic.category_id))
        context["zone_name"] = timezones.reader_zone(request.user).key
        context["pin_scopes"] = [choice for choice in PinScope.choices if choice[0] != PinScope.NONE]
    return render(request, "forum/topic.html", context)


def count_cached_view(request, topic_id: int) -> None:
    """A topic page served from the page cache still counts as a view, and as the reader's visit.

    The reader's read position did not move (the page would not have been kept if it had), so
    only the visit's time is noted, for the "last visit" marker.
    """
    topic = Topic(pk=topic_id)
    services.count_view(topic)
    if request.user.is_authenticated:
        services.note_visit(request.user, topic)


def _last_visit_marker(state, topic: Topic) -> int | None:
    """Draw "last visit" after this post number when there is something new since then."""
    if state is None or not state.last_visit_number:
        return None
    if state.last_visit_number >= topic.highest_post_number:
        return None
    return state.last_visit_number


def _topic_tree(request, topic: Topic):
    focus = None
    if request.GET.get("post"):
        number = _int(request.GET["post"])
        if number is None:
            raise Http404
        focus = get_object_or_404(
            reading.with_reader_marks(topic.posts.select_related(*reading.POST_RELATED), request.user),
            number=number,
        )
    after = max(1, _int(request.GET.get("after", "1")) or 1)
    opening = None
    if focus is None and after == 1:
        opening = (
            reading.with_reader_marks(topic.posts.select_related(*reading.POST_RELATED), request.user)
            .filter(number=1)
            .first()
        )
    posts, next_after = reading.tree_posts(topic, after=after, focus=focus, user=request.user)
    shown = ([opening] if opening else []) + posts
    if opening:
        opening.tree_depth = 0
        opening.continues = False
    post_context = reading.post_context(request, topic, shown)
    if shown:
        services.mark_read(request.user, topic, max(post.number for post in shown))
    context = {
        "topic": topic,
        "posts": shown,
        "focus": focus,
        "next_after": next_after,
        "tags": list(topic.tags.all()),
        **_composer_context(request, topic),
        **post_context,
    }
    return render(request, "forum/topic_tree.html", context)


def reply(request, topic_id: int):
    """The reply composer on a page of its own (the no-JavaScript way to answer a post or quote it)."""
    try:
        topic = _readable_topic(request, topic_id)
    except _LoginNeeded:
        return redirect_to_login(request.get_full_path())
    reply_to = None
    number = request.POST.get("reply_to") or request.GET.get("to")
    if number:
        number = _int(number)
        reply_to = topic.posts.select_related("author").filter(number=number).first() if number else None
        if reply_to is None:
            errors = {"reply_to": [_("That post is not in this topic.")]}
            return _reply_page(request, topic, None, request.POST.get("raw"), errors, status=400)

    if request.method != "POST":
        raw = None
        if reply_to and request.GET.get("quote") and permissions.can_see_post_text(request.user, reply_to):
            raw = f'[quote="{reply_to.author.username}, post:{reply_to.number}, topic:{topic.pk}"]\n'
            raw += f"{reply_to.raw}\n[/quote]\n\n"
        return _reply_page(request, topic, reply_to, raw, {})

    raw, file_errors = _with_uploaded_files(request, request.POST.get("raw", ""))
    if request.POST.get("preview"):
        # The no-JavaScript preview: the same page, the text kept, the rendering below it.
        return _reply_page(
            request, topic, reply_to, raw, file_errors, preview_html=_preview_html(raw, request.user)
        )
    if file_errors:
        return _reply_page(request, topic, reply_to, raw, file_errors, status=400)
    try:
        # Rate limits, duplicates and links (forum/moderation.py); the typed text stays on error.
        services.check_posting(
            request.user, raw, kind="reply", idempotency_key=request.POST.get("idempotency_key")
        )
        post = services.create_reply(
            request.user,
            topic,
            raw,
            reply_to=reply_to,
            idempotency_key=request.POST.get("idempotency_key"),
        )
    except ValidationError as error:
        return _reply_page(request, topic, reply_to, raw, _validation_messages(error), status=400)
    except PermissionDenied as error:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return _reply_page(request, topic, reply_to, raw, {"form": [str(error)]}, status=403)
    if services.after_posting(request.user, post, kind="reply"):
        messages.info(
            request, _("Your post is saved and waits for a moderator's approval before others see it.")
        )
    return redirect(f"{topic.post_url(post.number)}#post-{post.number}")


def _with_uploaded_files(request, raw: str) -> tuple[str, dict]:
    """The no-JavaScript file field: upload what was chosen and add it to the text. Returns the text
    (with the accepted files' references) and the refusals, {"files": [...]}, to show with it."""
    files = request.FILES.getlist("files")
    if not files:
        return raw, {}
    if too_large := uploads.body_too_large(request):
        return raw, {"files": [too_large]}
    try:
        made, refused = uploads.create_uploads(request.user, files)
    except PermissionDenied as error:
        return raw, {"files": [str(error)]}
    if made:
        references = "\n".join(uploads.markdown_for(upload) for upload in made)
        raw = f"{raw.rstrip()}\n\n{references}" if raw.strip() else references
    return raw, {"files": refused} if refused else {}


def _reply_page(request, topic, reply_to, raw, errors, status=200, preview_html=None):
    context = {"topic": topic, "reply_to": reply_to, "errors": errors, "preview_html": preview_html}
    context.update(_composer_context(request, topic, raw=raw, reply_to=reply_to.number if reply_to else None))
    return render(request, "forum/reply.html", context, status=status)


@login_required
def new_topic(request):
    user = request.user
    categories = [
        category
        for category in permissions.visible_categories(user).select_related("parent")
        if permissions.can_start_topic(user, category)
    ]
    draft = Draft.objects.filter(user=user, key=Draft.NEW_TOPIC).first()
    can_schedule = permissions.is_moderator(user)
    zone = timezones.reader_zone(user)
    form = {
        "title": draft.title if draft else "",
        "raw": draft.raw if draft else "",
        "tags": "",
        "category": (draft.category_id if draft else None) or _int(request.GET.get("category")),
        "opens_at": "",
    }
    errors: dict = {}
    status = 200
    preview_html = None
    if request.method == "POST":
        form = {
            "title": request.POST.get("title", ""),
            "raw": request.POST.get("raw", ""),
            "tags": request.POST.get("tags", ""),
            "category": _int(request.POST.get("category")),
            "opens_at": request.POST.get("opens_at", "") if can_schedule else "",
        }
        category = next((c for c in categories if c.pk == form["category"]), None)
        opens_at, opens_at_error = _opens_at(form["opens_at"], zone)
        form["raw"], errors = _with_uploaded_files(request, form["raw"])
        if request.POST.get("preview"):
            preview_html = _preview_html(form["raw"], request.user)
        elif errors:
            pass  # the refused files' messages, with the text (and the files that were accepted) kept
        elif category is None:
            errors = {"category": [_("Choose a category where you may start topics.")]}
        elif opens_at_error:
            errors = {"opens_at": [opens_at_error]}
        else:
            try:
                services.check_posting(
                    user, form["raw"], kind="topic", idempotency_key=request.POST.get("idempotency_key")
                )
                topic = services.create_topic(
                    user,
                    category,
                    form["title"],
                    form["raw"],
                    tags=[name for name in form["tags"].split(",") if name.strip()],
                    language=current_language(),
                    idempotency_key=request.POST.get("idempotency_key"),
                    opens_at=opens_at,
                )
            except ValidationError as error:
                errors = _validation_messages(error)
            except PermissionDenied as error:
                errors = {"form": [str(error)]}
            else:
                if services.after_posting(user, topic, kind="topic"):
                    messages.info(
                        request,
                        _("Your topic is saved and waits for a moderator's approval before others see it."),
                    )
                return redirect(topic.get_absolute_url())
        status = 200 if preview_html else 400
    context = {
        "categories": categories,
        "form": form,
        "errors": errors,
        "draft": draft,
        "reason": permissions.posting_block_reason(user),
        "idempotency_key": uuid.uuid4(),
        "draft_key": Draft.NEW_TOPIC,
        "raw_max_length": RAW_MAX_LENGTH,
        "known_tags": Tag.objects.order_by("name").values_list("name", flat=True)[:200],
        "preview_html": preview_html,
        "can_schedule": can_schedule,
        "zone_name": zone.key,
        "upload": uploads.composer_context(user),
    }
    return render(request, "forum/new_topic.html", context, status=status)


def _opens_at(value: str, zone) -> tuple[datetime | None, str | None]:
    """The scheduled opening typed in the composer, in the moderator's zone: (moment, error)."""
    try:
        moment = timezones.parse_local(value, zone)
    except ValidationError as error:
        return None, error.messages[0]
    if moment is not None and moment <= timezone.now():
        return None, _("Choose a time in the future, or leave it empty to open the topic at once.")
    return moment, None


def _int(value) -> int | None:
    """A whole number from a form or a query string; None when it is not one or overflows an id."""
    return clean.bounded_int(value, minimum=-clean.MAX_DB_INT)


# --- Posts ----------------------------------------------------------------------------------


def _post_for(request, post_id: int) -> Post:
    post = get_object_or_404(Post.objects.select_related("topic__category", "author"), pk=post_id)
    if not permissions.can_read(request.user, post.topic):
        permissions.not_found_if_message(post.topic)
        raise PermissionDenied(_("This topic is only open to some members."))
    return post


def _back_to(post: Post) -> str:
    return f"{post.topic.post_url(post.number)}#post-{post.number}"


def _post_actions_response(request, post: Post):
    """htmx: the post's action bar again; otherwise back to the post."""
    if request.htmx:
        post.refresh_from_db(fields=["like_count", "state"])
        context = {
            "post": post,
            "topic": post.topic,
            **reading.post_context(request, post.topic, [post], whole_posts=False),
        }
        return render(request, "forum/_post_actions.html", context)
    return redirect(_back_to(post))


@require_POST
def like(request, post_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.META.get("HTTP_REFERER") or "/")
    post = _post_for(request, post_id)
    services.toggle_like(request.user, post)
    return _post_actions_response(request, post)


@require_POST
def bookmark(request, post_id: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.META.get("HTTP_REFERER") or "/")
    post = _post_for(request, post_id)
    services.toggle_bookmark(request.user, post)
    return _post_actions_response(request, post)


def likers(request, post_id: int):
    post = _post_for(request, post_id)
    people = [like.user for like in post.likes.select_related("user__organisation").order_by("created_at")]
    return render(request, "forum/likers.html", {"post": post, "topic": post.topic, "people": people})


def post_replies(request, post_id: int):
    """The direct replies to a post (htmx expands them in place; otherwise the tree view)."""
    post = _post_for(request, post_id)
    if not request.htmx:
        return redirect(f"{post.topic.get_absolute_url()}?view=tree&post={post.number}")
    replies = list(post.replies.select_related(*reading.POST_RELATED).order_by("number")[:50])
    context = {"post": post, "replies": replies, "topic": post.topic}
    return render(
        request, "forum/_replies.html", {**context, **reading.post_context(request, post.topic, replies)}
    )


def edit_post(request, post_id: int):
    post = _post_for(request, post_id)
    if not permissions.can_edit_post(request.user, post):
        return _deny(request, _("You cannot edit this post."))
    errors: dict = {}
    raw = post.raw
    title = post.topic.title if post.number == 1 else None
    status = 200
    upload = uploads.composer_context(request.user)
    if request.method == "POST":
        raw, errors = _with_uploaded_files(request, request.POST.get("raw", ""))
        if post.number == 1:
            title = request.POST.get("title", "")
        if request.POST.get("preview"):
            context = {"post": post, "topic": post.topic, "raw": raw, "title": title, "errors": errors}
            context.update(
                raw_max_length=RAW_MAX_LENGTH, preview_html=_preview_html(raw, request.user), upload=upload
            )
            return render(request, "forum/edit_post.html", context)
        if errors:
            status = 400
        else:
            try:
                services.edit_post(request.user, post, raw, title=title)
            except ValidationError as error:
                errors = _validation_messages(error)
                status = 400
            else:
                messages.success(request, _("Your changes are saved."))
                return redirect(_back_to(post))
    context = {"post": post, "topic": post.topic, "raw": raw, "title": title, "errors": errors}
    context.update(raw_max_length=RAW_MAX_LENGTH, upload=upload)
    return render(request, "forum/edit_post.html", context, status=status)


def post_history(request, post_id: int):
    post = _post_for(request, post_id)
    if not permissions.can_see_post_text(request.user, post):
        raise PermissionDenied(_("This post is not shown."))
    revisions = []
    for revision in post.revisions.select_related("editor").order_by("-number"):
        lines = []
        for line in difflib.unified_diff(
            revision.raw_before.splitlines(), revision.raw_after.splitlines(), lineterm="", n=2
        ):
            if line.startswith(("---", "+++")):
                continue
            kind = {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "same")
            lines.append((kind, line))
        revisions.append({"revision": revision, "lines": lines})
    return render(
        request, "forum/post_history.html", {"post": post, "topic": post.topic, "revisions": revisions}
    )


def withdraw(request, post_id: int):
    """Ask first (a page that works without JavaScript), then withdraw on POST."""
    post = _post_for(request, post_id)
    if not permissions.can_withdraw_post(request.user, post):
        return _deny(request, _("You cannot withdraw this post."))
    if request.method != "POST":
        return render(request, "forum/withdraw_post.html", {"post": post, "topic": post.topic})
    services.withdraw_post(request.user, post)
    messages.success(request, _("The post is withdrawn; a note says so in its place."))
    return redirect(_back_to(post))


@require_POST
@permissions.moderator_required
def hide(request, post_id: int):
    post = _post_for(request, post_id)
    if post.state == PostState.HIDDEN:
        services.unhide_post(request.user, post)
        messages.success(request, _("The post is shown again."))
    else:
        services.hide_post(request.user, post, request.POST.get("reason", ""))
        messages.success(request, _("The post is hidden."))
    return redirect(_back_to(post))


# --- Composer helpers -----------------------------------------------------------------------


def _preview_html(raw: str, user=None) -> str:
    return render_markdown(
        raw[: RAW_MAX_LENGTH + 1000],
        mention_resolver=services.existing_usernames,
        upload_resolver=uploads.resolver(user.pk if user is not None and user.is_authenticated else None),
    )


@require_POST
def preview(request):
    """The composer's preview (htmx), rendered by the same renderer as saved posts."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    return render(
        request, "forum/_preview.html", {"html": _preview_html(request.POST.get("raw", ""), request.user)}
    )


@require_POST
def save_draft(request):
    """Autosave from the composer every few seconds (htmx); answers with a short status line."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    key = request.POST.get("draft_key", "")
    if key not in (Draft.NEW_TOPIC, Draft.NEW_MESSAGE) and not (
        key.startswith("topic:") and key[6:].isdigit()
    ):
        return HttpResponse(status=400)
    category = None
    if key == Draft.NEW_TOPIC and (category_id := _int(request.POST.get("category"))):
        category = permissions.visible_categories(request.user).filter(pk=category_id).first()
    draft = services.save_draft(
        request.user,
        key,
        raw=request.POST.get("raw", ""),
        title=request.POST.get("title", ""),
        reply_to_number=_int(request.POST.get("reply_to")),
        category=category,
    )
    return render(request, "forum/_draft_status.html", {"draft": draft})


def mention_suggestions(request):
    """People whose username or name starts with ?q= (for @ autocompletion), verified officials first."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    query = request.GET.get("q", "").strip().lstrip("@")[:30]
    if not query:
        return JsonResponse({"people": []})
    people = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(username__istartswith=query) | Q(display_name__istartswith=query))
        .annotate(verified_first=Case(When(verification_state="verified", then=0), default=1))
        .order_by("verified_first", "username")
        .values("username", "display_name", "position")[:8]
    )
    return JsonResponse(
        {
            "people": [
                {
                    "username": p["username"],
                    "name": p["display_name"] or p["username"],
                    "position": p["position"],
                }
                for p in people
            ]
        }
    )


# --- Moderator topic actions ----------------------------------------------------------------


@require_POST
@permissions.moderator_required
def moderate_topic(request, topic_id: int):
    topic = get_object_or_404(Topic, pk=topic_id)
    action = request.POST.get("action")
    by = request.user
    try:
        if action == "pin":
            until = _parse_when(request.POST.get("until"))
            services.pin_topic(topic, request.POST.get("scope", PinScope.GLOBAL), until=until, by=by)
        elif action == "unpin":
            services.unpin_topic(topic, by=by)
        elif action == "close":
            services.close_topic(topic, by=by)
        elif action == "open":
            services.open_topic(topic, by=by)
        elif action == "schedule":
            try:
                opens_at = timezones.parse_local(request.POST.get("opens_at"), timezones.reader_zone(by))
            except ValidationError as error:
                raise ValidationError({"when": error.messages}) from None
            if opens_at is None:
                raise ValidationError({"opens_at": _("Give the date and time the topic opens.")})
            services.schedule_topic(topic, opens_at, by=by)
        elif action == "move":
            services.move_topic(
                topic, get_object_or_404(Category, pk=_int(request.POST.get("category"))), by=by
            )
        elif action == "rename":
            services.rename_topic(topic, request.POST.get("title", ""), by=by)
        elif action == "retag":
            services.retag_topic(
                topic, [t for t in request.POST.get("tags", "").split(",") if t.strip()], by=by
            )
        elif action == "archive":
            services.archive_topic(topic, by=by)
        elif action == "unlist":
            services.unlist_topic(topic, by=by)
        elif action == "relist":
            services.relist_topic(topic, by=by)
        else:
            return HttpResponse(status=400)
    except ValidationError as error:
        for message_list in _validation_messages(error).values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("The topic is updated."))
    topic.refresh_from_db()
    return redirect(topic.get_absolute_url())


def _parse_when(value: str | None):
    """A datetime-local value in the server's time zone (UTC), or None."""
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:  # well formed but impossible: 2026-13-45 25:00
        parsed = None
    if parsed is None:
        raise ValidationError({"when": _("Enter a date and time such as 2026-05-17 14:00.")})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


# --- People ---------------------------------------------------------------------------------


def activity(request, username: str):
    person = get_object_or_404(get_user_model(), username=username, is_active=True)
    posts = (
        Post.objects.filter(
            author=person, state=PostState.VISIBLE, topic__in=permissions.visible_topics(request.user)
        )
        .select_related("topic")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(posts, reading.TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "forum/activity.html", {"person": person, "page": page})


def my_bookmarks(request):
    """`/bookmarks`: the reader's own list, at the address people guess (Discourse's too)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return redirect("forum:bookmarks", request.user.username)


def profile_links(request, person) -> str:
    """On one's own profile (accounts.profile_sections): what only they see, one click away."""
    if not request.user.is_authenticated or request.user.pk != person.pk:
        return ""
    return render_to_string("forum/_profile_links.html", {"person": person}, request=request)


def bookmarks(request, username: str):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if request.user.username != username:
        raise Http404
    marks = (
        Bookmark.objects.filter(user=request.user, post__topic__in=permissions.visible_topics(request.user))
        .select_related("post__topic", "post__author")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(marks, reading.TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "forum/bookmarks.html", {"person": request.user, "page": page})
