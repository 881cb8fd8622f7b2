"""The warehouse dbt builds, read by publishing: a DuckDB file, or Spark's tables.

DuckDB engine: DuckDB allows one writing process per file, and a read-only reader blocks
writers, so connections are opened and closed inside a step (never at import: a code
server would hold the lock), and every asset that opens the file runs in the
`duckdb_warehouse` pool, whose limit is 1 (see deploy/dagster.yaml).

Spark engine: the marts are Parquet tables under the Spark warehouse folder
(`promo.db/<mart>/local_date=YYYY-MM-DD/part-*.parquet`, `local_date` only in the folder
names; `user_ledger` unpartitioned). Publishing reads them with an in-memory DuckDB, one
view per mart, so the same SQL publishes from either engine. The Spark catalog (Derby)
admits one process at a time too, so the pool stays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource


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


@contextmanager
def connect_spark_tables(
    spark_dir: str | Path, marts: dict[str, bool]
) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB with a view per mart over Spark's files (`marts`: name ->
    partitioned by local_date). A mart without files yet is an empty view of nothing."""
    with connect(":memory:", read_only=False) as con:
        for mart, partitioned in marts.items():
            folder = Path(spark_dir) / "promo.db" / mart
            files = sorted(folder.glob("*/*.parquet" if partitioned else "*.parquet"))
            if not files:
                continue
            source = ", ".join(f"'{f}'" for f in files)
            hive = ", hive_partitioning = true, hive_types = {'local_date': DATE}"
            con.execute(
                f"CREATE VIEW {mart} AS SELECT * FROM read_parquet([{source}]"
                f"{hive if partitioned else ''})"
            )
        yield con


class WarehouseResource(ConfigurableResource):
    """Where dbt's marts are: `path` (DuckDB engine) or `spark_dir` (Spark engine)."""

    path: str
    engine: str = "duckdb"
    spark_dir: str | None = None

    @contextmanager
    def connect(
        self, marts: dict[str, bool], read_only: bool = True
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection where each mart of `marts` (name -> daily) is a relation."""
        if self.engine == "spark":
            with connect_spark_tables(self.spark_dir, marts) as con:
                yield con
        else:
            with connect(self.path, read_only) as con:
                yield con

    def ensure_folder(self) -> None:
        """The folder dbt writes into must exist: with the landing zone and the lake on
        S3, nothing else creates the local home the DuckDB file sits in."""
        Path(self.spark_dir if self.engine == "spark" else self.path).parent.mkdir(
            parents=True, exist_ok=True
        )

    def dbt_target_dir(self) -> Path:
        """dbt's target folder for this warehouse, the same for every run: dbt saves its
        parse there (partial_parse.msgpack) and the next run reuses it, re-parsing only
        the files that changed (a full parse costs ~4 s a run). One per warehouse, beside
        it: the saved parse is keyed on the vars, which name the warehouse. Runs never
        share it at the same time: dbt runs in the warehouse pool (limit 1)."""
        if self.engine == "spark":
            return Path(self.spark_dir).parent / "dbt_target_spark"
        return Path(self.path).parent / "dbt_target"

    def dbt_vars(self) -> dict[str, str]:
        """The vars that tell dbt's profile where this warehouse is."""
        if self.engine == "spark":
            return {"spark_warehouse_dir": str(self.spark_dir)}
        return {"warehouse_path": self.path}
