"""Resumable uploads of lesson media, and what happens when one is complete."""

from __future__ import annotations

import secrets
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import jobs
from app.auth.models import User
from app.authoring.services import check_can_change, open_for_change
from app.catalog.models import Lesson
from app.catalog.taxonomy import LessonKind
from app.db import utcnow
from app.errors import DomainError, NotAllowed
from app.jobs.models import Job, JobStatus
from app.media.models import MediaAsset, MediaKind, MediaStatus, Upload, UploadStatus
from app.media.storage import OffsetMismatch, Storage, StorageError
from app.permissions import can_author_course

PROCESS_TASK = "media.process"


class UploadTooLarge(DomainError):
    """Refused before a byte is stored."""


class UploadConflict(DomainError):
    """The client's offset does not match what the server has; it must resume from there."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def clean_filename(raw: str) -> str:
    """A display name from whatever the browser sent: no folders, no control characters.

    Only ever shown to people; storage keys are generated, so ``../`` and friends are
    harmless here, but they would be confusing on screen.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    return name[:200] or "upload"


def _media_kind(lesson: Lesson) -> MediaKind:
    return MediaKind.DOCUMENT if lesson.kind == LessonKind.DOCUMENT else MediaKind.VIDEO


def start_upload(
    session: Session,
    user: User,
    lesson: Lesson,
    filename: str,
    size: int,
    *,
    now: datetime | None = None,
) -> Upload:
    """Open a resumable upload for a lesson's video or document.

    :raises NotAllowed: the lesson is not in one of the user's courses.
    :raises UploadTooLarge: the declared size is over the limit (nothing is stored).
    :raises DomainError: empty file, or the course cannot be changed now.
    """
    course = lesson.course
    if not can_author_course(user, course):
        raise NotAllowed(_l("You cannot change this course."))
    check_can_change(user, course)  # the course itself changes only when the file is complete
    limit = current_app.config["MEDIA_MAX_UPLOAD_BYTES"]
    if size <= 0:
        raise DomainError(_l("The file is empty. Choose the file again and re-upload it."))
    if size > limit:
        raise UploadTooLarge(
            _l(
                "The file is %(size)s; the limit is %(limit)s.",
                size=format_bytes(size),
                limit=format_bytes(limit),
            )
        )
    sweep_abandoned_uploads(session, now=now)
    upload = Upload(
        id=secrets.token_hex(16),
        user_id=user.id,
        provider_id=course.provider_id,
        lesson_id=lesson.id,
        kind=_media_kind(lesson),
        original_name=clean_filename(filename),
        declared_size=size,
    )
    session.add(upload)
    session.flush()
    return upload


@dataclass(frozen=True)
class ChunkTarget:
    """What writing a chunk needs, read before the transaction is closed.

    Bytes are streamed from the client with no transaction open: on SQLite an open
    transaction holds the database's write lock, and a slow client would hold it too.
    """

    upload_id: str
    part_key: str
    declared_size: int
    receiving: bool


def chunk_target(upload: Upload) -> ChunkTarget:
    return ChunkTarget(
        upload.id, upload.part_key, upload.declared_size, upload.status == UploadStatus.RECEIVING
    )


def write_chunk(
    storage: Storage, target: ChunkTarget, offset: int, stream: BinaryIO, length: int
) -> int:
    """Append a chunk at ``offset`` (no database work); returns the new size.

    The stored file, not the database, is the truth about how much arrived, so a crash
    between writing and recording loses nothing: the client asks and resumes.

    :raises UploadConflict: wrong offset (carries the right one) or upload not receiving.
    :raises UploadTooLarge: the chunk would pass the declared size.
    """
    if not target.receiving:
        raise UploadConflict(_l("This upload is already finished."), target.declared_size)
    remaining = target.declared_size - offset
    if length > remaining:
        raise UploadTooLarge(_l("More data was sent than the file size announced."))
    try:
        return storage.append(target.part_key, offset, stream, limit=remaining)
    except OffsetMismatch as exc:
        raise UploadConflict(
            _l("Resume the upload from the server's offset."), exc.expected
        ) from exc
    except StorageError as exc:
        raise UploadTooLarge(_l("More data was sent than the file size announced.")) from exc


def record_chunk(
    session: Session, storage: Storage, user: User, upload_id: str, size: int
) -> Upload:
    """Note how much arrived; the last byte turns the upload into a lesson's file.

    Completing re-checks that the author may still change the course and sends a published
    one back to review, so a file never reaches learners without a reviewer seeing it.

    :raises DomainError: the course is in review or retired now (the bytes are kept: the
        author can withdraw the course and send the last request again).
    """
    upload = session.get(Upload, upload_id, with_for_update=True)
    if upload.status != UploadStatus.RECEIVING:
        return upload
    upload.received = size
    upload.updated_at = utcnow()
    if size == upload.declared_size:
        lesson = session.get(Lesson, upload.lesson_id) if upload.lesson_id else None
        if lesson is not None:
            open_for_change(session, user, lesson.course)
        _complete(session, storage, upload)
    return upload


def current_offset(storage: Storage, upload: Upload) -> int:
    if upload.status != UploadStatus.RECEIVING:
        return upload.declared_size
    return storage.size(upload.part_key) or 0


def _new_asset(
    session: Session, *, provider_id: int, user_id: int, kind: MediaKind, name: str, size: int
) -> MediaAsset:
    token = uuid.uuid4().hex
    asset = MediaAsset(
        provider_id=provider_id,
        created_by_id=user_id,
        kind=kind,
        status=MediaStatus.PENDING,
        original_name=name,
        size_bytes=size,
        sha256="",  # computed by the processing job
        original_key=f"originals/{token}",
        output_prefix=f"media/{token}",
    )
    session.add(asset)
    session.flush()
    return asset


def _attach_and_queue(session: Session, asset: MediaAsset, lesson_id: int | None) -> None:
    if lesson_id is not None:
        lesson = session.get(Lesson, lesson_id)
        if lesson is not None:
            lesson.media_asset_id = asset.id
    jobs.enqueue(session, PROCESS_TASK, {"media_asset_id": asset.id})


def _complete(session: Session, storage: Storage, upload: Upload) -> MediaAsset:
    """Turn the finished upload into a pending asset, attach it and queue its processing."""
    asset = _new_asset(
        session,
        provider_id=upload.provider_id,
        user_id=upload.user_id,
        kind=upload.kind,
        name=upload.original_name,
        size=upload.declared_size,
    )
    storage.promote(upload.part_key, asset.original_key)
    upload.status = UploadStatus.COMPLETE
    upload.media_asset_id = asset.id
    _attach_and_queue(session, asset, upload.lesson_id)
    return asset


def import_file(
    session: Session, storage: Storage, user: User, lesson: Lesson, source: Path
) -> MediaAsset:
    """Give a lesson a file that is already on this machine (demo data, bulk imports).

    It goes through the same checks and processing as an upload.
    """
    open_for_change(session, user, lesson.course)
    asset = _new_asset(
        session,
        provider_id=lesson.course.provider_id,
        user_id=user.id,
        kind=_media_kind(lesson),
        name=clean_filename(source.name),
        size=source.stat().st_size,
    )
    storage.put_file(source, asset.original_key)
    _attach_and_queue(session, asset, lesson.id)
    return asset


def abort_upload(session: Session, storage: Storage, upload: Upload) -> None:
    """Give up an upload and delete its bytes."""
    if upload.status == UploadStatus.RECEIVING:
        storage.delete(upload.part_key)
        upload.status = UploadStatus.ABORTED


def sweep_abandoned_uploads(session: Session, *, now: datetime | None = None) -> int:
    """Abort uploads that received nothing for UPLOAD_ABANDON_HOURS; returns how many."""
    from app.media.storage import get_storage

    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["UPLOAD_ABANDON_HOURS"])
    stale = session.scalars(
        select(Upload).where(Upload.status == UploadStatus.RECEIVING, Upload.updated_at < cutoff)
    ).all()
    storage = get_storage()
    for upload in stale:
        abort_upload(session, storage, upload)
    return len(stale)


def latest_job(session: Session, asset: MediaAsset) -> Job | None:
    """The most recent processing job of an asset."""
    return session.scalar(
        select(Job)
        .where(Job.kind == PROCESS_TASK, Job.payload["media_asset_id"].as_integer() == asset.id)
        .order_by(Job.id.desc())
        .limit(1)
    )


def retry_processing(session: Session, user: User, asset: MediaAsset) -> Job:
    """Run the processing of a failed asset again from the start."""
    if not can_manage_asset(user, asset):
        raise NotAllowed(_l("You cannot change this file."))
    job = latest_job(session, asset)
    finished = job is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELLED)
    # A worker that died can leave the asset "processing" after its job was given up.
    if not finished or asset.status == MediaStatus.READY:
        raise DomainError(_l("Only failed files can be processed again."))
    asset.status = MediaStatus.PENDING
    asset.error_code = asset.error_detail = None
    jobs.retry(session, job)
    return job


def cancel_processing(session: Session, user: User, asset: MediaAsset) -> Job:
    """Stop processing an asset; it ends failed with the reason 'cancelled'."""
    if not can_manage_asset(user, asset):
        raise NotAllowed(_l("You cannot change this file."))
    job = latest_job(session, asset)
    if job is None or asset.status not in (MediaStatus.PENDING, MediaStatus.PROCESSING):
        raise DomainError(_l("This file is not being processed."))
    jobs.cancel(session, job)
    if job.started_at is None:  # never ran, so no worker will record the outcome
        mark_failed(asset, "cancelled", "cancelled before it started")
    return job


def can_manage_asset(user: User, asset: MediaAsset) -> bool:
    from app.permissions import Role

    return user.has_role(Role.ADMIN) or (
        user.has_role(Role.AUTHOR) and user.provider_id == asset.provider_id
    )


def mark_failed(asset: MediaAsset, code: str, detail: str) -> None:
    asset.status = MediaStatus.FAILED
    asset.error_code = code
    asset.error_detail = detail[:2000]


def format_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"
