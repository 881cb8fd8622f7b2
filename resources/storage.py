"""Implementations of `promo.storage.Storage`: a local folder and an S3 prefix.

Assets, sensors and the CLI only see `Storage`; which one they get depends on the URI
(`/some/folder` or `s3://bucket/prefix`), so nothing downstream branches on the
environment. Every write is atomic: the final name appears only when the content is
complete. Local files are written beside their target and renamed; S3 objects are uploaded
to a temporary key (multipart above 64 MB) and copied to the final key.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from dagster_aws.s3 import S3Resource

from promo.storage import (
    TMP_PREFIX,
    Storage,
    StorageError,
    StoredObject,
    clean_key,
    is_temporary,
    temporary_name,
)

STALE_AFTER_S = 3600  # a temporary this old belongs to a dead writer


def sweep_stale_temporaries(folder: Path) -> int:
    """Delete temporaries left in `folder` by writers killed mid-write. Only old ones: a
    fresh one may belong to a concurrent writer about to rename it."""
    import time

    removed = 0
    for path in folder.glob(f"{TMP_PREFIX}*") if folder.is_dir() else []:
        try:
            if time.time() - path.stat().st_mtime > STALE_AFTER_S:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass  # renamed or removed meanwhile
    return removed


def _is_file_link(path: Path) -> bool:
    """A symbolic link that does not lead to a folder (rglob does not descend into those)."""
    return path.is_symlink() and not path.is_dir()


class LocalStorage(Storage):
    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self.uri = str(self.root)

    def _path(self, key: str) -> Path:
        path = (self.root / clean_key(key)).resolve()
        if path != self.root and self.root not in path.parents:
            raise StorageError(f"refused storage key {key!r}: it leaves {self.root}")
        return path

    def local_path(self, key: str) -> Path:
        return self._path(key)

    def list(self, prefix: str = "") -> list[StoredObject]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            candidates = [base]
        elif base.is_dir():
            # Broken symbolic links are listed too: reading one fails with a StorageError
            # that names it (as for a link leaving the root), instead of it passing unseen.
            candidates = [p for p in base.rglob("*") if p.is_file() or _is_file_link(p)]
        else:
            # A prefix may also be the start of a file name.
            parent = base.parent
            candidates = (
                [p for p in parent.rglob("*") if p.is_file() and str(p).startswith(str(base))]
                if parent.is_dir()
                else []
            )
        out = []
        for p in candidates:
            rel = p.relative_to(self.root).as_posix()
            if is_temporary(rel):
                continue
            try:
                st = p.stat()
            except OSError:  # a broken link: its own size and time
                st = p.lstat()
            out.append(StoredObject(rel, st.st_size, f"{st.st_mtime_ns}-{st.st_size}"))
        return sorted(out, key=lambda o: o.key)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            stream = self._path(key).open("rb")
        except OSError as exc:
            raise StorageError(f"cannot read {self.uri_of(key)}: {exc.strerror}") from exc
        with stream:
            yield stream

    def put_file(self, local_path: Path, key: str) -> str:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        sweep_stale_temporaries(target.parent)
        tmp = target.parent / temporary_name(target.name)
        try:
            shutil.copyfile(local_path, tmp)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return str(target)

    def delete_prefix(self, prefix: str) -> int:
        objects = self.list(prefix)
        for obj in objects:
            self._path(obj.key).unlink(missing_ok=True)
        return len(objects)


class S3Storage(Storage):
    # Multipart above this size; parts of this size. Parts must be >= 5 MB on S3.
    MULTIPART_THRESHOLD = 64 * 1024 * 1024

    def __init__(self, uri: str, s3: S3Resource):
        without_scheme = uri[len("s3://") :]
        self.bucket, _, prefix = without_scheme.partition("/")
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self._s3 = s3
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._s3.get_client()
        return self._client

    def _key(self, key: str) -> str:
        key = clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, full_key: str) -> str:
        return full_key[len(self.prefix) + 1 :] if self.prefix else full_key

    def list(self, prefix: str = "") -> list[StoredObject]:
        full = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        out = []
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    rel = self._rel(item["Key"])
                    if is_temporary(rel):
                        continue
                    out.append(StoredObject(rel, item["Size"], item["ETag"].strip('"')))
        except Exception as exc:  # botocore raises many kinds; all mean "cannot list"
            raise StorageError(f"cannot list {self.uri}/{prefix}: {_reason(exc)}") from exc
        return sorted(out, key=lambda o: o.key)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except Exception as exc:
            raise StorageError(f"cannot read {self.uri_of(key)}: {_reason(exc)}") from exc
        # botocore's body iterates in fixed-size chunks, not lines: give callers a real
        # buffered file, so line iteration and gzip behave as they do on local files.
        try:
            yield io.BufferedReader(_BodyReader(body), buffer_size=1024 * 1024)
        finally:
            body.close()

    def put_file(self, local_path: Path, key: str) -> str:
        from boto3.s3.transfer import TransferConfig

        final = self._key(key)
        parent, _, name = final.rpartition("/")
        tmp = f"{parent}/{temporary_name(name)}" if parent else temporary_name(name)
        config = TransferConfig(
            multipart_threshold=self.MULTIPART_THRESHOLD,
            multipart_chunksize=self.MULTIPART_THRESHOLD,
        )
        try:
            self.client.upload_file(str(local_path), self.bucket, tmp, Config=config)
            self.client.copy({"Bucket": self.bucket, "Key": tmp}, self.bucket, final, Config=config)
        except Exception as exc:
            raise StorageError(f"cannot write {self.uri_of(key)}: {_reason(exc)}") from exc
        finally:
            # The server may be gone; a leftover temporary is skipped by listings.
            with contextlib.suppress(Exception):
                self.client.delete_object(Bucket=self.bucket, Key=tmp)
        return f"s3://{self.bucket}/{final}"

    def delete_prefix(self, prefix: str) -> int:
        objects = self.list(prefix)
        for obj in objects:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(obj.key))
            except Exception as exc:
                raise StorageError(f"cannot delete {self.uri_of(obj.key)}: {_reason(exc)}") from exc
        return len(objects)


class _BodyReader(io.RawIOBase):
    """A raw, readable stream over a botocore StreamingBody."""

    def __init__(self, body: Any):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _reason(exc: Exception) -> str:
    """A short reason for an S3 failure. botocore messages carry no credentials."""
    return f"{type(exc).__name__}: {exc}"


def open_storage(uri: str, endpoint_url: str | None = None) -> Storage:
    """The storage for a URI: a local folder, or an S3 prefix through dagster-aws."""
    if uri.startswith("s3://"):
        return S3Storage(uri, S3Resource(endpoint_url=endpoint_url))
    return LocalStorage(uri)
