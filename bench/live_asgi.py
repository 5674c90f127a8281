"""The project's ASGI application plus a public /bench channel, for bench/live_fanout.py only."""

from config.asgi import application  # noqa: F401  (sets Django up)
from core import live

live.register_channel("/bench", lambda user, channel: True)
