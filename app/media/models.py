"""Media assets (an uploaded file and what was made of it) and resumable uploads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, enum_column, utcnow

#: File name of a document lesson's PDF under the asset's output prefix.
DOCUMENT_FILE = "document.pdf"


class MediaKind(StrEnum):
    VIDEO = "video"
    DOCUMENT = "document"


class MediaStatus(StrEnum):
    #: Stored and waiting for its processing job.
    PENDING = "pending"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class MediaAsset(Base):
    """One uploaded file and its renditions; lessons point at the asset they show."""

    __tablename__ = "media_asset"

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("app_user.id", ondelete="SET NULL")
    )
    kind: Mapped[MediaKind] = mapped_column(enum_column(MediaKind))
    status: Mapped[MediaStatus] = mapped_column(
        enum_column(MediaStatus), default=MediaStatus.PENDING, index=True
    )
    #: The uploader's file name, cleaned for display only (never used as a path).
    original_name: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    #: SHA-256 of the original, to recognise the same file uploaded twice.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    #: Storage key of the original file.
    original_key: Mapped[str] = mapped_column(String(255))
    #: Storage prefix under which the outputs live (HLS ladder, poster, PDF copy).
    output_prefix: Mapped[str] = mapped_column(String(255), unique=True)
    #: What ffprobe or the PDF parser found, as returned by courseware.
    probe: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int | None] = mapped_column(Integer)
    #: The HLS renditions made, e.g. [{"height": 720, "bandwidth": 2800000, "playlist": …}].
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Machine-readable reason of a failure (courseware reason code) and its detail.
    error_code: Mapped[str | None] = mapped_column(String(50))
    error_detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<MediaAsset {self.id} {self.kind} {self.status}>"


class UploadStatus(StrEnum):
    RECEIVING = "receiving"
    COMPLETE = "complete"
    ABORTED = "aborted"


class Upload(Base):
    """A resumable upload in progress: bytes arrive in chunks at increasing offsets."""

    __tablename__ = "upload"

    #: Random, unguessable identifier used in the upload URL.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("provider.id"))
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[MediaKind] = mapped_column(enum_column(MediaKind))
    original_name: Mapped[str] = mapped_column(String(255))
    declared_size: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[UploadStatus] = mapped_column(
        enum_column(UploadStatus), default=UploadStatus.RECEIVING, index=True
    )
    media_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_asset.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def part_key(self) -> str:
        """Storage key of the partial file while bytes are arriving."""
        return f"uploads/{self.id}.part"

    def __repr__(self) -> str:
        return f"<Upload {self.id} {self.received}/{self.declared_size}>"
