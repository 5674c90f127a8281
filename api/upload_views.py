"""POST /uploads.json: Discourse's upload endpoint (multipart `file` or `files[]`, `type=composer`).

The answer is Discourse's upload object (id, url, short_url, original_filename, filesize, width,
height, thumbnail_width, thumbnail_height, extension, human_filesize); a client then writes the
short_url into a post's raw. The composer's upload button uses the same endpoint.
"""

from django.utils.translation import gettext as _

from forum import uploads

from .http import api_view, error_response, json_response


@api_view(("POST",))
def create(request):
    if reason := uploads.upload_block_reason(request.user):
        return error_response([reason], "invalid_access", 403)
    if too_large := uploads.body_too_large(request):
        return error_response([too_large], "invalid_parameters", 413)
    files = (
        request.FILES.getlist("files[]") or request.FILES.getlist("file") or request.FILES.getlist("files")
    )
    if not files:
        return error_response(
            [_("param is missing or the value is empty: %(name)s") % {"name": "file"}],
            "invalid_parameters",
            400,
        )
    made, refused = uploads.create_uploads(request.user, files)
    if not made:
        return error_response(refused, "invalid_parameters", 422)
    data = uploads.as_json(made[0])
    if len(files) > 1:
        # Discourse answers for the first file; the others (and any refusal) come alongside.
        data["uploads"] = [uploads.as_json(upload) for upload in made]
        data["errors"] = refused
    return json_response(data)
