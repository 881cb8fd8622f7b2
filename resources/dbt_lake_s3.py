"""A dbt-duckdb plugin: lets the warehouse's DuckDB read an `s3://` lake.

profiles.yml loads it on every connection dbt opens. When the run's `lake_dir` var is an
`s3://` URI, it registers pyarrow's S3 client as DuckDB's `s3://` filesystem (see
`resources/arrow_s3.py`), so the sources' `read_parquet('s3://…/*/part-0.parquet')` read
the lake in place, with hive partition pruning, without DuckDB's httpfs extension.
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.on_s3 = str(plugin_config.get("lake") or "").startswith("s3://")
        self.endpoint_url = plugin_config.get("endpoint_url") or None

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        if self.on_s3:
            # Imported here: pyarrow and fsspec cost every dbt run ~0.5 s of start-up,
            # and a local lake (the default) needs neither.
            from resources.arrow_s3 import FsspecS3

            conn.register_filesystem(FsspecS3(self.endpoint_url))
