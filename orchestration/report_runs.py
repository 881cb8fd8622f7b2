"""Running a one-time report: a run of the `one_time_report` job in the instance, started in
one of two ways.

- `run_here` (the CLI): the job runs in this process and the call returns when the report
  is Created or Creation Failed, as `report create` has always done.
- `start_detached` (the service): the run is created in the instance at once (its status
  is Creating from that moment, for `report list`, the API and the Dagster UI alike) and
  executed by a worker process of its own (`python -m orchestration.report_worker RUN_ID`),
  started in a new session, so the request returns at once and neither a slow report nor
  a restart of the server stops the report. The worker holds a lock file for its run while
  it lives; `resume_orphans` starts a worker again for a run that is still waiting with no
  worker holding its lock (a server that stopped between creating the run and starting its
  worker).
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    EnvVar,
    JobDefinition,
    RunsFilter,
)

from assets.reports import ReportSettings, one_time_report_job, report_tags
from orchestration.recovery import process_tags
from orchestration.settings import AZURE_CONNECTION_STRING, REPO_ROOT, Settings
from promo import names

LAUNCHER_TAG = "promo/launcher"  # "service": started by start_detached
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def report_settings(settings: Settings) -> ReportSettings:
    """The report resource of these settings (here, not in `orchestration.location`: a
    one-time report runs without loading the code location, dbt's manifest included)."""
    return ReportSettings(
        marts_uri=settings.marts_uri,
        lake_uri=settings.lake_uri,
        downloads_dir=str(settings.downloads_dir),
        timezone=settings.account_timezone,
        s3_endpoint_url=settings.s3_endpoint_url,
        destinations_file=str(settings.destinations_file) if settings.destinations_file else None,
        azure_account_url=settings.azure_account_url,
        # Named, not copied: the account key stays out of the resource's config in the UI.
        azure_connection_string=EnvVar(AZURE_CONNECTION_STRING)
        if settings.azure_connection_string
        else None,
    )


def report_job(settings: Settings) -> JobDefinition:
    """The one-time report job with its resources bound (no dbt, no other assets: cheap)."""
    defs = Definitions(jobs=[one_time_report_job], resources={"reports": report_settings(settings)})
    return defs.resolve_job_def(names.ONE_TIME_REPORT_JOB)


def job_from_environment() -> JobDefinition:
    """The job rebuilt from the environment the service handed its worker (a module-level
    function, so `reconstructable` can point at it)."""
    return report_job(Settings.from_env())


def run_config(config: dict[str, Any]) -> dict[str, Any]:
    return {"ops": {"create_report": {"config": config}}, **QUIET}


def run_here(settings: Settings, instance: DagsterInstance, config: dict[str, Any]) -> str:
    """Run the report in this process; returns the run id once it has finished."""
    result = report_job(settings).execute_in_process(
        instance=instance,
        run_config=run_config(config),
        tags={**report_tags(config), **process_tags()},  # a killed run can be recovered
        raise_on_error=False,
    )
    return result.run_id


def _lock_path(settings: Settings, run_id: str) -> Path:
    folder = settings.home / "service" / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{run_id}.lock"


def _spawn(settings: Settings, run_id: str, lock_fd: int) -> None:
    """Start the worker of `run_id`, handing it the lock it keeps while it lives."""
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "report_worker.log", "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "orchestration.report_worker", run_id, str(lock_fd)],
            cwd=REPO_ROOT,
            env={**settings.child_environment(), "PYTHONPATH": str(REPO_ROOT)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            pass_fds=(lock_fd,),
            start_new_session=True,  # not in the server's process group: a restart spares it
        )


def _locked(settings: Settings, run_id: str) -> int | None:
    """An open, exclusively locked descriptor of the run's lock file; None if a worker
    holds it already."""
    fd = os.open(_lock_path(settings, run_id), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def start_detached(settings: Settings, instance: DagsterInstance, config: dict[str, Any]) -> str:
    """Create the run (status Creating) and start its worker; returns the run id at once."""
    job = report_job(settings)
    run = instance.create_run_for_job(
        job_def=job,
        run_config=run_config(config),
        tags={**job.run_tags, **report_tags(config), LAUNCHER_TAG: "service"},
    )
    fd = _locked(settings, run.run_id)
    try:
        _spawn(settings, run.run_id, fd)
    finally:
        os.close(fd)  # the worker has its own copy of the locked descriptor
    return run.run_id


def resume_orphans(settings: Settings, instance: DagsterInstance) -> list[str]:
    """Start a worker for each service run that is still waiting with nobody running it."""
    waiting = instance.get_run_records(
        RunsFilter(
            job_name=names.ONE_TIME_REPORT_JOB,
            statuses=[DagsterRunStatus.NOT_STARTED],
            tags={LAUNCHER_TAG: "service"},
        )
    )
    resumed = []
    for record in waiting:
        fd = _locked(settings, record.dagster_run.run_id)
        if fd is None:
            continue  # its worker is alive and about to start it
        try:
            _spawn(settings, record.dagster_run.run_id, fd)
        finally:
            os.close(fd)
        resumed.append(record.dagster_run.run_id)
    return resumed
