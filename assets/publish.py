"""Publish the marts as Parquet for BI: `<marts>/<mart>/date=YYYY-MM-DD/part-<hash>.parquet`.

Each partition is one Parquet file named after its content plus a `_manifest.json` that
names it (rows, schema, sha256, generated at), written through the storage interface
(local folder or S3), so a reader going through the manifest sees a whole partition or
the previous one. A re-run day replaces its partition. `user_ledger` is a full snapshot
in `<marts>/user_ledger/`.
"""

import hashlib
import json
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    FreshnessPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
    multi_asset,
)

from promo import layout
from promo.marts import MARTS, ContractError, Mart, schema_drift
from promo.names import WAREHOUSE_POOL
from promo.timeutil import days, window_days
from resources.dagster_resources import StorageResource
from resources.dbt import ContractColumn, mart_contracts
from resources.warehouse import WarehouseResource


def published_key(mart: str) -> AssetKey:
    return AssetKey(["marts", mart])


def warehouse_key(mart: str) -> AssetKey:
    return AssetKey(["warehouse", mart])


def publish_partition(
    con, storage, mart: Mart, day: date | None, tmp: Path, contract: list[ContractColumn]
) -> dict[str, Any]:
    """Write one partition (or the snapshot) and its manifest; returns the manifest.

    The contract fixes the published columns, their order (Spark writes its partition
    column last, and BI must not see which engine built a mart) and their types: a file
    whose schema differs from the contract is refused before anything is uploaded."""
    columns = [c.name for c in contract]
    where = "WHERE local_date = $day" if day else ""
    params = {"day": day} if day else None
    select = ", ".join(f'"{c}"' for c in columns)
    relation = con.sql(
        f"SELECT {select} FROM {mart.name} {where} ORDER BY {mart.order_by}", params=params
    )
    local = tmp / f"{mart.name}-{day}.parquet"
    write_parquet(relation.to_arrow_table(), local)
    meta = pq.ParquetFile(local)
    actual = {f.name: str(f.type) for f in meta.schema_arrow}
    drift = schema_drift({c.name: c.arrow_type for c in contract}, actual)
    if drift:
        local.unlink()
        raise ContractError(
            f"{mart.name}{f' {day}' if day else ''} does not match its dbt contract, "
            f"nothing published: {'; '.join(drift)}"
        )
    sha256 = file_sha256(local)
    folder = layout.mart_partition(mart.name, day)
    name = layout.mart_data_name(sha256)
    # Data first, under a name of its own, then the manifest that names it, then the old
    # data file goes: S3 cannot replace two objects at once, and whatever step a cut
    # stops at, the manifest names a complete file holding the rows it counts (the
    # previous pair until the new manifest lands). Identical content gets the same name.
    storage.put_file(local, f"{folder}/{name}")
    local.unlink()
    uri = storage.uri_of(f"{folder}/{name}")
    manifest = {
        "mart": mart.name,
        "date": day.isoformat() if day else None,
        "file": name,
        "sha256": sha256,
        "rows": meta.metadata.num_rows,
        "schema": {f.name: str(f.type) for f in meta.schema_arrow},
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "uri": uri,
    }
    storage.put_bytes(json.dumps(manifest, indent=2).encode(), layout.mart_manifest(mart.name, day))
    remove_replaced(storage, folder, name)
    return manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(4 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def remove_replaced(storage, folder: str, keep: str) -> None:
    """Delete the folder's other data files (the partition's previous content, or one a
    cut publish left without its manifest); other objects in the folder are not ours."""
    for obj in storage.list(f"{folder}/"):
        parent, _, name = obj.key.rpartition("/")
        if parent == folder and name != keep and layout.is_mart_data_file(name):
            storage.delete_prefix(obj.key)


def write_parquet(table: pa.Table, path: Path) -> None:
    """Every published column is nullable: DuckDB marks a column REQUIRED when its table's
    statistics have seen no null so far, which would make a mart's schema change from one
    publish to the next (and differ between engines)."""
    schema = pa.schema([f.with_nullable(True) for f in table.schema])
    pq.write_table(table.cast(schema), path, compression="zstd")


def days_to_publish(con, mart: Mart, first: date, last: date) -> list[date]:
    """The window's days; for a cascading mart, every built day from `first` on."""
    if mart.cascades:
        latest = con.sql(f"SELECT max(local_date) FROM {mart.name}").fetchall()[0][0]
        last = max(last, latest) if latest else last
    return days(first, last)


def partition_metadata(manifest: dict[str, Any]) -> dict[str, Any]:
    """What one day partition's materialization says: that day's rows (Dagster's own
    `dagster/row_count`, which the UI charts), and where its file is."""
    return {
        "dagster/row_count": MetadataValue.int(manifest["rows"]),
        "dagster/uri": MetadataValue.text(manifest["uri"]),
    }


def column_schema(contract: list[ContractColumn]) -> TableSchema:
    """The published file's columns with their Parquet (Arrow) types, for the catalog."""
    return TableSchema(
        columns=[TableColumn(c.name, c.arrow_type, description=c.description) for c in contract]
    )


def build_publish_assets(
    partitions: PartitionsDefinition, freshness: FreshnessPolicy | None = None
):
    contracts = mart_contracts()

    @multi_asset(
        name="publish_marts",
        specs=[
            AssetSpec(
                published_key(m.name),
                deps=[warehouse_key(m.name)],
                description=f"{m.description} Published as Parquet for BI: "
                + (
                    "one folder per account-timezone day (`date=YYYY-MM-DD`)."
                    if m.daily
                    else "one snapshot file, replaced by every run."
                ),
                group_name="published",
                kinds={"parquet"},
                partitions_def=partitions,
                freshness_policy=freshness,
                metadata={"dagster/column_schema": column_schema(contracts[m.name])},
            )
            for m in MARTS.values()
        ],
        backfill_policy=BackfillPolicy.single_run(),
        pool=WAREHOUSE_POOL,
        can_subset=True,
    )
    def publish_marts(
        context: AssetExecutionContext, warehouse: WarehouseResource, marts: StorageResource
    ):
        first, last = window_days(*context.partition_time_window)
        storage = marts.storage()
        selected = [
            m for m in MARTS.values() if m.name in {k.path[-1] for k in context.selected_asset_keys}
        ]
        daily = {m.name: m.daily for m in selected}
        with warehouse.connect(daily) as con, tempfile.TemporaryDirectory() as tmp:
            for mart in selected:
                to_publish = days_to_publish(con, mart, first, last) if mart.daily else [None]
                manifests = [
                    publish_partition(con, storage, mart, day, Path(tmp), contracts[mart.name])
                    for day in to_publish
                ]
                key = published_key(mart.name)
                in_run = set(context.partition_keys)
                for m in manifests:
                    # Each day partition of the run carries its own file's figures, not
                    # the run's (a range run materializes every day of its range). A
                    # snapshot mart's one file is what every partition of the run shows.
                    for day_key in [m["date"]] if m["date"] else sorted(in_run):
                        if day_key in in_run:
                            context.add_asset_metadata(
                                partition_metadata(m), asset_key=key, partition_key=day_key
                            )
                yield MaterializeResult(
                    asset_key=key,
                    metadata={
                        "location": MetadataValue.text(storage.uri_of(mart.name)),
                        # Days after the run's range that a cascading mart republished.
                        "republished_after_range": MetadataValue.json(
                            sorted(
                                m["date"]
                                for m in manifests
                                if m["date"] not in in_run and m["date"]
                            )
                        ),
                    },
                )

    return [publish_marts]
