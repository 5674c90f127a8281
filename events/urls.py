from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="list"),
    path("events/new", views.event_form, name="create"),
    path("events/calendar.ics", views.calendar_feed, name="calendar"),
    path("events/feed/<str:token>.ics", views.personal_feed, name="personal_feed"),
    path("events/<slug:slug>.ics", views.event_ics, name="ics"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/register", views.register, name="register"),
    path("events/<slug:slug>/cancel", views.cancel, name="cancel"),
    path("events/<slug:slug>/reply", views.live_reply, name="live_reply"),
    path("events/<slug:slug>/live-posts", views.live_posts, name="live_posts"),
    path("events/<slug:slug>/live-polls", views.live_polls, name="live_polls"),
    path("events/<slug:slug>/here", views.here, name="here"),
    path("events/<slug:slug>/attendees", views.attendees, name="attendees"),
    path("events/<slug:slug>/attendees.csv", views.attendees_csv, name="attendees_csv"),
    path("events/<slug:slug>/control", views.control_room, name="control"),
    path("events/<slug:slug>/invite", views.invite, name="invite"),
    path("events/<slug:slug>/edit", views.event_form, name="edit"),
]

# The event's digest ("who said what"), built by forum.digest (events/digest_views.py).
from . import digest_views  # noqa: E402

urlpatterns += [
    path("events/<slug:slug>/digest", digest_views.event_digest, name="digest"),
    path("events/<slug:slug>/digest.md", digest_views.event_digest_md, name="digest_md"),
]
