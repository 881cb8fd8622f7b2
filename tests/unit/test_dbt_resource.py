"""resources/dbt.py's PromoDbtCliResource skips fixed costs of dagster-dbt's resource by
overriding private members of dagster-dbt and dbt-duckdb, and runs dbt in this process
(resources/dbt_in_process.py; issue 17). An upgrade that renamed or stopped using them
would silently bring the cost back or break the run: these tests fail instead."""

import inspect
import json
import os
import signal
import subprocess
import threading
import time

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation
import duckdb
import pytest
from dagster_dbt import DbtCliInvocation, DbtCliResource
from dbt.adapters.duckdb.connections import DuckDBConnectionManager

from resources.dbt import DBT_EXECUTABLE, PromoDbtCliResource, dbt_resource
from resources.dbt_in_process import InProcessDbt
from resources.environ import environ


def test_the_overridden_members_are_still_dagster_dbts():
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert name in vars(DbtCliResource), f"dagster-dbt no longer has {name}"
        assert name in vars(PromoDbtCliResource)
    cli = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in cli
    assert "self._initialize_dbt_core_adapter(" in cli


def test_the_version_is_the_installed_dbts_without_running_it():
    printed = subprocess.check_output([DBT_EXECUTABLE, "--version"], text=True)
    version = dbt_resource()._cli_version
    assert f"installed: {version}" in printed
    assert version.major < 2  # dbt Core, not Fusion: dagster-dbt's code path for Core


def test_the_window_is_in_the_environment_for_the_call_only(monkeypatch):
    monkeypatch.setenv("PROMO_DBT_MAX_DATE", "1999-01-01")
    monkeypatch.delenv("PROMO_DBT_MIN_DATE", raising=False)
    window = {"PROMO_DBT_MIN_DATE": "2026-10-25", "PROMO_DBT_MAX_DATE": "2026-10-26"}
    with environ(window):
        assert {k: os.environ[k] for k in window} == window
    assert "PROMO_DBT_MIN_DATE" not in os.environ
    assert os.environ["PROMO_DBT_MAX_DATE"] == "1999-01-01"


# ------------------------------------------------------------------ dbt in this process
# resources/dbt_in_process.py: dbt on a thread of the step's process. These run real dbt
# on a one-model project in tmp_path (its parse takes a moment, not the whole project's).
def test_dagster_dbt_still_starts_dbt_through_the_module_attribute_we_replace():
    assert dagster_dbt_invocation.subprocess is subprocess
    assert "subprocess.Popen(" in inspect.getsource(DbtCliInvocation.run)
    assert isinstance(DuckDBConnectionManager._LOCK, type(threading.RLock()))
    assert "_ENV" in vars(DuckDBConnectionManager)


@pytest.fixture
def tiny_project(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "answer.sql").write_text("select 42 as answer\n")
    (tmp_path / "dbt_project.yml").write_text(
        "name: tiny\nversion: '1.0'\nprofile: tiny\nmodel-paths: [models]\n"
    )
    (tmp_path / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'tiny.duckdb'}\n"
    )
    return tmp_path


def _dbt(project, *args, **kwargs) -> InProcessDbt:
    env = {
        **os.environ,
        "DBT_PROJECT_DIR": str(project),
        "DBT_PROFILES_DIR": str(project),
        "DBT_TARGET_PATH": str(project / "target"),
        "DBT_LOG_PATH": str(project / "target"),
        "DBT_LOG_FORMAT": "json",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return InProcessDbt([DBT_EXECUTABLE, *args], env=env, **kwargs)


def _events(process: InProcessDbt) -> list[dict]:
    with process.stdout as lines:
        return [json.loads(line) for line in lines]


def test_a_build_in_this_process_leaves_the_warehouse_free_to_open(tiny_project):
    process = _dbt(tiny_project, "build")
    names = [e["info"]["name"] for e in _events(process)]
    assert process.wait() == 0
    assert "NodeFinished" in names or "LogModelResult" in names
    # dbt-duckdb would keep the file open in this process (its keep_open default), and
    # DuckDB refuses a read-only connection beside a read-write one.
    with duckdb.connect(str(tiny_project / "tiny.duckdb"), read_only=True) as con:
        assert con.sql("select answer from answer").fetchall() == [(42,)]


def test_dbt_has_its_variables_while_it_runs_and_the_caller_gets_its_environment_back(
    tiny_project,
):
    (tiny_project / "models" / "answer.sql").write_text(
        "select '{{ env_var(\"PROMO_PROBE\") }}' as answer\n"
    )
    process = _dbt(tiny_project, "build", extra_env={"PROMO_PROBE": "for dbt"})
    _events(process)
    assert process.wait() == 0
    assert "PROMO_PROBE" not in os.environ
    with duckdb.connect(str(tiny_project / "tiny.duckdb"), read_only=True) as con:
        assert con.sql("select answer from answer").fetchall() == [("for dbt",)]


def test_a_failed_dbt_gives_the_exit_code_and_the_error_of_its_process(tiny_project):
    (tiny_project / "models" / "answer.sql").write_text("select * from no_such_table\n")
    process = _dbt(tiny_project, "build")
    errors = [e["info"]["msg"] for e in _events(process) if e["info"]["level"] == "error"]
    assert process.wait() == 1  # a node failed, like `dbt build` exiting 1
    assert any("no_such_table" in m for m in errors)
    process = _dbt(tiny_project, "no-such-command")
    errors = [e["info"]["msg"] for e in _events(process) if e["info"]["level"] == "error"]
    assert process.wait() == 2 and errors  # dbt itself failed


def test_an_interrupt_stops_a_long_query(tiny_project):
    (tiny_project / "models" / "answer.sql").write_text(
        "{{ config(materialized='table') }}\n"
        "select sum(a.range * b.range) as answer from range(100000000) a, range(1000) b\n"
    )
    process = _dbt(tiny_project, "build")
    lines = iter(process.stdout)
    # Wait for the model to start, then interrupt like dagster-dbt on a terminated run.
    for line in lines:
        if json.loads(line)["info"]["name"] == "LogStartLine":
            break
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    list(lines)
