"""Settings shared by development and production, read from the environment.

Every value has a default that needs no other service: SQLite in the project
folder, no Redis (tasks run in-process, caches in memory), console email.
"""

import os
import tempfile
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdefghijklmnop")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_htmx",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "core",
    "notifications",
    "accounts",
    "groups",
    "forum",
    "events",
    "api",
]

MIDDLEWARE = [
    # First: a database that is down or a pool that is exhausted answers 503 with Retry-After.
    "core.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # The Content-Security-Policy on every response (core/csp.py, CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # A path or query string with NUL or other control characters: 400 (in the reader's language)
    # before any query.
    "core.middleware.BadInputMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The page cache's versions read once per request (core/page_cache.py).
    "core.page_cache.RequestVersionsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.AdminRequiresMFAMiddleware",
    "accounts.middleware.VerificationNoticeMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last: Api-Key / Api-Username headers act as the key's person on API endpoints (api/middleware.py).
    "api.middleware.ApiKeyMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
                "events.context_processors.live_now",
                "notifications.context_processors.unread",
                "forum.context_processors.unread_messages",
            ],
        },
    },
]

# Database: DATABASE_URL, else a SQLite file in the project folder.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the ASGI server's threads read while one writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    # The test database is a file too: an in-memory one is shared between the live servers'
    # threads in shared-cache mode, where a concurrent write fails at once ("table is locked")
    # instead of waiting for the busy timeout.
    DATABASES["default"].setdefault("TEST", {}).setdefault(
        "NAME", os.path.join(tempfile.gettempdir(), f"mplf-test-{os.getpid()}.sqlite3")
    )
else:
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Django's psycopg pool, one per process: a process never holds more than DB_POOL_MAX_SIZE
    # connections, however many threads serve requests (see docs/scaling.md for the budget).
    # A request that finds the pool busy waits DB_POOL_TIMEOUT seconds, then answers 503.
    # DB_POOL_MAX_SIZE=0 turns the pool off (behind PgBouncer) and keeps connections CONN_MAX_AGE s.
    DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=8)
    if DB_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool requires it
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(env.int("DB_POOL_MIN_SIZE", default=1), DB_POOL_MAX_SIZE),
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env.float("DB_POOL_TIMEOUT", default=10),
            # After an outage, retry connecting with a backoff that stays short, so the pool
            # finds the database again within seconds of its return.
            "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=15),
        }
    else:
        DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    # Behind PgBouncer in transaction mode a named cursor cannot outlive its transaction.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DB_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the Celery broker, the cache (sessions, rate-limit counters) and the
# live-update streams. Absent, everything runs in this process.
REDIS_URL = env("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache with a circuit breaker: Redis away is a miss, never a 500, and
            # counters (rate limits) go on per process; see core/cache.py and docs/live.md.
            "BACKEND": "core.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="mplf"),
            "OPTIONS": {
                "socket_connect_timeout": env.float("CACHE_CONNECT_TIMEOUT", default=0.5),
                "socket_timeout": env.float("CACHE_SOCKET_TIMEOUT", default=1.0),
                "health_check_interval": 30,
                "BREAKER_SECONDS": env.float("CACHE_BREAKER_SECONDS", default=5.0),
                "FALLBACK_MAX_TIMEOUT": env.int("CACHE_FALLBACK_MAX_TIMEOUT", default=60),
            },
        }
    }
else:
    # Room for the pages and the post and row fragments (forum/fragments.py): at Django's default
    # of 300 entries, culling would drop the versions and counters they are filed under.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# Whole pages kept in the cache (core/page_cache.py): anonymous readers share one copy per
# language; with this on, each signed-in reader also has their own copy of the lists and topic
# pages, dropped by anything they do or anything done to them, and at most 60 s old.
PAGE_CACHE_SIGNED_IN = env.bool("PAGE_CACHE_SIGNED_IN", default=True)

# Live updates (core.live): one Redis stream per channel, capped; see docs/live.md.
LIVE_STREAM_MAXLEN = env.int("LIVE_STREAM_MAXLEN", default=1000)
LIVE_STREAM_TTL = env.int("LIVE_STREAM_TTL", default=7 * 24 * 3600)
LIVE_KEY_PREFIX = env("LIVE_KEY_PREFIX", default="live:")
LIVE_HEARTBEAT_SECONDS = env.float("LIVE_HEARTBEAT_SECONDS", default=15)
LIVE_MAX_CONNECTION_SECONDS = env.float("LIVE_MAX_CONNECTION_SECONDS", default=1800)
LIVE_RETRY_MS = env.int("LIVE_RETRY_MS", default=3000)
LIVE_POLL_INTERVAL_MS = env.int("LIVE_POLL_INTERVAL_MS", default=10000)
# Caps on open streams, per web process (docs/live.md): beyond them the stream answers 429 (one
# address) or 503 (the process) with Retry-After, and the page polls. A city hall's whole
# delegation can sit behind one address, so the per-address cap is high.
LIVE_MAX_STREAMS_PER_IP = env.int("LIVE_MAX_STREAMS_PER_IP", default=1000)
LIVE_MAX_STREAMS_PER_PROCESS = env.int("LIVE_MAX_STREAMS_PER_PROCESS", default=4000)
LIVE_STREAM_RETRY_AFTER_SECONDS = env.int("LIVE_STREAM_RETRY_AFTER_SECONDS", default=60)
# After a Redis connection failure, live calls fail at once for this long (no time-out each).
LIVE_BREAKER_SECONDS = env.float("LIVE_BREAKER_SECONDS", default=5)

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
# Where tasks go unless routed (a test worker listens on a queue of its own).
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A broker outage (Redis restarted, failed over) is ridden out, never fatal: the worker and beat
# reconnect with back-off for as long as it takes and go on without a restart (docs/live.md).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BROKER_CHANNEL_ERROR_RETRY = True
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
    "socket_keepalive": True,
    # Pings idle connections, so a connection that died silently is noticed and replaced.
    "health_check_interval": 10,
}
# Enqueueing from a request (after commit) waits at most ~1 s for a broker that is away, then
# raises; every caller keeps its work in a table that a periodic drain runs (see
# core.tasks.GuardedTask for the callers that do not catch).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.25,
    "interval_max": 0.5,
}
# Results: only tests wait on them (production.py ignores them). The web process subscribes to
# a task's result as it enqueues it; with Redis away that retried 20 times, a second apart.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.25, "interval_max": 0.5}
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 10
CELERY_REDIS_BACKEND_HEALTH_CHECK_INTERVAL = 10
# With late acknowledgement, a task running when the connection drops is cancelled and
# redelivered (it could not be acknowledged anyway); every task here is safe to run twice.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TIMEZONE = "UTC"
# Periodic work. With Redis, Celery beat runs it; without, core.inprocess does.
CELERY_BEAT_SCHEDULE: dict = {
    # Events go live at their start and end at their end with no click; a stamp makes reruns no-ops.
    "events-schedule": {"task": "events.run_schedule", "schedule": 5.0},
    "events-reminders": {"task": "events.send_due_reminders", "schedule": 60.0},
    "accounts-expire-verifications": {
        "task": "accounts.expire_verifications",
        "schedule": 60 * 60,
    },
    # Keeps every outbox promise whose task was lost (broker down during the write, worker crash):
    # fan-out jobs, ready messages (urgent first), notification emails. See docs/live.md.
    "notifications-drain-outbox": {"task": "notifications.drain_outbox", "schedule": 60.0},
    # Runs the forum's notification jobs whose task was lost (a post saved while Redis was down).
    "forum-drain-notification-jobs": {"task": "forum.drain_notification_jobs", "schedule": 60.0},
    # Topic views are counted in Redis (or the process) on each GET and written here in one batch.
    "forum-flush-view-counts": {"task": "forum.flush_view_counts", "schedule": 30.0},
    # Uploads no post references for a day are removed (forum/uploads.py).
    "forum-delete-unreferenced-uploads": {"task": "forum.delete_unreferenced_uploads", "schedule": 60 * 60},
}

# Email: EMAIL_URL (smtp://user:pass@host:587/?tls=True), else EMAIL_BACKEND.
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
    EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Metropolis Peer Learning Forum <forum@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Argon2id first (accounts/hashers.py: a sign-in costs ~33 ms of CPU instead of PBKDF2's ~250);
# the others still read passwords kept before, and those are kept anew at their next sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"

# django-allauth: email log-in, mandatory confirmation, no enumeration.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"  # suspended people cannot sign in
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Metropolis] "
ACCOUNT_USERNAME_MIN_LENGTH = 3
# One address per account: changing it replaces the old one once the new one is
# confirmed, and re-runs verification (accounts.signals).
ACCOUNT_CHANGE_EMAIL = True
# A whole city hall signs up and signs in from one address at a webinar's start: per-IP limits
# stop only a flood, and guessing is stopped per account ("key": the email typed in).
# Figures and reasons in docs/accounts.md.
ACCOUNT_RATE_LIMITS = {
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "reset_password": "60/m/ip,5/m/key",
    "reauthenticate": "10/m/user",
    "reset_password_from_key": "60/m/ip",
    "signup": "100/m/ip,600/h/ip",
    "login": "200/m/ip",
    "login_failed": "60/m/ip,5/5m/key",
    "confirm_email": "1/3m/key",
}
# A fresh sign-in, or the "Confirm access" form, spares the password for this long before a
# sensitive change (enrolling a second factor, changing the email); accounts.adapter.post_login.
ACCOUNT_REAUTHENTICATION_TIMEOUT = env.int("ACCOUNT_REAUTHENTICATION_TIMEOUT", default=15 * 60)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Metropolis Peer Learning Forum"

# Verification of officials (accounts/services.py). Days a verification lasts, by
# route (0: never expires), and how long before it lapses the person is prompted.
VERIFICATION_VALID_DAYS = {
    "email_domain": env.int("VERIFICATION_EMAIL_DOMAIN_DAYS", default=365),
    "roster": env.int("VERIFICATION_ROSTER_DAYS", default=365),
    "review": env.int("VERIFICATION_REVIEW_DAYS", default=730),
    # Vouched for by a moderator like a roster entry, so it lasts as long.
    "invitation": env.int(
        "VERIFICATION_INVITATION_DAYS", default=env.int("VERIFICATION_ROSTER_DAYS", default=365)
    ),
}
VERIFICATION_REMINDER_DAYS = env.int("VERIFICATION_REMINDER_DAYS", default=30)
# Invitations (accounts/invitations.py): how long a link works, and how many one person may
# send in 24 hours (a webinar's attendee list is a few hundred).
INVITATION_VALID_DAYS = env.int("INVITATION_VALID_DAYS", default=14)
INVITATIONS_PER_DAY = env.int("INVITATIONS_PER_DAY", default=500)
VERIFICATION_EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
AVATAR_MAX_BYTES = 2 * 1024 * 1024

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Front-end libraries from the npm registry, installed by `make` (never committed).
    ("vendor/htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Files and images in posts (forum/uploads.py, docs/forum.md) ------------------------------
# Local disk under MEDIA_ROOT/uploads by default; any S3-compatible store (AWS, MinIO) with
# STORAGE_URL=s3://<bucket>?endpoint_url=http://minio:9000&region_name=... plus AWS_ACCESS_KEY_ID
# and AWS_SECRET_ACCESS_KEY (or AWS_STORAGE_BUCKET_NAME and the other AWS_* settings). Files are
# never public: pages link to a permission-checked view at a stable address (/uploads/...).
_storage_url = env("STORAGE_URL", default="")
_s3_bucket = env("AWS_STORAGE_BUCKET_NAME", default="")
if _storage_url.startswith("s3://") or _s3_bucket:
    from urllib.parse import parse_qsl, urlsplit

    _parts = urlsplit(_storage_url) if _storage_url else None
    _query = dict(parse_qsl(_parts.query)) if _parts else {}
    STORAGES["uploads"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": (_parts.netloc if _parts else "") or _s3_bucket,
            "location": (_parts.path.strip("/") if _parts else "") or env("AWS_LOCATION", default=""),
            "endpoint_url": _query.get("endpoint_url") or env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": _query.get("region_name") or env("AWS_S3_REGION_NAME", default=None),
            "access_key": env("AWS_ACCESS_KEY_ID", default=None),
            "secret_key": env("AWS_SECRET_ACCESS_KEY", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "signature_version": "s3v4",
            # Names are content hashes: the same name is the same bytes.
            "file_overwrite": True,
        },
    }
else:
    STORAGES["uploads"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.path.join(MEDIA_ROOT, "uploads"), "base_url": None},
    }
# Who may upload: officials and moderators who may post. Limits per file and per person a day.
UPLOADS_MAX_FILE_MB = env.float("UPLOADS_MAX_FILE_MB", default=20)
UPLOADS_DAILY_QUOTA_MB = env.float("UPLOADS_DAILY_QUOTA_MB", default=200)
UPLOADS_MAX_FILES_PER_REQUEST = env.int("UPLOADS_MAX_FILES_PER_REQUEST", default=10)
# Kinds accepted, by the extension their content shows (SVG is never accepted).
UPLOADS_ALLOWED_TYPES = env.list(
    "UPLOADS_ALLOWED_TYPES",
    default=[
        "jpg",
        "png",
        "webp",
        "gif",
        "pdf",
        "docx",
        "xlsx",
        "pptx",
        "odt",
        "ods",
        "odp",
        "doc",
        "xls",
        "ppt",
        "csv",
        "txt",
    ],
)
# Images larger than this (either side, in pixels) are scaled down; above the pixel count refused.
UPLOADS_IMAGE_MAX_SIDE = env.int("UPLOADS_IMAGE_MAX_SIDE", default=4096)
UPLOADS_IMAGE_MAX_PIXELS = env.int("UPLOADS_IMAGE_MAX_PIXELS", default=60_000_000)
# The size pages show images at (Discourse's 690x500): a thumbnail is made when larger.
UPLOADS_THUMBNAIL_WIDTH = env.int("UPLOADS_THUMBNAIL_WIDTH", default=690)
UPLOADS_THUMBNAIL_HEIGHT = env.int("UPLOADS_THUMBNAIL_HEIGHT", default=500)
# A file no post references is removed after this many hours (forum.delete_unreferenced_uploads).
UPLOADS_UNREFERENCED_HOURS = env.int("UPLOADS_UNREFERENCED_HOURS", default=24)
# With S3: answer a permitted download with a redirect to a 5-minute signed URL of the store
# instead of streaming the file through the web process.
UPLOADS_REDIRECT_TO_STORAGE = env.bool("UPLOADS_REDIRECT_TO_STORAGE", default=False)
# Behind nginx with local files: the internal location that serves MEDIA_ROOT/uploads
# (X-Accel-Redirect), e.g. /protected-uploads/; empty: the web process streams the file.
UPLOADS_X_ACCEL_REDIRECT = env("UPLOADS_X_ACCEL_REDIRECT", default="")
# --- end of files and images ------------------------------------------------------------------

# A form posted after its token expired gets the site's 403 page with what to do (core/errors.py).
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp, core/csp.py): this site's own files only, nothing inline
# (no inline script, style element or style attribute), no frames but the live event page's
# stream player (events/views.py), and no one may frame these pages. Avatars may come from the
# media storage's address (CSP_MEDIA_ORIGINS, e.g. an S3 bucket). CSP_REPORT_ONLY=true sends the policy
# as Content-Security-Policy-Report-Only (violations reported, nothing blocked), CSP_REPORT_URI
# says where browsers report.
_csp_media = env.list("CSP_MEDIA_ORIGINS", default=[])
_csp_policy = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *_csp_media],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", *_csp_media],
        "frame-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        **({"report-uri": [env("CSP_REPORT_URI")]} if env("CSP_REPORT_URI", default="") else {}),
    }
}
if env.bool("CSP_REPORT_ONLY", default=False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = _csp_policy
else:
    CONTENT_SECURITY_POLICY = _csp_policy

SITE_NAME = _("Metropolis Peer Learning Forum")
# Absolute address of the site, for links in emails sent from background tasks.
SITE_URL = env("SITE_URL", default="") or "http://127.0.0.1:8000"

# Notifications: emails wait a little (the person may read the post in the site meanwhile).
NOTIFICATION_EMAIL_DELAY_SECONDS = env.float("NOTIFICATION_EMAIL_DELAY_SECONDS", default=300)
# Polls in posts (docs/polls.md): verified officials and moderators vote; members too when true.
POLLS_MEMBERS_MAY_VOTE = env.bool("POLLS_MEMBERS_MAY_VOTE", default=False)
NOTIFICATION_DIGEST_HOUR = env.int("NOTIFICATION_DIGEST_HOUR", default=7)
# Requests a minute per API key (Discourse's default for admin keys is 60).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
