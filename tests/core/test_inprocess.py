from datetime import timedelta

from core import inprocess


def test_the_in_process_scheduler_runs_due_entries_once_per_interval(settings):
    settings.CELERY_BEAT_SCHEDULE = {
        "echo-every-minute": {"task": "core.echo", "schedule": timedelta(minutes=1), "args": ("tick",)},
    }
    last_run: dict[str, float] = {}
    assert inprocess.run_due(last_run, now=1000.0) == ["echo-every-minute"]
    assert inprocess.run_due(last_run, now=1030.0) == []
    assert inprocess.run_due(last_run, now=1061.0) == ["echo-every-minute"]


def test_the_scheduler_stays_off_when_redis_runs_celery_beat(settings):
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert inprocess.start_if_configured() is False
