"""Run jobs through Dagster from Python (the CLI's `materialize`), recorded in the
persistent instance like a UI launch, with the real multiprocess executor."""

from __future__ import annotations

from datetime import date

from dagster import execute_job, reconstructable

from orchestration import location
from orchestration.instance import open_instance
from orchestration.partitions import daily_partitions
from orchestration.settings import Settings
from promo import names

# Dagster's console logger prints every engine event at DEBUG; INFO keeps our own lines
# (counts per folder, dbt's output) and every warning and error.
QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def check_range(
    settings: Settings, start: date, end: date, last_partition: str | None
) -> str | None:
    """A readable reason why START..END cannot be materialized, or None."""
    if end < start:
        return f"--end {end} is before --start {start}"
    if start < settings.partition_start:
        return (
            f"--start {start} is before the first partition {settings.partition_start} "
            "(set PROMO_PARTITION_START to go further back)"
        )
    if last_partition is None or end.isoformat() > last_partition:
        return (
            f"--end {end} is not a completed day in {settings.account_timezone} yet "
            f"(the last partition is {last_partition})"
        )
    return None


def materialize_range(settings: Settings, start: date, end: date) -> tuple[bool, list[str]]:
    last = daily_partitions(settings).get_last_partition_key()
    problem = check_range(settings, start, end, last)
    if problem:
        return False, [f"error: {problem}"]
    lines = []
    with open_instance(settings) as instance:
        dims = execute_job(
            reconstructable(location.promo_dimensions_job), instance, run_config=QUIET
        )
        lines.append(f"dimensions run {dims.run_id}: {'ok' if dims.success else 'FAILED'}")
        if not dims.success:
            return False, lines
        tags = {names.RANGE_START_TAG: start.isoformat(), names.RANGE_END_TAG: end.isoformat()}
        daily = execute_job(
            reconstructable(location.promo_daily_job), instance, run_config=QUIET, tags=tags
        )
        lines.append(
            f"daily run {daily.run_id} for {start}..{end}: {'ok' if daily.success else 'FAILED'}"
        )
        if not daily.success:
            failed = [e.step_key for e in daily.all_events if e.is_step_failure]
            lines.append(f"failed steps: {', '.join(failed)} (see `make dev` -> Runs)")
            return False, lines
    lines += [
        f"lake (accepted records): {settings.lake_uri}/accepted",
        f"quarantine: {settings.lake_uri}/quarantine",
        f"warehouse (DuckDB, built by dbt): {settings.warehouse_path}",
        f"marts for BI (Parquet by day): {settings.marts_uri}",
        f"dagster instance (runs, metadata): {settings.dagster_home}",
    ]
    return True, lines
