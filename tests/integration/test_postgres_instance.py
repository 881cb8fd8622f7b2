"""The Dagster instance in PostgreSQL (`PROMO_DAGSTER_PG_URL`), on a throwaway server the
tests start (tests/postgres.py):

- two `promo-reports materialize` backfills over overlapping ranges: the second one's dbt
  step waits for the `duckdb_warehouse` pool slot the first one holds, says so naming the
  holder's run, and both complete with the marts of one clean run;
- a backfill stopped (Ctrl-C) while its step waits for the pool says why it stopped, not
  `failed steps:` with an empty list;
- the password never appears in any output, log or file;
- a malformed URL and an unreachable server are refused in one line.

The report list (Creating -> Created) and a recurring report stopped and started run on
PostgreSQL in test_report_orchestration.py (its `cli` fixture, parametrized)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance

from orchestration.instance import ensure_dagster_home
from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import make_env
from tests.helpers import DAILY_MART_NAMES, run_daily, run_dimensions
from tests.postgres import PASSWORD, free_port
from tests.reliability.test_concurrency import (
    CLI,
    REPO,
    daily_run,
    finish,
    interval,
    mart_rows,
    overlap,
    running_dbt_step,
    step_times,
    wait_for,
)
from tests.reliability.test_killed_runs import launch

pytestmark = pytest.mark.integration
A, B = ("2026-10-02", "2026-10-03"), ("2026-10-03", "2026-10-04")


def materialize(days: tuple[str, str]) -> list[str]:
    # --verbose: Dagster's own lines on stdout (the interrupted run says so there)
    return [*CLI, "materialize", "--verbose", "--start", days[0], "--end", days[1]]


def says(log: Path, text: str):
    return lambda: text in log.read_text()


@contextmanager
def processes(env: dict, logs: Path):
    """Yields start(days, name): a `materialize` process in a group of its own. Those still
    running at the end (the scenario failed half-way) are killed with their group."""
    procs: list[subprocess.Popen] = []

    def start(days: tuple[str, str], name: str) -> subprocess.Popen:
        procs.append(launch(materialize(days), env, logs / f"{name}.log"))
        return procs[-1]

    try:
        yield start
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture(scope="module")
def backfills(postgres_server, tmp_path_factory):
    """A runs until its dbt step holds the pool slot and is paused there (SIGSTOP of its
    process group: a live holder). B1 starts, waits for the slot, is stopped with Ctrl-C
    (SIGINT to its group). B2 starts and waits; A resumes; both finish."""
    root = tmp_path_factory.mktemp("postgres")
    logs = root / "logs"
    logs.mkdir()
    overrides = make_env(root / "promo", PROMO_DAGSTER_PG_URL=postgres_server.create_database())
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMO_")} | overrides
    env["PYTHONPATH"] = str(REPO)
    settings = Settings.from_env(overrides)
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 2), 3, seed=8, scale=100)
    clean = Settings.from_env(make_env(root / "clean"))  # the same files, one clean run
    shutil.copytree(settings.landing_uri, clean.landing_uri)
    assert run_dimensions(clean).success
    assert run_daily(clean, A[0], B[1]).success

    facts: dict = {"settings": settings, "clean": clean, "logs": logs, "env": env}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in overrides.items():
            mp.setenv(key, value)
        ensure_dagster_home(settings)
        with DagsterInstance.get() as instance, processes(env, logs) as start:
            a = start(A, "a")
            a_run = wait_for(lambda: running_dbt_step(instance), "A's dbt step", timeout=900)
            os.killpg(a.pid, signal.SIGSTOP)
            try:
                b1 = start(B, "b1")
                wait_for(says(logs / "b1.log", f"held by run {a_run}"), "B1 waiting", 900)
                os.killpg(b1.pid, signal.SIGINT)
                b1.wait(300)
                b2 = start(B, "b2")
                wait_for(says(logs / "b2.log", f"held by run {a_run}"), "B2 waiting", 900)
            finally:
                os.killpg(a.pid, signal.SIGCONT)
            facts["b1"] = (b1.returncode, (logs / "b1.log").read_text())
            finish(a, logs / "a.log", timeout=900)
            facts["b2_out"] = finish(b2, logs / "b2.log", timeout=900)
            facts["a_run"] = daily_run(instance, A[0])
            b_runs = [
                r
                for r in instance.get_run_records()
                if r.dagster_run.tags.get("dagster/asset_partition_range_start") == B[0]
            ]
            facts["b2_run"] = next(r for r in b_runs if r.dagster_run.is_success)
            facts["dbt_steps"] = [
                step_times(instance, run.dagster_run.run_id, "warehouse_models")
                for run in (facts["a_run"], facts["b2_run"])
            ]
    return facts


def test_overlapping_backfills_queue_on_the_pool(backfills):
    a_run, b2_run = backfills["a_run"], backfills["b2_run"]
    assert a_run.dagster_run.is_success and b2_run.dagster_run.is_success
    assert overlap(interval(a_run), interval(b2_run)) > 0, "the two runs overlapped in time"
    a_dbt, b_dbt = backfills["dbt_steps"]
    assert overlap(a_dbt, b_dbt) <= 0, "the pool let one dbt step at a time write"
    assert (
        f"waiting: step warehouse_models waits for the 'duckdb_warehouse' pool, whose slot is "
        f"held by run {a_run.dagster_run.run_id} (step warehouse_models)" in backfills["b2_out"]
    )
    marts, clean = Path(backfills["settings"].marts_uri), Path(backfills["clean"].marts_uri)
    for mart in (*DAILY_MART_NAMES, "user_ledger"):
        assert mart_rows(marts, mart) == mart_rows(clean, mart), mart


def test_a_backfill_stopped_while_waiting_says_why(backfills):
    returncode, out = backfills["b1"]
    assert returncode != 0
    assert "failed steps:" not in out, out[-2000:]
    assert "ended FAILURE without a failed step: " in out, out[-2000:]
    assert "Execution was interrupted" in out


def test_the_password_appears_nowhere(backfills):
    env = backfills["env"]
    shown = subprocess.run(
        [*CLI, "settings"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert "dagster_pg_url = postgresql://promo:***@127.0.0.1:" in shown.stdout
    texts = {"settings": shown.stdout + shown.stderr}
    for log in backfills["logs"].iterdir():
        texts[str(log)] = log.read_text()
    settings = backfills["settings"]
    files = [p for p in settings.home.rglob("*") if p.is_file()]
    assert any(p.is_relative_to(settings.dagster_home) for p in files)
    leaks = [name for name, text in texts.items() if PASSWORD in text]
    leaks += [str(p) for p in files if PASSWORD.encode() in p.read_bytes()]
    assert leaks == []


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )


def test_an_unreachable_postgres_is_one_line_naming_the_setting_and_host(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://promo:{PASSWORD}@127.0.0.1:{port}/dagster"
    env = make_env(tmp_path, PROMO_DAGSTER_PG_URL=url) | {"PATH": os.environ["PATH"]}
    result = cli(env, "materialize", "--start", "2026-10-02", "--end", "2026-10-02")
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: PROMO_DAGSTER_PG_URL: ") and f"127.0.0.1:{port}" in line
    assert PASSWORD not in line


def test_a_malformed_url_is_refused_at_start_naming_the_variable(tmp_path):
    url = f"postgresql://promo:{PASSWORD}@db.internal:port/dagster"
    result = cli(make_env(tmp_path, PROMO_DAGSTER_PG_URL=url), "settings")
    assert result.returncode == 2
    assert "PROMO_DAGSTER_PG_URL" in result.stderr and PASSWORD not in result.stderr
