from django.urls import path

from . import views

app_name = "forum"

urlpatterns = [
    path("", views.latest, name="home"),
    path("latest", views.latest, name="latest"),
]
