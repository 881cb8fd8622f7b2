"""The DuckDB warehouse file that dbt builds.

DuckDB allows one writing process per file, and a read-only reader blocks writers, so:
connections are opened and closed inside a step (never at import: a code server would
hold the lock), and every asset that opens the file runs in the `duckdb_warehouse` pool,
whose limit is 1 (see dagster.yaml).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

WAREHOUSE_POOL = "duckdb_warehouse"


@contextmanager
def connect(path: str | Path, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        # The session time zone otherwise follows the process TZ and changes what ::date
        # gives; everything here is explicit UTC, converted on purpose.
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


class WarehouseResource(ConfigurableResource):
    path: str

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        with connect(self.path, read_only) as con:
            yield con
