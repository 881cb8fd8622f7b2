"""Production storage (issue 14): the landing zone, the lake and the marts on an
S3-compatible server (moto, server mode) and the Dagster instance on PostgreSQL (a
throwaway server), against an all-local run of the same landing files.

- `promo-reports materialize` over a range (the real CLI, the real executor) publishes the
  same files, byte for byte, as a local run; the lake on S3 holds the same Parquet files
  as the local lake; a report and the campaign stats work on top of the S3 marts;
- an S3 outage in the middle of an ingestion: tests/reliability/test_s3_lake_faults.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from orchestration.report_runs import report_settings
from orchestration.settings import Settings
from promo.generator import generate
from promo.reports.catalog import load_catalog
from promo.reports.request import prepare
from promo.reports.spec_io import load_spec
from resources.storage import LocalStorage, open_storage
from tests.conftest import make_env
from tests.helpers import run_daily, run_dimensions

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
TZ = "Europe/Berlin"
FIRST, DAYS = date(2026, 10, 24), 2
LOCAL_FIRST, LOCAL_LAST = "2026-10-24", "2026-10-26"
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
SPEC = {
    "name": "Production storage rewards",
    "promotion_type": "promo_campaigns",
    "report_type": "reward_assignment",
    "filters": {"campaign_id": "cmp_everyday_points"},
    "date_range": {"start": LOCAL_FIRST, "end": LOCAL_LAST},
}


def files(storage) -> dict[str, str]:
    """Every object of a storage (temporaries aside), with the SHA-256 of its content."""
    return {
        o.key: hashlib.sha256(storage.read_bytes(o.key)).hexdigest()
        for o in storage.list()
        if o.key.endswith(".parquet")
    }


def report_bytes(settings: Settings) -> bytes:
    reports = report_settings(settings)
    catalog = load_catalog(reports.lake())
    spec = load_spec(SPEC, catalog)
    delivered = reports.export(spec, prepare(spec, catalog, NOW, settings.tz), NOW, "t")
    assert delivered.rows > 0
    return Path(delivered.uri).read_bytes()


def make_landing(folder: Path) -> Path:
    generate(LocalStorage(folder), FIRST, DAYS, seed=21, scale=150, redelivery_rate=0.02)
    return folder


def local_reference(landing: Path, home: Path) -> Settings:
    """The reference: everything local, SQLite instance, run in process."""
    env = make_env(home, PROMO_ACCOUNT_TIMEZONE=TZ)
    settings = Settings.from_env({**env, "PROMO_LANDING_URI": str(landing)})
    assert run_dimensions(settings).success
    assert run_daily(settings, LOCAL_FIRST, LOCAL_LAST).success
    return settings


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    return make_landing(tmp_path_factory.mktemp("landing"))


@pytest.fixture(scope="module")
def local_run(landing, tmp_path_factory) -> Settings:
    return local_reference(landing, tmp_path_factory.mktemp("local"))


def s3_env(home: Path, endpoint: str, bucket: str) -> dict[str, str]:
    return make_env(
        home,
        PROMO_ACCOUNT_TIMEZONE=TZ,
        PROMO_S3_ENDPOINT_URL=endpoint,
        PROMO_LANDING_URI=f"s3://{bucket}/landing",
        PROMO_LAKE_URI=f"s3://{bucket}/lake",
        PROMO_MARTS_URI=f"s3://{bucket}/marts",
    )


def upload(landing: Path, uri: str, endpoint: str) -> None:
    target = open_storage(uri, endpoint)
    for path in sorted(landing.rglob("*")):
        if path.is_file():
            target.put_file(path, path.relative_to(landing).as_posix())


def test_materialize_on_s3_and_postgres_equals_a_local_run(
    local_run, landing, s3_endpoint, s3_bucket, pg_url, tmp_path
):
    env = s3_env(tmp_path / "home", s3_endpoint, s3_bucket)
    env["PROMO_DAGSTER_PG_URL"] = pg_url
    upload(landing, f"s3://{s3_bucket}/landing", s3_endpoint)
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "materialize"]
        + ["--start", LOCAL_FIRST, "--end", LOCAL_LAST],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    settings = Settings.from_env(env)
    # Nothing of the pipeline's data on local disk but the warehouse file.
    assert not (tmp_path / "home" / "lake").exists() and not (tmp_path / "home" / "marts").exists()

    s3_marts = open_storage(settings.marts_uri, s3_endpoint)
    assert files(s3_marts) == files(LocalStorage(local_run.marts_uri))
    s3_lake = open_storage(settings.lake_uri, s3_endpoint)
    assert files(s3_lake) == files(LocalStorage(local_run.lake_uri))
    assert s3_marts.exists("stats/index.json") and s3_marts.exists("stats/index.html")
    assert report_bytes(settings) == report_bytes(local_run)


def test_an_unreachable_s3_endpoint_is_one_line_naming_the_setting(promo_env, capsys):
    promo_env(PROMO_LAKE_URI="s3://lake-bucket/lake", PROMO_S3_ENDPOINT_URL="http://127.0.0.1:9")
    from orchestration.cli import main

    assert main(["materialize", "--start", "2026-10-24", "--end", "2026-10-24"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: PROMO_LAKE_URI=s3://lake-bucket/lake: cannot reach")
    assert "127.0.0.1:9" in err and "Traceback" not in err and err.count("\n") == 1


def test_a_malformed_s3_uri_is_refused_naming_the_variable(promo_env):
    with pytest.raises(Exception, match="PROMO_MARTS_URI='s3:///x' is not an s3://bucket"):
        promo_env(PROMO_MARTS_URI="s3:///x")
