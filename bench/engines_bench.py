"""Section 4 of `make bench`: the same lake built by dbt on DuckDB and on Spark (issue 13).

For each size (1M and 10M wallet transactions by default, both over the same 90 days, so
only the rows per day differ), one lake is generated and ingested once; then the first
full `dbt build` over the 90 days runs on each engine against that lake, DuckDB first,
each in its own warehouse (a DuckDB file, a Spark warehouse folder). Spark runs as a local
session on this machine (pyspark's JVM, 2 cores): the figure says what one machine does,
not what a cluster does. The point of Spark is a slope that stays flat as workers are
added; on one machine the useful reading is how its time grows from 1M to 10M rows
against DuckDB's, and its fixed cost (JVM start, ~0.5 s per statement for 130 tests).

Only runs when pyspark and `java` are installed (`make install-spark`).
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

from bench.tables import LOAD_COLS, table

ENGINES = ("duckdb", "spark")


def bench_engines(work: Path, sizes: list[int], days: int, gen_start, measure, env_of) -> dict:
    """Rows of every measured step, and per size the two engines' figures side by side.
    `measure(step, *args, env=...)` and `env_of(home)` are bench.run's."""
    rows, side_by_side = [], []
    last = gen_start + timedelta(days=days - 1)
    span = ("--start", gen_start.isoformat(), "--end", last.isoformat())
    for size in sizes:
        home = work / f"engines-{size}"
        shutil.rmtree(home, ignore_errors=True)
        env = env_of(home)
        scale = str(size // days)
        gen = measure("generate", "--start", gen_start.isoformat(), "--days", str(days),
                      "--scale", scale, env=env)  # fmt: skip
        ingest = measure("ingest", *span, env=env)
        dims = measure("dimensions", env=env)
        for r, what in ((gen, "generate"), (ingest, "ingest"), (dims, "dimension snapshots")):
            r.update(what=what, rows=size, days=days)
            rows.append(r)
        built = {}
        for engine in ENGINES:
            r = measure("dbt", *span, env={**env, "PROMO_ENGINE": engine})
            r.update(what=f"dbt build on {engine}, {days} days (first build)", rows=size,
                     days=days, engine=engine)  # fmt: skip
            rows.append(r)
            built[engine] = r
        duck, spark = built["duckdb"], built["spark"]
        assert duck["wallet_rows"] == spark["wallet_rows"], "the engines built different marts"
        side_by_side.append(
            {
                "rows": size,
                "days": days,
                "wallet_rows": duck["wallet_rows"],
                "checks": duck["checks"],
                "duckdb_s": duck["seconds"],
                "spark_s": spark["seconds"],
                "spark_over_duckdb": round(spark["seconds"] / duck["seconds"], 2),
                "duckdb_peak_mb": duck["peak_rss_mb"],
                "spark_peak_mb": spark["peak_rss_mb"],
            }
        )
        shutil.rmtree(home, ignore_errors=True)
    if len(side_by_side) > 1:
        small, large = side_by_side[0], side_by_side[-1]
        for engine in ENGINES:
            large[f"{engine}_growth"] = round(large[f"{engine}_s"] / small[f"{engine}_s"], 2)
    return {"rows": rows, "engines": side_by_side}


def render_engines(section: dict) -> list[str]:
    out = [
        "The same generated lake (all streams, the default bad-line and redelivery rates, "
        "90 days) built by the first full `dbt build` (models and tests) through the "
        "`promo_daily` job on each engine, `PROMO_ENGINE=duckdb` then `PROMO_ENGINE=spark` "
        "(a local Spark session: pyspark's JVM on this machine, the `spark` target). Whole "
        "processes: wall time includes Python's imports and, for Spark, the JVM's start. "
        "CPU s and peak RSS count the step and the JVM (read from /proc before the step "
        "exits; a run before 2026-12-02 05:50 UTC missed the JVM). *Growth*: the "
        "time at the largest size over the time at the smallest, per engine. Nothing here "
        "was measured on a cluster: see docs/scale-out.md for what was tested and what was "
        "not.",
        "",
    ]
    out += table(
        section["engines"],
        [
            ("rows", "wallet tx"),
            ("days", "days"),
            ("wallet_rows", "wallet_transactions rows built"),
            ("checks", "dbt tests"),
            ("duckdb_s", "DuckDB wall s"),
            ("spark_s", "Spark wall s"),
            ("spark_over_duckdb", "Spark / DuckDB"),
            ("duckdb_growth", "DuckDB growth"),
            ("spark_growth", "Spark growth"),
            ("duckdb_peak_mb", "DuckDB peak RSS MB"),
            ("spark_peak_mb", "Spark peak RSS MB"),
        ],
    )
    out += ["", "Every step:", ""]
    out += table(
        section["rows"],
        [
            ("what", "step"),
            ("rows", "wallet tx"),
            ("seconds", "wall s"),
            ("cpu_s", "CPU s"),
            ("peak_rss_mb", "peak RSS MB"),
            *LOAD_COLS,
        ],
    )
    return out
