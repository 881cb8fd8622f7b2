"""Implementations of `promo.storage.Storage`: a local folder and an S3 prefix; Google
Cloud Storage and Azure Blob Storage live in `storage_gcs.py` and `storage_azure.py`.

Assets, sensors and the CLI only see `Storage`; which one they get depends on the URI
(`/some/folder`, `s3://bucket/prefix`, `gs://bucket/prefix`, `az://container/prefix`), so
nothing downstream branches on the environment. Every write is atomic: the final name
appears only when the content is complete. Local files are written beside their target and
renamed; S3 objects are uploaded to a temporary key (multipart above 64 MB) and copied to
the final key in one request.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow.fs as pafs

from promo.storage import (
    TMP_PREFIX,
    Storage,
    StorageError,
    StoredObject,
    clean_key,
    is_temporary,
    temporary_name,
)
from resources.arrow_s3 import s3_filesystem
from resources.storage_helpers import buffered, safe_reason, under_prefix

if TYPE_CHECKING:
    from dagster_aws.s3 import S3Resource

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

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        return pafs.LocalFileSystem(), str(self.root)

    def list(self, prefix: str = "") -> list[StoredObject]:
        base = self._path(prefix) if prefix else self.root
        if not prefix and not base.is_dir():
            # Nothing stored yet. (As a name's start, the root would match its siblings:
            # `lake` would list `lake-old/`.)
            return []
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
    # The temporary is copied to the final key in one CopyObject request up to S3's limit
    # for it, so no multipart upload is ever opened on a final key below 5 GiB.
    COPY_LIMIT = 5 * 1024**3
    # A multipart upload on a temporary key started this long ago belongs to a dead
    # writer (a killed process): the first write of a storage object aborts it.
    STALE_UPLOAD_S = 24 * 3600
    # A whole temporary object this old belongs to a writer that died between its upload
    # and its copy: the first write into that folder deletes it, as LocalStorage does.
    STALE_TEMPORARY_S = STALE_AFTER_S

    def __init__(self, uri: str, s3: S3Resource):
        without_scheme = uri[len("s3://") :]
        self.bucket, _, prefix = without_scheme.partition("/")
        self.prefix = prefix.strip("/")
        self.uri = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self._s3 = s3
        self._client: Any = None
        self._swept = False
        self._swept_folders: set[str] = set()

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._s3.get_client()
        return self._client

    def arrow(self) -> tuple[pafs.FileSystem, str]:
        root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        return s3_filesystem(self._s3.endpoint_url), root

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
                    out.append(StoredObject(rel, item["Size"], item["ETag"].strip('"')))
        except Exception as exc:  # botocore raises many kinds; all mean "cannot list"
            raise StorageError(f"cannot list {self.uri}/{prefix}: {safe_reason(exc)}") from exc
        return under_prefix(prefix, out)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except Exception as exc:
            raise StorageError(f"cannot read {self.uri_of(key)}: {safe_reason(exc)}") from exc
        try:
            yield buffered(body)
        finally:
            body.close()

    def put_file(self, local_path: Path, key: str) -> str:
        from boto3.s3.transfer import TransferConfig

        final = self._key(key)
        parent, _, name = final.rpartition("/")
        tmp = f"{parent}/{temporary_name(name)}" if parent else temporary_name(name)
        self._clean_up_earlier_failures()
        upload = TransferConfig(
            multipart_threshold=self.MULTIPART_THRESHOLD,
            multipart_chunksize=self.MULTIPART_THRESHOLD,
        )
        copy = TransferConfig(multipart_threshold=self.COPY_LIMIT)
        self._delete_stale_temporaries(parent)
        try:
            self.client.upload_file(str(local_path), self.bucket, tmp, Config=upload)
            self.client.copy(
                {"Bucket": self.bucket, "Key": tmp},
                self.bucket,
                final,
                # A whole-object checksum computed for the copy: the multipart source's
                # is per part, and does not describe an object copied in one request.
                ExtraArgs={"ChecksumAlgorithm": "CRC32"},
                Config=copy,
            )
        except Exception as exc:
            self._clean_up(tmp, failed=True)
            raise StorageError(f"cannot write {self.uri_of(key)}: {safe_reason(exc)}") from exc
        self._clean_up(tmp, failed=False)
        return f"s3://{self.bucket}/{final}"

    def _clean_up(self, tmp: str, failed: bool) -> None:
        """Delete a temporary and, after a failure, abort any multipart upload still open
        on it. boto3 aborts a failed upload itself, but not when the server is unreachable,
        which is when uploads fail; what cannot be cleaned now is left to the next write to
        this bucket from this process, once the server answers again (and, should this
        process end first, to the sweep of old temporaries in the folder)."""
        cleaned = True
        if failed:
            try:
                listed = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=tmp)
                for upload in listed.get("Uploads", []):
                    if upload["Key"] == tmp:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=tmp, UploadId=upload["UploadId"]
                        )
            except Exception:
                cleaned = False
        # On its own: an upload that completed before the copy failed left a whole object
        # that readers list, whether or not the uploads could be listed.
        try:
            self.client.delete_object(Bucket=self.bucket, Key=tmp)
        except Exception:
            cleaned = False
        if not cleaned:
            with _LEFT_BEHIND_LOCK:
                _LEFT_BEHIND.setdefault(self._server(), set()).add(tmp)

    def _clean_up_earlier_failures(self) -> None:
        with _LEFT_BEHIND_LOCK:
            pending = _LEFT_BEHIND.pop(self._server(), set())
        for tmp in sorted(pending):
            self._clean_up(tmp, failed=True)
        if not self._swept:
            self._swept = True
            self._abort_stale_uploads()

    def _delete_stale_temporaries(self, parent: str) -> None:
        """Delete old temporary objects in the folder about to be written: what a writer
        killed between its upload and its copy left (no process remembers them). Once per
        folder and storage object; a failure is retried at the next write there."""
        if parent in self._swept_folders:
            return
        now = datetime.now(UTC)
        prefix = f"{parent}/{TMP_PREFIX}" if parent else TMP_PREFIX
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", []):
                    age = (now - item["LastModified"]).total_seconds()
                    if age >= self.STALE_TEMPORARY_S:
                        self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
        except Exception:
            return
        self._swept_folders.add(parent)

    def _abort_stale_uploads(self) -> None:
        """Abort multipart uploads on temporary keys under this prefix that a writer killed
        mid-upload (no chance to clean up) left open: only old ones, since a fresh one may
        belong to a live writer."""
        now = datetime.now(UTC)
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    age = (now - upload["Initiated"]).total_seconds()
                    if is_temporary(upload["Key"]) and age >= self.STALE_UPLOAD_S:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
        except Exception:
            self._swept = False  # the server may be away: try again at the next write

    def _server(self) -> tuple[str, str]:
        return (self.client.meta.endpoint_url, self.bucket)

    def delete_prefix(self, prefix: str) -> int:
        objects = self.list(prefix)
        for obj in objects:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=self._key(obj.key))
            except Exception as exc:
                raise StorageError(
                    f"cannot delete {self.uri_of(obj.key)}: {safe_reason(exc)}"
                ) from exc
        return len(objects)


# Temporaries whose cleanup failed because the server was unreachable, by (endpoint,
# bucket): any S3Storage of this process on that bucket retries at its next write.
_LEFT_BEHIND: dict[tuple[str, str], set[str]] = {}
_LEFT_BEHIND_LOCK = threading.Lock()


def open_storage(
    uri: str,
    endpoint_url: str | None = None,
    *,
    azure_connection_string: str | None = None,
    azure_account_url: str | None = None,
) -> Storage:
    """The storage for a URI, chosen by its scheme:

    - `s3://bucket/prefix`: S3 through dagster-aws; `endpoint_url` for an S3-compatible
      server (PROMO_S3_ENDPOINT_URL), credentials from the AWS chain;
    - `gs://bucket/prefix`: Google Cloud Storage; credentials and emulator from the
      client's own settings (application default credentials, STORAGE_EMULATOR_HOST);
    - `az://container/prefix`: Azure Blob Storage in the account named by
      `azure_connection_string` (AZURE_STORAGE_CONNECTION_STRING) or `azure_account_url`
      with the default Azure credential chain;
    - anything else: a local folder.
    The cloud clients are imported only when their scheme is used."""
    if uri.startswith("s3://"):
        from dagster_aws.s3 import S3Resource  # seconds to import: only when S3 is used

        return S3Storage(uri, S3Resource(endpoint_url=endpoint_url))
    if uri.startswith("gs://"):
        from resources.storage_gcs import GCSStorage

        return GCSStorage(uri)
    if uri.startswith("az://"):
        from resources.storage_azure import AzureBlobStorage

        return AzureBlobStorage(uri, azure_connection_string, azure_account_url)
    if "://" in uri:
        raise StorageError(f"{uri!r}: unknown storage scheme (s3://, gs://, az:// or a folder)")
    return LocalStorage(uri)
