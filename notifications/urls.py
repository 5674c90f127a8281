from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications", views.notification_list, name="list"),
    path("notifications/read-all", views.mark_all_read, name="read_all"),
    path("notifications/<int:pk>/read", views.mark_one_read, name="read"),
    path("notifications/<int:pk>/open", views.open_notification, name="open"),
    path("notifications/preferences", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>", views.unsubscribe, name="unsubscribe"),
]
