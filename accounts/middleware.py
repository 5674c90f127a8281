from django.urls import reverse

from . import notifications, permissions
from .decorators import mfa_enrolment_redirect


class AdminRequiresMFAMiddleware:
    """The Django admin, like every moderation page, is closed to staff without a second factor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # The path first: asking for the user loads it, a query that pages without it need not make.
        if (
            request.path.startswith(reverse("admin:index"))
            and user is not None
            and user.is_authenticated
            and permissions.is_staff(user)
            and not permissions.has_mfa(user)
        ):
            return mfa_enrolment_redirect(request)
        return self.get_response(request)


class VerificationNoticeMiddleware:
    """Shows a person, once, that their verification changed (approved, rejected, revoked...)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        # The field is on the user row already loaded: no query unless there is a notice.
        if (
            user is not None
            and user.is_authenticated
            and user.verification_notice
            and not request.headers.get("HX-Request")
        ):
            notifications.show_pending_notice(request)
        return self.get_response(request)
