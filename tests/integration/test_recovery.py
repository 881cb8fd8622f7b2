"""`promo-reports recover` on both instance storages, over the states a killed run leaves:
a STARTED run holding a `duckdb_warehouse` slot whose process is gone, one whose process
runs, one started on another machine, and a finished run that still holds a slot. The
runs are recorded through the instance's own API (the end-to-end SIGKILL scenarios are in
tests/reliability/test_killed_runs.py); the dead process is a real one, killed."""

from __future__ import annotations

import socket
import subprocess

import pytest
from dagster import DagsterInstance, DagsterRunStatus, job, op

from orchestration.cli import main
from orchestration.instance import ensure_dagster_home
from orchestration.recovery import PROCESS_TAG, boot_id, process_tags

pytestmark = pytest.mark.integration
POOL = "duckdb_warehouse"


@op
def step():
    pass


@job
def placeholder():
    step()


def dead_pid() -> int:
    proc = subprocess.Popen(["sleep", "60"])
    proc.kill()
    proc.wait()
    return proc.pid


@pytest.fixture(params=["sqlite", "postgres"])
def instance(request, promo_env):
    extra = {}
    if request.param == "postgres":
        extra["PROMO_DAGSTER_PG_URL"] = request.getfixturevalue("pg_url")
    settings = promo_env(**extra)
    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        yield instance


def started_run(instance: DagsterInstance, process: str, status=DagsterRunStatus.STARTED):
    run = instance.create_run_for_job(
        job_def=placeholder, status=status, tags={PROCESS_TAG: process}
    )
    if POOL not in instance.event_log_storage.get_concurrency_keys():  # as a step does
        instance.event_log_storage.initialize_concurrency_limit_to_default(POOL)
    claim = instance.event_log_storage.claim_concurrency_slot(POOL, run.run_id, "warehouse")
    return run, claim.is_claimed


def holders(instance: DagsterInstance) -> set[str]:
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return {s.run_id for s in info.claimed_slots} | {p.run_id for p in info.pending_steps}


def test_recover_frees_only_what_is_gone(instance, capsys):
    here = f"{socket.gethostname()} {boot_id()}"
    dead, claimed = started_run(instance, f"{here} {dead_pid()}")
    assert claimed
    alive, _ = started_run(instance, process_tags()[PROCESS_TAG])  # this test's own process
    elsewhere, _ = started_run(instance, f"build-7 {boot_id()} 4242")
    finished, _ = started_run(instance, f"{here} {dead_pid()}", DagsterRunStatus.SUCCESS)
    assert holders(instance) == {dead.run_id, alive.run_id, elsewhere.run_id, finished.run_id}

    assert main(["recover"]) == 0
    out = capsys.readouterr().out
    assert f"recovered: run {dead.run_id} was left STARTED by a process that is gone" in out
    assert f"pool slots of run {finished.run_id} (SUCCESS) freed" in out
    status = {r.run_id: instance.get_run_by_id(r.run_id).status for r in (dead, alive, elsewhere)}
    assert status == {
        dead.run_id: DagsterRunStatus.FAILURE,
        alive.run_id: DagsterRunStatus.STARTED,
        elsewhere.run_id: DagsterRunStatus.STARTED,
    }
    assert holders(instance) == {alive.run_id, elsewhere.run_id}

    # A run on another machine is released only by name, and a live one never.
    assert main(["recover", "--run", alive.run_id]) == 2
    assert "is not gone: its process" in capsys.readouterr().err
    assert main(["recover", "--run", elsewhere.run_id]) == 0
    assert "it runs on build-7; released by the operator" in capsys.readouterr().out
    assert instance.get_run_by_id(elsewhere.run_id).status == DagsterRunStatus.FAILURE
    assert holders(instance) == {alive.run_id}
    assert main(["recover", "--run", "no-such-run"]) == 2
