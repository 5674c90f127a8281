"""allauth hooks: a suspended person cannot sign in, and is told why and until when."""

from allauth.account.adapter import DefaultAccountAdapter
from django.shortcuts import render

from . import permissions


class AccountAdapter(DefaultAccountAdapter):
    def pre_login(self, request, user, **kwargs):
        if permissions.is_suspended(user):
            from allauth.account.internal.stagekit import clear_login

            clear_login(request)
            return render(request, "accounts/suspended.html", {"person": user}, status=403)
        return super().pre_login(request, user, **kwargs)
