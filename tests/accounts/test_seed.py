import json
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import Organisation, OrganisationDomain, User, VerificationEvent
from accounts.seed import ORGANISATIONS

pytestmark = pytest.mark.django_db

QUESTIONS = Path("/work/shared/content/questions.json")


def test_seed_creates_organisations_domains_and_officials_once(capsys):
    call_command("seed_metropolis")
    counts = (Organisation.objects.count(), User.objects.count(), VerificationEvent.objects.count())
    call_command("seed_metropolis")
    assert (Organisation.objects.count(), User.objects.count(), VerificationEvent.objects.count()) == counts

    for domain, name in [
        ("toronto.example", "Toronto"),
        ("harare.example", "Harare"),
        ("barcelona.example", "Barcelona City Council"),
    ]:
        assert OrganisationDomain.objects.get(domain=domain).organisation.name == name
    harare = User.objects.get(username="harare_ict")
    assert harare.is_verified_official
    assert (harare.position, harare.organisation.display_name) == ("Head of ICT Division", "Harare")
    output = capsys.readouterr().out
    assert "harare_ict@harare.example / metropolis-official" in output
    assert "moderator@metropolis.example" in output


@pytest.mark.skipif(not QUESTIONS.exists(), reason="shared content not present")
def test_every_organisation_named_in_the_questions_is_seeded():
    named = json.loads(QUESTIONS.read_text())["organisations_named_in_seeds"]
    assert sorted(named) == sorted(row[1] for row in ORGANISATIONS)
