from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self):
        from core import live
        from notifications import hooks

        from . import emails, linked

        live.register_channel("/event", _may_follow_event)
        hooks.register_job_handler("events.email", emails.email_job)
        hooks.register_job_handler("events.notify", linked.notify_job)


def _may_follow_event(user, channel: str) -> bool:
    """``/event/<id>``: whoever may see the event page may follow its live state."""
    from .models import Event
    from .permissions import can_view

    _prefix, _name, event_id = channel.partition("/event/")
    if not event_id.isdigit():
        return False
    event = Event.objects.filter(pk=int(event_id)).first()
    return event is not None and can_view(user, event)
