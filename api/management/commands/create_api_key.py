"""python manage.py create_api_key <username> [--read-only] [--all-users] [--description TEXT]

Prints the new key as the last line of its output, so scripts can take it with `tail -n 1`.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from api import services


class Command(BaseCommand):
    help = "Create an API key acting as a user; the key is printed once, as the last line."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--read-only", action="store_true", help="The key can read but not write.")
        parser.add_argument(
            "--all-users",
            action="store_true",
            help="The key acts as any user named in Api-Username (the user must be staff).",
        )
        parser.add_argument("--description", default="", help="What the key is for.")

    def handle(self, *args, username, read_only, all_users, description, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user has the username {username!r}.")
        try:
            key, raw_key = services.create_api_key(
                None,
                user,
                description=description or "created with create_api_key",
                read_only=read_only,
                all_users=all_users,
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        scope = "read-only" if key.read_only else "read-write"
        acts_as = "any user named in Api-Username" if key.all_users else user.username
        self.stdout.write(f"API key #{key.pk} ({scope}) acting as {acts_as}. It is shown once; keep it safe:")
        self.stdout.write(raw_key)
