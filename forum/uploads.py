"""Files and images in posts: checking, processing, storing, referencing and serving rules.

- Who: officials and moderators who may post (`permissions.posting_block_reason` is None).
- What: images (JPEG, PNG, WebP, GIF) and documents (PDF, Office and OpenDocument formats, CSV,
  plain text), recognised by their content, never by their name (an .exe renamed .pdf is refused).
  SVG is refused (it can carry script). Limits: ``UPLOADS_MAX_FILE_MB`` a file,
  ``UPLOADS_DAILY_QUOTA_MB`` a person in 24 hours.
- Images are decoded and written again by Pillow: EXIF (GPS included), XMP and comments are left
  behind, the photo is turned upright, sides above ``UPLOADS_IMAGE_MAX_SIDE`` are scaled down, and
  a thumbnail is made when it is larger than the 690x500 pages show.
- Bytes go to the "uploads" storage (local disk under MEDIA_ROOT, or S3 through django-storages)
  under their SHA-1; posts say ``upload://<base62 sha1>.<ext>`` (Discourse's short URL) in their
  Markdown and ``/uploads/original/<sha1>.<ext>`` in their HTML: a stable address, the same for
  every reader, so rendered posts stay shared in the cache; the view behind it checks who asks.
- A file is served to its uploader, moderators, and anyone who may read a visible post
  referencing it: hiding or withdrawing the post hides the file.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts import permissions as accounts_permissions
from core.markdown_uploads import upload_keys

from . import permissions
from .models import Post, PostState
from .upload_models import PostUpload, Upload, UploadKind

BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

IMAGE_FORMATS = {  # Pillow's format name -> (extension, content type)
    "JPEG": ("jpg", "image/jpeg"),
    "MPO": ("jpg", "image/jpeg"),  # phones' multi-picture JPEG: kept as its first picture
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
DOCUMENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "csv": "text/csv",
    "txt": "text/plain",
    "md": "text/markdown",
}
OOXML_FOLDERS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TEXT_EXTENSIONS = {"csv", "txt", "md"}
TEXT_SAMPLE_BYTES = 64 * 1024
# Control characters that never appear in a text file (tab, newlines and form feed do).
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13}) + b"\x7f"


def storage():
    return storages["uploads"]


def allowed_extensions() -> list[str]:
    return list(settings.UPLOADS_ALLOWED_TYPES)


def max_file_bytes() -> int:
    return int(settings.UPLOADS_MAX_FILE_MB * 1024 * 1024)


def daily_quota_bytes() -> int:
    return int(settings.UPLOADS_DAILY_QUOTA_MB * 1024 * 1024)


# --- Names and addresses ----------------------------------------------------------------------


def base62_encode(sha1: str) -> str:
    number = int(sha1, 16)
    digits = ""
    while number:
        number, remainder = divmod(number, 62)
        digits = BASE62[remainder] + digits
    return digits or "0"


def base62_decode(text: str) -> str | None:
    number = 0
    for character in text:
        position = BASE62.find(character)
        if position < 0:
            return None
        number = number * 62 + position
    if number >= 16**40:
        return None
    return f"{number:040x}"


def sha1_from_key(key: str) -> str | None:
    """The SHA-1 named by the part after ``upload://`` (Discourse's base62, or 40 hex digits)."""
    stem = key.split(".", 1)[0]
    if re.fullmatch(r"[0-9a-f]{40}", stem):
        return stem
    if not re.fullmatch(r"[0-9A-Za-z]{1,28}", stem):
        return None
    return base62_decode(stem)


def short_url(upload: Upload) -> str:
    return f"upload://{base62_encode(upload.sha1)}.{upload.extension}"


def url(upload: Upload) -> str:
    return reverse("forum:upload", args=[upload.sha1, upload.extension])


def thumbnail_url(upload: Upload) -> str:
    if not upload.thumbnail_path:
        return url(upload)
    return reverse("forum:upload_thumbnail", args=[upload.sha1, upload.extension])


def human_filesize(size: int) -> str:
    """'2.3 MB': the same in every language, since it is written into the rendered post once."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            if unit == "B" or value == int(value):
                return f"{int(value)} {unit}"
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def display_size(width: int | None, height: int | None) -> tuple[int | None, int | None]:
    """The size a page shows an image at: within 690x500, never enlarged."""
    if not width or not height:
        return width, height
    scale = min(1.0, settings.UPLOADS_THUMBNAIL_WIDTH / width, settings.UPLOADS_THUMBNAIL_HEIGHT / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def markdown_for(upload: Upload) -> str:
    """What the composer inserts for an upload (Discourse's forms)."""
    name = re.sub(r"[\[\]|\n\r]", " ", upload.original_filename).strip() or upload.extension
    if upload.is_image:
        width, height = display_size(upload.width, upload.height)
        return f"![{name}|{width}x{height}]({short_url(upload)})"
    return f"[{name}|attachment]({short_url(upload)}) ({human_filesize(upload.filesize)})"


def as_json(upload: Upload) -> dict:
    """Discourse's answer to POST /uploads.json."""
    width, height = display_size(upload.width, upload.height)
    return {
        "id": upload.pk,
        "url": url(upload),
        "original_filename": upload.original_filename,
        "filesize": upload.filesize,
        "width": upload.width,
        "height": upload.height,
        "thumbnail_width": width,
        "thumbnail_height": height,
        "extension": upload.extension,
        "short_url": short_url(upload),
        "short_path": reverse("forum:upload_short", args=[base62_encode(upload.sha1), upload.extension]),
        "retain_hours": None,
        "human_filesize": human_filesize(upload.filesize),
        "dominant_color": None,
        "markdown": markdown_for(upload),
    }


# --- Recognising and processing ----------------------------------------------------------------


@dataclass
class Processed:
    kind: str
    extension: str
    content_type: str
    data: bytes | None = None  # re-encoded image; None: store the received file as it is
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None
    thumbnail_width: int | None = None
    thumbnail_height: int | None = None


def _name_extension(filename: str) -> str:
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _allowed_list() -> str:
    return ", ".join(ext.upper() for ext in allowed_extensions())


def _refuse_type(filename: str, head: bytes) -> ValidationError:
    import filetype  # small and pure Python; only used to name what a refused file really is

    guessed = filetype.guess(head)
    if guessed is not None and guessed.extension != _name_extension(filename):
        return ValidationError(
            _(
                "%(name)s was not uploaded: its content is a .%(real)s file, whatever its name says. "
                "Allowed: %(allowed)s."
            )
            % {"name": filename, "real": guessed.extension, "allowed": _allowed_list()},
            code="type",
        )
    return ValidationError(
        _("%(name)s was not uploaded: this type of file is not accepted. Allowed: %(allowed)s.")
        % {"name": filename, "allowed": _allowed_list()},
        code="type",
    )


def _document_type(file, filename: str, head: bytes) -> str | None:
    """The extension a document's content shows, or None."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            file.seek(0)
            with zipfile.ZipFile(file) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    mimetype = archive.read("mimetype")[:100].decode("ascii", "replace").strip()
                    for extension in ("odt", "ods", "odp"):
                        if mimetype == DOCUMENT_TYPES[extension]:
                            return extension
                if "[Content_Types].xml" in names:
                    for folder, extension in OOXML_FOLDERS.items():
                        if any(name.startswith(folder) for name in names):
                            return extension
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, KeyError):
            return None
        return None
    if head.startswith(OLE2_MAGIC):
        # Word 97-2003 and its kin share one container; the name says which of the three it is.
        extension = _name_extension(filename)
        return extension if extension in {"doc", "xls", "ppt"} else None
    sample = head[:TEXT_SAMPLE_BYTES]
    if sample and not any(byte in _BINARY_BYTES for byte in sample):
        extension = _name_extension(filename)
        if extension in TEXT_EXTENSIONS:
            return extension
    return None


def _save_image(image: Image.Image, pillow_format: str, **extra) -> bytes:
    out = io.BytesIO()
    options: dict = {}
    icc = image.info.get("icc_profile")
    if pillow_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        options = {"quality": 88, "optimize": True, "progressive": True}
    elif pillow_format == "PNG":
        options = {"optimize": True}
    elif pillow_format == "WEBP":
        options = {"quality": 85}
    if icc and pillow_format != "GIF":
        options["icc_profile"] = icc  # colour, not metadata about the person
    image.save(out, format=pillow_format, **options, **extra)
    return out.getvalue()


def _process_image(file, filename: str) -> Processed | None:
    """Decode with Pillow and write again without metadata; None when it is not an image."""
    try:
        file.seek(0)
        image = Image.open(file)
        pillow_format = image.format
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if pillow_format not in IMAGE_FORMATS:
        return None
    extension, content_type = IMAGE_FORMATS[pillow_format]
    pillow_format = "JPEG" if pillow_format == "MPO" else pillow_format
    width, height = image.size
    if width * height > settings.UPLOADS_IMAGE_MAX_PIXELS:
        raise ValidationError(
            _("%(name)s was not uploaded: the image is %(width)dx%(height)d pixels, too large to process.")
            % {"name": filename, "width": width, "height": height},
            code="too_large",
        )
    try:
        # A phone's MPO (two pictures) is kept as its first; GIF, WebP and APNG keep their frames.
        animated = getattr(image, "is_animated", False) and pillow_format != "JPEG"
        if animated:
            # Frames written again, without comments or XMP; animations are not resized.
            data = _save_image(image, pillow_format, save_all=True)
            first = image.copy()
        else:
            image.load()
            image = ImageOps.exif_transpose(image)
            limit = settings.UPLOADS_IMAGE_MAX_SIDE
            if max(image.size) > limit:
                image.thumbnail((limit, limit), Image.Resampling.LANCZOS)
            data = _save_image(image, pillow_format)
            first = image
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(
            _("%(name)s was not uploaded: the image is damaged and cannot be read.") % {"name": filename},
            code="damaged",
        ) from error
    width, height = first.size
    processed = Processed(
        kind=UploadKind.IMAGE,
        extension=extension,
        content_type=content_type,
        data=data,
        width=width,
        height=height,
    )
    thumb_width, thumb_height = display_size(width, height)
    if (thumb_width, thumb_height) != (width, height) and not animated:
        thumb = first.copy()
        thumb.thumbnail((thumb_width, thumb_height), Image.Resampling.LANCZOS)
        processed.thumbnail = _save_image(thumb, pillow_format)
        processed.thumbnail_width, processed.thumbnail_height = thumb.size
    return processed


def inspect(file, filename: str) -> Processed:
    """What the file is, by its content; refused (ValidationError) unless it is an allowed type."""
    file.seek(0)
    head = file.read(TEXT_SAMPLE_BYTES)
    file.seek(0)
    if _name_extension(filename) == "svg" or re.match(
        rb"\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg", head, re.S
    ):
        raise ValidationError(
            _("%(name)s was not uploaded: SVG images are not accepted. Upload a PNG or JPEG instead.")
            % {"name": filename},
            code="type",
        )
    allowed = set(allowed_extensions())
    processed = _process_image(file, filename)
    if processed is None:
        extension = _document_type(file, filename, head)
        if extension is not None:
            processed = Processed(
                kind=UploadKind.DOCUMENT, extension=extension, content_type=DOCUMENT_TYPES[extension]
            )
    if processed is None or processed.extension not in allowed:
        raise _refuse_type(filename, head)
    return processed


# --- Writes ----------------------------------------------------------------------------------


def upload_block_reason(user) -> str | None:
    """Why this person may not upload files; None when they may."""
    if not user.is_authenticated:
        return _("Sign in to upload files.")
    reason = permissions.posting_block_reason(user)
    if reason is not None:
        return reason
    return None


def check_upload(user) -> None:
    reason = upload_block_reason(user)
    if reason is not None:
        raise PermissionDenied(reason)


def _clean_filename(name: str) -> str:
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:200]
    return name or "file"


def _used_today(user) -> int:
    since = timezone.now() - timedelta(days=1)
    return (
        Upload.objects.filter(user=user, created_at__gte=since).aggregate(total=Sum("filesize"))["total"] or 0
    )


def _sha1_of(file) -> str:
    digest = hashlib.sha1(usedforsecurity=False)
    file.seek(0)
    for chunk in iter(lambda: file.read(1024 * 1024), b""):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _store(name: str, content) -> str:
    store = storage()
    if store.exists(name):
        return name
    return store.save(name, content)


def create_upload(user, file, *, filename: str | None = None) -> Upload:
    """Check, process and store one file for this person; returns the Upload (the existing one when
    they uploaded the same content before). Callers: anyone `upload_block_reason` lets through.

    Refusals are ValidationErrors with a message for the person (too large, type not accepted,
    daily quota reached). Nothing is sent after commit.
    """
    check_upload(user)
    filename = _clean_filename(filename or getattr(file, "name", ""))
    size = getattr(file, "size", None)
    if size is None:
        file.seek(0, io.SEEK_END)
        size = file.tell()
    if size > max_file_bytes():
        raise ValidationError(
            _("%(name)s was not uploaded: it is %(size)s, and files may be at most %(max)s.")
            % {"name": filename, "size": human_filesize(size), "max": human_filesize(max_file_bytes())},
            code="too_large",
        )
    if size == 0:
        raise ValidationError(
            _("%(name)s was not uploaded: the file is empty.") % {"name": filename}, code="empty"
        )
    original_sha1 = _sha1_of(file)
    existing = Upload.objects.filter(user=user, original_sha1=original_sha1, removed_at__isnull=True).first()
    if existing is not None:
        return existing
    if Upload.objects.filter(original_sha1=original_sha1, removed_at__isnull=False).exists():
        raise ValidationError(
            _("%(name)s was not uploaded: a moderator removed this file from the forum.")
            % {"name": filename},
            code="removed",
        )
    used = _used_today(user)
    if used + size > daily_quota_bytes():
        raise ValidationError(
            _(
                "%(name)s was not uploaded: you have uploaded %(used)s in the last 24 hours, and the daily "
                "limit is %(max)s. Try again tomorrow, or link to the file instead."
            )
            % {"name": filename, "used": human_filesize(used), "max": human_filesize(daily_quota_bytes())},
            code="quota",
        )
    processed = inspect(file, filename)
    if processed.data is not None:
        sha1 = hashlib.sha1(processed.data, usedforsecurity=False).hexdigest()
        size = len(processed.data)
        content = ContentFile(processed.data)
    else:
        sha1, content = original_sha1, file
    stem = _name_stem(filename) or processed.extension
    original_filename = f"{stem}.{processed.extension}"
    path = _store(f"original/{sha1[:2]}/{sha1}.{processed.extension}", content)
    thumbnail_path = ""
    if processed.thumbnail is not None:
        thumbnail_path = _store(
            f"optimized/{sha1[:2]}/{sha1}_{processed.thumbnail_width}x{processed.thumbnail_height}"
            f".{processed.extension}",
            ContentFile(processed.thumbnail),
        )
    try:
        with transaction.atomic():
            return Upload.objects.create(
                user=user,
                sha1=sha1,
                original_sha1=original_sha1,
                original_filename=original_filename,
                extension=processed.extension,
                content_type=processed.content_type,
                kind=processed.kind,
                filesize=size,
                path=path,
                thumbnail_path=thumbnail_path,
                width=processed.width,
                height=processed.height,
                thumbnail_width=processed.thumbnail_width,
                thumbnail_height=processed.thumbnail_height,
            )
    except IntegrityError:
        # The same content, uploaded twice at once by this person: the other request made the row.
        return Upload.objects.get(user=user, sha1=sha1)


def _name_stem(filename: str) -> str:
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    return stem.strip()[:150]


# --- Posts referencing uploads -------------------------------------------------------------------


def _rows_for_keys(keys: set[str], prefer_user_id: int | None) -> dict[str, Upload]:
    """key (as written after upload://) -> the Upload it names (the author's own row first)."""
    by_sha1 = {key: sha1 for key in keys if (sha1 := sha1_from_key(key))}
    if not by_sha1:
        return {}
    rows: dict[str, Upload] = {}
    for upload in Upload.objects.filter(sha1__in=set(by_sha1.values())).order_by("pk"):
        if upload.sha1 not in rows or upload.user_id == prefer_user_id:
            rows[upload.sha1] = upload
    return {key: rows[sha1] for key, sha1 in by_sha1.items() if sha1 in rows}


def resolver(prefer_user_id: int | None = None):
    """The Markdown renderer's upload resolver: keys -> what the HTML needs (one query)."""

    def resolve(keys: set[str]) -> dict[str, dict]:
        found = {}
        for key, upload in _rows_for_keys(keys, prefer_user_id).items():
            if upload.removed_at is not None:
                found[key] = {"removed": True, "filename": upload.original_filename}
                continue
            width, height = display_size(upload.width, upload.height)
            found[key] = {
                "removed": False,
                "is_image": upload.is_image,
                "url": url(upload),
                "thumbnail_url": thumbnail_url(upload),
                "width": width,
                "height": height,
                "filename": upload.original_filename,
                "size": human_filesize(upload.filesize),
            }
        return found

    return resolve


def link_post(post: Post) -> None:
    """Record which uploads the post's text references (after it is created or edited)."""
    rows = _rows_for_keys(upload_keys(post.raw), post.author_id)
    # Someone else's file is linked only if the author may download it themselves: guessing a
    # file's name never makes a file from a closed category readable elsewhere.
    author = post.author
    wanted = {
        upload.pk
        for upload in rows.values()
        if upload.user_id == post.author_id or readable_upload(author, upload.sha1) is not None
    }
    PostUpload.objects.filter(post=post).exclude(upload_id__in=wanted).delete()
    present = set(PostUpload.objects.filter(post=post).values_list("upload_id", flat=True))
    PostUpload.objects.bulk_create(
        [PostUpload(post=post, upload_id=pk) for pk in wanted - present], ignore_conflicts=True
    )


def file_names(post_ids: list[int]) -> dict[int, list[str]]:
    """post id -> names of the files it references (for search and digests), one query."""
    names: dict[int, list[str]] = {}
    rows = (
        PostUpload.objects.filter(post_id__in=post_ids, upload__removed_at__isnull=True)
        .order_by("upload_id")
        .values_list("post_id", "upload__original_filename")
    )
    for post_id, name in rows:
        names.setdefault(post_id, []).append(name)
    return names


# --- Reading -----------------------------------------------------------------------------------


def readable_upload(user, sha1: str) -> Upload | None:
    """The upload with this content if this person may download it, else None (two queries at most).

    Its uploader and moderators may; anyone else needs a visible post referencing it in a topic
    they may read. Removed files are gone for everyone.
    """
    rows = list(Upload.objects.filter(sha1=sha1, removed_at__isnull=True).order_by("pk"))
    if not rows:
        return None
    own = next((row for row in rows if user.is_authenticated and row.user_id == user.pk), None)
    if own is not None:
        return own
    if accounts_permissions.is_moderator(user):
        return rows[0]
    referenced = Post.objects.filter(
        pk__in=PostUpload.objects.filter(upload__sha1=sha1).values("post_id"),
        state=PostState.VISIBLE,
        topic__in=permissions.readable_topics(user),
    ).exists()
    return rows[0] if referenced else None


# --- Moderation and clean-up -------------------------------------------------------------------


def remove_upload(upload: Upload, *, by, reason: str = "") -> int:
    """A moderator removes a file: every upload of this content is marked removed, the bytes are
    deleted after commit, and the posts referencing it show its name without a link.
    Callers: moderators. Returns how many posts were re-rendered."""
    from . import services
    from .models import ModerationAction
    from .moderation import log_action

    permissions.check_moderator(by)
    now = timezone.now()
    with transaction.atomic():
        rows = list(Upload.objects.select_for_update().filter(sha1=upload.sha1))
        Upload.objects.filter(sha1=upload.sha1).update(removed_at=now, removed_by=by)
        posts = list(
            Post.objects.filter(pk__in=PostUpload.objects.filter(upload__sha1=upload.sha1).values("post_id"))
        )
        services.recook_posts(posts)
        first = posts[0] if posts else None
        log_action(
            by,
            ModerationAction.REMOVE_UPLOAD,
            topic=first.topic if first else None,
            post=first,
            label=upload.original_filename,
            reason=reason,
            details={"sha1": upload.sha1, "filename": upload.original_filename},
        )
        paths = {path for row in rows for path in (row.path, row.thumbnail_path) if path}
        transaction.on_commit(lambda: _delete_files(paths))
    return len(posts)


def _delete_files(paths) -> None:
    store = storage()
    for path in paths:
        store.delete(path)


def delete_unreferenced_uploads(now=None) -> int:
    """Remove uploads that no post references, older than UPLOADS_UNREFERENCED_HOURS (a draft of
    their uploader that mentions them keeps them). The bytes go when no upload of that content is
    left. The periodic task forum.delete_unreferenced_uploads calls it; returns rows deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.UPLOADS_UNREFERENCED_HOURS)
    candidates = list(
        Upload.objects.filter(created_at__lt=cutoff)
        .exclude(pk__in=PostUpload.objects.values("upload_id"))
        .order_by("pk")[:1000]
    )
    from .models import Draft

    deleted = 0
    for upload in candidates:
        key = base62_encode(upload.sha1)
        if (
            Draft.objects.filter(user_id=upload.user_id)
            .filter(Q(raw__contains=key) | Q(raw__contains=upload.sha1))
            .exists()
        ):
            continue
        with transaction.atomic():
            Upload.objects.filter(pk=upload.pk).delete()
            if not Upload.objects.filter(sha1=upload.sha1).exists():
                paths = {path for path in (upload.path, upload.thumbnail_path) if path}
                transaction.on_commit(lambda paths=paths: _delete_files(paths))
        deleted += 1
    return deleted


def download_name(upload: Upload) -> str:
    return get_valid_filename(upload.original_filename) or f"file.{upload.extension}"


def create_uploads(user, files) -> tuple[list[Upload], list[str]]:
    """Several files at once (a form's file field, the API's files[]): each is checked on its own;
    returns the uploads made and a message for each file refused."""
    check_upload(user)
    made: list[Upload] = []
    refused: list[str] = []
    files = list(files)
    if len(files) > settings.UPLOADS_MAX_FILES_PER_REQUEST:
        refused.append(
            _("Upload at most %(max)d files at once; the others were not uploaded.")
            % {"max": settings.UPLOADS_MAX_FILES_PER_REQUEST}
        )
        files = files[: settings.UPLOADS_MAX_FILES_PER_REQUEST]
    for file in files:
        try:
            made.append(create_upload(user, file))
        except ValidationError as error:
            refused.extend(error.messages)
    return made, refused


def body_too_large(request) -> str | None:
    """Refuse a request whose body cannot hold acceptable files, before reading it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = max_file_bytes() * settings.UPLOADS_MAX_FILES_PER_REQUEST + 1024 * 1024
    if length > limit:
        return _(
            "The files were not uploaded: together they are %(size)s, and a file may be at most %(max)s."
        ) % {
            "size": human_filesize(length),
            "max": human_filesize(max_file_bytes()),
        }
    return None


ACCEPT = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
}


def composer_context(user) -> dict | None:
    """What a composer's file field needs, or None when this person may not upload (no query)."""
    if upload_block_reason(user) is not None:
        return None
    accept = [ACCEPT.get(extension, f".{extension}") for extension in allowed_extensions()]
    return {
        "url": reverse("api:uploads_json"),
        "max_bytes": max_file_bytes(),
        "max_label": human_filesize(max_file_bytes()),
        "accept": ",".join(accept),
    }
