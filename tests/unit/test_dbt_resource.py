"""resources/dbt.py's PromoDbtCliResource skips two fixed costs of dagster-dbt's resource
by overriding two of its private members (issue 17: ~4.6 s of a 25 s one-day run). An
upgrade that renamed or stopped calling them would silently bring the cost back: these
tests fail instead."""

import inspect
import os
import subprocess

from dagster_dbt import DbtCliResource

from resources.dbt import DBT_EXECUTABLE, PromoDbtCliResource, _environ, dbt_resource


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
    with _environ(window):
        assert {k: os.environ[k] for k in window} == window
    assert "PROMO_DBT_MIN_DATE" not in os.environ
    assert os.environ["PROMO_DBT_MAX_DATE"] == "1999-01-01"
