"""`report list` reads the instance's tables without importing Dagster, polars, pyarrow or
DuckDB (start-up: well under a second), and lists exactly what Dagster's own API gives:
the same lines, statuses, locations, rows and failure reasons, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict

import pytest
from dagster import DagsterInstance

from orchestration.cli import main
from orchestration.report_index import Unavailable, facts_path, read_list
from orchestration.report_runs import report_job, run_config
from orchestration.report_service import ReportService
from orchestration.settings import REPO_ROOT, Settings
from promo import names
from tests.integration import test_report_orchestration as orchestration_tests

pytestmark = pytest.mark.integration
cli, one_time = orchestration_tests.cli, orchestration_tests.one_time  # its fixture, its specs

LIST_WITHOUT_DAGSTER = """
import json, sys
from orchestration.cli import main
code = main(["report", "--user", "bob@example.com", "list", "--json"])
assert code == 0, code
heavy = ("dagster", "polars", "pyarrow", "duckdb")  # each costs 0.1 s to 1 s to import
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0].startswith(heavy))))
"""


def through_dagster(settings: Settings) -> list[dict]:
    return [asdict(e) for e in ReportService(settings)._entries_from_dagster()]


def without_dagster(settings: Settings) -> list[dict]:
    return [asdict(e) for e in read_list(settings, True, True)]


@pytest.mark.parametrize("cli", ["sqlite", "postgres"], indirect=True)
def test_the_list_without_dagster_equals_dagsters_own(cli, tmp_path, capsys):
    settings = cli
    good = one_time(tmp_path, "October rewards", {"start": "2026-10-22", "end": "2026-10-28"})
    bad = one_time(tmp_path, "November rewards", {"start": "2026-11-10", "end": "2026-11-12"})
    assert main(["report", "--user", "ana@example.com", "create", "--spec", good]) == 0
    assert main(["report", "--user", "ana@example.com", "create", "--spec", bad]) == 1
    with DagsterInstance.get() as instance:
        # Creating: a run waiting in the instance (as the service or the UI leaves one)
        config = {
            "name": "Waiting",
            "promotion_type": "promo_campaigns",
            "report_type": "reward_assignment",
            "filters": {"campaign_id": "cmp_everyday_points"},
            "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
        }
        waiting = instance.create_run_for_job(
            job_def=report_job(settings), run_config=run_config(config)
        )
        failed = next(r.run_id for r in instance.get_runs() if r.status.value == "FAILURE")
    capsys.readouterr()

    # A run that finished without the list's Dagster path seeing it: Dagster answers.
    facts_path(settings.dagster_home).unlink()
    with pytest.raises(Unavailable):
        read_list(settings, True, True)
    expected = through_dagster(settings)  # and records the finished runs' facts
    assert without_dagster(settings) == expected
    statuses = {e["name"]: e["status"] for e in expected}
    assert statuses == {
        "October rewards": "Created",
        "November rewards": "Creation Failed",
        "Waiting": "Creating",
    }
    created = next(e for e in expected if e["status"] == "Created")
    assert created["location"] and created["rows"] > 0

    # A reason tag set after the run failed (the alerts do) wins, on both paths.
    with DagsterInstance.get() as instance:
        instance.add_run_tags(failed, {names.FAILURE_REASON_TAG: "the bucket was gone"})
    expected = through_dagster(settings)
    assert without_dagster(settings) == expected
    assert "the bucket was gone" in {e["reason"] for e in expected}

    # The command itself never imports Dagster, and prints the same JSON.
    proc = subprocess.run(
        [sys.executable, "-c", LIST_WITHOUT_DAGSTER],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    *listing, imported = proc.stdout.strip().splitlines()
    assert json.loads(imported) == []
    shown = [{k: v for k, v in e.items() if k != "configuration"} for e in expected]
    assert json.loads("\n".join(listing)) == shown
    assert waiting.run_id in {e["run_id"] for e in shown}


def test_a_hand_edited_instance_config_is_read_through_dagster(cli, capsys):
    settings = cli
    config = settings.dagster_home / "dagster.yaml"
    assert main(["report", "--user", "bob@example.com", "list"]) == 0
    config.write_text(config.read_text() + "run_monitoring:\n  enabled: false\n")
    with pytest.raises(Unavailable):
        read_list(settings, True, True)
    capsys.readouterr()
    assert main(["report", "--user", "bob@example.com", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
