"""Upload API for authors, processing status, and signed media delivery."""

from __future__ import annotations

import re

from flask import abort, current_app, flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.catalog.models import Lesson
from app.errors import DomainError, NotAllowed
from app.extensions import db, limiter
from app.media import bp, services, signing
from app.media.messages import reason_message
from app.media.models import MediaAsset, Upload
from app.media.storage import get_storage
from app.permissions import PUBLIC, Role, access

#: What may be served from an output prefix, and as what.
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".jpg": "image/jpeg",
    ".pdf": "application/pdf",
}
_SERVED = re.compile(r"^(media/[0-9a-f]{32})/((?:[A-Za-z0-9_\-]+/)?[A-Za-z0-9_\-]+\.[a-z0-9]+)$")


def _error(message: str, status: int, **extra):
    return jsonify(error=str(message), **extra), status


def _own_upload_or_404(upload_id: str) -> Upload:
    upload = db.session.get(Upload, upload_id)
    if upload is None or upload.user_id != current_user.id:
        abort(404)
    return upload


def _progress_json(upload: Upload):
    storage = get_storage()
    asset = db.session.get(MediaAsset, upload.media_asset_id) if upload.media_asset_id else None
    job = services.latest_job(db.session, asset) if asset is not None else None
    body = {
        "upload_id": upload.id,
        "status": upload.status.value,
        "offset": services.current_offset(storage, upload),
        "size": upload.declared_size,
        "chunk_size": current_app.config["UPLOAD_CHUNK_BYTES"],
        "asset": _asset_json(asset, job) if asset is not None else None,
    }
    return body


def _asset_json(asset: MediaAsset, job) -> dict:
    return {
        "id": asset.id,
        "status": asset.status.value,
        "progress": round(job.progress, 1) if job is not None else 0,
        "job_status": job.status.value if job is not None else None,
        "error": reason_message(asset.error_code),
        "duration_seconds": asset.duration_seconds,
        "page_count": asset.page_count,
        "renditions": [r["height"] for r in asset.renditions or []],
    }


@bp.route("/api/v1/uploads", methods=["POST"])
@access(Role.AUTHOR)
@limiter.limit("120 per hour")
def start_upload():
    """Open a resumable upload: ``{"lesson_id", "filename", "size"}`` → 201 with its URL."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(_("Send a JSON object."), 422)
    lesson_id, size, filename = data.get("lesson_id"), data.get("size"), data.get("filename")
    integers = (lesson_id, size)
    if any(
        not isinstance(n, int) or isinstance(n, bool) or abs(n) > 2**62 for n in integers
    ) or not isinstance(filename, str):
        return _error(_("lesson_id and size must be integers and filename a string."), 422)
    if not 0 < lesson_id < 2**31:
        return _error(_("No such lesson."), 404)
    lesson = db.session.get(Lesson, lesson_id)
    if lesson is None:
        return _error(_("No such lesson."), 404)
    try:
        upload = services.start_upload(db.session, current_user, lesson, filename, size)
        db.session.commit()
    except NotAllowed:
        db.session.rollback()
        return _error(_("No such lesson."), 404)
    except services.UploadTooLarge as exc:
        db.session.rollback()
        return _error(exc.message, 413)
    except DomainError as exc:
        db.session.rollback()
        return _error(exc.message, 409)
    body = _progress_json(upload)
    body["url"] = url_for("media.upload", upload_id=upload.id)
    return jsonify(body), 201


@bp.route("/api/v1/uploads/<upload_id>", methods=["GET", "PATCH", "DELETE"])
@access(Role.AUTHOR)
@limiter.exempt
def upload(upload_id: str):
    """GET: where to resume. PATCH: append a chunk at ``Upload-Offset``. DELETE: abort."""
    upload = _own_upload_or_404(upload_id)
    storage = get_storage()
    if request.method == "GET":
        return jsonify(_progress_json(upload))
    if request.method == "DELETE":
        services.abort_upload(db.session, storage, upload)
        db.session.commit()
        return "", 204
    offset = request.headers.get("Upload-Offset", type=int)
    # No body (the last request again, to finish a refused completion) counts as zero bytes.
    length = request.content_length or 0
    chunk_limit = current_app.config["UPLOAD_CHUNK_BYTES"]
    if offset is None or offset < 0:
        return _error(_("Send Upload-Offset and Content-Length headers."), 422)
    if length > chunk_limit:
        return _error(_("Send the file in chunks of at most %(n)d bytes.", n=chunk_limit), 413)
    target = services.chunk_target(upload)
    db.session.rollback()  # no transaction (and no SQLite write lock) while bytes stream in
    try:
        size = services.write_chunk(storage, target, offset, request.stream, length)
    except services.UploadConflict as exc:
        return _error(exc.message, 409, offset=exc.offset)
    except services.UploadTooLarge as exc:
        return _error(exc.message, 413)
    try:
        upload = services.record_chunk(db.session, storage, current_user, upload_id, size)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        return _error(exc.message, 409, offset=size)
    return jsonify(_progress_json(upload))


@bp.route("/api/v1/media/<int:asset_id>")
@access(Role.AUTHOR, Role.REVIEWER, Role.ADMIN)
def asset_status(asset_id: int):
    """Processing state of a file, polled by the upload widget after a page reload."""
    asset = db.session.get(MediaAsset, asset_id)
    may_see = asset is not None and (
        services.can_manage_asset(current_user, asset) or current_user.has_role(Role.REVIEWER)
    )
    if not may_see:
        return _error(_("No such file."), 404)
    return jsonify(asset=_asset_json(asset, services.latest_job(db.session, asset)))


@bp.route("/media/<int:asset_id>/retry", methods=["POST"])
@access(Role.AUTHOR, Role.ADMIN)
def retry(asset_id: int):
    """Process a failed file again."""
    return _asset_action(asset_id, services.retry_processing, _("Processing restarted."))


@bp.route("/media/<int:asset_id>/cancel", methods=["POST"])
@access(Role.AUTHOR, Role.ADMIN)
def cancel(asset_id: int):
    """Stop processing a file."""
    return _asset_action(asset_id, services.cancel_processing, _("Processing is being cancelled."))


def _asset_action(asset_id: int, action, done_message: str):
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or not services.can_manage_asset(current_user, asset):
        abort(404)
    try:
        action(db.session, current_user, asset)
        db.session.commit()
        flash(done_message, "success")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    return redirect(request.referrer or url_for("authoring.courses"))


@bp.route("/m/<int:expires>/<signature>/<path:rest>")
@access(PUBLIC)  # the signature is the permission; it was issued after an access check
@limiter.exempt
def serve(expires: int, signature: str, rest: str):
    """Deliver a media file to whoever holds a valid, unexpired signed URL."""
    match = _SERVED.match(rest)
    if match is None:
        abort(404)
    prefix, filename = match.groups()
    if not signing.verify(prefix, expires, signature):
        abort(403)
    suffix = filename[filename.rfind(".") :]
    mimetype = CONTENT_TYPES.get(suffix)
    if mimetype is None:
        abort(404)
    response = get_storage().send(f"{prefix}/{filename}", mimetype, max_age=600)
    response.headers["Cache-Control"] = "private, max-age=600"
    if suffix == ".pdf":  # shown inside the lesson page
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response
