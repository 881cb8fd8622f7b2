"""Helpers for tests: run jobs in process, count raw lines independently."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import polars as pl
from dagster import AssetKey, DagsterInstance

from orchestration.settings import Settings
from promo import contract

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
INGESTION_KEYS = [AssetKey(["lake", s]) for s in contract.STREAMS]
# The published daily marts, written out here (not imported from the code under test):
# their names are the BI interface. `user_ledger` is the one snapshot mart.
DAILY_MART_NAMES = (
    "wallet_transactions",
    "wallet_daily_summary",
    "reward_assignments",
    "campaign_user_errors",
    "voucher_assignments",
    "campaign_daily_stats",
)


def run_daily(settings: Settings, start: str, end: str, selection=None, instance=None):
    """Run the daily job in process over local days start..end (one run, like a backfill)."""
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings)
    job = defs.resolve_job_def("promo_daily")
    return job.execute_in_process(
        instance=instance or DagsterInstance.ephemeral(),
        tags={RANGE_START_TAG: start, RANGE_END_TAG: end},
        asset_selection=selection,
        raise_on_error=False,
    )


def run_dimensions(settings: Settings, instance=None):
    from orchestration.definitions import build_definitions

    job = build_definitions(settings).resolve_job_def("promo_dimensions")
    return job.execute_in_process(instance=instance or DagsterInstance.ephemeral())


def raw_line_counts(landing: Path) -> dict[str, int]:
    """Lines per stream, counted the plain way: split the (decompressed) bytes on newlines."""
    counts: dict[str, int] = {}
    for path in sorted(landing.glob("events/*/date=*/*")):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        n = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        stream = path.parts[-3]
        counts[stream] = counts.get(stream, 0) + n
    return counts


def lake_rows(lake: Path, kind: str, stream: str) -> pl.DataFrame:
    files = sorted((lake / kind / stream).glob("utc_date=*/part-0.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files]) if files else pl.DataFrame()


def mart_file(marts: Path, mart: str, day: str | None = None) -> Path:
    """The data file a published partition's `_manifest.json` names (read here with plain
    json, not through the code under test); `day` None: the snapshot mart's folder."""
    folder = marts / mart / (f"date={day}" if day else "")
    return folder / json.loads((folder / "_manifest.json").read_text())["file"]


def destinations_file(path: Path, *s3_buckets: str, **entries: dict) -> Path:
    """A PROMO_DESTINATIONS_FILE: each S3 bucket as a destination named after it (what the
    older `{destination: s3, bucket: ...}` specs of the tests need), plus named entries."""
    import yaml

    named = {bucket: {"kind": "s3", "bucket": bucket} for bucket in s3_buckets}
    path.write_text(yaml.safe_dump({"destinations": {**named, **entries}}, sort_keys=False))
    return path


def run_dbt_unit_tests(
    variables: dict[str, str],
    folder: Path,
    engine: str = "duckdb",
    select: str = "test_type:unit",
):
    """dbt's unit tests (`dbt test --select test_type:unit`) against the warehouse the
    vars name, which must hold the models' parents (dbt reads their column types). The
    orchestrator leaves them out of its runs: CI runs them through this. Returns dbt's
    exit code, output, and the number of unit tests in the project. `select`: other
    tests instead (the same folder keeps dbt's parse from one call to the next)."""
    import json
    import subprocess

    from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT, DBT_PROJECT_DIR, TARGETS

    command = [
        DBT_EXECUTABLE,
        "test",
        "--select",
        select,
        "--vars",
        json.dumps(variables),
        "--target",
        TARGETS[engine],
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        # never the project's own target/: the code location reads its manifest
        "--target-path",
        str(folder / "dbt-target"),
        "--log-path",
        str(folder / "dbt-target"),
    ]
    done = subprocess.run(
        command, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, timeout=1800
    )
    expected = len(json.loads(DBT_PROJECT.manifest_path.read_text())["unit_tests"])
    return done.returncode, done.stdout, expected
