"""Where a big Wallet Transactions export spends its time: each stage of
`promo.reports.engine.export_report` re-done alone on the same synthetic mart, beside the
alternatives worth considering. Not part of `make bench` (about three minutes at 10M rows,
and it holds the 10M rows in memory, ~3 GB):

    python -m bench.profile_export            # builds its own synthetic mart, prints
    python -m bench.profile_export --save     # ... and adds the table to docs/benchmarks.md

One line per measurement: wall seconds, CPU seconds of this process (all threads), the
1-minute load before it, and what was measured. The engine is only called, never changed.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from bench.steps import ALL_SOURCES, ALL_TYPES, WALLET, _sql_local_ts
from promo.reports.csv_safety import neutralise, text_columns
from promo.reports.definitions import REPORTS, TIMESTAMP, TIMESTAMP_PATTERN
from promo.reports.engine import BATCH_ROWS, VALIDATE_ROWS, render_timestamps
from promo.reports.files import CSV_BATCH_ROWS, PartWriter
from promo.reports.validation import ChunkValidator
from promo.reports.windows import custom_window
from promo.reports.zipstream import ZipStream

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = REPORTS["wallet_transactions"]
ROWS: list[dict] = []
FACTS: dict[str, bool | int] = {}


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


class Measure:
    def __init__(self, key: str, label: str):
        self.key, self.label = key, label

    def __enter__(self):
        self.load = load1()
        self.t, self.c = time.perf_counter(), cpu()
        return self

    def __exit__(self, *exc):
        wall, used = time.perf_counter() - self.t, cpu() - self.c
        ROWS.append(
            {
                "key": self.key,
                "what": self.label,
                "wall_s": round(wall, 2),
                "cpu_s": round(used, 2),
                "load1_before": self.load,
            }
        )
        line = f"{wall:7.2f} s wall {used:7.2f} s CPU  load1 {self.load:5.2f}  {self.label}"
        print(line, flush=True)


def day_files(marts: Path) -> list[Path]:
    return sorted(marts.glob("wallet_transactions/date=*/*.parquet"))


def params(path: Path, window) -> dict:
    return {
        "files": [str(path)],
        "wallet_id": WALLET,
        "sources": ALL_SOURCES,
        "types": ALL_TYPES,
        "start": window.start,
        "end": window.end,
    }


def connect(tz: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = $tz", {"tz": tz})
    con.execute("SET threads = 1")  # as the engine: one thread reads a day in file order
    return con


def batches(con, files, window, sql=None):
    """The engine's Arrow batches, day by day (sql: the engine's query unless given)."""
    sql = sql or DEFINITION.select_sql(ordered=False)
    for path in files:
        yield from con.sql(sql, params=params(path, window)).to_arrow_reader(BATCH_ROWS)


def inline(sql: str, path: Path, window) -> str:
    """The engine's query with its parameters written in (COPY takes none)."""
    p = params(path, window)
    sql = sql.replace("$files", repr(p["files"]))
    for k in ("wallet_id", "sources", "types"):
        sql = sql.replace(f"${k}", repr(p[k]))
    sql = sql.replace("$start", f"TIMESTAMPTZ '{window.start.isoformat()}'")
    return sql.replace("$end", f"TIMESTAMPTZ '{window.end.isoformat()}'")


def polars_checks(chunk: pl.DataFrame) -> pl.DataFrame:
    """The report schema's data checks as plain polars expressions, all in one select:
    a count of failures per check (the failure cases would be looked up, e.g. by running
    the Pandera schema on that chunk, only when a count is not zero)."""
    exprs = []
    for col in DEFINITION.columns:
        c = pl.col(col.name)
        if col.required:
            exprs.append(c.null_count().alias(f"{col.name}:null"))
        if col.allowed:
            exprs.append((~c.is_in(list(col.allowed))).sum().alias(f"{col.name}:isin"))
        if col.kind == "timestamp":
            exprs.append((~c.str.contains(TIMESTAMP_PATTERN)).sum().alias(f"{col.name}:format"))
    exprs.append((pl.col("_order").diff() < 0).sum().alias("_order:time order"))
    return chunk.select(exprs)


class Sink:
    """What polars writes the CSV into: counted, and optionally hashed and deflated."""

    def __init__(self, sha: bool = False, zip_stream: ZipStream | None = None):
        self.bytes, self.zip = 0, zip_stream
        self.digest = hashlib.sha256() if sha else None

    def write(self, data) -> int:
        self.bytes += len(data)
        if self.digest is not None:
            self.digest.update(data)
        if self.zip is not None:
            self.zip.write(data)
        return len(data)

    def flush(self) -> None:
        pass


def render_all(frames, sink: Sink) -> None:
    for frame in frames:
        frame.write_csv(sink, include_header=False, null_value="", batch_size=CSV_BATCH_ROWS)


def deflated(frames, target: Path, level: int) -> int:
    """CSV, SHA-256, CRC-32 and deflate, one ZIP entry per frame: the writer's work
    without the formula check; returns the archive's size."""
    with target.open("wb") as fh:
        stream = ZipStream(fh, level=level)
        for n, frame in enumerate(frames):
            stream.start(f"part-{n:04d}.csv")
            render_all([frame], Sink(sha=True, zip_stream=stream))
            stream.end()
        stream.close()
    return target.stat().st_size


def write_report(frames, work: Path):
    """The engine's PartWriter on the held chunks."""
    writer = PartWriter(
        work, "t", DEFINITION.header, 1_000_000, text_columns=text_columns(DEFINITION.columns)
    )
    for frame in frames:
        writer.write(frame)
    written = writer.close()
    written.path.unlink()
    return written


def profile(marts: Path, work: Path, start: date, days: int, tz: str) -> None:
    window = custom_window(start, start + timedelta(days=days - 1), ZoneInfo(tz))
    files = day_files(marts)
    con = connect(tz)

    # 1. The query (DuckDB), then what polars adds, then variants.
    with Measure("query", "query: the engine's per-day query -> Arrow batches"):
        rows = sum(b.num_rows for b in batches(con, files, window))
    stamps = DEFINITION.timestamp_columns
    label = "query + pl.from_arrow + polars renders the timestamps (the engine's query phase)"
    with Measure("query_polars", label):
        sum(
            render_timestamps(pl.from_arrow(b), stamps, tz).height
            for b in batches(con, files, window)
        )
    con.execute("SET produce_arrow_string_view = true")
    label = "query + pl.from_arrow, DuckDB producing Arrow string views (polars' own layout)"
    with Measure("query_polars_views", label):
        sum(pl.from_arrow(b).height for b in batches(con, files, window))
    con.execute("RESET produce_arrow_string_view")
    with Measure("query_sorted", "query with a per-day ORDER BY (the engine before 2026-12-02)"):
        sum(b.num_rows for b in batches(con, files, window, sql=DEFINITION.select_sql()))
    orders = [b.column("_order") for b in batches(con, files, window)]
    in_order = pl.concat([pl.Series(o) for o in orders]).is_sorted()
    FACTS["unsorted_in_order"] = bool(in_order)
    print(f"        without ORDER BY the rows came in time order: {in_order}")
    rendered = DEFINITION.select_sql(ordered=False)
    for col in DEFINITION.columns:
        if col.kind == TIMESTAMP:
            rendered = rendered.replace(f"{col.sql} AS", f"{_sql_local_ts(col.sql)} AS")
    label = "query rendering the timestamps in DuckDB (strftime + regexp_replace, as the bound)"
    with Measure("query_sql_timestamps", label):
        sum(b.num_rows for b in batches(con, files, window, sql=rendered))
    label = "per-day DuckDB COPY (query) TO csv: DuckDB formats the CSV"
    with Measure("duckdb_csv_per_day", label):
        for i, path in enumerate(files):
            target = work / f"day-{i:02d}.csv"
            con.execute(f"COPY ({inline(rendered, path, window)}) TO '{target}'")
    for p in work.glob("day-*.csv"):
        p.unlink()

    # 2. Validation, on the chunks kept in memory, grouped as the engine groups them.
    chunks = [render_timestamps(pl.from_arrow(b), stamps, tz) for b in batches(con, files, window)]
    con.close()
    groups, group = [], []
    for chunk in chunks:
        group.append(chunk)
        if sum(c.height for c in group) >= VALIDATE_ROWS:
            groups.append(pl.concat(group, rechunk=False))
            group = []
    groups += [pl.concat(group, rechunk=False)] if group else []
    del chunks, group
    FACTS["groups"] = len(groups)
    validator = ChunkValidator(DEFINITION)
    label = f"validate: ChunkValidator.check on >= 1M-row groups ({len(groups)}, engine)"
    with Measure("validate", label):
        for chunk in groups:
            validator.check(chunk)
    with Measure("validate_ids", "validate: ChunkValidator.finish (id hashes, n_unique)"):
        validator.finish()
    label = "validate: the same data checks as ONE polars select per group"
    with Measure("validate_polars", label):
        for chunk in groups:
            assert not any(polars_checks(chunk).row(0))

    # 3. Writing, stage by stage, then the engine's writer whole.
    frames = [c.drop("_order") for c in groups]
    del groups
    text = text_columns(DEFINITION.columns)
    with Measure("neutralise", f"write: formula check of the {len(text)} text columns"):
        assert sum(neutralise(f, text)[1] for f in frames) == 0
    sink = Sink()
    with Measure("csv", "write: polars write_csv into a sink that only counts"):
        render_all(frames, sink)
    FACTS["csv_mb"] = sink.bytes >> 20
    with Measure("csv_sha", "write: + SHA-256 of every part"):
        render_all(frames, Sink(sha=True))
    label = "write: + CRC-32 and ISA-L deflate level 1 into ZIP entries (the writer's work)"
    with Measure("deflate_1", label):
        FACTS["zip_mb_level_1"] = deflated(frames, work / "l1.zip", 1) >> 20
    with Measure("deflate_0", "write: the same at ISA-L level 0 (larger file)"):
        FACTS["zip_mb_level_0"] = deflated(frames, work / "l0.zip", 0) >> 20
    with Measure("writer", "write: the engine's PartWriter (all of the above, one pass)"):
        write_report(frames, work)
    print(f"        {rows:,} rows; facts: {FACTS}")


def render_profile(p: dict) -> list[str]:
    """The table of this profile, and what its figures say."""
    from bench.run import table

    by = {r["key"]: r for r in p["rows"]}
    facts = p.get("facts", {})
    loads = [r["load1_before"] for r in p["rows"]]
    lines = [
        "### Profile: each stage alone",
        "",
        f"`python -m bench.profile_export --save` ({p['ran_at']} UTC, {p['n_rows']:,} rows, "
        f"{p['window']}, load {min(loads):.2f}–{max(loads):.2f}): each stage of the export "
        "re-done alone on the same synthetic mart in one process (the chunks held in "
        "memory), beside alternatives. Single runs on a shared machine: differences under "
        "~1 s are noise.",
        "",
        *table(
            p["rows"],
            [
                ("what", "measurement"),
                ("wall_s", "wall s"),
                ("cpu_s", "CPU s"),
                ("load1_before", "load (1 min) before"),
            ],
        ),  # fmt: skip
    ]
    needed = {"query", "query_polars", "csv", "csv_sha", "deflate_1", "deflate_0", "neutralise"}
    if not needed <= by.keys():
        return lines
    cpu = {k: r["cpu_s"] for k, r in by.items()}
    lines += [
        "",
        "What it shows (CPU seconds, the figure that load disturbs least):",
        "",
        f"- The query side (DuckDB to Arrow, then polars) is {cpu['query_polars']:.1f} s, "
        "the same work the bound does before its sort and its CSV.",
        f"- Writing: polars renders the CSV ({facts.get('csv_mb', '?')} MB) in "
        f"{cpu['csv']:.1f} s; SHA-256 of the parts adds {cpu['csv_sha'] - cpu['csv']:.1f} s; "
        f"CRC-32 and ISA-L deflate add {cpu['deflate_1'] - cpu['csv_sha']:.1f} s at level 1 "
        f"({facts.get('zip_mb_level_1', '?')} MB) and "
        f"{cpu['deflate_0'] - cpu['csv_sha']:.1f} s at level 0 "
        f"({facts.get('zip_mb_level_0', '?')} MB). The formula check of the text columns "
        f"costs {cpu['neutralise']:.1f} s on data without formula cells.",
        f"- The engine's writer does all of it in one pass: {cpu.get('writer', 0):.1f} s.",
    ]
    return lines


def save(start: date, days: int, tz: str, n_rows: int) -> None:
    from bench.run import keep_profile

    keep_profile(
        "export",
        {
            "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
            "rows": ROWS,
            "facts": FACTS,
            "n_rows": n_rows,
            "window": f"{start}..{start + timedelta(days=days - 1)} {tz}",
        },
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--marts", help="a synthetic mart made by `bench.steps synthetic-mart`")
    parser.add_argument("--work", default=str(ROOT / ".promo" / "bench-profile"))
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--start", default="2026-10-01")
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--tz", default="Europe/Berlin")
    parser.add_argument("--save", action="store_true", help="add the table to docs/benchmarks.md")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    start = date.fromisoformat(args.start)
    marts = Path(args.marts) if args.marts else work / "marts"
    try:
        if not args.marts:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.steps",
                    "synthetic-mart",
                    "--start",
                    args.start,
                    "--days",
                    str(args.days),
                    "--tz",
                    args.tz,
                    "--out",
                    str(marts),
                    "--rows",
                    str(args.rows),
                ],
                check=True,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
        profile(marts, work, start, args.days, args.tz)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.save:
        save(start, args.days, args.tz, args.rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
