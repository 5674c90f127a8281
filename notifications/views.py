from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from core.clean import has_control_characters

from . import services
from .forms import EmailPreferencesForm
from .models import Notification, NotificationKind

PAGE_SIZE = 30


@login_required
def notification_list(request):
    notifications = Notification.objects.filter(recipient=request.user).select_related("actor")
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


def _back(request):
    target = request.POST.get("next", "")
    # A path on this site, with no control character (a newline would break the Location header).
    if (
        target.startswith("/")
        and not has_control_characters(target)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return HttpResponseRedirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def mark_one_read(request, pk: int):
    services.mark_read(request.user, [pk])
    return _back(request)


@login_required
@require_POST
def mark_all_read(request):
    if services.mark_read(request.user):
        messages.success(request, _("All notifications are marked as read."))
    return _back(request)


@login_required
def open_notification(request, pk: int):
    """Follow a notification's link, marking it read on the way."""
    notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
    services.mark_read(request.user, [notification.pk])
    if url_has_allowed_host_and_scheme(notification.url, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(notification.url)
    return redirect("notifications:list")


@login_required
def preferences(request):
    current = services.email_preferences(request.user)
    form = EmailPreferencesForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        services.set_email_preferences(request.user, form.cleaned_data)
        messages.success(request, _("Your email preferences are saved."))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form})


@csrf_exempt  # Mail programs POST here with no session and no token (RFC 8058); the signature is the proof.
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows what the link stops (link checkers must not unsubscribe anyone); POST does it."""
    found = services.read_unsubscribe_token(token)
    person = None
    if found is not None:
        person = get_user_model().objects.filter(pk=found[0], is_active=True).first()
    if person is None:
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=400)
    user_id, kinds = found
    labels = [NotificationKind(kind).label for kind in kinds]
    done = False
    if request.method == "POST":
        everything = request.POST.get("scope") == "all"
        services.unsubscribe(person, NotificationKind.values if everything else kinds)
        done = True
        if everything:
            labels = [label for _, label in NotificationKind.choices]
    return render(
        request,
        "notifications/unsubscribe.html",
        {"labels": labels, "done": done, "token": token, "signed_in_as_them": request.user.pk == user_id},
    )
