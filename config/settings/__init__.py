"""Development settings, the default: everything works with nothing else running."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DEBUG", default=True)
