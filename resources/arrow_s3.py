"""S3 as a pyarrow filesystem (pyarrow's own S3 client, built into its wheel), and the same
as an fsspec filesystem for DuckDB: DuckDB's S3 support (httpfs) is a download at run
time that offline machines cannot make, while `register_filesystem` takes any fsspec
filesystem and reads through it, globs and hive partitions included.

Credentials come from the standard AWS chain (the variables, a profile, an instance or pod
role), read by pyarrow's AWS SDK; `endpoint_url` points it at an S3-compatible server.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pyarrow.fs as pafs
from fsspec.implementations.arrow import ArrowFSWrapper


def s3_filesystem(endpoint_url: str | None = None) -> pafs.S3FileSystem:
    if not endpoint_url:
        return pafs.S3FileSystem()
    parts = urlsplit(endpoint_url)
    return pafs.S3FileSystem(endpoint_override=parts.netloc, scheme=parts.scheme or "https")


class FsspecS3(ArrowFSWrapper):
    """pyarrow's S3 filesystem under fsspec's `s3://` protocol (for DuckDB)."""

    protocol = ("s3", "s3a")
    root_marker = ""

    def __init__(self, endpoint_url: str | None = None, **kwargs):
        super().__init__(s3_filesystem(endpoint_url), **kwargs)
