import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from config.celery import app as celery_app
from core.tasks import echo

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent


def test_without_a_worker_tasks_run_in_process():
    assert echo.delay("hello").get(timeout=1) == "hello"


@pytest.mark.redis
def test_a_real_worker_consumes_a_task_from_redis(redis_url):
    queue = f"test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
        ],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend)
    celery_app.conf.task_always_eager = False
    celery_app.conf.broker_url = redis_url
    celery_app.conf.result_backend = redis_url
    try:
        token = uuid.uuid4().hex
        result = echo.apply_async(args=[token], queue=queue)
        assert result.get(timeout=60) == token
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.broker_url, celery_app.conf.result_backend = (
            previous
        )
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        if worker.returncode not in (0, -15):
            print(output.decode(errors="replace"))
