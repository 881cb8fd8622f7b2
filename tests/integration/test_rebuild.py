"""Rebuild from the lake (issue 14): after losing the warehouse, the published marts and
even the landing zone, `promo-reports rebuild` builds the warehouse again from the lake
alone and republishes every mart: the same files as before, byte for byte."""

from __future__ import annotations

import hashlib
import shutil
from datetime import date
from pathlib import Path

import pytest

from orchestration.cli import main
from promo.generator import generate
from resources.storage import LocalStorage
from tests.helpers import run_daily, run_dimensions

pytestmark = pytest.mark.integration


def published(marts: Path) -> dict[str, str]:
    return {
        p.relative_to(marts).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(marts.rglob("*.parquet"))
    }


def test_rebuild_from_the_lake_alone_republishes_the_same_marts(promo_env, capsys):
    settings = promo_env(PROMO_ACCOUNT_TIMEZONE="Asia/Kathmandu")
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 10), 2, seed=4, scale=150)
    assert run_dimensions(settings).success
    # Kathmandu (+05:45): UTC folders 10-10 and 10-11 hold local days 10-10 .. 10-12.
    assert run_daily(settings, "2026-10-10", "2026-10-12").success
    marts = Path(settings.marts_uri)
    before = published(marts)
    assert len(before) == 6 * 3 + 1  # six daily marts over three days, and the ledger

    settings.warehouse_path.unlink()
    shutil.rmtree(marts)
    shutil.rmtree(settings.landing_uri)  # the lake alone must be enough
    capsys.readouterr()
    assert main(["rebuild"]) == 0
    out = capsys.readouterr().out
    assert "rebuilding 2026-10-10..2026-10-12" in out
    assert published(marts) == before
    assert (marts / "stats" / "index.json").exists()


def test_rebuild_of_an_empty_lake_says_so(promo_env, capsys):
    promo_env()
    assert main(["rebuild"]) == 1
    assert "holds no accepted records" in capsys.readouterr().out


def test_rebuild_refuses_while_a_run_may_use_the_warehouse(promo_env, capsys):
    """A daily run the sensor started is still going (its process is this test's, alive):
    rebuild would delete the warehouse under it, so it refuses and names the run."""
    from dagster import DagsterInstance, DagsterRunStatus

    from orchestration.instance import ensure_dagster_home
    from orchestration.recovery import process_tags
    from tests.integration.test_recovery import placeholder

    settings = promo_env()
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse_path.write_bytes(b"in use")
    ensure_dagster_home(settings)
    with DagsterInstance.get() as instance:
        run = instance.create_run_for_job(
            job_def=placeholder, status=DagsterRunStatus.STARTED, tags=process_tags()
        )
    assert main(["rebuild"]) == 1
    out = capsys.readouterr().out
    assert f"1 unfinished run(s) may be using it: {run.run_id} (placeholder, STARTED)" in out
    assert settings.warehouse_path.read_bytes() == b"in use"
