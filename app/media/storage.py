"""Where media bytes live: a small interface, with a local-folder implementation.

Keys are relative POSIX paths chosen by the app (``originals/<uuid>``, ``media/<uuid>/…``,
``uploads/<id>.part``), never user input. The interface is what an S3-compatible store needs
to implement too: ``append`` maps to a multipart upload (one part per chunk, completed by
``promote``), ``publish_tree`` to uploading the files of a directory under a prefix,
``local_copy`` to a download into a temporary file for ffmpeg, and ``send`` to a redirect to
the object (or CDN) URL instead of streaming the bytes through the app.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import Flask, Response, current_app, send_file

_KEY = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_\-./]+$")
CHUNK = 1024 * 1024


class StorageError(Exception):
    """The storage refused an operation (bad key, wrong offset, missing object)."""


class OffsetMismatch(StorageError):
    def __init__(self, expected: int) -> None:
        super().__init__(f"expected offset {expected}")
        self.expected = expected


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    if not _KEY.match(key) or "//" in key:
        raise StorageError(f"invalid storage key: {key!r}")
    return key


class Storage(Protocol):
    def size(self, key: str) -> int | None: ...
    def append(self, key: str, offset: int, stream: BinaryIO, limit: int) -> int: ...
    def promote(self, part_key: str, key: str) -> None: ...
    def put_file(self, source: Path, key: str) -> None: ...
    def publish_tree(self, source_dir: Path, prefix: str) -> None: ...
    def local_copy(self, key: str) -> Iterator[Path]: ...
    def delete(self, key: str) -> None: ...
    def delete_prefix(self, prefix: str) -> None: ...
    def send(self, key: str, mimetype: str, max_age: int) -> Response: ...


class LocalStorage:
    """Files under one root folder (MEDIA_ROOT); on several hosts, a shared mount."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def append(self, key: str, offset: int, stream: BinaryIO, limit: int) -> int:
        """Write ``stream`` at ``offset`` (which must be the current size); returns the new size.

        At most ``limit`` bytes are accepted; more raises StorageError, and what was written of
        this chunk is cut off again so that a retry starts from a clean offset.
        """
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab+") as handle:
            # Two requests at the same offset (a retry racing the original) take turns.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            current = handle.seek(0, os.SEEK_END)
            if current != offset:
                raise OffsetMismatch(current)
            written = 0
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    handle.truncate(offset)
                    raise StorageError("chunk exceeds the declared size")
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
            return offset + written

    def promote(self, part_key: str, key: str) -> None:
        """Move a completed upload to its final key (atomic on one filesystem)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path(part_key), target)

    def put_file(self, source: Path, key: str) -> None:
        """Copy a local file in under ``key`` (imports, demo data)."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.staging")
        shutil.copyfile(source, staging)
        os.replace(staging, target)

    def publish_tree(self, source_dir: Path, prefix: str) -> None:
        """Make a finished output directory visible under ``prefix`` in one step."""
        target = self.path(prefix)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            shutil.rmtree(target)
        try:
            os.replace(source_dir, target)
        except OSError:  # another filesystem: copy to a temporary name, then rename
            staging = target.with_name(f".{target.name}.staging")
            shutil.copytree(source_dir, staging)
            os.replace(staging, target)
            shutil.rmtree(source_dir, ignore_errors=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local path to read the object from (the file itself, for local storage)."""
        path = self.path(key)
        if not path.exists():
            raise StorageError(f"missing object: {key}")
        yield path

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> None:
        shutil.rmtree(self.path(prefix), ignore_errors=True)

    def send(self, key: str, mimetype: str, max_age: int) -> Response:
        """Stream a file with conditional requests and byte ranges (seeking in players)."""
        path = self.path(key)
        if not path.is_file():
            from werkzeug.exceptions import NotFound

            raise NotFound()
        return send_file(path, mimetype=mimetype, conditional=True, max_age=max_age, etag=True)


def init_app(app: Flask) -> None:
    app.extensions["zhixin.storage"] = LocalStorage(app.config["MEDIA_ROOT"])


def get_storage() -> Storage:
    return current_app.extensions["zhixin.storage"]
