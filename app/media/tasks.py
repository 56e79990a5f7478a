"""The processing job: validate an uploaded file by content, then transcode or store it.

Runs in a worker (a thread of the web process, or an RQ worker on any host). It is safe to
run again from the start: outputs are built in a temporary folder and published in one
step, so a crash mid-way leaves nothing half-published. No database transaction stays open
during the long work (on SQLite an open transaction holds the write lock).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Work:
    """What the long step needs, read before the transaction is closed."""

    asset_id: int
    kind: MediaKind
    original_key: str
    output_prefix: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


@task(PROCESS_TASK)
def process_media(ctx: JobContext) -> None:
    """Validate, deduplicate and convert one asset; record the outcome on its row."""
    work = _begin(ctx.payload["media_asset_id"])
    if work is None:
        return
    storage = get_storage()
    try:
        with storage.local_copy(work.original_key) as original:
            if _reuse_twin(work, sha256_of(original)):
                storage.delete(work.original_key)
                return
            if work.kind == MediaKind.VIDEO:
                outcome = _convert_video(ctx, work, original)
            else:
                outcome = _store_document(work, original)
    except InvalidMedia as exc:
        _fail(work, exc.code, exc.detail, delete_original=True)
        raise MediaRejected(exc.code, exc.detail) from exc
    except Cancelled as exc:
        _fail(work, "cancelled", str(exc), delete_original=False)
        raise PermanentJobError("cancelled") from exc
    except CoursewareError as exc:
        # ffmpeg failed on a file that passed validation: keep the original for a retry.
        code = exc.code if exc.code == "no_ffmpeg" else "processing_failed"
        _fail(work, code, exc.detail, delete_original=False, final=ctx.is_last_attempt)
        raise
    except Exception as exc:
        # Storage or database trouble: never leave the asset looking busy forever.
        _fail(work, "processing_failed", repr(exc), delete_original=False,
              final=ctx.is_last_attempt)  # fmt: skip
        raise
    _finish(work, outcome)


def work_folder(prefix: str) -> Path:
    """A fresh scratch folder; ones left behind by killed workers are removed first."""
    root = Path(current_app.config["MEDIA_WORK_DIR"])
    root.mkdir(parents=True, exist_ok=True)
    sweep_work_dir(root, max_age=current_app.config["MEDIA_WORK_MAX_AGE_HOURS"] * 3600)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=root))


def sweep_work_dir(root: Path, *, max_age: float, now: float | None = None) -> int:
    """Remove scratch folders older than ``max_age`` seconds; returns how many."""
    now = now if now is not None else time.time()
    removed = 0
    for entry in root.iterdir() if root.exists() else ():
        try:
            if now - entry.stat().st_mtime > max_age:
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink()
                removed += 1
        except FileNotFoundError:  # another worker swept it first
            continue
    return removed


def _begin(asset_id: int) -> _Work | None:
    asset = db.session.get(MediaAsset, asset_id)
    if asset is None or asset.status == MediaStatus.READY:
        db.session.rollback()
        return None
    asset.status = MediaStatus.PROCESSING
    asset.error_code = asset.error_detail = None
    work = _Work(asset.id, asset.kind, asset.original_key, asset.output_prefix)
    db.session.commit()
    return work


def _reuse_twin(work: _Work, sha256: str) -> bool:
    """When the provider already has these exact bytes ready, point everything there."""
    asset = db.session.get(MediaAsset, work.asset_id)
    asset.sha256 = sha256
    twin = db.session.scalar(
        select(MediaAsset)
        .where(
            MediaAsset.provider_id == asset.provider_id,
            MediaAsset.kind == asset.kind,
            MediaAsset.sha256 == sha256,
            MediaAsset.status == MediaStatus.READY,
            MediaAsset.id != asset.id,
        )
        .order_by(MediaAsset.id)
        .limit(1)
    )
    if twin is None:
        db.session.commit()
        return False
    for model, column in ((Lesson, Lesson.media_asset_id), (Upload, Upload.media_asset_id)):
        db.session.execute(update(model).where(column == asset.id).values(media_asset_id=twin.id))
    _set_lesson_lengths(twin.id, twin.duration_seconds)
    db.session.delete(asset)
    db.session.commit()
    return True


def _limits() -> VideoLimits:
    cfg = current_app.config
    return VideoLimits(min_duration=cfg["VIDEO_MIN_SECONDS"], max_duration=cfg["VIDEO_MAX_SECONDS"])


def _convert_video(ctx: JobContext, work: _Work, original: Path) -> dict:
    probe = probe_video(original, _limits())
    ctx.set_progress(2)
    folder = work_folder("hls-")
    try:
        output = package_hls(
            original,
            folder / "out",
            probe,
            on_progress=lambda percent: ctx.set_progress(2 + percent * 0.96),
            should_cancel=ctx.is_cancelled,
            preset=current_app.config["TRANSCODE_PRESET"],
        )
        get_storage().publish_tree(folder / "out", work.output_prefix)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "probe": {**probe.to_dict(), "hls": output.to_dict()},
        "duration_seconds": output.duration,
        "width": probe.width,
        "height": probe.height,
        "renditions": [
            {"height": r.height, "width": r.width, "bandwidth": r.bandwidth, "playlist": r.playlist}
            for r in output.renditions
        ],
    }


def _store_document(work: _Work, original: Path) -> dict:
    info = inspect_pdf(original)
    folder = work_folder("doc-")
    try:
        shutil.copyfile(original, folder / DOCUMENT_FILE)
        get_storage().publish_tree(folder, work.output_prefix)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"probe": info.to_dict(), "page_count": info.pages}


def _finish(work: _Work, outcome: dict) -> None:
    """Record the result; the runner commits it together with the job's success."""
    asset = db.session.get(MediaAsset, work.asset_id)
    for name, value in outcome.items():
        setattr(asset, name, value)
    asset.status = MediaStatus.READY
    asset.ready_at = utcnow()
    _set_lesson_lengths(asset.id, asset.duration_seconds)


def _set_lesson_lengths(asset_id: int, duration: float | None) -> None:
    if duration is not None:
        db.session.execute(
            update(Lesson)
            .where(Lesson.media_asset_id == asset_id)
            .values(duration_seconds=round(duration))
        )


def _fail(
    work: _Work, code: str, detail: str, *, delete_original: bool, final: bool = True
) -> None:
    """Record why processing stopped; rejected originals are deleted (no orphan files)."""
    db.session.rollback()
    asset = db.session.get(MediaAsset, work.asset_id)
    if final:
        mark_failed(asset, code, detail)
    else:
        asset.status = MediaStatus.PENDING
        asset.error_code, asset.error_detail = code, detail[:2000]
    db.session.commit()
    if delete_original:
        get_storage().delete(work.original_key)
