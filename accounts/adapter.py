"""allauth hooks: a suspended person cannot sign in, and is told why and until when; every email
allauth sends goes through the notifications outbox."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.shortcuts import render

from . import permissions


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        if permissions.is_suspended(user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return render(request, "accounts/suspended.html", {"person": user}, status=403)
        return super().pre_login(request, user, **kwargs)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Every allauth email (confirmation, password reset, sign-in codes, security notices,
        "account already exists") is rendered here, in the request, and owed in the outbox as
        urgent: the worker sends it at once, ahead of other mail, with retries. Written in the
        request's transaction when there is one, else at once (committed before the page says
        "we have sent you an email")."""
        from notifications.services import queue_message

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        queue_message(message, urgent=True, kind=template_prefix)
