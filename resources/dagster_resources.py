"""Dagster resources: thin configurable wrappers that open the storage implementations
(`resources/storage.py`) and the lake (`promo.lake`) from settings."""

from __future__ import annotations

from dagster import ConfigurableResource

from promo.lake import Lake
from promo.storage import Storage
from resources.storage import open_storage


class StorageResource(ConfigurableResource):
    """A local folder, `s3://bucket/prefix` (S3 through dagster-aws's S3Resource),
    `gs://bucket/prefix` (Google Cloud Storage) or `az://container/prefix` (Azure Blob
    Storage; the account from `azure_connection_string` or `azure_account_url`). Give the
    connection string as `EnvVar("AZURE_STORAGE_CONNECTION_STRING")`: the Dagster UI then
    shows the variable's name, not the account key."""

    uri: str
    s3_endpoint_url: str | None = None
    azure_account_url: str | None = None
    azure_connection_string: str | None = None

    def storage(self) -> Storage:
        return open_storage(
            self.uri,
            self.s3_endpoint_url,
            azure_connection_string=self.azure_connection_string,
            azure_account_url=self.azure_account_url,
        )


class LakeResource(StorageResource):
    """The lake of accepted records, quarantine and manifests."""

    def lake(self) -> Lake:
        return Lake(self.storage())
