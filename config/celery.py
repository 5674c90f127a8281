"""Celery application. Without REDIS_URL, tasks run eagerly in the calling process."""

import logging
import os

import redis
from celery import Celery, Task
from celery.apps.worker import Worker as CeleryWorker
from kombu.exceptions import OperationalError
from kombu.transport import redis as kombu_redis
from kombu.utils.objects import cached_property

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

logger = logging.getLogger(__name__)


class GuardedTask(Task):
    """A task whose ``delay()`` never fails the request that asked for it.

    Work is queued after commit, when the write it follows has already succeeded; a broker that
    is away (Redis restarting) must not turn that into an error page. Publishing waits at most
    ``task_publish_retry_policy`` (about a second), then ``delay()`` logs and returns None instead
    of an AsyncResult. ``apply_async()`` still raises, for callers that handle the failure
    themselves (they log that the periodic drain will run the work). What must not be lost is
    kept in a table that a drain runs (the email outbox, the forum's notification jobs); a task
    queued with ``delay()`` and no such table is best effort.
    """

    def delay(self, *args, **kwargs):
        if self.app.conf.task_always_eager:
            return super().delay(*args, **kwargs)
        try:
            return super().delay(*args, **kwargs)
        except (OperationalError, RuntimeError):
            # RuntimeError: the Redis result backend could not subscribe to the task's result.
            logger.warning("Could not queue task %s: the broker is unreachable", self.name, exc_info=True)
            return None


def _restore_unacked_unless_gone(restore_unacked):
    """kombu's Redis QoS.restore_unacked, made harmless when the connection is already gone.

    When the broker connection drops while the worker holds an unacknowledged message (a late-ack
    task whose ack failed, a task waiting for its countdown), the consumer closes the channel,
    and closing tries to put those messages back through a connection kombu has just torn down:
    ``AttributeError: 'NoneType' object has no attribute 'hostname'`` escapes, and the worker
    exits with "Unrecoverable error" (reproduced by tests/core/test_redis_outage.py). Here the
    messages stay in Redis's unacked set, which kombu restores by itself after the visibility
    time-out; what must not be lost is in the outbox and job tables anyway.
    """

    def guarded(self, client=None):
        try:
            return restore_unacked(self, client)
        except (AttributeError, redis.ConnectionError, redis.TimeoutError, OSError):
            logger.warning(
                "Broker connection lost with %d unacknowledged message(s); Redis restores them "
                "after the visibility time-out",
                len(self._delivered),
            )
            return None

    return guarded


kombu_redis.QoS.restore_unacked = _restore_unacked_unless_gone(kombu_redis.QoS.restore_unacked)


class Worker(CeleryWorker):
    """``celery -A config worker`` without gossip and mingle, always.

    Both exist for clusters of workers that watch one another (events between workers, revoked
    ids shared at start); this project uses neither. Their restart after a broker outage is
    where workers have failed ("Error on restarting Gossip", kombu issue 582: 'NoneType' object
    has no attribute 'hostname'), so they are left out.
    """

    def __init__(self, *args, **kwargs):
        kwargs.update(without_gossip=True, without_mingle=True)
        super().__init__(*args, **kwargs)


class ForumCelery(Celery):
    @cached_property
    def Worker(self):  # noqa: N802 - Celery's name
        return self.subclass_with_self(Worker)


app = ForumCelery("config", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
