"""Files for the upload tests: real images (with EXIF and GPS), a PDF, a Windows program."""

import io

from PIL import Image

GPS_IFD = 0x8825


def jpeg_with_gps(width: int = 1600, height: int = 1200, colour=(200, 40, 40)) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Pocket 12"  # Model
    exif[GPS_IFD] = {1: "N", 2: (43.0, 39.0, 11.0), 3: "W", 4: (79.0, 23.0, 2.0)}
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def png(width: int = 120, height: int = 80) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), (0, 128, 255, 200)).save(out, format="PNG")
    return out.getvalue()


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>"
    b"endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
# The start of a Windows program (MZ header, PE signature): what a renamed .exe looks like.
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 44
    + b"\x80\x00\x00\x00"
    + (b"\x00" * 64 + b"PE\x00\x00" + b"\x00" * 400)
)
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


import pytest  # noqa: E402


@pytest.fixture
def upload_storage(settings, tmp_path):
    """Uploads go to a folder of the test's own (the "uploads" storage on local disk)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "uploads": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "uploads"), "base_url": None},
        },
    }
    return tmp_path / "uploads"
