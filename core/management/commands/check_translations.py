import shutil
from pathlib import Path

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

IGNORED = [".venv", "node_modules", "var", "bench", "tests", "docs"]


def catalog_problems(locale_dir: Path, languages: list[str]) -> list[str]:
    """Untranslated or fuzzy entries in the Spanish and French catalogs."""
    problems = []
    for language in languages:
        for domain in ("django", "djangojs"):
            po_path = locale_dir / language / "LC_MESSAGES" / f"{domain}.po"
            if not po_path.exists():
                if domain == "django":
                    problems.append(f"{po_path}: missing")
                continue
            catalog = polib.pofile(str(po_path))
            for entry in catalog.untranslated_entries():
                problems.append(f"{po_path}: untranslated {entry.msgid!r}")
            for entry in catalog.fuzzy_entries():
                problems.append(f"{po_path}: fuzzy {entry.msgid!r}")
    return problems


class Command(BaseCommand):
    help = "Refresh the catalogs from the source (when GNU gettext is installed) and fail on any gap."

    def add_arguments(self, parser):
        parser.add_argument("--no-extract", action="store_true", help="Only check the catalogs as they are.")

    def handle(self, *args, no_extract=False, **options):
        languages = [code for code, _name in settings.LANGUAGES if code != "en"]
        if not no_extract:
            if shutil.which("xgettext") is None:
                raise CommandError(
                    "GNU gettext is not installed; use --no-extract to check the catalogs only."
                )
            call_command(
                "makemessages", locale=languages, ignore_patterns=IGNORED, no_obsolete=True, verbosity=0
            )
        problems = catalog_problems(Path(settings.LOCALE_PATHS[0]), languages)
        if problems:
            raise CommandError("Translation catalogs are incomplete:\n" + "\n".join(problems))
        self.stdout.write("Spanish and French catalogs are complete.")
