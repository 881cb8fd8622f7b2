"""Google Cloud Storage as a `promo.storage.Storage`: `gs://bucket/prefix`.

Credentials and endpoint are the google-cloud-storage client's own: application default
credentials (`GOOGLE_APPLICATION_CREDENTIALS`, a gcloud login, the metadata server of a
Google Cloud machine), or `STORAGE_EMULATOR_HOST`, which points the client at an emulator
and makes it use anonymous credentials. Nothing here reads the environment.

How writes stay atomic: an upload goes straight to its final name, because GCS creates or
replaces an object only when its upload is finalized: a single request for a small file,
the last chunk of a resumable upload for a large one. A cut upload therefore leaves nothing
at the final name (an older version stays readable), and copying from a temporary name, as
S3Storage does, would only move every byte twice. A resumable upload that fails is
cancelled when the server can still be reached; otherwise GCS drops the unfinished session
after a week. Nothing unfinished is ever listed as an object.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from promo.storage import Storage, StorageError, StoredObject, clean_key
from resources.storage_helpers import buffered, safe_reason, under_prefix

SCHEME = "gs://"


class GCSStorage(Storage):
    """A prefix of a GCS bucket. `client` is a `google.cloud.storage.Client`; by default
    one is made on first use from the standard settings (module docstring)."""

    # Files above this go as a resumable upload in chunks of this size (each chunk is
    # retried on its own); GCS needs a multiple of 256 KiB.
    CHUNK_SIZE = 16 * 1024 * 1024
    # How long one call keeps retrying transient errors (429, 5xx, reset connections)
    # with exponential backoff before it fails.
    RETRY_TIMEOUT_S = 120.0

    def __init__(self, uri: str, client: Any = None):
        bucket, _, prefix = uri.removeprefix(SCHEME).partition("/")
        if not uri.startswith(SCHEME) or not bucket:
            raise StorageError(f"{uri!r} is not a gs://bucket/prefix URI")
        self.bucket_name = bucket
        self.prefix = prefix.strip("/")
        self.uri = f"{SCHEME}{bucket}" + (f"/{self.prefix}" if self.prefix else "")
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            from google.cloud import storage

            try:
                self._client = storage.Client()
            except Exception as exc:  # no application default credentials, most often
                raise StorageError(f"cannot connect to {self.uri}: {safe_reason(exc)}") from exc
        return self._client

    def _retry(self) -> Any:
        # Uploads are retried too: rewriting the same content at the same name is safe
        # (the library retries them only under a generation precondition by default).
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(self.RETRY_TIMEOUT_S)

    def _key(self, key: str) -> str:
        key = clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def list(self, prefix: str = "") -> list[StoredObject]:
        full = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        try:
            blobs = self.client.list_blobs(self.bucket_name, prefix=full, retry=self._retry())
            found = [StoredObject(self._rel(b.name), b.size, str(b.generation)) for b in blobs]
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot list {self.uri}/{prefix}: {safe_reason(exc)}") from exc
        return under_prefix(prefix, found)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            bucket = self.client.bucket(self.bucket_name)
            blob = bucket.get_blob(self._key(key), retry=self._retry())
            if blob is None:
                raise StorageError(f"cannot read {self.uri_of(key)}: no such object")
            # Every chunk is read from the generation opened, even if a writer replaces
            # the object meanwhile (the read then fails instead of mixing two versions).
            reader = blob.open(
                "rb",
                chunk_size=self.CHUNK_SIZE,
                retry=self._retry(),
                if_generation_match=blob.generation,
            )
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot read {self.uri_of(key)}: {safe_reason(exc)}") from exc
        try:
            yield buffered(reader)
        finally:
            reader.close()

    def put_file(self, local_path: Path, key: str) -> str:
        name = self._key(key)
        try:
            blob = self.client.bucket(self.bucket_name).blob(name, chunk_size=self.CHUNK_SIZE)
            if Path(local_path).stat().st_size <= self.CHUNK_SIZE:
                blob.upload_from_filename(str(local_path), retry=self._retry())
            else:
                self._resumable_upload(blob, Path(local_path))
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot write {self.uri_of(key)}: {safe_reason(exc)}") from exc
        return f"{SCHEME}{self.bucket_name}/{name}"

    def _resumable_upload(self, blob: Any, local_path: Path) -> None:
        """Chunk by chunk; the object appears when `close()` sends the last one."""
        writer = blob.open("wb", chunk_size=self.CHUNK_SIZE, retry=self._retry())
        try:
            with local_path.open("rb") as source:
                shutil.copyfileobj(source, writer, self.CHUNK_SIZE)
            writer.close()
        except BaseException:
            # Cancel the session; when the server is gone this fails too, and the
            # original error is the one worth reporting.
            with contextlib.suppress(Exception):
                writer.terminate()
            raise

    def delete_prefix(self, prefix: str) -> int:
        from google.api_core.exceptions import NotFound

        objects = self.list(prefix)
        bucket = self.client.bucket(self.bucket_name)
        for obj in objects:
            try:
                bucket.delete_blob(self._key(obj.key), retry=self._retry())
            except NotFound:
                pass  # deleted meanwhile: the goal is reached
            except Exception as exc:
                raise StorageError(
                    f"cannot delete {self.uri_of(obj.key)}: {safe_reason(exc)}"
                ) from exc
        return len(objects)
