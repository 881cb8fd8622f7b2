"""The storage protocol that domain code is handed: a folder of objects under one root.

Domain code (ingestion, reports, stats, the sample-data generator) reads and writes
through a `Storage` it receives and never knows whether it is a local folder, S3, Google
Cloud Storage or Azure Blob Storage: the implementations live in `resources/`, which
picks one from a URI. Keys are relative, '/'-separated paths under the storage's root.

Every implementation promises: `put_file` is atomic (the final name appears only when the
content is complete), listings skip temporaries, and failures raise `StorageError` with a
message that names the location and never a credential.
"""

from __future__ import annotations

import tempfile
import uuid
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import pyarrow.fs as pafs

# Temporary objects and files start with this and end with TMP_SUFFIX: listings skip
# them, and no `*.parquet` / `*.csv` glob of a reader can match one left by a crash.
TMP_PREFIX = ".tmp-"
TMP_SUFFIX = ".partial"


class StorageError(RuntimeError):
    """A storage operation failed; the message names the location, never a credential."""


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the storage root, '/'-separated
    size: int
    version: str  # changes when the content changes: mtime+size locally, ETag in the cloud


def temporary_name(name: str) -> str:
    return f"{TMP_PREFIX}{uuid.uuid4().hex}-{name}{TMP_SUFFIX}"


def is_temporary(key: str) -> bool:
    return any(part.startswith(TMP_PREFIX) for part in key.split("/"))


def clean_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or any(p in ("..", ".") for p in parts) or "\\" in key:
        raise StorageError(f"refused storage key {key!r}: it must be a relative path")
    if any(ord(c) < 32 for c in key):
        raise StorageError(f"refused storage key {key!r}: it contains control characters")
    return "/".join(parts)


class Storage(ABC):
    """A root (folder or bucket prefix) of objects; see the module docstring."""

    uri: str

    @abstractmethod
    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object under `prefix`, recursively, sorted by key; temporaries skipped."""

    @abstractmethod
    def open(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """A context manager giving a binary stream of the object's content."""

    @abstractmethod
    def put_file(self, local_path: Path, key: str) -> str:
        """Atomically publish a local file at `key`; returns the object's URI."""

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under `prefix`; returns how many were deleted."""

    def put_bytes(self, data: bytes, key: str) -> str:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "payload"
            path.write_bytes(data)
            return self.put_file(path, key)

    def read_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def exists(self, key: str) -> bool:
        return any(o.key == clean_key(key) for o in self.list(key))

    def uri_of(self, key: str) -> str:
        return f"{self.uri.rstrip('/')}/{clean_key(key)}"

    def local_path(self, key: str) -> Path | None:
        """The object as a local file, when the storage is a local folder (readers such
        as DuckDB then read it in place); None for remote storage."""
        return None

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        """The storage as a pyarrow filesystem and the path of its root in it, for readers
        that read columns or byte ranges in place (pyarrow, polars, DuckDB through
        fsspec) instead of downloading whole objects."""
        raise StorageError(f"{self.uri}: no pyarrow filesystem for this kind of storage")
