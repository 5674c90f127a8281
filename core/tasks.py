from celery import shared_task


@shared_task(name="core.echo")
def echo(value: str) -> str:
    """Return its argument: proves that a worker consumes tasks (used by the health tests)."""
    return value
