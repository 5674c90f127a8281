from django.urls import path

from . import live_views

app_name = "live"

urlpatterns = [
    path("stream", live_views.stream, name="stream"),
    path("poll", live_views.poll, name="poll"),
]
