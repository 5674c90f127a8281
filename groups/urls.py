from django.urls import path

from . import views

app_name = "groups"

urlpatterns = [
    path("g/", views.group_list, name="list"),
    path("g/<str:name>", views.detail, name="detail"),
    path("g/<str:name>/act", views.act, name="act"),
]
