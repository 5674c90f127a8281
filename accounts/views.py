from django.shortcuts import get_object_or_404, render

from .models import User


def profile(request, username: str):
    person = get_object_or_404(User.objects.select_related("organisation"), username=username, is_active=True)
    return render(request, "accounts/profile.html", {"person": person})
