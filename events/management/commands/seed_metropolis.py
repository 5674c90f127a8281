"""Seed the Metropolis demo: accounts, organisations, the questions and the launch webinar.

Idempotent: a second run changes nothing. Each app seeds its own part; this
command lives in events, the app that may import the others.
"""

from django.core.management.base import BaseCommand

from accounts import seed as accounts_seed

DEMO_PASSWORD_HINT = "Demo log-ins (change them before any real use):"


class Command(BaseCommand):
    help = "Create the Metropolis demo data (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--starts-in",
            type=int,
            default=None,
            metavar="MINUTES",
            help="Start the launch webinar this many minutes from now (0 opens the questions at once).",
        )

    def handle(self, *args, starts_in=None, **options):
        logins = accounts_seed.seed_accounts()
        self.stdout.write(DEMO_PASSWORD_HINT)
        for email, password, role in logins:
            self.stdout.write(f"  {role:<10} {email} / {password}")
