"""Issue 12, item 2: `promo-reports materialize` killed outright (SIGKILL of its whole
process group) during the dbt step or during publishing. Its run used to stay STARTED in
the instance, keeping its slot in the `duckdb_warehouse` pool, and the documented re-run
waited for that slot for ever. Now the re-run, started without touching anything, finds
the dead run, marks it failed with the reason, frees its slot and completes; the marts
equal a clean run. Once on the SQLite instance (killed during dbt) and once on
PostgreSQL (killed during publishing)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from orchestration.instance import ensure_dagster_home
from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import make_env
from tests.helpers import DAILY_MART_NAMES, run_daily, run_dimensions
from tests.reliability.test_concurrency import CLI, REPO, mart_rows

pytestmark = pytest.mark.reliability
FIRST, LAST = "2026-10-02", "2026-10-04"
POOL = "duckdb_warehouse"
DBT_BUILDING = re.compile(r"\d+ of \d+ START ")  # dbt's own progress line: a model started


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Settings:
    """Three days of sample logs and the marts of one clean, uninterrupted run."""
    root = tmp_path_factory.mktemp("killed-runs")
    settings = Settings.from_env(make_env(root / "reference"))
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 2), 3, seed=5, scale=100)
    assert run_dimensions(settings).success
    assert run_daily(settings, FIRST, LAST).success
    return settings


def launch(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """A CLI process in a session of its own, so that its whole group can be killed."""
    return subprocess.Popen(
        args,
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def kill_group_when(proc: subprocess.Popen, ready, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert proc.poll() is None, "the run ended before the moment of the kill"
        assert time.monotonic() < deadline, "the moment of the kill never came"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(60)


def published(marts: Path) -> list[str]:
    return sorted(str(p.relative_to(marts)) for p in marts.glob("*/date=*/part-*.parquet"))


@pytest.mark.parametrize(
    "phase, instance_kind", [("dbt", "sqlite"), ("publishing", "postgres")], ids=str
)
def test_a_rerun_after_a_sigkill_completes_on_its_own(
    phase, instance_kind, reference, tmp_path, request, monkeypatch, record_fault
):
    overrides = make_env(tmp_path / "promo")
    if instance_kind == "postgres":
        overrides["PROMO_DAGSTER_PG_URL"] = request.getfixturevalue("pg_url")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMO_")} | overrides
    env["PYTHONPATH"] = str(REPO)
    for key, value in overrides.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env()
    shutil.copytree(reference.landing_uri, settings.landing_uri)
    marts, log = Path(settings.marts_uri), tmp_path / "killed.log"
    # --verbose: dbt's own lines on stdout, which tell the moment of the kill
    materialize = [*CLI, "materialize", "--verbose", "--start", FIRST, "--end", LAST]

    killed = launch(materialize, env, log)
    if phase == "dbt":
        kill_group_when(killed, lambda: DBT_BUILDING.search(log.read_text()))
    else:  # the first published partition is there, not all of them yet
        kill_group_when(killed, lambda: published(marts))
        assert published(marts) != published(Path(reference.marts_uri)), "killed mid-publish"

    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        (dead,) = instance.get_run_records(RunsFilter(job_name="promo_daily"))
        assert dead.dagster_run.status == DagsterRunStatus.STARTED, "the bug's starting point"
        holders = instance.event_log_storage.get_concurrency_info(POOL).active_run_ids
        assert holders == {dead.dagster_run.run_id}, "the killed run holds the warehouse slot"

    started = time.monotonic()
    rerun = subprocess.run(
        materialize, cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    out = rerun.stdout + rerun.stderr
    assert rerun.returncode == 0, out[-3000:]
    assert f"recovered: run {dead.dagster_run.run_id} was left STARTED" in out
    with DagsterInstance.get() as instance:
        after = instance.get_run_by_id(dead.dagster_run.run_id)
        assert after.status == DagsterRunStatus.FAILURE
        (failure,) = instance.all_logs(after.run_id, of_type=DagsterEventType.RUN_FAILURE)
        assert "process that is gone" in failure.message
        assert instance.event_log_storage.get_concurrency_info(POOL).active_run_ids == set()
    for mart in (*DAILY_MART_NAMES, "user_ledger"):
        assert mart_rows(marts, mart) == mart_rows(Path(reference.marts_uri), mart), mart
    record_fault(
        f"SIGKILL of materialize's process group during {phase} ({instance_kind} instance): "
        "the re-run recovers the dead run and completes, marts equal a clean run",
        survived=True,
        rerun_seconds=round(time.monotonic() - started, 1),
    )
