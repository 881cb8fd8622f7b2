"""Azure Blob Storage as a `promo.storage.Storage`: `az://container/prefix`.

The storage account is not in the URI: it comes from a connection string (the standard
`AZURE_STORAGE_CONNECTION_STRING`; its `BlobEndpoint` points at an emulator such as
Azurite) or from an account URL (`https://<account>.blob.core.windows.net`) with the
default Azure credential chain of azure-identity (`AZURE_CLIENT_ID`/`AZURE_TENANT_ID`/...,
a managed identity, an `az login`). Both are handed in by the caller: nothing here reads
the environment.

How writes stay atomic: blobs are block blobs. A small file is one Put Blob request; a
large one is staged block by block and becomes visible only when the block list is
committed, after the last block. Until then the final name shows nothing new (an older
blob stays readable), and uncommitted blocks are never listed; Azure discards them after a
week, or at the next successful commit of that name. So no temporary name is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from promo.storage import Storage, StorageError, StoredObject, clean_key
from resources.storage_helpers import buffered, safe_reason, under_prefix

SCHEME = "az://"


class AzureBlobStorage(Storage):
    """A prefix of an Azure Blob Storage container.

    `connection_string` (a secret: never printed) or `account_url` name the account;
    `client_options` go to `BlobServiceClient` as they are (tests add request hooks)."""

    # Files above SINGLE_PUT_LIMIT are staged in blocks of BLOCK_SIZE, each retried on
    # its own; one Put Blob below it.
    SINGLE_PUT_LIMIT = 16 * 1024 * 1024
    BLOCK_SIZE = 8 * 1024 * 1024
    # Transient errors (408, 429, 5xx, reset connections) are retried RETRY_TOTAL times
    # after about RETRY_BACKOFF_S, +2 s, +4 s, +8 s ... (the SDK's default starts at 15 s).
    RETRY_TOTAL = 5
    RETRY_BACKOFF_S = 2

    def __init__(
        self,
        uri: str,
        connection_string: str | None = None,
        account_url: str | None = None,
        **client_options: Any,
    ):
        container, _, prefix = uri.removeprefix(SCHEME).partition("/")
        if not uri.startswith(SCHEME) or not container:
            raise StorageError(f"{uri!r} is not an az://container/prefix URI")
        self.container_name = container
        self.prefix = prefix.strip("/")
        self.uri = f"{SCHEME}{container}" + (f"/{self.prefix}" if self.prefix else "")
        self._connection_string = connection_string
        self._account_url = account_url
        self._client_options = client_options
        self._container: Any = None

    def __repr__(self) -> str:  # the connection string holds the account key
        return f"AzureBlobStorage({self.uri!r})"

    @property
    def container(self) -> Any:
        """The `ContainerClient`, made on first use."""
        if self._container is None:
            try:
                self._container = self._service().get_container_client(self.container_name)
            except StorageError:
                raise
            except Exception as exc:  # a malformed connection string, most often
                raise StorageError(f"cannot connect to {self.uri}: {safe_reason(exc)}") from exc
        return self._container

    def _service(self) -> Any:
        from azure.storage.blob import BlobServiceClient, ExponentialRetry

        options = {
            "max_single_put_size": self.SINGLE_PUT_LIMIT,
            "max_block_size": self.BLOCK_SIZE,
            "retry_policy": ExponentialRetry(
                initial_backoff=self.RETRY_BACKOFF_S,
                increment_base=2,
                retry_total=self.RETRY_TOTAL,
                random_jitter_range=1,
            ),
            **self._client_options,
        }
        if self._connection_string:
            return BlobServiceClient.from_connection_string(self._connection_string, **options)
        if self._account_url:
            from azure.identity import DefaultAzureCredential

            return BlobServiceClient(self._account_url, DefaultAzureCredential(), **options)
        raise StorageError(
            f"cannot connect to {self.uri}: no Azure storage account is configured "
            "(AZURE_STORAGE_CONNECTION_STRING, or PROMO_AZURE_ACCOUNT_URL with credentials "
            "that the default Azure credential chain finds)"
        )

    def _key(self, key: str) -> str:
        key = clean_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _rel(self, name: str) -> str:
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def list(self, prefix: str = "") -> list[StoredObject]:
        full = self._key(prefix) if prefix else (f"{self.prefix}/" if self.prefix else "")
        try:
            # Blobs with only uncommitted blocks are not listed: only finished uploads.
            blobs = self.container.list_blobs(name_starts_with=full or None)
            found = [StoredObject(self._rel(b.name), b.size, b.etag.strip('"')) for b in blobs]
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot list {self.uri}/{prefix}: {safe_reason(exc)}") from exc
        return under_prefix(prefix, found)

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        try:
            # The downloader reads every chunk with the ETag of the first one, so a blob
            # replaced mid-read fails the read instead of mixing two versions.
            download = self.container.download_blob(self._key(key))
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot read {self.uri_of(key)}: {safe_reason(exc)}") from exc
        yield buffered(download)

    def put_file(self, local_path: Path, key: str) -> str:
        name = self._key(key)
        try:
            blob = self.container.get_blob_client(name)
            with Path(local_path).open("rb") as source:
                size = Path(local_path).stat().st_size
                blob.upload_blob(source, length=size, overwrite=True, max_concurrency=2)
        except StorageError:
            raise
        except Exception as exc:
            raise StorageError(f"cannot write {self.uri_of(key)}: {safe_reason(exc)}") from exc
        return f"{SCHEME}{self.container_name}/{name}"

    def delete_prefix(self, prefix: str) -> int:
        from azure.core.exceptions import ResourceNotFoundError

        objects = self.list(prefix)
        for obj in objects:
            try:
                self.container.delete_blob(self._key(obj.key))
            except ResourceNotFoundError:
                pass  # deleted meanwhile: the goal is reached
            except Exception as exc:
                raise StorageError(
                    f"cannot delete {self.uri_of(obj.key)}: {safe_reason(exc)}"
                ) from exc
        return len(objects)
