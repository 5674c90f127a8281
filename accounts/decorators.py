"""Gates for the pages of moderators and staff: signed in, the right role, and MFA enrolled.

The forum and events apps wrap their moderation pages with these, so the rule
"no moderation without a second factor" lives in one place.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from . import permissions

MFA_ENROLMENT_URL_NAME = "mfa_activate_totp"


def mfa_enrolment_redirect(request):
    """Send a moderator or staff member to TOTP enrolment, saying why."""
    messages.warning(
        request,
        _(
            "Moderators and staff must protect their account with two-factor authentication "
            "before they can open moderation, review or administration pages. "
            "Confirm your password if asked, set up an authenticator app, then open the page again."
        ),
    )
    return redirect(MFA_ENROLMENT_URL_NAME)


def _role_required(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(user):
                raise PermissionDenied(_("This page is for moderators and staff only."))
            if not permissions.has_mfa(user):
                return mfa_enrolment_redirect(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


moderator_required = _role_required(permissions.is_moderator)
moderator_required.__doc__ = "Signed in, moderator (or staff), with MFA enrolled; else login/403/enrolment."
staff_required = _role_required(permissions.is_staff)
staff_required.__doc__ = "Signed in, staff, with MFA enrolled; else login/403/enrolment."
