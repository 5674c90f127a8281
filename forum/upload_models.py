"""Files and images attached to posts (imported by forum/models.py; written by forum/uploads.py).

An ``Upload`` is one person's upload of some content, named by the SHA-1 of the bytes stored
(after an image's metadata is stripped), as Discourse does: the same content uploaded twice by
one person is one row, and by two people two rows sharing one stored file. Posts reference uploads
in their Markdown as ``upload://<base62 of the sha1>.<ext>``; ``PostUpload`` records which post
references which upload, so a file is served to those who may read one of those posts.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UploadKind(models.TextChoices):
    IMAGE = "image", _("Image")
    DOCUMENT = "document", _("Document")


class Upload(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads")
    sha1 = models.CharField(max_length=40, db_index=True)
    # The SHA-1 of the bytes as received, so uploading the same photo again finds this row.
    original_sha1 = models.CharField(max_length=40, db_index=True)
    original_filename = models.CharField(max_length=255)
    extension = models.CharField(max_length=10)
    content_type = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=UploadKind.choices)
    filesize = models.PositiveBigIntegerField()
    # Storage names (in the "uploads" storage): the file, and an image's thumbnail if one was made.
    path = models.CharField(max_length=255)
    thumbnail_path = models.CharField(max_length=255, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_width = models.PositiveIntegerField(null=True, blank=True)
    thumbnail_height = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    # A moderator removed the file: the row stays (posts show "file removed"), the bytes are gone.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    posts = models.ManyToManyField("forum.Post", through="PostUpload", related_name="uploads")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "sha1"], name="upload_unique_per_person")]
        indexes = [models.Index(fields=["user", "created_at"], name="upload_user_created")]

    def __str__(self) -> str:
        return self.original_filename

    @property
    def is_image(self) -> bool:
        return self.kind == UploadKind.IMAGE


class PostUpload(models.Model):
    post = models.ForeignKey("forum.Post", on_delete=models.CASCADE, related_name="+")
    upload = models.ForeignKey(Upload, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "upload"], name="post_upload_unique")]

    def __str__(self) -> str:
        return f"post {self.post_id} -> upload {self.upload_id}"
