"""Files and images in posts (issue 16): upload, processing, rendering, serving, moderation."""

from datetime import timedelta
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from forum import services, uploads
from forum.models import Draft, ModerationLogEntry, PostUpload, ReadAccess, Upload
from tests.conftest import make_user
from tests.factories import CategoryFactory, ModeratorFactory, OfficialFactory, TopicFactory, UserFactory

from .uploads_helpers import EXE, PDF, SVG, jpeg_with_gps, png, upload_storage  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("upload_storage")]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_file(client, name: str, data: bytes, field: str = "file"):
    return client.post("/uploads.json", {field: SimpleUploadedFile(name, data), "type": "composer"})


def stored_bytes(upload: Upload, thumbnail: bool = False) -> bytes:
    with uploads.storage().open(upload.thumbnail_path if thumbnail else upload.path) as handle:
        return handle.read()


# --- POST /uploads.json ---------------------------------------------------------------------------


def test_an_official_uploads_a_photo_and_gets_discourses_answer_without_its_gps():
    official = OfficialFactory()
    response = post_file(signed_in(official), "wifi point.jpeg", jpeg_with_gps(5000, 2500))
    assert response.status_code == 200, response.content
    data = response.json()
    upload = Upload.objects.get(pk=data["id"])
    assert data["short_url"] == f"upload://{uploads.base62_encode(upload.sha1)}.jpg"
    assert data["url"] == f"/uploads/original/{upload.sha1}.jpg"
    assert data["original_filename"] == "wifi point.jpg"
    assert data["extension"] == "jpg"
    # Downscaled to 4096 on its longer side; shown at 690 wide, with a thumbnail of that size.
    assert (data["width"], data["height"]) == (4096, 2048)
    assert (data["thumbnail_width"], data["thumbnail_height"]) == (690, 345)
    assert data["filesize"] == upload.filesize and data["human_filesize"].endswith("KB")
    stored = stored_bytes(upload)
    assert b"PhoneMaker" not in stored and b"Exif" not in stored
    assert not Image.open(BytesIO(stored)).getexif()
    assert Image.open(BytesIO(stored_bytes(upload, thumbnail=True))).size == (690, 345)


def test_a_pdf_is_a_document_recognised_by_its_content_whatever_its_name():
    response = post_file(signed_in(OfficialFactory()), "strategy", PDF)
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["extension"] == "pdf" and data["original_filename"] == "strategy.pdf"
    assert data["width"] is None and data["filesize"] == len(PDF)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("strategy.pdf", EXE, "its content is a .exe file"),
        ("logo.svg", SVG, "SVG images are not accepted"),
        ("notes.txt", SVG, "SVG images are not accepted"),
        ("archive.pdf", b"\x00\x01\x02binary" * 100, "this type of file is not accepted"),
        ("page.html", b"<html><body>hello</body></html>", "this type of file is not accepted"),
    ],
)
def test_a_file_whose_content_is_not_allowed_is_refused_with_a_clear_message(name, data, message):
    response = post_file(signed_in(OfficialFactory()), name, data)
    assert response.status_code == 422
    assert message in response.json()["errors"][0]
    assert name in response.json()["errors"][0]
    assert not Upload.objects.exists()


def test_a_file_above_the_size_limit_is_refused(settings):
    settings.UPLOADS_MAX_FILE_MB = 1
    response = post_file(signed_in(OfficialFactory()), "big.pdf", PDF + b"0" * (2 * 1024 * 1024))
    assert response.status_code == 422
    assert "files may be at most 1 MB" in response.json()["errors"][0]


def test_a_body_far_above_the_limits_is_refused_before_it_is_read(settings):
    settings.UPLOADS_MAX_FILE_MB = 0.1
    settings.UPLOADS_MAX_FILES_PER_REQUEST = 2
    response = post_file(signed_in(OfficialFactory()), "big.pdf", PDF + b"0" * (1500 * 1024))
    assert response.status_code == 413
    assert "a file may be at most" in response.json()["errors"][0]


def test_the_daily_quota_is_counted_per_person(settings):
    settings.UPLOADS_DAILY_QUOTA_MB = 0.01  # about 10 KB
    official = OfficialFactory()
    client = signed_in(official)
    assert post_file(client, "a.pdf", PDF + b"1" * 6000).status_code == 200
    refused = post_file(client, "b.pdf", PDF + b"2" * 6000)
    assert refused.status_code == 422 and "daily limit" in refused.json()["errors"][0]
    # The same content again is the upload already made, not a new one.
    assert post_file(client, "a.pdf", PDF + b"1" * 6000).status_code == 200
    assert post_file(signed_in(OfficialFactory()), "b.pdf", PDF + b"2" * 6000).status_code == 200


@pytest.mark.parametrize("role", ["anonymous", "member", "silenced", "suspended"])
def test_only_people_who_may_post_can_upload(role):
    user = make_user(role)
    client = signed_in(user) if user else Client()
    response = post_file(client, "photo.png", png())
    assert response.status_code == 403
    assert not Upload.objects.exists()


@pytest.mark.parametrize("role", ["verified", "moderator", "staff"])
def test_officials_and_moderators_can_upload(role):
    assert post_file(signed_in(make_user(role)), "photo.png", png()).status_code == 200


def test_several_files_at_once_through_files_brackets():
    client = signed_in(OfficialFactory())
    response = client.post(
        "/uploads.json",
        {"files[]": [SimpleUploadedFile("a.png", png(10, 10)), SimpleUploadedFile("b.pdf", PDF)]},
    )
    assert response.status_code == 200
    data = response.json()
    assert [item["extension"] for item in data["uploads"]] == ["png", "pdf"]
    assert data["id"] == data["uploads"][0]["id"]


# --- Markdown and serving -------------------------------------------------------------------------


def make_uploads(author):
    photo = uploads.create_upload(author, SimpleUploadedFile("wifi.jpg", jpeg_with_gps(1380, 1000)))
    report = uploads.create_upload(author, SimpleUploadedFile("strategy.pdf", PDF))
    return photo, report


def body_with(photo, report) -> str:
    return f"Our wifi point:\n\n{uploads.markdown_for(photo)}\n\nThe plan: {uploads.markdown_for(report)}"


def test_a_post_shows_the_image_and_the_attachment_at_their_real_addresses():
    author = OfficialFactory()
    photo, report = make_uploads(author)
    raw = body_with(photo, report)
    assert "upload://" in raw
    topic = TopicFactory(author=author, raw=raw)
    cooked = topic.posts.get(number=1).cooked
    assert (
        f'<a class="lightbox" href="/uploads/original/{photo.sha1}.jpg" rel="nofollow ugc">'
        f'<img src="/uploads/optimized/{photo.sha1}.jpg" alt="wifi.jpg" width="690" height="500" '
        'loading="lazy">' in cooked
    )
    assert (
        f'href="/uploads/original/{report.sha1}.pdf" class="attachment" rel="nofollow ugc">strategy.pdf</a>'
        in cooked
    )
    assert cooked.count(f"({uploads.human_filesize(report.filesize)})") == 1
    assert "upload://" not in cooked
    post = topic.posts.get(number=1)
    assert set(PostUpload.objects.filter(post=post).values_list("upload_id", flat=True)) == {
        photo.pk,
        report.pk,
    }


def test_an_attachment_written_without_its_size_gets_it():
    author = OfficialFactory()
    _photo, report = make_uploads(author)
    topic = TopicFactory(author=author, raw=f"See [the plan|attachment]({uploads.short_url(report)})")
    cooked = topic.posts.get(number=1).cooked
    assert f'">the plan</a> ({uploads.human_filesize(report.filesize)})' in cooked


def restricted_topic(author, raw):
    category = CategoryFactory(read_access=ReadAccess.VERIFIED)
    return TopicFactory(author=author, category=category, raw=raw)


def test_files_of_a_verified_only_category_are_served_to_those_who_may_read_it():
    author = OfficialFactory()
    photo, report = make_uploads(author)
    topic = restricted_topic(author, body_with(photo, report))
    image_url, pdf_url = uploads.url(photo), uploads.url(report)
    colleague = signed_in(OfficialFactory())
    image = colleague.get(image_url)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    assert image["Content-Disposition"].startswith("inline")
    assert image["X-Content-Type-Options"] == "nosniff"
    assert b"".join(image.streaming_content) == stored_bytes(photo)
    document = colleague.get(pdf_url)
    assert document.status_code == 200
    assert document["Content-Disposition"] == 'attachment; filename="strategy.pdf"'
    assert b"".join(document.streaming_content) == PDF
    assert colleague.get(uploads.thumbnail_url(photo)).status_code == 200
    for outsider in (Client(), signed_in(UserFactory())):
        for address in (image_url, pdf_url, uploads.thumbnail_url(photo)):
            assert outsider.get(address).status_code == 404
    # A file nobody has posted yet is its uploader's alone.
    draft_only = uploads.create_upload(author, SimpleUploadedFile("later.png", png()))
    assert signed_in(author).get(uploads.url(draft_only)).status_code == 200
    assert colleague.get(uploads.url(draft_only)).status_code == 404
    assert topic.pk


def test_hiding_or_withdrawing_the_post_hides_its_files():
    author = OfficialFactory()
    photo, report = make_uploads(author)
    topic = TopicFactory(author=author)
    reply = services.create_reply(author, topic, body_with(photo, report))
    reader = signed_in(OfficialFactory())
    assert reader.get(uploads.url(report)).status_code == 200
    services.hide_post(ModeratorFactory(), reply, "Off topic")
    assert reader.get(uploads.url(report)).status_code == 404
    assert signed_in(author).get(uploads.url(report)).status_code == 200
    assert signed_in(ModeratorFactory()).get(uploads.url(report)).status_code == 200


def test_naming_someone_elses_unposted_file_in_a_public_post_does_not_open_it():
    author = OfficialFactory()
    _photo, report = make_uploads(author)  # uploaded, not posted yet: the author's alone
    other = OfficialFactory()
    reply = services.create_reply(other, TopicFactory(author=other), f"Look: {uploads.markdown_for(report)}")
    assert not PostUpload.objects.filter(post=reply).exists()
    assert Client().get(uploads.url(report)).status_code == 404
    assert signed_in(other).get(uploads.url(report)).status_code == 404
    # Once the author posts it where everyone reads, it is open to all, as the post is.
    TopicFactory(author=author, raw=uploads.markdown_for(report))
    assert Client().get(uploads.url(report)).status_code == 200


def test_the_file_view_answers_in_one_query_after_the_session_for_an_uploader(django_assert_num_queries):
    author = OfficialFactory()
    photo, _report = make_uploads(author)
    client = signed_in(author)
    client.get(uploads.url(photo))  # the session is read and cached
    with django_assert_num_queries(2):  # the session's user, the uploads of this content
        assert client.get(uploads.url(photo)).status_code == 200


def test_the_file_view_answers_in_a_fixed_number_of_queries_for_a_reader(django_assert_num_queries):
    author = OfficialFactory()
    photo, report = make_uploads(author)
    for _ in range(3):
        TopicFactory(author=author, raw=body_with(photo, report))
    client = signed_in(OfficialFactory())
    client.get(uploads.url(photo))
    with django_assert_num_queries(3):  # the user, the uploads, one visible post referencing it
        assert client.get(uploads.url(photo)).status_code == 200


def test_a_conditional_request_gets_not_modified():
    author = OfficialFactory()
    photo, _report = make_uploads(author)
    client = signed_in(author)
    first = client.get(uploads.url(photo))
    again = client.get(uploads.url(photo), headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304


def test_the_short_url_redirects_to_the_file():
    author = OfficialFactory()
    photo, _report = make_uploads(author)
    response = signed_in(author).get(uploads.as_json(photo)["short_path"])
    assert response.status_code == 302 and response["Location"] == uploads.url(photo)


# --- Editing, clean-up, moderation ------------------------------------------------------------------


def test_editing_keeps_the_uploads_still_referenced():
    author = OfficialFactory()
    photo, report = make_uploads(author)
    topic = TopicFactory(author=author, raw=body_with(photo, report))
    post = topic.posts.get(number=1)
    services.edit_post(author, post, f"Only the plan now: {uploads.markdown_for(report)}")
    assert list(PostUpload.objects.filter(post=post).values_list("upload_id", flat=True)) == [report.pk]
    assert uploads.url(report) in topic.posts.get(number=1).cooked


def test_files_no_post_references_for_a_day_are_removed(django_capture_on_commit_callbacks):
    author = OfficialFactory()
    photo, report = make_uploads(author)
    kept_by_draft = uploads.create_upload(author, SimpleUploadedFile("draft.png", png(30, 30)))
    Draft.objects.create(user=author, key="new_topic", raw=f"soon {uploads.markdown_for(kept_by_draft)}")
    TopicFactory(author=author, raw=uploads.markdown_for(report))
    assert uploads.delete_unreferenced_uploads() == 0  # all younger than a day
    later = timezone.now() + timedelta(hours=25)
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads.delete_unreferenced_uploads(now=later) == 1
    assert not Upload.objects.filter(pk=photo.pk).exists()
    assert not uploads.storage().exists(photo.path) and not uploads.storage().exists(photo.thumbnail_path)
    assert uploads.storage().exists(report.path) and uploads.storage().exists(kept_by_draft.path)


def test_the_cleanup_runs_from_the_periodic_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["forum-delete-unreferenced-uploads"]
    from forum import tasks

    assert entry["task"] == tasks.delete_unreferenced_uploads.name
    assert tasks.delete_unreferenced_uploads() == 0


def test_a_moderator_removes_a_file_everywhere(django_capture_on_commit_callbacks):
    author = OfficialFactory()
    photo, report = make_uploads(author)
    topic = TopicFactory(author=author, raw=body_with(photo, report))
    moderator = ModeratorFactory()
    with pytest.raises(Exception):  # noqa: B017 - PermissionDenied for anyone else
        uploads.remove_upload(report, by=OfficialFactory())
    with django_capture_on_commit_callbacks(execute=True):
        assert uploads.remove_upload(report, by=moderator, reason="Personal data") == 1
    cooked = topic.posts.get(number=1).cooked
    assert "<del>strategy.pdf</del>" in cooked and uploads.url(report) not in cooked
    assert signed_in(author).get(uploads.url(report)).status_code == 404
    assert not uploads.storage().exists(report.path)
    entry = ModerationLogEntry.objects.get(action="remove_upload")
    assert entry.actor == moderator and entry.details["filename"] == "strategy.pdf"
    # Uploading it again is refused.
    again = post_file(signed_in(author), "strategy.pdf", PDF)
    assert again.status_code == 422 and "a moderator removed" in again.json()["errors"][0]


# --- The composer's file field without JavaScript ------------------------------------------------


def test_the_composer_offers_the_file_field_to_officials_only():
    topic = TopicFactory()
    page = signed_in(OfficialFactory()).get(topic.get_absolute_url()).content.decode()
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="composer-files" name="files" multiple' in page
    assert 'data-upload-url="/uploads.json"' in page
    assert "composer-files" not in signed_in(UserFactory()).get(topic.get_absolute_url()).content.decode()
    assert "composer-files" in signed_in(OfficialFactory()).get("/new-topic").content.decode()


def test_a_reply_with_files_and_no_javascript_posts_them_with_the_text():
    official = OfficialFactory()
    topic = TopicFactory()
    response = signed_in(official).post(
        f"/t/{topic.pk}/reply",
        {
            "raw": "Our strategy and a photo of the wifi point.",
            "files": [
                SimpleUploadedFile("strategy.pdf", PDF),
                SimpleUploadedFile("wifi.jpg", jpeg_with_gps(900, 600)),
            ],
        },
    )
    assert response.status_code == 302
    post = topic.posts.get(number=2)
    assert post.raw.startswith(
        "Our strategy and a photo of the wifi point.\n\n[strategy.pdf|attachment](upload://"
    )
    assert 'class="attachment"' in post.cooked and 'class="lightbox"' in post.cooked
    assert PostUpload.objects.filter(post=post).count() == 2


def test_a_refused_file_keeps_the_text_and_the_files_accepted(settings):
    settings.UPLOADS_MAX_FILE_MB = 1
    official = OfficialFactory()
    topic = TopicFactory()
    response = signed_in(official).post(
        f"/t/{topic.pk}/reply",
        {
            "raw": "Here is what we did in Harare.",
            "files": [
                SimpleUploadedFile("strategy.pdf", PDF),
                SimpleUploadedFile("tool.pdf", EXE),
                SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024 + 1)),
            ],
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "tool.pdf was not uploaded: its content is a .exe file" in page
    assert "big.pdf was not uploaded: it is 1.0 MB, and files may be at most 1 MB." in page
    assert "Your text is kept." in page
    assert "Here is what we did in Harare.\n\n[strategy.pdf|attachment](upload://" in page
    assert topic.posts.count() == 1


def test_a_new_topic_with_a_refused_file_keeps_title_and_text():
    official = OfficialFactory()
    category = CategoryFactory()
    response = signed_in(official).post(
        "/new-topic",
        {
            "category": category.pk,
            "title": "Digital inclusion strategy of Harare",
            "raw": "Our plan, step by step.",
            "files": [SimpleUploadedFile("strategy.pdf", EXE)],
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "strategy.pdf was not uploaded" in page
    assert 'value="Digital inclusion strategy of Harare"' in page and "Our plan, step by step." in page


def test_editing_with_the_file_field_adds_the_file():
    official = OfficialFactory()
    topic = TopicFactory(author=official)
    post = topic.posts.get(number=1)
    response = signed_in(official).post(
        f"/posts/{post.pk}/edit",
        {"title": topic.title, "raw": post.raw, "files": [SimpleUploadedFile("plan.pdf", PDF)]},
    )
    assert response.status_code == 302
    post.refresh_from_db()
    assert "[plan.pdf|attachment](upload://" in post.raw
    assert PostUpload.objects.filter(post=post).count() == 1


def test_a_30_megabyte_file_is_refused_with_its_size():
    response = post_file(signed_in(OfficialFactory()), "report.pdf", PDF + b"0" * (30 * 1024 * 1024))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        "report.pdf was not uploaded: it is 30.0 MB, and files may be at most 20 MB."
    ]


# --- The moderators' page of files ---------------------------------------------------------------


def test_moderators_see_the_files_with_their_posts_and_remove_one(django_assert_num_queries):
    author = OfficialFactory()
    photo, report = make_uploads(author)
    topic = TopicFactory(author=author, raw=body_with(photo, report))
    for number in range(3):
        extra = uploads.create_upload(author, SimpleUploadedFile(f"extra{number}.png", png(20 + number, 20)))
        services.create_reply(author, topic, uploads.markdown_for(extra))
    moderator = make_user("moderator")
    client = signed_in(moderator)
    client.get("/review/uploads")
    # The same five queries whatever the number of files and posts (one for all the posts).
    with django_assert_num_queries(5):
        page = client.get("/review/uploads").content.decode()
    assert "strategy.pdf" in page and "extra2.png" in page and f"{topic.title} #1" in page
    assert "strategy.pdf" in client.get("/review/uploads?q=strat").content.decode()
    assert "extra2.png" not in client.get("/review/uploads?q=strat").content.decode()
    response = client.post(f"/review/uploads/{report.pk}/remove", {"reason": "A personal phone number"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.removed_at is not None and report.removed_by == moderator
    assert "<del>strategy.pdf</del>" in client.get("/review/uploads").content.decode()
    log = client.get("/review/log").content.decode()
    assert "Removed a file" in log and "A personal phone number" in log


@pytest.mark.parametrize("role", ["anonymous", "member", "verified"])
def test_only_moderators_open_the_files_page(role):
    user = make_user(role)
    report = uploads.create_upload(OfficialFactory(), SimpleUploadedFile("strategy.pdf", PDF))
    client = signed_in(user) if user else Client()
    assert client.get("/review/uploads").status_code in (302, 403)
    assert client.post(f"/review/uploads/{report.pk}/remove").status_code in (302, 403)
    report.refresh_from_db()
    assert report.removed_at is None


# --- Digest and search ---------------------------------------------------------------------------


def test_the_digest_lists_the_attachments_with_who_shared_them():
    author = OfficialFactory(display_name="Tendai Moyo")
    photo, report = make_uploads(author)
    topic = TopicFactory()
    services.create_reply(author, topic, body_with(photo, report))
    page = Client().get(f"/t/{topic.slug}/{topic.pk}/digest?replies=all").content.decode()
    assert "Attachments:" in page
    assert f'<a href="{uploads.url(report)}">strategy.pdf</a> by Tendai Moyo' in page
    assert f'<a href="{uploads.url(photo)}">wifi.jpg</a> by Tendai Moyo' in page
    markdown = Client().get(f"/t/{topic.slug}/{topic.pk}/digest.md?replies=all").content.decode()
    assert (
        f"**Attachments:** [wifi.jpg](http://127.0.0.1:8000{uploads.url(photo)}) by Tendai Moyo; " in markdown
    )


def test_a_post_is_found_by_the_names_of_its_files():
    from forum import search

    author = OfficialFactory()
    plan = uploads.create_upload(author, SimpleUploadedFile("digital-inclusion_plan.pdf", PDF))
    photo = uploads.create_upload(author, SimpleUploadedFile("mbare_wifi.png", png()))
    topic = TopicFactory(
        author=author, raw=f"Here: {uploads.markdown_for(plan)}\n\n{uploads.markdown_for(photo)}"
    )
    reader = make_user("member")
    for words in ("inclusion", "mbare"):
        assert [hit.topic.pk for hit in search.search(reader, words).hits] == [topic.pk], words


def test_a_file_can_never_act_as_a_page_of_the_site():
    author = OfficialFactory()
    text = uploads.create_upload(
        author, SimpleUploadedFile("notes.txt", b"<script>alert(1)</script> plain words")
    )
    response = signed_in(author).get(uploads.url(text))
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert (
        "sandbox" in response["Content-Security-Policy"]
        and "default-src 'none'" in response["Content-Security-Policy"]
    )


@pytest.mark.parametrize(
    ("save", "extension", "frames"),
    [
        ({"format": "MPO", "save_all": True}, "jpg", 1),  # a phone's two-picture JPEG: its first
        ({"format": "GIF", "save_all": True, "duration": 100, "loop": 0}, "gif", 2),
        ({"format": "WEBP", "save_all": True, "duration": 100}, "webp", 2),
    ],
)
def test_multi_frame_images(save, extension, frames):
    out = BytesIO()
    first, second = Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("RGB", (40, 30), (0, 0, 255))
    first.save(out, append_images=[second], **save)
    file = SimpleUploadedFile(f"moving.{extension}", out.getvalue())
    upload = uploads.create_upload(OfficialFactory(), file)
    assert (upload.extension, upload.width, upload.height) == (extension, 40, 30)
    assert getattr(Image.open(BytesIO(stored_bytes(upload))), "n_frames", 1) == frames


def test_the_preview_shows_the_files():
    author = OfficialFactory()
    photo, report = make_uploads(author)
    page = signed_in(author).post("/composer/preview", {"raw": body_with(photo, report)}).content.decode()
    assert f'src="{uploads.thumbnail_url(photo)}"' in page and f'href="{uploads.url(report)}"' in page


def test_behind_nginx_the_file_is_handed_to_an_internal_location(settings):
    settings.UPLOADS_X_ACCEL_REDIRECT = "/protected-uploads/"
    author = OfficialFactory()
    _photo, report = make_uploads(author)
    response = signed_in(author).get(uploads.url(report))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/protected-uploads/{report.path}"
    assert response["Content-Disposition"] == 'attachment; filename="strategy.pdf"'
