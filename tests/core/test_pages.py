from pathlib import Path

import pytest
from django.conf import settings

from core.management.commands.check_translations import catalog_problems


@pytest.mark.django_db
def test_home_page_has_landmarks_skip_link_and_language_switcher(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert 'role="search"' in html
    assert 'name="language"' in html
    assert "/static/vendor/htmx/htmx.min.js" in html


@pytest.mark.django_db
def test_switching_to_spanish_translates_the_page(client):
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/"}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Saltar al contenido" in html


@pytest.mark.django_db
def test_french_from_the_browser_language(client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html
    assert "Aller au contenu" in html


def test_spanish_and_french_catalogs_are_complete():
    assert catalog_problems(Path(settings.LOCALE_PATHS[0]), ["es", "fr"]) == []
