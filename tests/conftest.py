"""Shared fixtures: an isolated PROMO_HOME per test, a real S3-compatible server (moto in
server mode, on a free port), the Azure and Google Cloud Storage emulators for the session,
and sample data."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from promo import contract
from promo.generator import generate
from resources.storage import LocalStorage
from tests.helpers import DAILY_MART_NAMES, run_daily, run_dimensions

FAKE_KEY_ID = "AKIAPROMOTESTKEY0000"
FAKE_SECRET = "promo-test-secret-DO-NOT-LOG-7f3a9c"  # recognisable: must never appear in output


# The modules that take minutes, longest first (from `--durations`). pytest-xdist hands
# whole modules to its workers in collection order (`--dist loadfile` with
# `--no-loadscope-reorder`; by default it would order them by test count): starting the
# long ones first keeps one worker from finishing a long module alone at the end.
SLOW_MODULES = [
    "test_concurrency.py",
    "test_engine_parity.py",
    "test_report_orchestration.py",
    "test_postgres_instance.py",
    "test_secrets_and_access.py",
    "test_report_service.py",
    "test_killed_runs.py",
    "test_marts.py",
    "test_daily_runs.py",
    "test_production_storage.py",
    "test_rebuild.py",
    "test_sensor_and_cli.py",
    "test_operability.py",
    "test_report_rows.py",
    "test_stats_browser.py",
    "test_crash_mid_write.py",
    "test_s3_lake_faults.py",
    "test_s3_faults.py",
]


def pytest_collection_modifyitems(session, config, items):
    rank = {name: i for i, name in enumerate(SLOW_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: order kept


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    from moto.server import ThreadedMotoServer

    os.environ.update(
        AWS_ACCESS_KEY_ID=FAKE_KEY_ID,
        AWS_SECRET_ACCESS_KEY=FAKE_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (see tests/postgres.py)."""
    from tests.postgres import remove, start_postgres

    server = start_postgres()
    yield server
    remove(server)


@pytest.fixture
def pg_url(postgres_server) -> str:
    """The URL of a new, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture
def s3_bucket(s3_endpoint, request) -> str:
    """A fresh bucket for one test; returns its name."""
    import boto3

    readable = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    name = f"promo-{readable}-{uuid.uuid4().hex[:6]}"  # parametrized tests share a prefix
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(scope="session")
def gcs_emulator():
    """gcp-storage-emulator in memory; the google-cloud-storage client finds it through
    STORAGE_EMULATOR_HOST (and then uses anonymous credentials)."""
    from tests.emulators import GCSEmulator

    emulator = GCSEmulator().up()
    before = os.environ.get("STORAGE_EMULATOR_HOST")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.url
    yield emulator
    emulator.down()
    if before is None:
        os.environ.pop("STORAGE_EMULATOR_HOST", None)
    else:
        os.environ["STORAGE_EMULATOR_HOST"] = before


@pytest.fixture
def gcs_bucket(gcs_emulator) -> str:
    """A fresh bucket for one test; returns its name."""
    from google.cloud import storage

    name = f"promo-{uuid.uuid4().hex[:12]}"
    storage.Client().create_bucket(name)
    return name


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """Azurite's blob service; clients reach it with `azurite.connection_string`."""
    from tests.emulators import Azurite

    emulator = Azurite(tmp_path_factory.mktemp("azurite")).up()
    yield emulator
    emulator.down()


@pytest.fixture
def azure_container(azurite) -> str:
    """A fresh container for one test; returns its name."""
    from azure.storage.blob import BlobServiceClient

    name = f"promo-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    return name


def make_env(home: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PROMO_HOME": str(home),
        "PROMO_ACCOUNT_TIMEZONE": "UTC",
        "PROMO_PARTITION_START": "2026-10-01",
        "DAGSTER_HOME": str(home / "dagster_home"),
    }
    env.update(overrides)
    return env


@pytest.fixture
def promo_env(tmp_path, monkeypatch):
    """Point every PROMO_ setting at a temporary home; returns a function that applies
    overrides and gives the resulting Settings."""
    for key in list(os.environ):
        if key.startswith("PROMO_"):
            monkeypatch.delenv(key)

    def apply(**overrides: str) -> Settings:
        env = make_env(tmp_path / "promo", **overrides)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return Settings.from_env()

    return apply


TZ = "Europe/Berlin"  # DST ends 2026-10-25: a 25-hour day
FIRST, DAYS = date(2026, 10, 22), 6  # UTC folders 10-22 .. 10-27
LOCAL_FIRST, LOCAL_LAST = "2026-10-22", "2026-10-28"  # every event of those folders


def sql_type(field: contract.Field) -> str:
    return {"string": "VARCHAR", "amount": "DECIMAL(18,2)", "timestamp": "TIMESTAMPTZ"}[field.kind]


def raw_views(con, landing: Path) -> None:
    """One view per stream/dimension straight from the JSON lines; DISTINCT drops the
    at-least-once redeliveries (same contract fields), extra fields are not selected."""
    con.execute("SET TimeZone = 'UTC'")
    for stream in [*contract.STREAMS.values(), *contract.DIMENSIONS.values()]:
        columns = "{" + ", ".join(f"'{f.name}': '{sql_type(f)}'" for f in stream.fields) + "}"
        pattern = (
            f"{landing}/events/{stream.name}/*/*.jsonl*"
            if stream.name in contract.STREAMS
            else f"{landing}/dimensions/{stream.name}.jsonl*"
        )
        con.execute(
            f"CREATE VIEW raw_{stream.name} AS SELECT DISTINCT * FROM read_json("
            f"'{pattern}', format = 'newline_delimited', columns = {columns})"
        )


@pytest.fixture(scope="session")
def berlin_pipeline(tmp_path_factory):
    """Sample data in Europe/Berlin across the end of DST, materialized through Dagster
    (ingestion, dbt, publishing); yields (settings, DuckDB connection with raw_* views over
    the raw JSON files and views over the published marts, the run result)."""
    home = tmp_path_factory.mktemp("marts")
    settings = Settings.from_env(
        make_env(home, PROMO_ACCOUNT_TIMEZONE=TZ, PROMO_PARTITION_START="2026-10-01")
    )
    generate(
        LocalStorage(settings.landing_uri),
        FIRST,
        DAYS,
        seed=11,
        scale=400,
        bad_rate=0.0,
        redelivery_rate=0.02,
    )
    assert run_dimensions(settings).success
    result = run_daily(settings, LOCAL_FIRST, LOCAL_LAST)
    assert result.success
    con = duckdb.connect()
    raw_views(con, Path(settings.landing_uri))
    con.execute(f"CREATE MACRO local_day(ts) AS timezone('{TZ}', ts)::DATE")
    marts = Path(settings.marts_uri)
    for mart in DAILY_MART_NAMES:
        con.execute(
            f"CREATE VIEW {mart} AS SELECT * FROM read_parquet('{marts}/{mart}/*/*.parquet')"
        )
    # A glob, not the manifest's file: the view outlives re-runs, which rename the file.
    con.execute(f"CREATE VIEW user_ledger AS SELECT * FROM '{marts}/user_ledger/part-*.parquet'")
    yield settings, con, result
    con.close()
