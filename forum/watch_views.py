"""Watching levels: the control on topic and category pages, and the page listing one's watches.

Plain forms (POST, then back where the person was); htmx swaps the control in place.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from . import permissions, watching
from .models import Category, Topic, WatchLevel
from .views import _safe_next


def _errors(error: ValidationError) -> list[str]:
    return [message for messages_ in error.message_dict.values() for message in messages_]


def _respond(request, target, control: dict, *, saved: bool, errors: list[str], status: int = 200):
    if saved and not request.htmx:
        messages.success(
            request, _("Notification level saved: %(level)s.") % {"level": control["current_label"]}
        )
        return redirect(_safe_next(request, target.get_absolute_url()))
    context = {"watch": control, "saved": saved, "errors": errors, "next": request.POST.get("next", "")}
    template = "forum/_watch_control.html" if request.htmx else "forum/watch.html"
    return render(request, template, context, status=status)


def _watch(request, target, set_level, make_control):
    """GET: the level and the choices; POST: choose one (bad input: the form again, with why)."""
    errors, saved, status = [], False, 200
    if request.method == "POST":
        try:
            set_level(request.user, target, request.POST.get("level", ""))
            saved = True
        except ValidationError as error:
            errors, status = _errors(error), 400
    control = make_control(request.user, target)
    return _respond(request, target, control, saved=saved, errors=errors, status=status)


def topic_watch(request, topic_id: int):
    """The watching level of a topic. Signed-in readers only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    topic = get_object_or_404(Topic.objects.select_related("category"), pk=topic_id)
    permissions.check_read(request.user, topic)
    return _watch(request, topic, watching.set_topic_level, watching.topic_control)


def category_watch(request, category_id: int):
    """The watching level of a category. Signed-in readers only."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    category = get_object_or_404(Category, pk=category_id)
    if not permissions.can_read_category(request.user, category):
        raise PermissionDenied(_("This category is only open to some members."))
    return _watch(request, category, watching.set_category_level, watching.category_control)


@login_required
def my_watching(request):
    """Every topic and category the person set a level on, each with a form to change it."""
    watched = watching.watched_by(request.user)
    context = {
        **watched,
        "levels": WatchLevel.choices,
        "topic_choices": [(level.value, level.label, watching.TOPIC_HELP[level]) for level in WatchLevel],
    }
    return render(request, "forum/my_watching.html", context)
