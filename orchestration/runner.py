"""Run jobs through Dagster from Python (the CLI's `materialize`), recorded in the
persistent instance like a UI launch, with the real multiprocess executor."""

from __future__ import annotations

from contextlib import nullcontext
from datetime import date

from dagster import DagsterEventType, DagsterInstance, execute_job, reconstructable

from orchestration import location
from orchestration.instance import open_instance
from orchestration.partitions import daily_partitions
from orchestration.recovery import PoolWatch, process_tags, recover
from orchestration.settings import Settings
from orchestration.urls import redact_postgres_url
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


def say(line: str) -> None:
    print(line, flush=True)


def materialize_range(
    settings: Settings, start: date, end: date, notify=say, progress=None
) -> tuple[bool, list[str]]:
    """Run the dimensions job, then the daily job over START..END. Runs left behind by a
    killed process are recovered first; while a step waits for a pool, `notify` is told
    which run holds it; `progress` (orchestration.progress.RunProgress) shows the steps."""
    last = daily_partitions(settings).get_last_partition_key()
    problem = check_range(settings, start, end, last)
    if problem:
        return False, [f"error: {problem}"]
    lines = []
    local = settings.dagster_pg_url is None  # SQLite: every run of the instance ran here
    watch = PoolWatch(lambda: open_instance(settings), local, notify)
    with open_instance(settings) as instance, watch, progress or nullcontext():
        for line in recover(instance, local):
            notify(line)
        dims = execute_job(
            reconstructable(location.promo_dimensions_job),
            instance,
            run_config=QUIET,
            tags=process_tags(),
        )
        lines.append(f"dimensions run {dims.run_id}: {'ok' if dims.success else 'FAILED'}")
        if not dims.success:
            return False, lines
        tags = {names.RANGE_START_TAG: start.isoformat(), names.RANGE_END_TAG: end.isoformat()}
        tags.update(process_tags())
        daily = execute_job(
            reconstructable(location.promo_daily_job), instance, run_config=QUIET, tags=tags
        )
        lines.append(
            f"daily run {daily.run_id} for {start}..{end}: {'ok' if daily.success else 'FAILED'}"
        )
        if not daily.success:
            lines.append(why_not(instance, daily))
            return False, lines
    lines += [
        f"lake (accepted records): {settings.lake_uri}/accepted",
        f"quarantine: {settings.lake_uri}/quarantine",
        f"warehouse (DuckDB, built by dbt): {settings.warehouse_path}",
        f"marts for BI (Parquet by day): {settings.marts_uri}",
        f"dagster instance (runs, metadata): {instance_location(settings)}",
    ]
    return True, lines


def instance_location(settings: Settings) -> str:
    if settings.dagster_pg_url:
        return f"PostgreSQL {redact_postgres_url(settings.dagster_pg_url)}"
    return str(settings.dagster_home)


def why_not(instance: DagsterInstance, result) -> str:
    """The failed steps of an unsuccessful run, or, when none failed (the run was stopped,
    e.g. while its steps waited for a pool), its status and the reason Dagster recorded."""
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    if failed:
        return f"failed steps: {', '.join(failed)} (see `make dev` -> Runs)"
    run = instance.get_run_by_id(result.run_id)
    ends = instance.all_logs(
        result.run_id, of_type={DagsterEventType.RUN_FAILURE, DagsterEventType.RUN_CANCELED}
    )
    reason = ends[-1].message if ends else "no reason recorded"
    return f"run {result.run_id} ended {run.status.value} without a failed step: {reason}"
