"""The same dbt project on DuckDB and on Spark gives the same marts (issue 13).

One small lake (Europe/Berlin across the end of DST, made by the project's generator and
ingestion through Dagster) is built by `dbt build` on both targets with the same vars;
then every mart (all columns, row by row) is compared between the DuckDB warehouse and
the Parquet files Spark wrote. Three states: a full build, a window re-run, and a day
whose landing folder was emptied and re-ingested (its rows must disappear on both).

Skipped without pyspark or Java (`make install-spark`). Run by hand:
`.venv/bin/python -m pytest -m spark -s tests/integration/test_engine_parity.py`
(-s prints the build times).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from promo import contract
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import make_env
from tests.helpers import DAILY_MART_NAMES, INGESTION_KEYS, run_daily, run_dimensions

pytest.importorskip("pyspark", reason="the Spark engine is not installed (make install-spark)")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java (make install-spark)", allow_module_level=True)

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
DBT = str(Path(sys.executable).parent / "dbt")
MARTS = (*DAILY_MART_NAMES, "user_ledger")
TZ = "Europe/Berlin"
FIRST, DAYS = date(2026, 10, 24), 3  # UTC folders 10-24 .. 10-26; 10-25 is 25 hours in Berlin
LOCAL_FIRST, LOCAL_LAST = "2026-10-24", "2026-10-27"  # every event of those folders
EMPTIED_FOLDER = "2026-10-26"  # the last folder with data: local 10-27 lives only in it
EMPTIED_LOCAL_DAY = date(2026, 10, 27)


@dataclass(frozen=True)
class Mart:
    """A mart as read back with DuckDB: column name -> type, and its rows sorted."""

    types: dict[str, str]
    rows: list[tuple]


@dataclass
class Engines:
    """Where each engine keeps its warehouse, and how to run dbt on both."""

    root: Path
    settings: Settings

    @property
    def duckdb_path(self) -> Path:
        return self.root / "duckdb" / "warehouse.duckdb"

    @property
    def spark_dir(self) -> Path:
        return self.root / "spark_warehouse"

    def dbt(self, target: str, command: str, min_date: str, max_date: str) -> float:
        """One dbt invocation as the orchestrator makes it; returns its wall time."""
        variables = {
            "min_date": min_date,
            "max_date": max_date,
            "account_timezone": TZ,
            "lake_dir": str(self.settings.lake_dir),
        }
        env = {
            **os.environ,
            "PROMO_WAREHOUSE_PATH": str(self.duckdb_path),
            "PROMO_SPARK_WAREHOUSE_DIR": str(self.spark_dir),
        }
        # Own target and log folders: the repository's target/manifest.json is the
        # DuckDB one the Dagster code location loads.
        args = [DBT, command, "--target", target, "--vars", json.dumps(variables)]
        args += ["--profiles-dir", ".", "--target-path", str(self.root / f"target_{target}")]
        args += ["--log-path", str(self.root / f"logs_{target}")]
        started = time.perf_counter()
        done = subprocess.run(args, cwd=DBT_DIR, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        assert done.returncode == 0, f"dbt {command} on {target} failed:\n{done.stdout[-6000:]}"
        return elapsed

    def both(self, command: str, min_date: str, max_date: str) -> dict[str, float]:
        return {t: self.dbt(t, command, min_date, max_date) for t in ("dev", "spark")}

    def marts(self) -> tuple[dict[str, Mart], dict[str, Mart]]:
        """Every mart from the DuckDB warehouse and from Spark's files, columns in
        DuckDB's order (Spark writes the partition column local_date last)."""
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"ATTACH '{self.duckdb_path}' AS warehouse (READ_ONLY)")
        try:
            ours = {m: read_mart(con, f"warehouse.main.{m}") for m in MARTS}
            theirs = {m: read_mart(con, spark_relation(self.spark_dir, m)) for m in MARTS}
        finally:
            con.close()
        return ours, theirs


def spark_relation(spark_dir: Path, mart: str) -> str:
    """Spark's table folder read with DuckDB: `promo.db/<mart>/local_date=D/part-*.parquet`
    (local_date exists only in the folder names), or `part-*.parquet` for user_ledger."""
    folder = spark_dir / "promo.db" / mart
    if mart == "user_ledger":
        return f"read_parquet('{folder}/*.parquet')"
    return (
        f"read_parquet('{folder}/*/*.parquet', hive_partitioning = true, "
        "hive_types = {'local_date': DATE})"
    )


def read_mart(con, relation: str) -> Mart:
    types = {
        name: kind
        for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    }
    rows = con.execute(f"SELECT * FROM {relation} ORDER BY ALL").fetchall()
    return Mart(types, rows)


def assert_same_marts(ours: dict[str, Mart], theirs: dict[str, Mart]) -> None:
    for mart in MARTS:
        duck, spark = ours[mart], theirs[mart]
        assert set(spark.types) == set(duck.types), f"{mart}: columns differ"
        for column, kind in duck.types.items():
            assert spark.types[column] == kind, f"{mart}.{column}: {spark.types[column]} != {kind}"
        positions = [list(spark.types).index(c) for c in duck.types]
        spark_rows = sorted((tuple(row[i] for i in positions) for row in spark.rows), key=sort_key)
        duck_rows = sorted(duck.rows, key=sort_key)
        assert len(spark_rows) == len(duck_rows), f"{mart}: {len(spark_rows)} != {len(duck_rows)}"
        for spark_row, duck_row in zip(spark_rows, duck_rows, strict=True):
            assert spark_row == duck_row, f"{mart}: Spark {spark_row} != DuckDB {duck_row}"


def sort_key(row: tuple) -> tuple:
    """Rows of mixed types with NULLs, sortable the same way on both sides."""
    return tuple((value is None, str(value)) for value in row)


def rows_on(mart: Mart, day: date) -> int:
    return sum(1 for row in mart.rows if row[list(mart.types).index("local_date")] == day)


def ingest(settings: Settings) -> None:
    result = run_daily(settings, LOCAL_FIRST, LOCAL_LAST, selection=INGESTION_KEYS)
    assert result.success


@pytest.fixture(scope="module")
def engines(tmp_path_factory) -> Engines:
    root = tmp_path_factory.mktemp("parity")
    settings = Settings.from_env(
        make_env(root / "home", PROMO_ACCOUNT_TIMEZONE=TZ, PROMO_PARTITION_START="2026-10-01")
    )
    generate(
        LocalStorage(settings.landing_uri),
        FIRST,
        DAYS,
        seed=13,
        scale=150,
        bad_rate=0.0,
        redelivery_rate=0.02,
    )
    assert run_dimensions(settings).success
    ingest(settings)
    (root / "duckdb").mkdir()
    return Engines(root, settings)


@pytest.fixture(scope="module")
def full_build(engines):
    """A first `dbt build` (models, unit tests, data tests) on both engines."""
    times = engines.both("build", LOCAL_FIRST, LOCAL_LAST)
    print(f"\nfull dbt build, same lake: DuckDB {times['dev']:.1f} s, Spark {times['spark']:.1f} s")
    return engines.marts()


@pytest.fixture(scope="module")
def window_rerun(full_build, engines):
    """Then the DST day alone again (`dbt run`: the tests ran in the full build)."""
    engines.both("run", "2026-10-25", "2026-10-25")
    return engines.marts()


@pytest.fixture(scope="module")
def emptied_day(window_rerun, engines):
    """Then the last landing folder loses its files, is re-ingested (zero-row Parquet
    in the lake) and the local days it overlaps are re-run."""
    folders = list(Path(engines.settings.landing_uri).glob(f"events/*/date={EMPTIED_FOLDER}"))
    assert {f.parent.name for f in folders} == set(contract.STREAMS)
    for folder in folders:
        shutil.rmtree(folder)
    ingest(engines.settings)
    engines.both("run", "2026-10-26", LOCAL_LAST)
    return engines.marts()


def test_a_full_build_gives_the_same_marts_on_both_engines(full_build):
    ours, theirs = full_build
    assert all(ours[m].rows for m in MARTS), "every mart must have rows to compare"
    assert_same_marts(ours, theirs)


def test_a_window_rerun_gives_the_same_marts_as_the_full_build(full_build, window_rerun):
    ours, theirs = window_rerun
    assert_same_marts(ours, theirs)
    assert ours == full_build[0]


def test_a_day_emptied_upstream_loses_its_rows_on_both_engines(full_build, emptied_day):
    before = full_build[0]["wallet_transactions"]
    assert rows_on(before, EMPTIED_LOCAL_DAY) > 0, "the emptied day must have had rows"
    ours, theirs = emptied_day
    for mart in DAILY_MART_NAMES:
        assert rows_on(ours[mart], EMPTIED_LOCAL_DAY) == 0, f"DuckDB {mart}"
        assert rows_on(theirs[mart], EMPTIED_LOCAL_DAY) == 0, f"Spark {mart}"
    assert_same_marts(ours, theirs)
