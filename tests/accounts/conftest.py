import pytest


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads (evidence, avatars) land in a throw-away folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
