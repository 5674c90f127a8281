"""Seed the Metropolis demo: accounts, organisations, the questions and the launch webinar.

Idempotent: a second run changes nothing. Each app seeds its own part; this
command lives in events, the app that may import the others.

The launch questions open at the launch webinar's start:
- without --starts-in, a first run opens them at once (so `make run` shows a live
  forum) and later runs leave them as they are;
- --starts-in MINUTES schedules them MINUTES from now (0 opens them now), also on
  later runs, which is how to rehearse a launch.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import seed as accounts_seed
from events import seed as events_seed
from forum import seed as forum_seed
from groups import seed as groups_seed

DEMO_PASSWORD_HINT = "Demo log-ins (change them before any real use):"


class Command(BaseCommand):
    help = "Create the Metropolis demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--starts-in",
            type=int,
            default=None,
            metavar="MINUTES",
            help="Start the launch webinar this many minutes from now (0 opens the questions at once). "
            "Without it, the questions are open from the first run on.",
        )

    def handle(self, *args, starts_in=None, **options):
        logins = accounts_seed.seed_accounts()
        groups_seed.seed_groups()  # the working groups, with the demo officials
        opens_at = timezone.now() + timedelta(minutes=starts_in) if starts_in is not None else None
        topics = forum_seed.seed_forum(opens_at=opens_at, reschedule=starts_in is not None)
        events = events_seed.seed_events(topics, starts_at=opens_at)
        self.stdout.write(DEMO_PASSWORD_HINT)
        for email, password, role in logins:
            self.stdout.write(f"  {role:<10} {email} / {password}")
        for topic in topics:
            topic.refresh_from_db()
            when = topic.opens_at if topic.is_scheduled_now() else None
            state = f"opens {when:%Y-%m-%d %H:%M} UTC" if when else "open"
            self.stdout.write(f"Question ({state}): {topic.get_absolute_url()}")
        for event in events:
            start = event.starts_at.astimezone(event.zone)
            self.stdout.write(f"Event ({start:%Y-%m-%d %H:%M} {event.time_zone}): {event.get_absolute_url()}")
