"""The staff page where API keys are made, listed and revoked (MFA-enforced like every staff page)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import staff_required
from core import clean

from . import services
from .models import ApiKey


def _page(request, *, form=None, errors=None, new_key=None, status=200):
    keys = ApiKey.objects.select_related("user", "created_by").order_by("revoked_at", "-created_at")[:200]
    context = {
        "keys": keys,
        "form": form or {"username": "", "description": "", "read_only": False, "all_users": False},
        "errors": errors or {},
        "new_key": new_key,
    }
    return render(request, "api/keys.html", context, status=status)


@staff_required
def keys(request):
    if request.method != "POST":
        return _page(request)
    form = {
        "username": request.POST.get("username", "").strip(),
        "description": request.POST.get("description", "").strip(),
        "read_only": bool(request.POST.get("read_only")),
        "all_users": bool(request.POST.get("all_users")),
    }
    person = (
        None
        if clean.has_control_characters(form["username"])
        else get_user_model().objects.filter(username=form["username"]).first()
    )
    if person is None:
        errors = {"username": [_("No one has this username.")]}
        return _page(request, form=form, errors=errors, status=400)
    try:
        key, raw_key = services.create_api_key(
            request.user,
            person,
            description=form["description"],
            read_only=form["read_only"],
            all_users=form["all_users"],
        )
    except ValidationError as error:
        return _page(request, form=form, errors=error.message_dict, status=400)
    # Shown in this answer only: the key is not stored and cannot be shown again.
    return _page(request, new_key={"key": key, "raw": raw_key})


@require_POST
@staff_required
def revoke(request, key_id: int):
    key = get_object_or_404(ApiKey, pk=key_id)
    services.revoke_api_key(request.user, key)
    messages.success(request, _("The key is revoked: it no longer opens the API."))
    return redirect("api:keys")
