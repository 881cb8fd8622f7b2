"""Rebuild from the lake: a lost machine loses nothing that matters.

The lake (accepted records, quarantine, manifests, dimension snapshots) is the source of
truth; the warehouse is a cache of it and the published marts are derived. `rebuild`
removes the warehouse, then runs the job `promo_rebuild` (dbt, publishing, stats; no
ingestion, so the landing zone may be gone) over every account-timezone day the lake
holds, as one run.
"""

from __future__ import annotations

import shutil
from datetime import date

from dagster import RunsFilter, execute_job, reconstructable

from orchestration import location
from orchestration.instance import open_instance
from orchestration.partitions import daily_partitions
from orchestration.recovery import UNFINISHED, process_tags, recover
from orchestration.runner import QUIET, why_not
from orchestration.settings import Settings
from promo import contract, names
from promo.lake import Lake
from promo.timeutil import local_days_for_utc_folder
from resources.storage import open_storage


def lake_days(settings: Settings) -> tuple[date, date] | None:
    """The first and last account-timezone day with events in the lake (any stream)."""
    lake = Lake(open_storage(settings.lake_uri, settings.s3_endpoint_url))
    # Folders that hold records: ingesting a window writes every UTC folder it overlaps,
    # empty ones too (their manifests say 0 accepted), which must not widen the range.
    folders = [
        date.fromisoformat(m["utc_date"])
        for m in lake.manifests()
        if m.get("stream") in contract.STREAMS and m.get("accepted", 0) > 0
    ]
    if not folders:
        return None
    first = local_days_for_utc_folder(min(folders), settings.tz)[0]
    last = local_days_for_utc_folder(max(folders), settings.tz)[-1]
    latest = daily_partitions(settings).get_last_partition_key()
    first = max(first, settings.partition_start)
    return (first, min(last, date.fromisoformat(latest))) if latest else None


def remove_warehouse(settings: Settings) -> str:
    """Delete what dbt built (the DuckDB file and its write-ahead log, or the Spark
    warehouse folder): the next build is a first build."""
    if settings.engine == "spark":
        shutil.rmtree(settings.spark_warehouse_dir, ignore_errors=True)
        return str(settings.spark_warehouse_dir)
    for path in (
        settings.warehouse_path,
        settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal"),
    ):
        path.unlink(missing_ok=True)
    return str(settings.warehouse_path)


def runs_in_the_way(instance) -> list[str]:
    """Unfinished runs (after recovery) that may use the warehouse: any but a report's,
    which reads the published marts only."""
    runs = instance.get_runs(RunsFilter(statuses=UNFINISHED))
    return [
        f"{run.run_id} ({run.job_name}, {run.status.value})"
        for run in runs
        if names.KIND_TAG not in run.tags
    ]


def rebuild(settings: Settings, notify=print) -> tuple[bool, list[str]]:
    local = settings.dagster_pg_url is None
    with open_instance(settings) as instance:
        for line in recover(instance, local):
            notify(line)
        busy = runs_in_the_way(instance)
        if busy:
            return False, [
                f"error: rebuild deletes the warehouse, and {len(busy)} unfinished run(s) may "
                f"be using it: {', '.join(busy)}. Wait for them or terminate them (the UI's "
                "Runs page; `promo-reports recover --run ID` for one whose process is gone), "
                "then run rebuild again."
            ]
        days = lake_days(settings)
        if days is None:
            return False, [f"error: the lake at {settings.lake_uri} holds no accepted records"]
        first, last = days
        notify(f"removed the warehouse {remove_warehouse(settings)}")
        notify(f"rebuilding {first}..{last} from {settings.lake_uri}")
        tags = {names.RANGE_START_TAG: first.isoformat(), names.RANGE_END_TAG: last.isoformat()}
        result = execute_job(
            reconstructable(location.promo_rebuild_job),
            instance,
            run_config=QUIET,
            tags={**tags, **process_tags()},
        )
        if not result.success:
            return False, [f"rebuild run {result.run_id}: FAILED", why_not(instance, result)]
    return True, [
        f"rebuild run {result.run_id} for {first}..{last}: ok",
        f"marts for BI (Parquet by day): {settings.marts_uri}",
    ]
