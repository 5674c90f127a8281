from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from api.people_views import admin_users_list
from core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("sw.js", core_views.service_worker, name="service_worker"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    # Discourse's admin list of people answers JSON (api/people_views.py), never the Django admin.
    path("admin/users/list/<str:flag>.json", admin_users_list, name="api_admin_users_list"),
    path("admin/", admin.site.urls),
    path("live/", include("core.live_urls")),
    path("", include("notifications.urls")),
    # The API first: its `.json` paths sit beside the pages' paths (/latest.json next to /latest).
    path("", include("api.urls")),
    path("", include("accounts.urls")),
    path("", include("groups.urls")),
    path("", include("forum.urls")),
    path("", include("events.urls")),
]

# The site's error pages, in its shell and the reader's language, rendered without the database
# (core/errors.py); `.json` paths and API keys get Discourse's JSON errors instead.
handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler429 = "core.errors.too_many_requests"  # allauth's rate limits (sign-in, sign-up...)
# A database error raised before any view (sessions, the user) answers 503, not 500.
handler500 = "core.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.urls import re_path

    from core.errors import page_not_found

    # Files in posts (MEDIA_ROOT/uploads) are served only through their permission-checked view.
    urlpatterns += [
        re_path(rf"^{settings.MEDIA_URL.lstrip('/')}uploads/", page_not_found, {"exception": None})
    ]
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
elif settings.STORAGES["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
    # `make run` keeps uploads on local disk: serve the public ones (avatars) only;
    # verification evidence is never public and goes through a moderators' view.
    from django.urls import re_path
    from django.views.static import serve

    def serve_avatar(request, path):
        return serve(request, path, document_root=settings.MEDIA_ROOT)

    urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>avatars/[\w.-]+)$", serve_avatar)]
