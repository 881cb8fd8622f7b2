"""The same pipeline on DuckDB and on Spark publishes the same marts (issue 13).

One landing zone (Europe/Berlin across the end of DST, made by the project's generator)
is run through the daily Dagster job twice, once per `PROMO_ENGINE`, each with its own
home (lake, warehouse, published marts). The published marts must be the same files,
byte for byte (so reports, stats and BI cannot tell which engine built them), and, read
back, the same rows and types. Three states: a full build, a re-run of the DST day alone,
and a day whose landing folder was emptied (its rows must disappear on both). A report
created from each engine's marts is the same file too.

`make test` installs pyspark and Java first (`make install-spark`); skipped without them. By hand:
`.venv/bin/python -m pytest -m spark -s tests/integration/test_engine_parity.py`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.report_runs import report_settings
from orchestration.settings import Settings
from promo import contract
from promo.dbt_vars import dbt_vars
from promo.generator import generate
from promo.reports.catalog import load_catalog
from promo.reports.request import prepare
from promo.reports.spec_io import load_spec
from resources.storage import LocalStorage
from tests.conftest import make_env
from tests.helpers import DAILY_MART_NAMES, run_daily, run_dbt_unit_tests, run_dimensions

pytest.importorskip("pyspark", reason="the Spark engine is not installed (make install-spark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (make install-spark)", allow_module_level=True)

pytestmark = [pytest.mark.integration, pytest.mark.spark]

ENGINES = ("duckdb", "spark")
MARTS = (*DAILY_MART_NAMES, "user_ledger")
TZ = "Europe/Berlin"
FIRST, DAYS = date(2026, 10, 24), 3  # UTC folders 10-24 .. 10-26; 10-25 is 25 hours in Berlin
LOCAL_FIRST, LOCAL_LAST = "2026-10-24", "2026-10-27"  # every event of those folders
EMPTIED_FOLDER = "2026-10-26"  # the last folder with data: local 10-27 lives only in it
EMPTIED_LOCAL_DAY = "2026-10-27"
NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def published(settings: Settings) -> dict[str, str]:
    """Every published partition folder (relative path) and its data file's SHA-256."""
    root = Path(settings.marts_uri)
    return {
        p.parent.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.glob("*/**/part-*.parquet"))
    }


def rows(settings: Settings, mart: str) -> tuple[list[tuple], list[tuple]]:
    """A published mart read back with plain DuckDB: its (name, type) columns and rows."""
    files = f"{settings.marts_uri}/{mart}/**/part-*.parquet"
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        relation = f"read_parquet('{files}', hive_partitioning = false)"
        types = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
        return [t[:2] for t in types], con.execute(
            f"SELECT * FROM {relation} ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def run(homes: dict[str, Settings], first: str, last: str) -> dict[str, float]:
    """The daily job over first..last on each engine; returns the wall time of each."""
    seconds = {}
    for engine, settings in homes.items():
        started = time.perf_counter()
        result = run_daily(settings, first, last)
        seconds[engine] = time.perf_counter() - started
        failures = [e.step_key for e in result.all_events if e.is_step_failure]
        assert result.success, f"{engine}: failed steps {failures}"
    return seconds


def assert_same_published(homes: dict[str, Settings]) -> None:
    duck, spark = (published(homes[e]) for e in ENGINES)
    assert duck, "nothing published"
    assert sorted(spark) == sorted(duck), "the same partitions on both engines"
    for mart in MARTS:
        assert rows(homes["spark"], mart) == rows(homes["duckdb"], mart), mart
    different = [key for key in duck if duck[key] != spark[key]]
    assert different == [], "the published files are byte-identical"


@pytest.fixture(scope="module")
def homes(tmp_path_factory) -> dict[str, Settings]:
    root = tmp_path_factory.mktemp("parity")
    landing = root / "landing"
    generate(LocalStorage(landing), FIRST, DAYS, seed=13, scale=150, redelivery_rate=0.02)
    out = {}
    for engine in ENGINES:
        env = make_env(
            root / engine,
            PROMO_ACCOUNT_TIMEZONE=TZ,
            PROMO_LANDING_URI=str(landing),
            PROMO_ENGINE=engine,
        )
        out[engine] = Settings.from_env(env)
        assert run_dimensions(out[engine]).success
    return out


@pytest.fixture(scope="module")
def full_build(homes):
    seconds = run(homes, LOCAL_FIRST, LOCAL_LAST)
    duck, spark = seconds["duckdb"], seconds["spark"]
    print(f"\ndaily job, same landing: DuckDB {duck:.0f} s, Spark {spark:.0f} s")
    return {e: published(s) for e, s in homes.items()}


def test_a_full_build_publishes_the_same_marts_on_both_engines(homes, full_build):
    assert {m.split("/")[0] for m in full_build["duckdb"]} == set(MARTS)
    assert_same_published(homes)


def test_a_report_is_the_same_file_whichever_engine_built_its_marts(homes, full_build):
    spec = {
        "name": "Parity transactions",
        "promotion_type": "loyalty_wallet",
        "report_type": "wallet_transactions",
        "filters": {"wallet_id": "wlt_main"},
        "date_range": {"start": LOCAL_FIRST, "end": LOCAL_LAST},
    }
    files = {}
    for engine, settings in homes.items():
        reports = report_settings(settings)
        catalog = load_catalog(reports.lake())
        checked = load_spec(spec, catalog)
        delivered = reports.export(checked, prepare(checked, catalog, NOW, settings.tz), NOW, "t")
        assert delivered.rows > 0
        files[engine] = Path(delivered.uri).read_bytes()
    assert files["spark"] == files["duckdb"]


def test_the_dbt_unit_tests_pass_on_spark(homes, full_build, tmp_path):
    """The orchestrator leaves dbt's unit tests out of its runs: on Spark they run here
    (on DuckDB, in test_marts.py), against the Spark warehouse the full build made."""
    spark = homes["spark"]
    variables = dbt_vars(TZ, str(spark.lake_dir)) | {
        "spark_warehouse_dir": str(spark.spark_warehouse_dir)
    }
    code, out, expected = run_dbt_unit_tests(variables, tmp_path, engine="spark")
    assert code == 0, out[-3000:]
    assert re.search(rf"\b{expected} unit tests\b", out), out[-1000:]  # all of them ran


def test_a_window_rerun_keeps_both_engines_equal(homes, full_build):
    run(homes, "2026-10-25", "2026-10-25")  # the 25-hour DST day alone
    assert_same_published(homes)
    assert {e: published(s) for e, s in homes.items()} == full_build


def test_a_day_emptied_upstream_loses_its_rows_on_both_engines(homes, full_build):
    landing = Path(homes["duckdb"].landing_uri)
    folders = list(landing.glob(f"events/*/date={EMPTIED_FOLDER}"))
    assert {f.parent.name for f in folders} == set(contract.STREAMS)
    assert any(EMPTIED_LOCAL_DAY in key for key in full_build["duckdb"])
    for folder in folders:
        shutil.rmtree(folder)
    run(homes, "2026-10-26", LOCAL_LAST)
    assert_same_published(homes)
    for engine, settings in homes.items():
        _, day_rows = rows(settings, "wallet_transactions")
        assert not [r for r in day_rows if str(r[-1]) == EMPTIED_LOCAL_DAY], engine
