from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing: health check, page shell, in-process background work."""

    name = "core"
