"""The landing sensor evaluated by Dagster, and `promo-reports materialize` end to end
with the real multiprocess executor and a persistent instance."""

import json
from datetime import date
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_sensor_context

from orchestration.cli import main
from orchestration.definitions import build_definitions
from promo.generator import generate
from resources.dagster_resources import LakeResource, StorageResource
from resources.storage import LocalStorage
from tests.helpers import INGESTION_KEYS, lake_rows, raw_line_counts, run_daily

pytestmark = pytest.mark.integration


def tick(settings, cursor=None):
    defs = build_definitions(settings)
    sensor = defs.resolve_sensor_def("landing_sensor")
    context = build_sensor_context(
        cursor=cursor,
        resources={
            "landing": StorageResource(uri=settings.landing_uri),
            "lake": LakeResource(uri=str(settings.lake_dir)),
        },
        instance=DagsterInstance.ephemeral(),
        definitions=defs,
    )
    return sensor.evaluate_tick(context)


def test_sensor_requests_new_days_once_and_late_files_again(promo_env):
    settings = promo_env(PROMO_ACCOUNT_TIMEZONE="America/New_York")
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 23), 2, seed=1, scale=100)
    first = tick(settings)
    requested = sorted(r.partition_key for r in first.run_requests if r.partition_key)
    # UTC folders 10-23 and 10-24 hold events of New York days 10-22 .. 10-24.
    assert requested == ["2026-10-22", "2026-10-23", "2026-10-24"]
    assert any(r.job_name == "promo_dimensions" for r in first.run_requests)

    again = tick(settings, first.cursor)
    assert again.run_requests == []

    late = Path(settings.landing_uri) / "events/reward_events/date=2026-10-24/late.jsonl"
    late.write_text("{}\n")
    third = tick(settings, again.cursor)
    assert sorted(r.partition_key for r in third.run_requests) == ["2026-10-23", "2026-10-24"]


def test_a_new_sensor_starts_from_what_the_lake_ingested(promo_env):
    """No cursor yet (a fresh instance, e.g. `make dev` after `make demo`): folders the lake
    already ingested from the same files ask for nothing; a late file still does."""
    settings = promo_env()
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 23), 2, seed=1, scale=100)
    assert run_daily(settings, "2026-10-23", "2026-10-24", selection=INGESTION_KEYS).success
    first = tick(settings)
    assert [r.partition_key for r in first.run_requests if r.partition_key] == []
    late = Path(settings.landing_uri) / "events/coupon_redemptions/date=2026-10-24/late.jsonl"
    late.write_text("{}\n")
    second = tick(settings, first.cursor)
    assert [r.partition_key for r in second.run_requests] == ["2026-10-24"]


def test_cli_materialize_runs_through_dagster_and_records_runs(promo_env, capfd):
    settings = promo_env()
    assert (
        main(["generate", "--start", "2026-10-23", "--days", "2", "--scale", "150", "--quiet"]) == 0
    )
    capfd.readouterr()
    assert main(["materialize", "--start", "2026-10-23", "--end", "2026-10-24"]) == 0
    out = capfd.readouterr().out
    assert "daily run" in out and "ok" in out
    raw = raw_line_counts(Path(settings.landing_uri))
    accepted = lake_rows(settings.lake_dir, "accepted", "wallet_transactions").height
    assert 0 < accepted <= raw["wallet_transactions"]
    # People see one line per step with what it did; Dagster's and dbt's own lines go to
    # the log file named on the first line.
    first, *rest = out.splitlines()
    log = Path(first.removeprefix("Dagster and dbt logs: ").split(" (--verbose")[0])
    assert log.is_file() and b"Running with dbt=" in log.read_bytes()
    assert "Running with dbt=" not in out and "STEP_SUCCESS" not in out
    assert "done   lake__wallet_transactions" in out
    assert f"{accepted:,} records accepted" in out
    (dbt_line,) = [line for line in rest if line.startswith("done   warehouse_models")]
    assert "models built" in dbt_line and " tests" in dbt_line
    with DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert {r.job_name for r in runs} >= {"promo_daily", "promo_dimensions"}
        assert all(r.is_success for r in runs)
        daily = next(r for r in runs if r.job_name == "promo_daily")
        assert daily.tags["dagster/asset_partition_range_start"] == "2026-10-23"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--start", "2026-10-24", "--end", "2026-10-23"], "before --start"),
        (["--start", "2020-01-01", "--end", "2020-01-02"], "before the first partition"),
        (["--start", "2026-10-23", "--end", "2999-01-01"], "not a completed day"),
    ],
)
def test_cli_materialize_refuses_bad_ranges(promo_env, capsys, args, message):
    promo_env()
    assert main(["materialize", *args]) != 0
    captured = capsys.readouterr()
    assert message in captured.out + captured.err


def test_cli_refuses_bad_settings_with_the_variable_named(promo_env, capsys, monkeypatch):
    promo_env()
    monkeypatch.setenv("PROMO_ACCOUNT_TIMEZONE", "Nowhere/Special")
    assert main(["settings"]) == 2
    assert "PROMO_ACCOUNT_TIMEZONE" in capsys.readouterr().err


def test_generate_summary_is_json(promo_env, capsys):
    promo_env()
    assert (
        main(["generate", "--start", "2026-10-23", "--days", "1", "--scale", "50", "--quiet"]) == 0
    )
    summary = json.loads(capsys.readouterr().out.rsplit("\n", 2)[0].rsplit("sample data", 1)[0])
    assert summary["streams"]["wallet_transactions"]["records"] > 0
