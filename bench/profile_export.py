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
import json
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from bench.steps import ALL_SOURCES, ALL_TYPES, WALLET
from promo.reports.definitions import REPORTS, TIMESTAMP_PATTERN
from promo.reports.engine import BATCH_ROWS
from promo.reports.files import PartWriter, _isal_deflate
from promo.reports.validation import ChunkValidator
from promo.reports.windows import custom_window

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
    return sorted(marts.glob("wallet_transactions/date=*/part-0.parquet"))


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
    return con


def batches(con, files, window, sql=None):
    """The engine's Arrow batches, day by day (sql: the engine's query unless given)."""
    sql = sql or DEFINITION.select_sql()
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


def zip_big_blocks(parts, target: Path) -> None:
    with _isal_deflate(), zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for part in parts:
            with part.path.open("rb") as src, zf.open(part.path.name, "w", force_zip64=True) as dst:
                shutil.copyfileobj(src, dst, 4 << 20)


def csv_into_zip(chunks, target: Path) -> list[str]:
    """Each part's CSV written straight into its ZIP entry, hashed as it is written: no
    part files written to disk and read back."""
    header = (",".join(DEFINITION.header) + "\n").encode()
    digests = []

    class Hashing:
        def __init__(self, dst):
            self.dst, self.digest = dst, hashlib.sha256(header)
            dst.write(header)

        def write(self, data):
            self.digest.update(data)
            return self.dst.write(data)

    with _isal_deflate(), zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        out, rows, n = None, 0, 0
        for chunk in chunks:
            while chunk.height:
                if out is None:
                    n += 1
                    out = Hashing(zf.open(f"part-{n:04d}.csv", "w", force_zip64=True))
                    rows = 0
                room = 1_000_000 - rows
                head, chunk = chunk.head(room), chunk.slice(room)
                head.write_csv(out, include_header=False, null_value="")
                rows += head.height
                if rows == 1_000_000:
                    out.dst.close()
                    digests.append(out.digest.hexdigest())
                    out = None
        if out is not None:
            out.dst.close()
            digests.append(out.digest.hexdigest())
    return digests


def profile(marts: Path, work: Path, start: date, days: int, tz: str) -> None:
    window = custom_window(start, start + timedelta(days=days - 1), ZoneInfo(tz))
    files = day_files(marts)
    con = connect(tz)

    # 1. The query (DuckDB), then what polars adds, then variants.
    with Measure("query", "query: the engine's per-day query -> Arrow batches"):
        rows = sum(b.num_rows for b in batches(con, files, window))
    with Measure("query_polars", "query + pl.from_arrow (the engine's query phase)"):
        sum(pl.from_arrow(b).height for b in batches(con, files, window))
    unsorted = DEFINITION.select_sql().rsplit("ORDER BY", 1)[0]
    with Measure("query_unsorted", "query without the per-day ORDER BY"):
        orders = [b.column("_order") for b in batches(con, files, window, sql=unsorted)]
    in_order = pl.concat([pl.Series(o) for o in orders]).is_sorted()
    FACTS["unsorted_in_order"] = bool(in_order)
    print(f"        without ORDER BY the rows still came in time order: {in_order}")
    no_regexp = (
        DEFINITION.select_sql()
        .replace("regexp_replace(strftime(", "(strftime(")
        .replace(", '([+-][0-9]{2})$', '\\1:00')", ")")
    )
    label = "query without regexp_replace (the offset's colon; the bound pays it too)"
    with Measure("query_no_regexp", label):
        sum(b.num_rows for b in batches(con, files, window, sql=no_regexp))
    label = "per-day DuckDB COPY (query) TO csv: DuckDB formats the CSV"
    with Measure("duckdb_csv_per_day", label):
        for i, path in enumerate(files):
            target = work / f"day-{i:02d}.csv"
            con.execute(f"COPY ({inline(DEFINITION.select_sql(), path, window)}) TO '{target}'")
    for p in work.glob("day-*.csv"):
        p.unlink()

    # 2. Validation, on the chunks kept in memory.
    chunks = [pl.from_arrow(b) for b in batches(con, files, window)]
    validator = ChunkValidator(DEFINITION)
    with Measure("validate", "validate: ChunkValidator.check, every 256k-row chunk (Pandera)"):
        for chunk in chunks:
            validator.check(chunk)
    with Measure("validate_ids", "validate: ChunkValidator.finish (id hashes, n_unique)"):
        validator.finish()
    big, group = [], []
    for chunk in chunks:  # the same rows in chunks of at least 1M rows
        group.append(chunk)
        if sum(c.height for c in group) >= 1_000_000:
            big.append(pl.concat(group))
            group = []
    big += [pl.concat(group)] if group else []
    FACTS["chunks"], FACTS["big_chunks"] = len(chunks), len(big)
    label = f"validate: Pandera on >= 1M-row chunks ({len(big)} instead of {len(chunks)})"
    with Measure("validate_1m", label):
        for chunk in big:
            validator.schema.validate(chunk, lazy=True)
    del big
    label = "validate: the same data checks as ONE polars select per chunk"
    with Measure("validate_polars", label):
        for chunk in chunks:
            assert not any(polars_checks(chunk).row(0))

    # 3. CSV and ZIP.
    frames = [c.drop("_order") for c in chunks]
    del chunks
    with Measure("csv", "CSV: PartWriter, polars write_csv into hashed part files (engine)"):
        writer = PartWriter(work, "t", DEFINITION.header, 1_000_000)
        for frame in frames:
            writer.write(frame)
        parts = writer.close()
    with Measure("sha", "CSV: of which SHA-256 of the CSV bytes (timed alone)"):
        for part in parts:
            digest = hashlib.sha256()
            with part.path.open("rb") as fh:
                for block in iter(lambda: fh.read(4 << 20), b""):
                    digest.update(block)
    label = "ZIP: ZipFile.write of the parts, ISA-L level 1 (engine: 8 KiB copies)"
    with (
        Measure("zip", label),
        _isal_deflate(),
        zipfile.ZipFile(work / "a.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        for part in parts:
            zf.write(part.path, arcname=part.path.name)
    with Measure("zip_4m", "ZIP: same, copied in 4 MiB blocks through ZipFile.open('w')"):
        zip_big_blocks(parts, work / "b.zip")
    for part in parts:
        part.path.unlink()
    with Measure("csv_into_zip", "CSV + ZIP: each part's CSV written straight into its ZIP entry"):
        digests = csv_into_zip(frames, work / "c.zip")
    same = FACTS["csv_into_zip_same_bytes"] = digests == [p.sha256 for p in parts]
    print(f"        same part bytes as the engine's parts: {same}")
    print(
        f"        {rows:,} rows; zips MB: "
        + ", ".join(f"{p.name} {p.stat().st_size >> 20}" for p in sorted(work.glob("*.zip")))
    )
    con.close()


def save(start: date, days: int, tz: str, n_rows: int) -> None:
    from bench import run

    results = json.loads(run.RESULTS.read_text())
    export = results.setdefault("sections", {}).setdefault("export", {})
    export["profile"] = {
        "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "rows": ROWS,
        "facts": FACTS,
        "n_rows": n_rows,
        "window": f"{start}..{start + timedelta(days=days - 1)} {tz}",
    }
    run.RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    run.REPORT.write_text(run.render(results))
    print(f"wrote {run.REPORT}")


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
