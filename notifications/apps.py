from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # Registers the tasks in every process (the in-process scheduler looks them up by name).
        from . import tasks  # noqa: F401
