"""`make bench`: throughput and peak memory of each stage, written to docs/benchmarks.md.

Each measured step runs in its own child process (`python -m bench.steps STEP ...`) so
its peak memory is its own (from wait4's rusage), not the harness's. Before each step the
harness reads /proc/loadavg, and around it /proc/stat, so every figure carries the load
the machine was under (other processes' CPU use during the step, in cores).

Sections:
1. ingestion - sample-data generation and ingestion at each size (1M and 10M wallet
   transactions by default), each against its bare floor (DuckDB read_ndjson -> Parquet of
   the same files, no validation) measured in the same run: several alternating rounds
   (`--ingest-rounds`) at each size but the largest, medians and their ratio;
2. marts - at the largest size, on the SAME lake (one PROMO_HOME): dimension snapshots,
   the first dbt build over the whole range, a one-day dbt re-run, publishing the range;
3. export - a 10M-row Wallet Transactions report (ZIP of ten 1M-row CSVs) through the
   report engine, against the bare lower bound (one DuckDB COPY ... ORDER BY ... TO csv)
   measured in the same run.

Results are kept in docs/benchmarks.json, so a partial run (`--only`) updates its
sections and keeps the others; docs/benchmarks.md is rendered from it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.json"
REPORT = ROOT / "docs" / "benchmarks.md"

GEN_START = date(2026, 8, 1)  # sample data: UTC days from here (all in the past)
INGEST_DAYS = 30  # days of the sizes that only run section 1
EXPORT_START = date(2026, 10, 1)  # synthetic mart: 30 Berlin days, across the DST change
EXPORT_DAYS = 30
EXPORT_ROWS = 10_000_000
EXPORT_TZ = "Europe/Berlin"
TARGET_RATIO = 1.5
INGEST_TARGET_RATIO = 2.0  # issue 17: ingestion within 2x its bare floor, in CPU seconds
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ measuring
def cpu_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores), from /proc/stat."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def load1() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


LOG: list[str] = []


def measure(step: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run one step in a child process: wall time, peak RSS, CPU, machine load, and what
    the step printed (its last line, JSON)."""
    cmd = [sys.executable, "-m", "bench.steps", step, *args]
    load_before = load1()
    busy_before = cpu_busy_seconds()
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    busy = cpu_busy_seconds() - busy_before
    if status != 0:
        raise SystemExit(f"benchmark step {step} failed (status {status}): {' '.join(cmd)}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    cpu = usage.ru_utime + usage.ru_stime  # the step and the children it waited for
    row = {
        "step": step,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "cpu_s": round(cpu, 1),
        "load1_before": load_before,
        "others_cores": round(max(0.0, busy - cpu) / seconds, 2),
        **result,
    }
    line = (
        f"{datetime.now().strftime('%H:%M:%S')} {step:<15} {seconds:7.1f} s "
        f"{row['peak_rss_mb']:6} MB  load1 {load_before:.2f}  others {row['others_cores']:.2f} "
        f"cores  {json.dumps({k: v for k, v in result.items() if k != 'part_sha256'})}"
    )
    print(line, flush=True)
    LOG.append(line)
    return row


def machine() -> str:
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kb = int(next(row for row in meminfo if row.startswith("MemTotal")).split()[1])
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next(
        (row.split(":", 1)[1].strip() for row in cpuinfo if row.startswith("model name")),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GiB RAM, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    )


def versions() -> str:
    from importlib.metadata import version

    names = ("duckdb", "polars", "pandera", "isal", "dagster", "dbt-core", "dbt-duckdb")
    return ", ".join(f"{n} {version(n)}" for n in names)


# ------------------------------------------------------------------ sections
def pipeline_env(home: Path) -> dict[str, str]:
    return {
        "PROMO_HOME": str(home),
        "PROMO_PARTITION_START": "2026-01-01",
        "PROMO_ACCOUNT_TIMEZONE": "UTC",
        "DAGSTER_HOME": str(home / "dagster_home"),
        # dagster-dbt gives each dbt invocation its own target folder under this one:
        # keep them in the work folder, not in dbt_project/target.
        "DBT_TARGET_PATH": str(home / "dbt-target"),
        # No recurring reports: the repository's catalog would add report assets (and
        # their runs) that this benchmark does not measure. A missing file is an empty one.
        "PROMO_REPORT_CATALOG": str(home / "no-recurring-reports.yaml"),
    }


def bench_ingestion(rows: int, days: int, home: Path, rounds: int) -> tuple[list[dict], dict]:
    """Generate, then `rounds` times the bare floor and the ingestion of the same files
    (each into an empty lake), alternating so both see the same machine. Returns every
    measured row and the medians of the rounds."""
    shutil.rmtree(home, ignore_errors=True)
    env = pipeline_env(home)
    end = GEN_START + timedelta(days=days - 1)
    gen = measure(
        "generate",
        *("--start", GEN_START.isoformat(), "--days", str(days), "--scale", str(rows // days)),
        env=env,
    )
    span = ("--start", GEN_START.isoformat(), "--end", end.isoformat())
    out = [gen]
    for round_ in range(1, rounds + 1):
        shutil.rmtree(home / "lake", ignore_errors=True)
        floor = measure("floor", *span, "--out", str(home / "bench-floor"), env=env)
        ingest = measure("ingest", *span, env=env)
        for r in (floor, ingest):
            r["round"] = round_
        out += [floor, ingest]
    shutil.rmtree(home / "bench-floor", ignore_errors=True)
    for r in out:
        r.update(rows=rows, days=days, records_per_s=round(r["lines"] / r["seconds"]))
    return out, floor_summary(out, rows, days)


def floor_summary(rows: list[dict], size: int, days: int) -> dict:
    """Medians of the floor and ingestion rounds, and their ratios."""

    def median(step: str, key: str) -> float:
        return statistics.median(r[key] for r in rows if r["step"] == step)

    summary = {"rows": size, "days": days, "rounds": sum(r["step"] == "ingest" for r in rows)}
    for step in ("floor", "ingest"):
        for key in ("cpu_s", "work_cpu_s", "seconds", "peak_rss_mb"):
            summary[f"{step}_{key}"] = round(median(step, key), 2)
    summary["lines"] = next(r["lines"] for r in rows if r["step"] == "ingest")
    summary["ratio_cpu"] = round(summary["ingest_cpu_s"] / summary["floor_cpu_s"], 2)
    summary["ratio_work_cpu"] = round(summary["ingest_work_cpu_s"] / summary["floor_work_cpu_s"], 2)
    summary["ratio_wall"] = round(summary["ingest_seconds"] / summary["floor_seconds"], 2)
    summary["met"] = summary["ratio_cpu"] <= INGEST_TARGET_RATIO
    return summary


def bench_marts(rows: int, days: int, home: Path) -> list[dict]:
    """On the lake bench_ingestion left in `home`."""
    env = pipeline_env(home)
    first, last = GEN_START, GEN_START + timedelta(days=days - 1)
    span = ("--start", first.isoformat(), "--end", last.isoformat())
    dims = measure("dimensions", env=env)
    dims["what"] = "dimension snapshots (prerequisite)"
    full = measure("dbt", *span, env=env)
    full["what"] = f"dbt build, {days} days (first build)"
    one = measure("dbt", "--start", last.isoformat(), "--end", last.isoformat(), env=env)
    one["what"] = f"dbt build, 1 day re-run ({last})"
    pub = measure("publish", *span, env=env)
    pub["what"] = f"publish marts, {days} days"
    for r in (dims, full, one, pub):
        r.update(rows=rows, days=days)
    return [dims, full, one, pub]


def verify_same_bytes(bound_csv: Path, part_sha256: list[str], rows_per_part: int) -> bool:
    """The bound's single CSV, cut into parts of `rows_per_part` rows each with the header,
    hashes to the export's parts: the two produced the same rows, in the same order, with
    the same formatting."""
    with bound_csv.open("rb") as fh:
        header = fh.readline()
        digests = []
        while True:
            digest, n = hashlib.sha256(header), 0
            for line in fh:
                digest.update(line)
                n += 1
                if n == rows_per_part:
                    break
            if n == 0:
                break
            digests.append(digest.hexdigest())
            if n < rows_per_part:
                break
    return digests == part_sha256


def bench_export(home: Path, repeat: int, n_rows: int) -> dict:
    """In `home` (the PROMO_HOME of the largest size): a synthetic mart beside the real
    one, and the report's output in its downloads folder. Each round runs the bound with
    DuckDB's default threads (one per core), the bound with one thread (on a busy 2-core
    machine, two threads can be the slower), then the export; the bound is the fastest."""
    marts, out = home / "bench-export-marts", home / "downloads"
    shutil.rmtree(marts, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    common = ("--start", EXPORT_START.isoformat(), "--days", str(EXPORT_DAYS), "--tz", EXPORT_TZ)
    where = ("--marts", str(marts), "--out", str(out))
    setup = measure("synthetic-mart", *common, "--out", str(marts), "--rows", str(n_rows))
    rows, same = [], None
    for round_ in range(1, repeat + 1):
        b2 = measure("bound", *common, *where)
        b1 = measure("bound", *common, *where, "--threads", "1")
        e = measure("export", *common, *where)
        if same is None:
            same = verify_same_bytes(Path(b1["uri"]), e["part_sha256"], 1_000_000)
        for r in (b2, b1):
            r["what"] = f"bound, DuckDB threads={r['threads']}"
        e["what"] = "export_report"
        for r in (b2, b1, e):
            r["round"] = round_
            r.pop("uri"), r.pop("part_sha256", None)
        e["ratio"] = round(e["work_s"] / min(b1["work_s"], b2["work_s"]), 2)
        rows += [b2, b1, e]
        shutil.rmtree(out, ignore_errors=True)
    best_b = min((r for r in rows if r["step"] == "bound"), key=lambda r: r["work_s"])
    best_e = min((r for r in rows if r["step"] == "export"), key=lambda r: r["work_s"])
    ratio = round(best_e["work_s"] / best_b["work_s"], 2)
    return {
        "setup": setup,
        "rows": rows,
        "same_bytes": same,
        "ratio": ratio,
        "ratio_wall": round(best_e["seconds"] / best_b["seconds"], 2),
        "met": ratio <= TARGET_RATIO,
        "phases": best_e["phases"],
        "phases_of": best_e["round"],
        "n_rows": n_rows,
    }


# ------------------------------------------------------------------ rendering
def fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def table(rows: list[dict], columns: list[tuple[str, str]]) -> list[str]:
    out = ["| " + " | ".join(label for _, label in columns) + " |"]
    out.append("|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|")
    for row in rows:
        out.append("| " + " | ".join(fmt(row.get(key)) for key, _ in columns) + " |")
    return out


LOAD_COLS = [
    ("load1_before", "load (1 min) before"),
    ("others_cores", "other processes' CPU during step (cores)"),
]

LOAD_NOTE = (
    "*Load*: the 1-minute load average just before the step, and the CPU the rest of the "
    "machine used while the step ran (busy time from /proc/stat minus the step's own, in "
    "cores out of {cores}). Where that figure is high, other work shared the machine and "
    "the step's time is inflated."
)


def render_ingestion(s: dict) -> list[str]:
    lines = [
        "Sample data: `promo-reports generate` (all streams; the size is the number of "
        "wallet transactions, the other streams follow in proportion, plus bad records and "
        "redeliveries at the default rates; gzip and plain files). Ingestion: the "
        "`promo_daily` job's ingestion assets (`lake/<stream>`) through Dagster in process, "
        "as one run over the range, into an empty lake (parse, every contract rule, the "
        "Pandera contract, dedupe, quarantine, manifests, Parquet). The floor: the same "
        "files read by DuckDB `read_ndjson(..., ignore_errors=true)` and written as one "
        "Parquet file per stream, with no validation (`python -m bench.steps floor`). "
        "Records/s counts every line of every stream (what was generated, and what "
        "ingestion accounted for: accepted + duplicates + quarantined + superseded). UTC "
        f"account timezone. The largest size ({s['marts_size']:,}) is generated over "
        f"{s['marts_days']} days ({s['marts_size'] // s['marts_days']:,} a day) because "
        "section 2 builds and publishes the marts on its lake (issue 3 asks for a 90-day "
        f"build); the other sizes over {INGEST_DAYS} days.",
        "",
        *table(
            s["rows"],
            [
                ("step", "step"),
                ("round", "round"),
                ("rows", "wallet tx"),
                ("days", "days"),
                ("lines", "lines (all streams)"),
                ("seconds", "wall s"),
                ("records_per_s", "records/s"),
                ("peak_rss_mb", "peak RSS MB"),
                ("cpu_s", "CPU s"),
                ("work_cpu_s", "work CPU s"),
                *LOAD_COLS,
            ],
        ),
    ]
    if s.get("floor"):
        lines += [
            "",
            "### Ingestion against its bare floor",
            "",
            "Floor and ingestion alternate in each round on the same files; the figures are "
            "the medians of the rounds. *CPU s* is the whole process (user + system, all "
            "threads), interpreter start and imports included: the ingestion step imports "
            "Dagster and builds the code location (dbt manifest included), which the floor "
            "does not. *Work CPU s* is the CPU time of the measured work alone (the run, or "
            f"the DuckDB statements). Target: ingestion ≤ {INGEST_TARGET_RATIO:g}× the floor "
            "in CPU seconds.",
            "",
            *table(
                s["floor"],
                [
                    ("rows", "wallet tx"),
                    ("lines", "lines"),
                    ("rounds", "rounds"),
                    ("floor_cpu_s", "floor CPU s"),
                    ("ingest_cpu_s", "ingestion CPU s"),
                    ("ratio_cpu", "ratio (CPU)"),
                    ("floor_work_cpu_s", "floor work CPU s"),
                    ("ingest_work_cpu_s", "ingestion work CPU s"),
                    ("ratio_work_cpu", "ratio (work CPU)"),
                    ("ratio_wall", "ratio (wall)"),
                    ("met", f"≤ {INGEST_TARGET_RATIO:g}× (CPU)"),
                    ("floor_peak_rss_mb", "floor peak RSS MB"),
                    ("ingest_peak_rss_mb", "ingestion peak RSS MB"),
                ],
            ),
        ]
    return lines


def render_marts(s: dict) -> list[str]:
    rows = s["rows"]
    return [
        f"On the lake that section 1 ingested at {rows[0]['rows']:,} wallet transactions over "
        f"{rows[0]['days']} days ({rows[0]['rows'] // rows[0]['days']:,} a day), same "
        "`PROMO_HOME`, nothing generated again. Each step is the `promo_daily` job run in "
        "process through Dagster (`execute_in_process` with an asset selection and the "
        "partition-range tags, i.e. one run over the range like a single-run backfill), so "
        "it is the product's path: the dagster-dbt multi-asset runs one `dbt build` "
        "(models and tests; tests reported as asset checks) over `min_date..max_date`, and "
        "the publish multi-asset writes every mart's day partitions (Parquet + manifest) "
        "and the `user_ledger` snapshot to `PROMO_MARTS_URI`. The recurring-report "
        "catalog is empty here (`PROMO_REPORT_CATALOG`), so no report assets join the run. "
        "The dimension snapshots are "
        "loaded first (the marts join them). The one-day re-run rebuilds the last day of "
        "the range after the full build (a daily schedule tick). Much of a build does not "
        "shrink with the range: dbt starts and parses the project (each invocation has its "
        "own target folder), `user_ledger` is rebuilt from all history, "
        "`wallet_daily_summary` reads all history for the running balance, and the "
        "tests run over whole marts. Wall time includes the process start and imports "
        "(~`wall s` − `work s`).",
        "",
        *table(
            rows,
            [
                ("what", "step"),
                ("seconds", "wall s"),
                ("work_s", "work s"),
                ("peak_rss_mb", "peak RSS MB"),
                ("cpu_s", "CPU s"),
                ("wallet_rows", "wallet_transactions rows built"),
                ("checks", "dbt tests (checks)"),
                ("checks_failed", "failed"),
                ("partitions", "partitions published"),
                ("published_rows", "rows published"),
                *LOAD_COLS,
            ],
        ),
    ]


PHASE_NOTES = {
    "query": "DuckDB: read the day's Parquet, filter, render the 13 columns (display names, "
    "strftime + regexp_replace for the offset), sort the day; Arrow batches -> polars",
    "validate (Pandera, per chunk)": "Pandera schema and data checks on every chunk (DuckDB's "
    "Arrow batches of up to 256k rows)",
    "validate (id uniqueness)": "64-bit hashes of every id, n_unique at the end",
    "CSV write": "polars `write_csv` of each chunk into the current part file, SHA-256 as it goes",
    "ZIP (ISA-L deflate) + SHA-256": "zip the parts (ISA-L level 1), hash the ZIP",
    "other": "listing partitions, manifest, atomic delivery (rename into downloads)",
}

ROUNDS = {1: "once", 2: "twice", 3: "three times"}


def render_export(s: dict) -> list[str]:
    setup = s["setup"]
    verdict = "**met**" if s["met"] else "**not met**"
    exports = [r for r in s["rows"] if r["step"] == "export"]
    bounds = [r for r in s["rows"] if r["step"] == "bound"]
    best_export = min(exports, key=lambda r: r["work_s"])
    best_bound = min(bounds, key=lambda r: r["work_s"])
    last_day = EXPORT_START + timedelta(EXPORT_DAYS - 1)
    lines = [
        f"A {s['n_rows']:,}-row Wallet Transactions report (one wallet, all four sources and "
        f"all six types, {EXPORT_DAYS} days {EXPORT_START}..{last_day} in {EXPORT_TZ}, across "
        "the end of summer time on 2026-10-25) through "
        "`promo.reports.engine.export_report`: per-day queries, Pandera validation of every "
        f"chunk, {best_export['parts']} CSV parts of at most 1,000,000 rows, ISA-L deflate "
        "ZIP (level 1), manifest, delivery to a local downloads folder. The data is a "
        "synthetic published `wallet_transactions` mart written with DuckDB "
        f"({EXPORT_DAYS} `date=` partitions of ~{s['n_rows'] // EXPORT_DAYS:,} rows, the "
        f"mart's columns, {setup['parquet_mb']} MB of Parquet, written in "
        f"{setup['seconds']} s), because the generator spreads rows over several wallets.",
        "",
        "The bound is the bare lower bound of the same output: ONE DuckDB "
        "`COPY (SELECT <the report's 13 column expressions, same timezone conversion> FROM "
        f"read_parquet(<all {EXPORT_DAYS} day files>) WHERE wallet_id = … ORDER BY "
        "occurred_at, transaction_id) TO 'bound.csv' (HEADER)` — no validation, no split, "
        "no compression. Each round runs it with DuckDB's default threads (2) and with one "
        "thread (when other processes hold a core, one thread can be faster), then the "
        "export; "
        f"{ROUNDS.get(len(exports), str(len(exports)) + ' times')} in the same `make bench` "
        "run. The ratio divides the best export by the best bound. "
        + (
            "The bound's CSV, cut into 1M-row parts with the header, has exactly the bytes "
            "of the export's parts (SHA-256 per part): both did the same work."
            if s["same_bytes"]
            else "WARNING: the bound's CSV did NOT match the export's parts byte for byte."
        ),
        "",
        *table(
            s["rows"],
            [
                ("what", "step"),
                ("round", "round"),
                ("seconds", "wall s"),
                ("work_s", "work s"),
                ("peak_rss_mb", "peak RSS MB"),
                ("cpu_s", "CPU s"),
                ("file_mb", "file MB"),
                ("ratio", "export / best bound of the round"),
                *LOAD_COLS,
            ],
        ),
        "",
        f"**Ratio export / bound: {s['ratio']:.2f}×** (best export {best_export['work_s']:.2f} s "
        f"/ best bound {best_bound['work_s']:.2f} s, {best_bound['what']}; *work s* is timed "
        "around the call, without process start and imports; on whole-process wall time "
        f"{s['ratio_wall']:.2f}×). Target ≤ {TARGET_RATIO}×: {verdict}. Peak memory: "
        f"export {best_export['peak_rss_mb']:,} MB (bounded: one day's query and one chunk "
        f"at a time), bound {best_bound['peak_rss_mb']:,} MB (the global sort).",
        "",
        "Load matters here, and not equally: the bound's COPY uses both cores when it can "
        f"(best bound: {best_bound['cpu_s']:.1f} CPU s in {best_bound['seconds']:.1f} s, with "
        f"other processes using {best_bound['others_cores']:.2f} cores), while the export "
        "is a sequence of stages, only some of them parallel (best export: "
        f"{best_export['cpu_s']:.1f} CPU s in {best_export['seconds']:.1f} s, others "
        f"{best_export['others_cores']:.2f} cores). When the other sessions take a core, "
        "the bound loses more than the export and the ratio looks better than it is; the "
        "best-of-rounds figures above are the closest to a quiet machine.",
        "",
        f"Where the export's time goes (round {s['phases_of']}, measured by wrapping the "
        "engine's functions in the benchmark process; the engine is unchanged):",
        "",
        "| phase | s | share | what |",
        "|---|---:|---:|---|",
    ]
    total = sum(s["phases"].values())
    for name, secs in s["phases"].items():
        lines.append(f"| {name} | {secs:.2f} | {secs / total:.0%} | {PHASE_NOTES.get(name, '')} |")
    lines.append(f"| total | {total:.2f} | | |")
    if s.get("profile"):
        lines += [
            "",
            *render_profile(s["profile"], best_export["work_s"], best_bound["work_s"]),
        ]
    return lines


def render_profile(p: dict, best_export_s: float, best_bound_s: float) -> list[str]:
    """The table of bench/profile_export.py and what it suggests, with its own figures."""
    by = {r["key"]: r["wall_s"] for r in p["rows"]}
    facts = p.get("facts", {})
    loads = [r["load1_before"] for r in p["rows"]]
    lines = [
        "### Profile: each stage alone, and the alternatives",
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
        ),
    ]
    needed = {
        "query",
        "query_polars",
        "query_unsorted",
        "validate",
        "validate_polars",
        "csv",
        "zip",
        "zip_4m",
        "csv_into_zip",
    }
    if not needed <= by.keys():
        return lines
    lines += [
        "",
        "What it showed, and what came of it (the profile ran on the engine before "
        "commit 31108cb, which applied two of its suggestions — validation in groups of "
        "at least 1M rows, and ZIP copies in 4 MiB blocks — so section 3 measures the "
        "engine with them; writing each CSV part straight into its ZIP entry was not "
        "done). Savings are this profile's figures at 10M rows:",
        "",
        "- The DuckDB work is the same in the export and the bound: the per-day queries "
        f"to Arrow take {by['query']:.1f} s, and DuckDB writing the same rows as CSV "
        "per day ("
        + (f"{by['duckdb_csv_per_day']:.1f} s" if "duckdb_csv_per_day" in by else "?")
        + ") is no faster than the engine's query + `write_csv`: letting DuckDB format "
        "the CSV would not help. The export's extra time is what the bound does not do: "
        "validation, the ZIP, and Arrow -> polars "
        f"({by['query_polars'] - by['query']:.1f} s).",
        f"- **ZIP** — `zipfile.ZipFile.write` copies in 8 KiB blocks: {by['zip']:.1f} s; "
        f"the same archive copied in 4 MiB blocks through `ZipFile.open(name, 'w', "
        f"force_zip64=True)` + `shutil.copyfileobj(src, dst, 4 << 20)`: {by['zip_4m']:.1f} s "
        f"(−{by['zip'] - by['zip_4m']:.1f} s, a three-line change in `finish_file`). Better: "
        "write each part's CSV straight into its ZIP entry (hashed as written, as now), "
        "so 1.3 GB of part files are not written and read back: CSV + ZIP "
        f"{by['csv'] + by['zip']:.1f} s -> {by['csv_into_zip']:.1f} s "
        f"(−{by['csv'] + by['zip'] - by['csv_into_zip']:.1f} s, same part bytes). The "
        "writer only knows it needs a ZIP when row 1,000,001 arrives: keep part 1 as a "
        "file until then, move it into the archive once, write later parts into entries.",
        f"- **Validation** — Pandera's cost is mostly per call, not per row: "
        f"{by['validate']:.1f} s on the engine's chunks (DuckDB's Arrow batches of up to "
        f"256k rows, and a day's query ends a chunk: {facts.get('chunks', '?')} chunks "
        f"here), "
        f"{by.get('validate_1m', float('nan')):.1f} s on the same rows in chunks of at "
        "least 1M rows. Suggested: validate (and write) at least ~1M rows per call, by "
        "collecting the batches of consecutive days before `validator.check` (or a bigger "
        f"`BATCH_ROWS`): −{by['validate'] - by.get('validate_1m', by['validate']):.1f} s, "
        "Pandera kept as issue 4 asks. The same data checks as one polars `select` of "
        f"failure counts take {by['validate_polars']:.1f} s; not worth leaving Pandera for.",
        (
            f"- **Sorting** — keep each day's ORDER BY. Without it the query took "
            f"{by['query_unsorted']:.1f} s instead of {by['query']:.1f} s, but the rows came "
            "back OUT of time order in this run (DuckDB's parallel scan does not keep the "
            "file's order here), although the published partitions are written sorted."
            if not facts.get("unsorted_in_order", True)
            else f"- **Sorting** — without each day's ORDER BY the query took "
            f"{by['query_unsorted']:.1f} s instead of {by['query']:.1f} s and the rows "
            "came in order in this run; DuckDB does not promise that (a parallel scan may "
            "reorder), so keep the ORDER BY."
        ),
    ]
    if "validate_1m" in by:
        now = by["query_polars"] + by["validate"] + by["validate_ids"] + by["csv"] + by["zip"]
        then = by["query_polars"] + by["validate_1m"] + by["validate_ids"] + by["csv_into_zip"]
        export_s, bound_s = best_export_s, best_bound_s
        lines += [
            "",
            f"Sum of the stages as the engine does them: {now:.1f} s; with the CSV written "
            f"into the ZIP entries and ≥1M-row validation: {then:.1f} s "
            f"(−{1 - then / now:.0%}), an estimate from stages timed apart. Section 3's "
            f"best export ({export_s:.1f} s, {export_s / bound_s:.2f}× its best bound of "
            f"{bound_s:.1f} s) already has the ≥1M-row validation and the 4 MiB ZIP copies; "
            "the CSV-into-ZIP change is what is left, for the day the 1.5× target gets "
            "tight.",
        ]
    return lines


RENDERERS = {
    "ingestion": ("1. Generation and ingestion", render_ingestion),
    "marts": ("2. dbt build and publishing", render_marts),
    "export": ("3. Report export: 10 million rows against the bare lower bound", render_export),
}


def render(results: dict) -> str:
    run = results.get("run", {})
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`; `--only SECTION` re-runs one "
        "section). Each step runs in its own process; *peak RSS* is that process's maximum "
        "resident set size (with its child processes, e.g. dbt), *CPU s* its user + system "
        "time. Figures come from one run on a shared machine, not a timed test: compare "
        "them between commits, not to a budget.",
        "",
        f"- Machine: {results.get('machine', '?')}",
        f"- Libraries: {results.get('versions', '?')}",
        f"- Last run: {results.get('ran_at', '?')} UTC, {run.get('minutes', '?')} minutes in all",
        f"- Load during the run: 1-minute load average {run.get('load_min', '?')}–"
        f"{run.get('load_max', '?')} before the steps (2 cores); other processes used "
        f"{run.get('others_mean', '?')} cores on average (up to {run.get('others_max', '?')}) "
        "while steps ran"
        + (
            ": other work shared the machine, so single figures can be inflated by up to "
            "roughly that share."
            if (run.get("others_max") or 0) >= 0.1
            else " (a quiet machine)."
        ),
        "",
        LOAD_NOTE.format(cores=os.cpu_count()),
        "",
    ]
    for key, (title, renderer) in RENDERERS.items():
        section = results.get("sections", {}).get(key)
        if section:
            lines += [f"## {title}", "", *renderer(section), ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(RENDERERS), action="append")
    parser.add_argument("--sizes", default="1000000,10000000", help="wallet transaction counts")
    parser.add_argument(
        "--marts-days",
        type=int,
        default=90,
        help="days of the largest size, whose lake sections 2 and 3 share",
    )
    parser.add_argument("--repeat", type=int, default=3, help="export/bound rounds")
    parser.add_argument(
        "--ingest-rounds",
        type=int,
        default=3,
        help="floor/ingestion rounds at each size but the largest (which runs once)",
    )
    parser.add_argument("--export-rows", type=int, default=EXPORT_ROWS)
    parser.add_argument("--work", default=str(ROOT / ".promo" / "bench"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results.update(machine=machine(), versions=versions())
    results["ran_at"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    started = time.perf_counter()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    only = args.only or list(RENDERERS)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    marts_size = sizes[-1]
    sections = results.setdefault("sections", {})
    all_rows: list[dict] = []

    def save() -> None:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        REPORT.write_text(render(results))

    try:
        if "ingestion" in only or "marts" in only:
            ingestion, floors = [], []
            # Sections 2 needs the lake of the largest size only.
            for size in sizes if "ingestion" in only else [marts_size]:
                days = args.marts_days if size == marts_size else INGEST_DAYS
                home = work / f"pipeline-{size}"
                rounds = 1 if size == marts_size else args.ingest_rounds
                measured, summary = bench_ingestion(size, days, home, rounds)
                ingestion += measured
                floors.append(summary)
                if size == marts_size and "marts" in only:
                    marts = bench_marts(size, days, home)
                    all_rows += marts
                    sections["marts"] = {"rows": marts}
                if size != marts_size:
                    shutil.rmtree(home, ignore_errors=True)
            all_rows += ingestion
            if "ingestion" in only:
                sections["ingestion"] = {
                    "rows": ingestion,
                    "floor": floors,
                    "marts_size": marts_size,
                    "marts_days": args.marts_days,
                }
            save()
        if "export" in only:
            home = work / f"pipeline-{marts_size}"
            export = bench_export(home, args.repeat, args.export_rows)
            # bench.profile_export's table (a separate, longer run) is kept.
            if "profile" in sections.get("export", {}):
                export["profile"] = sections["export"]["profile"]
            sections["export"] = export
            all_rows += [export["setup"], *export["rows"]]
        loads = [r["load1_before"] for r in all_rows]
        others = [r["others_cores"] for r in all_rows]
        results["run"] = {
            "minutes": round((time.perf_counter() - started) / 60, 1),
            "load_min": min(loads),
            "load_max": max(loads),
            "others_mean": round(sum(others) / len(others), 2),
            "others_max": max(others),
            "log": LOG,
        }
        save()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {REPORT} in {results['run']['minutes']} minutes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
