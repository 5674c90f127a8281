"""Deployment settings. Refuse to start without a real SECRET_KEY and ALLOWED_HOSTS."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REDIS_URL, env

DEBUG = False

SECRET_KEY = env("SECRET_KEY", default="")
if len(SECRET_KEY) < 50 or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS to the host names this site answers to.")

if not REDIS_URL:
    # Several web processes must share sessions and rate-limit counters.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    }

# Nothing in production waits on a task's result: none is stored, and enqueueing a task does not
# subscribe to one (a Redis round trip, and a retry loop while Redis is away).
CELERY_TASK_IGNORE_RESULT = True

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True

STORAGES = {
    **STORAGES,  # noqa: F405 - "uploads" (local disk or S3) comes from base.py
    "default": {
        "BACKEND": env("DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage")
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Time-critical work on a queue of its own, so a burst of reply fan-outs (each notifying a
# topic's watchers, 20 s for 2,000 of them) never holds back a go-live, its "Live now" email or
# a sign-in mail. A worker started without -Q consumes both queues; docker-compose.yml adds a
# worker for the urgent queue alone (measured in bench/launch.py: before this, the "Live now"
# job waited behind fan-outs and went out 5 minutes late).
CELERY_URGENT_QUEUE = env("CELERY_URGENT_QUEUE", default="urgent")
CELERY_TASK_QUEUES = {CELERY_TASK_DEFAULT_QUEUE: {}, CELERY_URGENT_QUEUE: {}}  # noqa: F405
CELERY_TASK_ROUTES = {
    name: {"queue": CELERY_URGENT_QUEUE}
    for name in (
        "events.run_schedule",
        "events.send_due_reminders",
        "events.send_event_email",
        "events.notify_people",
        "notifications.send_messages",
        "notifications.run_job",
        "notifications.drain_outbox",
        "accounts.send_email",
    )
}
