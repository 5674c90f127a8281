"""Serving uploaded files at stable addresses, to the people allowed to read them (forum/uploads.py).

Rendered posts point here (/uploads/original/<sha1>.<ext>, /uploads/optimized/<sha1>.<ext>) and
are the same for every reader; this view decides per request. Anyone not allowed gets 404, as
for a topic they cannot see. Images are shown inline, everything else is an attachment; every
answer says nosniff and forbids scripts, so a file can never act as a page of this site.
"""

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from . import uploads

# A file is the same bytes for ever (its name is its hash), but who may read it can change.
CACHE_CONTROL = "private, max-age=3600"
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


@require_safe
def serve(request, sha1: str, extension: str, thumbnail: bool = False):
    upload = uploads.readable_upload(request.user, sha1)
    if upload is None or upload.extension != extension:
        raise Http404
    path = upload.thumbnail_path if thumbnail and upload.thumbnail_path else upload.path
    etag = f'"{sha1}{"-t" if path == upload.thumbnail_path and thumbnail else ""}"'
    disposition = content_disposition_header(not upload.is_image, uploads.download_name(upload))
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    elif settings.UPLOADS_REDIRECT_TO_STORAGE and hasattr(uploads.storage(), "bucket_name"):
        address = uploads.storage().url(
            path,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": upload.content_type,
            },
        )
        response = HttpResponseRedirect(address)
    elif settings.UPLOADS_X_ACCEL_REDIRECT:
        response = HttpResponse(content_type=upload.content_type)
        response["X-Accel-Redirect"] = settings.UPLOADS_X_ACCEL_REDIRECT.rstrip("/") + "/" + path
        response["Content-Disposition"] = disposition
    else:
        try:
            handle = uploads.storage().open(path, "rb")
        except (FileNotFoundError, OSError) as error:
            raise Http404 from error
        response = FileResponse(handle, content_type=upload.content_type)
        response["Content-Disposition"] = disposition
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


@require_safe
def short_url(request, key: str, extension: str):
    """Discourse's /uploads/short-url/<base62>.<ext>: a redirect to the file's address."""
    sha1 = uploads.sha1_from_key(key)
    if sha1 is None:
        raise Http404
    return HttpResponseRedirect(reverse("forum:upload", args=[sha1, extension]))
