import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

from core import inprocess  # noqa: E402  (needs the apps loaded above)

inprocess.start_if_configured()
