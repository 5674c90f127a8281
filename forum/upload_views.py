"""Serving uploaded files at stable addresses, to the people allowed to read them (forum/uploads.py).

Rendered posts point here (/uploads/original/<sha1>.<ext>, /uploads/optimized/<sha1>.<ext>) and
are the same for every reader; this view decides per request. Anyone not allowed gets 404, as
for a topic they cannot see. Images are shown inline, everything else is an attachment; every
answer says nosniff and forbids scripts, so a file can never act as a page of this site.
"""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.decorators import moderator_required
from core import clean

from . import uploads
from .upload_models import PostUpload, Upload

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


# --- Moderators: the files people uploaded, and removing one ------------------------------------

REVIEW_PER_PAGE = 50


@moderator_required
def review(request):
    """The newest uploads (or those whose name contains ?q=), with the posts showing each."""
    query = clean.strip_controls(request.GET.get("q", "")).strip()[:100]
    rows = Upload.objects.select_related("user").order_by("-pk")
    if query:
        rows = rows.filter(original_filename__icontains=query)
    page = Paginator(rows, REVIEW_PER_PAGE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    posts: dict[int, list] = {}
    links = PostUpload.objects.filter(upload__in=items).select_related("post__topic").order_by("post_id")
    for link in links:
        posts.setdefault(link.upload_id, []).append(link.post)
    for item in items:
        item.referencing_posts = posts.get(item.pk, [])
        item.human_filesize = uploads.human_filesize(item.filesize)
        item.address = uploads.url(item)
    querystring = request.GET.copy()
    querystring.pop("page", None)
    context = {"page": page, "items": items, "query": query, "querystring": querystring}
    return render(request, "forum/moderation/uploads.html", context)


@require_POST
@moderator_required
def remove(request, upload_id: int):
    upload = get_object_or_404(Upload, pk=upload_id)
    if upload.removed_at is None:
        reason = clean.strip_controls(request.POST.get("reason", "")).strip()[:500]
        uploads.remove_upload(upload, by=request.user, reason=reason)
        messages.success(
            request,
            _("%(name)s is removed; the posts show its name without a link.")
            % {"name": upload.original_filename},
        )
    return redirect(f"{reverse('forum:review_uploads')}?{request.GET.urlencode()}")
