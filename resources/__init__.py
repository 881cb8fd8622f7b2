"""Dagster resources: thin configurable wrappers that open the storage implementations
(`resources/storage.py`) and the lake (`promo.lake`) from settings."""

from __future__ import annotations

from dagster import ConfigurableResource

from promo.lake import Lake
from promo.storage import Storage
from resources.storage import open_storage


class StorageResource(ConfigurableResource):
    """A local folder or an `s3://bucket/prefix` (S3 through dagster-aws's S3Resource)."""

    uri: str
    s3_endpoint_url: str | None = None

    def storage(self) -> Storage:
        return open_storage(self.uri, self.s3_endpoint_url)


class LakeResource(StorageResource):
    """The lake of accepted records, quarantine and manifests."""

    def lake(self) -> Lake:
        return Lake(self.storage())
