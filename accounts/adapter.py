"""allauth hooks: a suspended person cannot sign in, and is told why and until when; a fresh
sign-in counts as a recent re-authentication; every email allauth sends goes through the
notifications outbox."""

import time

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site
from django.shortcuts import render

from . import permissions

# The credentials typed during this sign-in (a password, a TOTP or recovery code), recorded by
# allauth moments before post_login; a sign-in that waited on a second factor takes longer.
TYPED_CREDENTIALS = {"password", "mfa"}
FRESH_SIGN_IN_SECONDS = 10 * 60


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        if permissions.is_suspended(user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return render(request, "accounts/suspended.html", {"person": user}, status=403)
        return super().pre_login(request, user, **kwargs)

    def post_login(self, request, user, **kwargs):
        """A password (and second factor) typed seconds ago proves as much as the "Confirm access"
        form: the credentials of this sign-in count as a re-authentication, so a moderator is not
        asked for the password again within ACCOUNT_REAUTHENTICATION_TIMEOUT of signing in (allauth
        only counts its own re-authentication form). A sign-in by an emailed link does not count."""
        from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY

        records = request.session.get(AUTHENTICATION_METHODS_SESSION_KEY)
        if isinstance(records, list):
            fresh = time.time() - FRESH_SIGN_IN_SECONDS
            for record in records:
                if record.get("method") in TYPED_CREDENTIALS and record.get("at", 0) >= fresh:
                    record["reauthenticated"] = True
            request.session[AUTHENTICATION_METHODS_SESSION_KEY] = records
        return super().post_login(request, user, **kwargs)

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
