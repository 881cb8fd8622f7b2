"""Concurrency on one DuckDB warehouse, with the real multiprocess executor and the
instance's pool configuration (`duckdb_warehouse`, limit 1), all recorded in one
persistent Dagster instance:

1. two `promo-reports materialize` backfills over overlapping ranges, the second started
   while the first is running;
2. while both run, a late file dropped into the landing zone: the landing sensor (the
   definitions' own, evaluated on the same instance) asks for the affected days, and
   those runs are launched on the same instance at once;
3. while the first backfill's dbt step runs, `promo-reports report create` for a
   one-time report over days already published.

Everything must finish (queueing is allowed), nothing may fail on DuckDB's lock, the
runs must really have overlapped in time (run and step timestamps from the instance),
and every published mart, user_ledger included, must equal a serial run over the same
files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest
import yaml
from dagster import DagsterEventType, DagsterInstance, RunsFilter, build_sensor_context

from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import make_env, raw_views
from tests.helpers import DAILY_MART_NAMES, RANGE_START_TAG, run_daily, run_dimensions

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
TZ = "Asia/Kathmandu"  # +05:45: every local day draws on two UTC folders
LATE = [  # valid wallet credits delivered late into UTC folder 2026-10-25
    {
        "transaction_id": f"wtx_late_{i:04d}",
        "wallet_id": "wlt_main",
        "user_id": f"usr_{i:07d}",
        "transaction_type": "CREDIT",
        "transaction_source": "API",
        "points": 100 + i,
        "campaign_id": None,
        "coupon_code": None,
        "reference_transaction_id": None,
        "expires_at": "2027-10-25T12:00:00Z",
        "occurred_at": f"2026-10-25T12:{i:02d}:00Z",
    }
    for i in range(1, 31)
]
# A process that imports the CLI, then waits for a go file: the report starts the moment
# dbt is seen running, not seconds later after Python's imports.
WAIT_THEN_RUN = """
import sys, time, pathlib
from orchestration.cli import main
import orchestration.definitions  # builds the definitions (and loads dbt's manifest) now
go = pathlib.Path(sys.argv[1])
while not go.exists():
    time.sleep(0.02)
sys.exit(main(sys.argv[2:]))
"""
# The run a sensor's RunRequest becomes, launched on the same instance (what the daemon
# does), with the real executor.
LAUNCH = """
import json, sys
from dagster import DagsterInstance, execute_job, reconstructable
from orchestration import location
with DagsterInstance.get() as instance:
    result = execute_job(reconstructable(location.promo_daily_job), instance,
                         tags=json.loads(sys.argv[1]))
sys.exit(0 if result.success else 1)
"""


def sensor_tick(settings: Settings, instance: DagsterInstance, cursor: str | None):
    from orchestration.definitions import build_definitions

    defs = build_definitions(settings)
    context = build_sensor_context(
        cursor=cursor,
        resources=dict(defs.resources),  # the sensor's own resources, from these settings
        instance=instance,
        definitions=defs,
    )
    return defs.resolve_sensor_def("landing_sensor").evaluate_tick(context)


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        args, cwd=REPO, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, text=True
    )


def finish(proc: subprocess.Popen, log: Path, timeout: float = 600) -> str:
    proc.wait(timeout)
    out = log.read_text()
    assert proc.returncode == 0, out[-3000:]
    assert "Could not set lock" not in out and "Conflicting lock" not in out
    return out


def daily_run(instance: DagsterInstance, range_start: str):
    records = instance.get_run_records(
        RunsFilter(job_name="promo_daily", tags={RANGE_START_TAG: range_start})
    )
    return records[0] if records else None


def wait_for(condition, what: str, timeout: float = 300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def step_times(instance: DagsterInstance, run_id: str, step: str) -> tuple[float, float]:
    events = instance.all_logs(
        run_id, of_type={DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS}
    )
    ours = [e for e in events if e.step_key == step]
    started = [e.timestamp for e in ours if e.dagster_event_type == DagsterEventType.STEP_START]
    ended = [e.timestamp for e in ours if e.dagster_event_type == DagsterEventType.STEP_SUCCESS]
    return started[0], ended[0]


def overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Seconds both intervals were running at once (negative: a gap between them)."""
    return min(a[1], b[1]) - max(a[0], b[0])


def mart_rows(marts: Path, mart: str) -> list[tuple]:
    files = (
        f"'{marts}/{mart}/*/part-*.parquet'"
        if mart in DAILY_MART_NAMES
        else f"'{marts}/{mart}/part-*.parquet'"
    )
    return duckdb.sql(f"SELECT * FROM read_parquet({files})").order("ALL").fetchall()


def running_dbt_step(instance: DagsterInstance) -> str | None:
    """The id of a run whose dbt step has started and not ended, if any."""
    for record in instance.get_run_records(RunsFilter(job_name="promo_daily")):
        if record.dagster_run.is_finished:
            continue
        events = instance.all_logs(
            record.dagster_run.run_id,
            of_type={
                DagsterEventType.STEP_START,
                DagsterEventType.STEP_SUCCESS,
                DagsterEventType.STEP_FAILURE,
            },
        )
        kinds = {e.dagster_event_type for e in events if e.step_key == "warehouse_models"}
        if kinds == {DagsterEventType.STEP_START}:
            return record.dagster_run.run_id
    return None


REPORT_SPEC = {
    "name": "During dbt",
    "promotion_type": "loyalty_wallet",
    "report_type": "wallet_transactions",
    "filters": {"wallet_id": "wlt_main"},
    "date_range": {"start": "2026-10-23", "end": "2026-10-24"},  # in both backfills
    "delivery": {"destination": "download"},
    "frequency": "one_time",
}


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    """The serial reference first (its own home, the late file included). Then backfill A
    (10-22..24) starts; the report starts the moment A's dbt step is seen running (A builds
    an empty warehouse: the longest dbt step), over days an earlier run published; B
    (10-23..25) starts once A's run exists; while both run, a late file is dropped, the
    sensor ticks and the runs it asks for are launched at once."""
    root = tmp_path_factory.mktemp("concurrency")
    home, logs = root / "promo", root / "logs"
    logs.mkdir()
    access = root / "access.yaml"
    access.write_text("users:\n  ana@example.com: write\n")
    overrides = make_env(
        home,
        PROMO_ACCOUNT_TIMEZONE=TZ,
        PROMO_ACCESS_FILE=str(access),
        PROMO_USER="ana@example.com",
        PROMO_REPORT_CATALOG=str(root / "recurring.yaml"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROMO_")} | overrides
    env["PYTHONPATH"] = str(REPO)
    settings = Settings.from_env(overrides)
    generate(
        LocalStorage(settings.landing_uri), date(2026, 10, 22), 4, seed=2, scale=200, bad_rate=0.0
    )
    late_text = "".join(json.dumps(r) + "\n" for r in LATE)
    late = "events/wallet_transactions/date=2026-10-25/late-01.jsonl"

    # The reference: the same files (late one included), one serial run over every day.
    serial = Settings.from_env(make_env(root / "serial", PROMO_ACCOUNT_TIMEZONE=TZ))
    shutil.copytree(settings.landing_uri, serial.landing_uri)
    Path(serial.landing_uri, late).write_text(late_text)
    assert run_dimensions(serial).success
    assert run_daily(serial, "2026-10-22", "2026-10-26").success
    # The days the report reads were published by an earlier run (the reference's files
    # stand in for it); backfill A publishes them again while the report reads them.
    for day in ("2026-10-23", "2026-10-24"):
        folder = f"wallet_transactions/date={day}"
        shutil.copytree(Path(serial.marts_uri, folder), Path(settings.marts_uri, folder))

    spec = root / "spec.yaml"
    spec.write_text(yaml.safe_dump(REPORT_SPEC))
    go = root / "go"
    facts: dict = {"settings": settings, "serial": serial}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in overrides.items():
            mp.setenv(key, value)
        from orchestration.instance import ensure_dagster_home

        ensure_dagster_home(settings)
        with DagsterInstance.get() as instance:
            cursor = sensor_tick(settings, instance, None).cursor  # the landing as generated
            report = start(
                [
                    sys.executable,
                    "-c",
                    WAIT_THEN_RUN,
                    str(go),
                    "report",
                    "create",
                    "--spec",
                    str(spec),
                ],
                env,
                logs / "report.log",
            )
            backfills = {
                "2026-10-22": start(
                    [
                        *CLI,
                        "materialize",
                        "--verbose",
                        "--start",
                        "2026-10-22",
                        "--end",
                        "2026-10-24",
                    ],
                    env,
                    logs / "a.log",
                )
            }
            wait_for(lambda: daily_run(instance, "2026-10-22"), "the first backfill's run")
            backfills["2026-10-23"] = start(
                [*CLI, "materialize", "--verbose", "--start", "2026-10-23", "--end", "2026-10-25"],
                env,
                logs / "b.log",
            )
            # The report, the moment a dbt step is seen running.
            facts["dbt_run_id"] = wait_for(lambda: running_dbt_step(instance), "a dbt step")
            go.touch()

            # The sensor fires while the backfills run; its runs are launched at once.
            wait_for(lambda: daily_run(instance, "2026-10-23"), "the second backfill's run")
            Path(settings.landing_uri, late).write_text(late_text)
            facts["tick_at"] = time.time()
            tick = sensor_tick(settings, instance, cursor)
            facts["requested"] = sorted(r.partition_key for r in tick.run_requests)
            launched = {
                r.partition_key: start(
                    [
                        sys.executable,
                        "-c",
                        LAUNCH,
                        json.dumps({**r.tags, "dagster/partition": r.partition_key}),
                    ],
                    env,
                    logs / f"sensor-{r.partition_key}.log",
                )
                for r in tick.run_requests
            }
            facts["report_out"] = finish(report, logs / "report.log")
            finish(backfills["2026-10-22"], logs / "a.log")
            finish(backfills["2026-10-23"], logs / "b.log")
            for day, proc in launched.items():
                finish(proc, logs / f"sensor-{day}.log")

            facts["backfills"] = {d: daily_run(instance, d) for d in backfills}
            facts["dbt_step"] = step_times(instance, facts["dbt_run_id"], "warehouse_models")
            (facts["report_run"],) = instance.get_run_records(
                RunsFilter(job_name="one_time_report")
            )
            facts["sensor_runs"] = instance.get_run_records(
                RunsFilter(job_name="promo_daily", tags={"promo/trigger": "landing"})
            )
            facts["failed_runs"] = [
                r.dagster_run.run_id
                for r in instance.get_run_records()
                if not r.dagster_run.is_success
            ]
    return facts


def interval(record) -> tuple[float, float]:
    return record.start_time, record.end_time


def test_overlapping_backfills_overlap_in_time_and_equal_a_serial_run(scenario, record_fault):
    first, second = scenario["backfills"].values()
    together = overlap(interval(first), interval(second))
    assert together > 0, "the two backfills ran at the same time"
    assert scenario["failed_runs"] == []
    marts, serial = Path(scenario["settings"].marts_uri), Path(scenario["serial"].marts_uri)
    for mart in (*DAILY_MART_NAMES, "user_ledger"):
        assert mart_rows(marts, mart) == mart_rows(serial, mart), mart
    record_fault(
        "two overlapping backfills on one warehouse (marts and user_ledger equal a serial run)",
        survived=True,
        overlap_seconds=round(together, 1),
    )


def test_a_report_created_while_dbt_builds(scenario, record_fault):
    dbt_step, report_run = scenario["dbt_step"], scenario["report_run"]
    assert report_run.dagster_run.is_success
    report = interval(report_run)
    assert dbt_step[0] < report[0] < dbt_step[1], f"the report started while dbt built {report}"
    together = overlap(dbt_step, report)
    delivered = Path(scenario["report_out"].strip().splitlines()[-1])
    rows = len(delivered.read_text().splitlines()) - 1
    con = duckdb.connect()
    raw_views(con, Path(scenario["settings"].landing_uri))
    ((expected,),) = con.sql(
        f"SELECT count(*) FROM raw_wallet_transactions WHERE wallet_id = 'wlt_main' "
        f"AND timezone('{TZ}', occurred_at)::DATE BETWEEN '2026-10-23' AND '2026-10-24'"
    ).fetchall()
    assert rows == expected > 0
    record_fault(
        "a one-time report created while a dbt step ran",
        survived=True,
        overlap_seconds=round(together, 1),
        report_seconds=round(report[1] - report[0], 1),
        dbt_step_seconds=round(dbt_step[1] - dbt_step[0], 1),
    )


def test_the_landing_sensor_during_a_backfill(scenario, record_fault):
    # UTC folder 2026-10-25 holds Kathmandu days 10-25 and 10-26.
    assert scenario["requested"] == ["2026-10-25", "2026-10-26"]
    backfills = [interval(r) for r in scenario["backfills"].values()]
    assert any(start < scenario["tick_at"] < end for start, end in backfills), "during a backfill"
    runs = scenario["sensor_runs"]
    assert sorted(r.dagster_run.tags["dagster/partition"] for r in runs) == scenario["requested"]
    assert all(r.dagster_run.is_success for r in runs)
    overlapping = sum(any(overlap(b, interval(r)) > 0 for b in backfills) for r in runs)
    assert overlapping == len(runs), "the sensor's runs ran alongside the backfills"
    marts = Path(scenario["settings"].marts_uri)
    ((late,),) = duckdb.sql(
        f"SELECT count(*) FROM '{marts}/wallet_transactions/*/part-*.parquet' "
        "WHERE transaction_id LIKE 'wtx_late_%'"
    ).fetchall()
    assert late == len(LATE), "the late file reached the published marts"
    record_fault(
        "the landing sensor fired on a late file during a backfill; its runs queued and finished",
        survived=True,
        sensor_runs_overlapping_a_backfill=overlapping,
    )
