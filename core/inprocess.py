"""Periodic work without Celery beat.

With no REDIS_URL (``make run``), a daemon thread in the web process runs the
same schedule that Celery beat runs in production, so scheduled topics open
and reminders go out with no other service running.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections

logger = logging.getLogger(__name__)
_started = threading.Event()
_tasks_loaded = threading.Event()


def _interval_seconds(schedule) -> float:
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    if isinstance(schedule, int | float):
        return float(schedule)
    # celery.schedules.schedule and friends expose run_every.
    return schedule.run_every.total_seconds()


def load_tasks() -> None:
    """Import every app's tasks.py once. Celery discovers them lazily (a worker does it as it
    starts); the web process must too, or a task no request has imported yet is "not registered"."""
    if _tasks_loaded.is_set():
        return
    from config.celery import app

    app.loader.import_default_modules()
    _tasks_loaded.set()


def run_due(last_run: dict[str, float], now: float) -> list[str]:
    """Run every entry of CELERY_BEAT_SCHEDULE whose interval has passed; return their names."""
    from config.celery import app

    load_tasks()
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        if now - last_run.get(name, float("-inf")) < _interval_seconds(entry["schedule"]):
            continue
        last_run[name] = now
        try:
            app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {}))
        except Exception:
            logger.exception("Periodic task %s failed", name)
        ran.append(name)
    return ran


def _loop() -> None:
    last_run: dict[str, float] = {}
    while True:
        run_due(last_run, time.monotonic())
        close_old_connections()
        time.sleep(1)


def start_if_configured() -> bool:
    """Start the scheduler thread once, unless Redis (and so Celery beat) is in use."""
    if settings.REDIS_URL or not getattr(settings, "INPROCESS_BEAT", True) or _started.is_set():
        return False
    _started.set()
    threading.Thread(target=_loop, name="inprocess-beat", daemon=True).start()
    logger.info("Running periodic tasks in-process (no REDIS_URL).")
    return True
