"""The processing job: validate an uploaded file by content, then transcode or store it.

Runs in a worker (a thread of the web process, or an RQ worker on any host). It is safe to
run again from the start: outputs are built in a temporary folder and published in one
step, so a crash mid-way leaves nothing half-published.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from app.catalog.models import Lesson
from app.db import utcnow
from app.extensions import db
from app.jobs import JobContext, PermanentJobError, task
from app.media.models import DOCUMENT_FILE, MediaAsset, MediaKind, MediaStatus, Upload
from app.media.services import PROCESS_TASK, mark_failed
from app.media.storage import get_storage
from courseware.errors import Cancelled, CoursewareError, InvalidMedia
from courseware.hls import package_hls
from courseware.pdf import inspect_pdf
from courseware.probe import VideoLimits, probe_video


class MediaRejected(PermanentJobError):
    """The file itself is unacceptable: retrying cannot help."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@task(PROCESS_TASK)
def process_media(ctx: JobContext) -> None:
    """Validate, deduplicate and convert one asset; record the outcome on its row."""
    asset_id = ctx.payload["media_asset_id"]
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status == MediaStatus.READY:
        return
    asset.status = MediaStatus.PROCESSING
    asset.error_code = asset.error_detail = None
    db.session.commit()
    storage = get_storage()
    try:
        with storage.local_copy(asset.original_key) as original:
            asset.sha256 = sha256_of(original)
            twin = _ready_twin(asset)
            if twin is not None:
                _reuse(asset, twin)
                db.session.commit()
                storage.delete(asset.original_key)
                return
            if asset.kind == MediaKind.VIDEO:
                _process_video(ctx, asset, original)
            else:
                _process_document(asset, original)
    except InvalidMedia as exc:
        _fail(asset, exc.code, exc.detail, delete_original=True)
        raise MediaRejected(exc.code, exc.detail) from exc
    except Cancelled as exc:
        _fail(asset, "cancelled", str(exc), delete_original=False)
        raise PermanentJobError("cancelled") from exc
    except CoursewareError as exc:
        # ffmpeg failed on a file that passed validation: keep the original for a retry.
        code = exc.code if exc.code == "no_ffmpeg" else "processing_failed"
        _fail(asset, code, exc.detail, delete_original=False, final=ctx.is_last_attempt)
        raise
    asset.status = MediaStatus.READY
    asset.ready_at = utcnow()
    db.session.commit()


def _limits() -> VideoLimits:
    cfg = current_app.config
    return VideoLimits(min_duration=cfg["VIDEO_MIN_SECONDS"], max_duration=cfg["VIDEO_MAX_SECONDS"])


def _process_video(ctx: JobContext, asset: MediaAsset, original: Path) -> None:
    probe = probe_video(original, _limits())
    ctx.set_progress(2)
    storage = get_storage()
    work = Path(tempfile.mkdtemp(prefix="zhixin-hls-"))
    try:
        output = package_hls(
            original,
            work / "out",
            probe,
            on_progress=lambda percent: ctx.set_progress(2 + percent * 0.96),
            should_cancel=ctx.is_cancelled,
            preset=current_app.config["TRANSCODE_PRESET"],
        )
        storage.publish_tree(work / "out", asset.output_prefix)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    asset.probe = {**probe.to_dict(), "hls": output.to_dict()}
    asset.duration_seconds = output.duration
    asset.width, asset.height = probe.width, probe.height
    asset.renditions = [
        {"height": r.height, "width": r.width, "bandwidth": r.bandwidth, "playlist": r.playlist}
        for r in output.renditions
    ]
    _set_lesson_lengths(asset)


def _process_document(asset: MediaAsset, original: Path) -> None:
    info = inspect_pdf(original)
    work = Path(tempfile.mkdtemp(prefix="zhixin-doc-"))
    try:
        shutil.copyfile(original, work / DOCUMENT_FILE)
        get_storage().publish_tree(work, asset.output_prefix)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    asset.probe = info.to_dict()
    asset.page_count = info.pages


def _set_lesson_lengths(asset: MediaAsset) -> None:
    if asset.duration_seconds is not None:
        db.session.execute(
            update(Lesson)
            .where(Lesson.media_asset_id == asset.id)
            .values(duration_seconds=round(asset.duration_seconds))
        )


def _ready_twin(asset: MediaAsset) -> MediaAsset | None:
    """A ready asset of the same provider with identical bytes (the same file uploaded twice)."""
    return db.session.scalar(
        select(MediaAsset)
        .where(
            MediaAsset.provider_id == asset.provider_id,
            MediaAsset.kind == asset.kind,
            MediaAsset.sha256 == asset.sha256,
            MediaAsset.status == MediaStatus.READY,
            MediaAsset.id != asset.id,
        )
        .order_by(MediaAsset.id)
        .limit(1)
    )


def _reuse(asset: MediaAsset, twin: MediaAsset) -> None:
    """Point everything at the existing copy instead of converting the same bytes again."""
    db.session.execute(
        update(Lesson).where(Lesson.media_asset_id == asset.id).values(media_asset_id=twin.id)
    )
    db.session.execute(
        update(Upload).where(Upload.media_asset_id == asset.id).values(media_asset_id=twin.id)
    )
    _set_lesson_lengths(twin)
    db.session.delete(asset)


def _fail(
    asset: MediaAsset, code: str, detail: str, *, delete_original: bool, final: bool = True
) -> None:
    """Record why processing stopped; rejected originals are deleted (no orphan files)."""
    db.session.rollback()
    asset = db.session.get(MediaAsset, asset.id)
    if final:
        mark_failed(asset, code, detail)
    else:
        asset.status = MediaStatus.PENDING
        asset.error_code, asset.error_detail = code, detail[:2000]
    db.session.commit()
    if delete_original:
        get_storage().delete(asset.original_key)
