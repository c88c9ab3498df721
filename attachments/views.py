"""HTTP adapters: the upload link (second phase of ChatKit's two-phase upload) and
the image preview link. Both are signed links, so they take no bearer token."""

from __future__ import annotations

import tempfile
from http import HTTPStatus

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt

from attachments import links, selectors, services
from attachments.storage import attachment_storage
from config.errors import api_error_response, error_response
from config.exceptions import ApiError, BadRequest, PayloadTooLarge

CHUNK_BYTES = 65536
# Room for the multipart envelope around the file.
MULTIPART_OVERHEAD_BYTES = 65536
# Nothing served from a preview link may run: no scripts, no plugins, no framing.
PREVIEW_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Referrer-Policy": "no-referrer",
}


def _not_found() -> JsonResponse:
    return error_response(HTTPStatus.NOT_FOUND, "not_found", "Not found.")


def _method_not_allowed(allowed: str) -> JsonResponse:
    response = error_response(
        HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed", f"Use {allowed}."
    )
    response["Allow"] = allowed
    return response


def _raw_body(request: HttpRequest, limit: int) -> tuple[tempfile.SpooledTemporaryFile, int]:
    """The request body (a PUT's bytes) read in chunks, refused past `limit`."""
    spool = tempfile.SpooledTemporaryFile(max_size=1048576)  # noqa: SIM115 - returned open
    size = 0
    while chunk := request.read(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            spool.close()
            raise PayloadTooLarge(f"Attachments can be at most {limit} bytes.")
        spool.write(chunk)
    spool.seek(0)
    return spool, size


def _signed_in_user_id(request: HttpRequest) -> int | None:
    """The page's session user, if the browser has one (links are theirs or 404)."""
    user = getattr(request, "user", None)
    return user.pk if user is not None and user.is_authenticated else None


@csrf_exempt  # a signed link, no cookies involved
def upload(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """`POST` (multipart, field `file`) or `PUT` (raw bytes) to `…/upload?token=…`."""
    if request.method not in ("POST", "PUT"):
        return _method_not_allowed("POST, PUT")
    limit = settings.ATTACHMENTS["MAX_BYTES"]
    try:
        try:
            declared = int(request.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise BadRequest("Invalid Content-Length.") from exc
        if declared > limit + MULTIPART_OVERHEAD_BYTES:
            raise PayloadTooLarge(f"Attachments can be at most {limit} bytes.")
        token = request.GET.get("token", "")
        if request.method == "PUT":
            content, size = _raw_body(request, limit)
        else:
            uploaded = request.FILES.get("file")
            if uploaded is None:
                raise BadRequest("Send the file as multipart/form-data in a field named 'file'.")
            content, size = uploaded, uploaded.size or 0
        with content:
            attachment = services.attachment_upload(
                attachment_id=attachment_id,
                token=token,
                content=content,
                size=size,
                signed_in_user_id=_signed_in_user_id(request),
            )
    except ApiError as exc:
        return api_error_response(exc)
    return JsonResponse(attachment.model_dump(mode="json", exclude={"metadata"}))


def preview(request: HttpRequest, attachment_id: str) -> HttpResponse:
    """An image, for its owner's signed link only, served so it can't act as a page."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed("GET, HEAD")
    try:
        claims = links.verify("preview", request.GET.get("token", ""), attachment_id=attachment_id)
    except (links.LinkExpired, links.LinkInvalid):
        return _not_found()
    signed_in = _signed_in_user_id(request)
    if signed_in is not None and signed_in != claims.user_id:
        return _not_found()  # signed into the page as someone else
    file = selectors.attachment_for_preview(attachment_id=attachment_id, user_id=claims.user_id)
    if file is None or file.kind != "image":
        return _not_found()
    try:
        content = attachment_storage().open(file.storage_name, "rb")
    except FileNotFoundError:
        return _not_found()
    response = FileResponse(content, content_type=file.mime_type)
    response["Content-Disposition"] = content_disposition_header(False, file.name)
    response["Cache-Control"] = "private, max-age=3600"
    for name, value in PREVIEW_HEADERS.items():
        response[name] = value
    return response
