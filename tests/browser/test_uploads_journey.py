"""Files and images in a reply (issue 16's "done when"): an official drags a PDF and pastes a photo
into a reply; both upload with progress; the post shows the thumbnail (lazy, no EXIF left) and the
PDF with its size; a colleague downloads both; an anonymous reader of the verified-only category
gets 404; a 30 MB file and an .exe renamed .pdf are refused with the typed text kept."""

import base64
import re
from io import BytesIO

import pytest
from PIL import Image

from forum.models import Post, ReadAccess, Upload
from tests.browser_fixtures import audit, sign_in
from tests.factories import CategoryFactory, OfficialFactory, TopicFactory
from tests.forum.uploads_helpers import EXE, PDF, jpeg_with_gps, upload_storage  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("upload_storage"),
]

TEXT = "Harare's strategy, and the community wifi point in Mbare. "

MAKE_TRANSFER = """([name, type, b64, size]) => {
    const transfer = new DataTransfer();
    const bytes = b64 ? Uint8Array.from(atob(b64), c => c.charCodeAt(0)) : new Uint8Array(size);
    transfer.items.add(new File([bytes], name, {type}));
    return transfer;
}"""
PASTE = """([textarea, transfer]) => {
    textarea.focus();
    const init = {clipboardData: transfer, bubbles: true, cancelable: true};
    textarea.dispatchEvent(new ClipboardEvent("paste", init));
}"""


def transfer(page, name: str, mime: str, data: bytes | None = None, size: int = 0):
    b64 = base64.b64encode(data).decode() if data is not None else ""
    return page.evaluate_handle(MAKE_TRANSFER, [name, mime, b64, size])


def drop(page, name, mime, data=None, size=0):
    handle = transfer(page, name, mime, data, size)
    page.locator("#composer-raw").dispatch_event("drop", {"dataTransfer": handle})


def test_an_official_posts_a_pdf_and_a_photo_that_only_readers_of_the_category_get(
    page, live_server, browser
):
    category = CategoryFactory(read_access=ReadAccess.VERIFIED, slug="verified-only")
    topic = TopicFactory(category=category, title="Community wifi points that reach everyone")
    official = OfficialFactory()
    sign_in(page, live_server.url, official)
    page.goto(topic.get_absolute_url())
    composer = page.locator("#composer-raw")
    composer.fill(TEXT)

    drop(page, "strategy.pdf", "application/pdf", PDF)
    photo = transfer(page, "image.png", "image/jpeg", jpeg_with_gps(1600, 1200))
    page.evaluate(PASTE, [composer.element_handle(), photo])
    items = page.locator("[data-upload-list] li")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-upload-list] li')]"
        ".filter(li => li.textContent.includes('Uploaded and added')).length === 2"
    )
    assert items.count() == 2
    assert page.locator("[data-upload-list] progress").evaluate_all("bars => bars.map(b => b.value)") == [
        100,
        100,
    ]
    raw = composer.input_value()
    assert raw.startswith(TEXT.strip())
    assert re.search(r"\[strategy\.pdf\|attachment\]\(upload://\w+\.pdf\) \(\d+ B\)", raw)
    assert re.search(r"!\[image\.jpg\|667x500\]\(upload://\w+\.jpg\)", raw)
    audit(page)

    # Refused, with the text as it was: a program renamed .pdf, and 30 MB (refused before sending).
    drop(page, "tool.pdf", "application/pdf", EXE)
    drop(page, "big.pdf", "application/pdf", size=30 * 1024 * 1024)
    errors = page.locator("[data-upload-list] .upload-error")
    errors.nth(1).wait_for()
    messages = errors.all_inner_texts()
    assert any("tool.pdf was not uploaded: its content is a .exe file" in text for text in messages)
    assert any("big.pdf was not uploaded: files may be at most 20 MB." in text for text in messages)
    assert composer.input_value() == raw
    audit(page)

    page.get_by_role("button", name="Post reply").click()
    page.wait_for_url(re.compile(rf"/t/{topic.slug}/{topic.pk}/2"))
    post = Post.objects.get(topic=topic, number=2)
    pdf, image = Upload.objects.get(extension="pdf"), Upload.objects.get(extension="jpg")
    body = page.locator("#post-2 .post-body")
    thumbnail = body.locator("a.lightbox img")
    assert thumbnail.get_attribute("loading") == "lazy"
    assert (thumbnail.get_attribute("width"), thumbnail.get_attribute("height")) == ("667", "500")
    assert thumbnail.get_attribute("src") == f"/uploads/optimized/{image.sha1}.jpg"
    thumbnail.evaluate("img => img.complete && img.naturalWidth > 0 || new Promise(r => img.onload = r)")
    assert body.locator("a.attachment").inner_text() == "strategy.pdf"
    assert f"strategy.pdf ({len(PDF)} B)" in body.inner_text()
    assert post.raw.startswith(TEXT.strip())

    # The lightbox: the full image over the page, closed with Escape.
    thumbnail.click()
    dialog = page.locator("dialog.lightbox-dialog")
    dialog.wait_for()
    assert dialog.locator("img").get_attribute("src").endswith(f"/uploads/original/{image.sha1}.jpg")
    audit(page)
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # The file served has no EXIF and no GPS.
    served = page.request.get(f"/uploads/original/{image.sha1}.jpg")
    assert served.status == 200
    assert not Image.open(BytesIO(served.body())).getexif()

    # A colleague downloads both; an anonymous reader gets 404 for the same addresses.
    colleague = browser.new_context(base_url=live_server.url)
    sign_in(colleague.new_page(), live_server.url, OfficialFactory())
    anonymous = browser.new_context(base_url=live_server.url)
    for address in (f"/uploads/original/{image.sha1}.jpg", f"/uploads/original/{pdf.sha1}.pdf"):
        got = colleague.request.get(address)
        assert got.status == 200
        assert anonymous.request.get(address).status == 404
    download = colleague.request.get(f"/uploads/original/{pdf.sha1}.pdf")
    assert download.body() == PDF
    assert download.headers["content-disposition"] == 'attachment; filename="strategy.pdf"'
    colleague.close()
    anonymous.close()
