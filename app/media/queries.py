"""Read helpers: an asset's state and the signed URLs of its outputs."""

from __future__ import annotations

from dataclasses import dataclass

from app.extensions import db
from app.media.models import DOCUMENT_FILE, MediaAsset, MediaKind, MediaStatus
from app.media.signing import signed_path


@dataclass(frozen=True)
class PlaybackUrls:
    """Where the player finds a ready asset; valid for MEDIA_URL_TTL_SECONDS."""

    kind: MediaKind
    master: str | None = None
    poster: str | None = None
    document: str | None = None


def asset_of(asset_id: int | None) -> MediaAsset | None:
    return db.session.get(MediaAsset, asset_id) if asset_id is not None else None


def playback_urls(asset: MediaAsset | None) -> PlaybackUrls | None:
    """Signed URLs for a ready asset, or None when there is nothing to play yet.

    Call only after checking that the user may study the lesson: the URLs are the permission.
    """
    if asset is None or asset.status != MediaStatus.READY:
        return None
    prefix = asset.output_prefix
    if asset.kind == MediaKind.VIDEO:
        return PlaybackUrls(
            kind=asset.kind,
            master=signed_path(prefix, "master.m3u8"),
            poster=signed_path(prefix, "poster.jpg"),
        )
    return PlaybackUrls(kind=asset.kind, document=signed_path(prefix, DOCUMENT_FILE))
