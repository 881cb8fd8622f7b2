"""Dagster resources: thin configurable wrappers over plain classes (storage, lake)."""

from __future__ import annotations

from dagster import ConfigurableResource

from promo.storage import Storage
from resources.lake import Lake
from resources.storage import open_storage


class StorageResource(ConfigurableResource):
    """A local folder or an `s3://bucket/prefix` (S3 through dagster-aws's S3Resource)."""

    uri: str
    s3_endpoint_url: str | None = None

    def storage(self) -> Storage:
        return open_storage(self.uri, self.s3_endpoint_url)


class LakeResource(ConfigurableResource):
    """The local lake folder of accepted records and quarantine."""

    path: str

    def lake(self) -> Lake:
        return Lake(self.path)
