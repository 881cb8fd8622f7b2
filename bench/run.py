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
2. marts - at every size, on the SAME lake (one PROMO_HOME): dimension snapshots, the
   first dbt build over the whole range, publishing the range; then rounds of one-day dbt
   re-runs (`--daily-rounds`), every size in each round, the largest and the smallest
   compared (issue 17);
3. export - Wallet Transactions reports of 10M and 30M rows (ZIPs of 1M-row CSVs) through
   the report engine, against the bare lower bound (one DuckDB COPY ... ORDER BY ... TO
   csv) measured in the same run, round after round (bench/export_bench.py);
4. engines - the same 90-day lake at 1M and 10M wallet transactions built by dbt on
   DuckDB and on Spark (a local session), side by side (bench/engines_bench.py; needs
   `make install-spark`);
5. lake_s3 - one day of 1M wallet transactions ingested and built with the lake in a
   local folder and on an S3-compatible server (bench/lake_s3_bench.py).

Results are kept in docs/benchmarks.json, so a partial run (`--only`) updates its
sections and keeps the others; docs/benchmarks.md is rendered from it.
"""

from __future__ import annotations

import argparse
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

from bench.engines_bench import bench_engines, render_engines
from bench.export_bench import bench_export, render_export
from bench.lake_s3_bench import bench_lake_s3, render_lake_s3
from bench.startup_bench import bench_startup, render_startup
from bench.tables import LOAD_COLS, LOAD_NOTE, table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.json"
REPORT = ROOT / "docs" / "benchmarks.md"

GEN_START = date(2026, 8, 1)  # sample data: UTC days from here (all in the past)
INGEST_DAYS = 30  # days of the sizes that only run section 1
INGEST_TARGET_RATIO = 2.0  # issue 17: ingestion within 2x its bare floor, in CPU seconds
EXPORT_SIZES = "10000000,30000000"  # section 3 (bench/export_bench.py)
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
    # The step and the children it waited for, plus those still running when it reported
    # (Spark's JVM): bench.steps.live_descendants.
    cpu = usage.ru_utime + usage.ru_stime + result.pop("live_children_cpu_s", 0)
    if "end_cpu_s" in result:
        # What the process spent after printing its result: the interpreter's exit
        # (collecting and freeing every object left, Dagster's and dbt's modules included).
        result["exit_cpu_s"] = round(max(0.0, cpu - result["end_cpu_s"]), 2)
    row = {
        "step": step,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024 + result.pop("live_children_peak_rss_mb", 0)),
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
        # dbt's target folder is the warehouse's (dbt_target/ beside it, in this home);
        # anything else dagster-dbt writes by default stays in the work folder too.
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
    ingests = [r for r in rows if r["step"] == "ingest"]
    if all("startup_cpu_s" in r for r in ingests):
        summary["parts"] = ingestion_parts(ingests, summary)
    return summary


def ingestion_parts(ingests: list[dict], summary: dict) -> dict:
    """The ingestion process's CPU split into what any run of the code location pays
    (start-up, Dagster's share of the run, the interpreter's exit) and promo's ingestion
    work; medians of the rounds, each part's median taken on its own."""

    def median(key) -> float:
        return statistics.median(key(r) for r in ingests)

    parts = {
        "startup_cpu_s": median(lambda r: r["startup_cpu_s"]),
        "dagster_cpu_s": median(lambda r: r["work_cpu_s"] - r["promo_cpu_s"]),
        "promo_cpu_s": median(lambda r: r["promo_cpu_s"]),
        "after_cpu_s": median(lambda r: r["end_cpu_s"] - r["startup_cpu_s"] - r["work_cpu_s"]),
        "exit_cpu_s": median(lambda r: r["exit_cpu_s"]),
    }
    parts = {k: round(max(0.0, v), 2) for k, v in parts.items()}
    fixed = parts["startup_cpu_s"] + parts["dagster_cpu_s"] + parts["exit_cpu_s"]
    floor_cpu = summary["floor_cpu_s"]
    return {
        **parts,
        "rows": summary["rows"],
        "fixed_cpu_s": round(fixed, 2),
        "fixed_vs_floor": round(fixed / floor_cpu, 2),
        # What promo's work may cost for the whole process to meet the target.
        "promo_budget_cpu_s": round(INGEST_TARGET_RATIO * floor_cpu - fixed, 2),
        "promo_vs_floor_work": round(parts["promo_cpu_s"] / summary["floor_work_cpu_s"], 2),
    }


def last_day(days: int) -> str:
    """The last UTC day of a lake generated over `days` days."""
    return (GEN_START + timedelta(days=days - 1)).isoformat()


def bench_marts(rows: int, days: int, home: Path) -> list[dict]:
    """On the lake bench_ingestion left in `home`."""
    env = pipeline_env(home)
    span = ("--start", GEN_START.isoformat(), "--end", last_day(days))
    dims = measure("dimensions", env=env)
    dims["what"] = "dimension snapshots (prerequisite)"
    full = measure("dbt", *span, env=env)
    full["what"] = f"dbt build, {days} days (first build)"
    pub = measure("publish", *span, env=env)
    pub["what"] = f"publish marts, {days} days"
    for r in (dims, full, pub):
        r.update(rows=rows, days=days)
    return [dims, full, pub]


def bench_daily_reruns(homes: dict[int, tuple[int, Path]], rounds: int) -> list[dict]:
    """The last day of each lake of `homes` (rows -> (days, PROMO_HOME)) rebuilt `rounds`
    times, the sizes alternating within each round: the host's speed drifts by more than
    the difference measured over the minutes between two sizes' runs, so the sizes are
    compared under the same conditions. Each re-run after the first is like a consecutive
    daily schedule tick; the medians count."""
    out = []
    for round_ in range(1, rounds + 1):
        for rows, (days, home) in sorted(homes.items()):
            last = last_day(days)
            one = measure("dbt", "--start", last, "--end", last, env=pipeline_env(home))
            one.update(what=f"dbt build, 1 day re-run ({last})", round=round_, rows=rows,
                       days=days)  # fmt: skip
            out.append(one)
    return out


# ------------------------------------------------------------------ rendering
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
            "in CPU seconds. Where ingestion's CPU goes, phase by phase (without Dagster): "
            "`python -m bench.profile_ingest --start … --end …` on the same files.",
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
    parts = [f["parts"] for f in s.get("floor", []) if f.get("parts")]
    if parts:
        lines += render_parts(parts)
    if s.get("profile"):
        from bench.profile_ingest import render_profile

        lines += render_profile(s["profile"])
    return lines


def render_parts(parts: list[dict]) -> list[str]:
    """Where the ingestion process's CPU goes, and what that leaves for promo's work."""
    return [
        "",
        "### Ingestion's CPU, part by part",
        "",
        "The ingestion step's whole-process CPU (medians of the rounds), split by "
        "`bench.steps ingest`: *start-up* is the CPU spent before the run starts "
        "(interpreter, imports — Dagster, and dagster-dbt, which imports dbt — building the "
        "code location, creating the instance); *Dagster's share* is the run's CPU outside "
        "promo's ingestion (`promo.lake.ingest_folders`): run creation, events and their "
        "storage, one materialization per asset and day; *promo's ingestion* is parsing, "
        "checks, Pandera, ids, Parquet and manifests; *after* counts the lines from the "
        "manifests; *exit* is the interpreter's exit after the result is printed (freeing "
        "and collecting every object left). Any run of this code location pays start-up, "
        "Dagster's share and exit (the *fixed part*). *Budget* is what promo's ingestion "
        f"could cost for the whole process to stay within {INGEST_TARGET_RATIO:g}× the "
        "floor's whole process: the target less the fixed part. Compare it with the floor's "
        "work CPU in the table above, its bare DuckDB read and write.",
        "",
        *table(
            parts,
            [
                ("rows", "wallet tx"),
                ("startup_cpu_s", "start-up CPU s"),
                ("dagster_cpu_s", "Dagster's share CPU s"),
                ("promo_cpu_s", "promo's ingestion CPU s"),
                ("after_cpu_s", "after CPU s"),
                ("exit_cpu_s", "exit CPU s"),
                ("fixed_cpu_s", "fixed part CPU s"),
                ("fixed_vs_floor", "fixed part ÷ floor CPU"),
                ("promo_budget_cpu_s", "budget for promo's ingestion CPU s"),
                ("promo_vs_floor_work", "promo's ingestion ÷ floor work CPU"),
            ],
        ),
    ]


DAILY_ROUNDS = 5  # one-day re-runs per size (issue 17: several rounds, medians)
DAILY_TARGET_S = 8.0  # issue 17: a one-day re-run at the largest size, work seconds
DAILY_TARGET_RATIO = 1.2  # ... and within 20 % of the same at the smallest size


def daily_rerun_summary(rows: list[dict]) -> list[str]:
    """The one-day re-runs side by side (medians of the rounds): the largest lake against
    the smallest."""
    by_size: dict[int, list[dict]] = {}
    for r in rows:
        if "1 day re-run" in r["what"]:
            by_size.setdefault(r["rows"], []).append(r)
    if len(by_size) < 2:
        return []
    small, large = by_size[min(by_size)], by_size[max(by_size)]
    small_s = statistics.median(r["work_s"] for r in small)
    large_s = statistics.median(r["work_s"] for r in large)
    ratio = large_s / small_s
    verdict = {True: "met", False: "not met"}
    per_day = [round(statistics.median(r["wallet_rows"] for r in g)) for g in (large, small)]
    # The two sizes of one round ran one after the other: their ratio shows the noise.
    small_of = {r.get("round"): r["work_s"] for r in small}
    pairs = [r["work_s"] / small_of[r.get("round")] for r in large if r.get("round") in small_of]
    return [
        "",
        f"One-day re-run, medians of {len(large)} and {len(small)} rounds: {large_s:g} work s "
        f"at {large[0]['rows']:,} rows / {large[0]['days']} days, {small_s:g} at "
        f"{small[0]['rows']:,} / {small[0]['days']}: ≤ {DAILY_TARGET_S:g} s "
        f"{verdict[large_s <= DAILY_TARGET_S]}; ratio {ratio:.2f}, ≤ {DAILY_TARGET_RATIO:g}× "
        f"{verdict[ratio <= DAILY_TARGET_RATIO]} (round by round: "
        f"{', '.join(f'{x:.2f}' for x in pairs)}). The day rebuilt holds {per_day[0]:,} wallet "
        f"transactions in the first and {per_day[1]:,} in the second: part of the cost "
        "follows the day's rows, not the history.",
    ]


def render_marts(s: dict) -> list[str]:
    rows = s["rows"]
    return [
        "On the lake that section 1 ingested at each size (wallet transactions over the "
        "days given in the table), same "
        "`PROMO_HOME`, nothing generated again. Each step is the `promo_daily` job run in "
        "process through Dagster (`execute_in_process` with an asset selection and the "
        "partition-range tags, i.e. one run over the range like a single-run backfill), so "
        "it is the product's path: the dagster-dbt multi-asset runs one `dbt build` "
        "(models and tests; tests reported as asset checks) over the range, and "
        "the publish multi-asset writes every mart's day partitions (Parquet + manifest) "
        "and the `user_ledger` snapshot to `PROMO_MARTS_URI`. The recurring-report "
        "catalog is empty here (`PROMO_REPORT_CATALOG`), so no report assets join the run. "
        "The dimension snapshots are "
        "loaded first (the marts join them). The one-day re-run rebuilds the last day of "
        "the range, once per round after every size's full build and publishing, the "
        "sizes alternating within a round (this host's speed drifts by a second or more "
        "over tens of minutes: sizes measured minutes apart were not comparable); each "
        "re-run is like a consecutive daily schedule tick and the medians count. "
        "dbt reuses its saved "
        "parse (`dbt_parse`: partial; the window is not in its vars), tests only the rows "
        "the run wrote and updates `user_ledger` from the rows the day's rebuild replaced "
        "(old totals, minus those rows, plus the day's rows now), so what is left of its "
        "cost is mostly fixed (loading dbt's saved parse, ~70 models and tests at a few tens "
        "of ms each, on 4 threads); `wallet_daily_summary` starts from its own "
        "closing balances before the window. On DuckDB dbt runs in the step's own process "
        '(no dbt process to start and end: docs/architecture.md, "dbt in Dagster"). '
        "Wall time includes the process start and imports "
        "(~`wall s` − `work s`); *work CPU s* of a dbt step counts a dbt process (Spark) too.",
        "",
        *table(
            rows,
            [
                ("what", "step"),
                ("round", "round"),
                ("rows", "wallet tx"),
                ("days", "days"),
                ("seconds", "wall s"),
                ("work_s", "work s"),
                ("work_cpu_s", "work CPU s"),
                ("peak_rss_mb", "peak RSS MB"),
                ("cpu_s", "CPU s"),
                ("dbt_parse", "dbt parse"),
                ("wallet_rows", "wallet_transactions rows built"),
                ("checks", "dbt tests (checks)"),
                ("checks_failed", "failed"),
                ("partitions", "partitions published"),
                ("published_rows", "rows published"),
                *LOAD_COLS,
            ],
        ),
        *daily_rerun_summary(rows),
    ]


RENDERERS = {
    "ingestion": ("1. Generation and ingestion", render_ingestion),
    "marts": ("2. dbt build and publishing", render_marts),
    "export": ("3. Report export against the bare lower bound", render_export),
    "engines": (
        "4. dbt on DuckDB and on Spark",
        render_engines,
    ),
    "lake_s3": (
        "5. The lake on S3: one day, local folder against an S3-compatible server",
        render_lake_s3,
    ),
    "startup": ("6. Start-up: the commands a user waits for", render_startup),
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
def positive_int(text: str) -> int:
    """argparse type of a count: a run of zero rounds would have nothing to take medians of."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


def keep_profile(section: str, profile: dict) -> None:
    """Keep a profiler's table (bench.profile_export, bench.profile_ingest: runs apart
    from `make bench`) in `section` of docs/benchmarks.json, and render the page again."""
    results = json.loads(RESULTS.read_text())
    results.setdefault("sections", {}).setdefault(section, {})["profile"] = profile
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    REPORT.write_text(render(results))
    print(f"wrote {REPORT}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(RENDERERS), action="append")
    parser.add_argument("--sizes", default="1000000,10000000", help="wallet transaction counts")
    parser.add_argument(
        "--marts-days",
        type=positive_int,
        default=90,
        help="days of the largest size, whose lake sections 2 and 3 share",
    )
    parser.add_argument("--repeat", type=positive_int, default=3, help="export/bound rounds")
    parser.add_argument(
        "--ingest-rounds",
        type=positive_int,
        default=3,
        help="floor/ingestion rounds at each size but the largest (which runs once)",
    )
    parser.add_argument(
        "--daily-rounds",
        type=positive_int,
        default=DAILY_ROUNDS,
        help="one-day re-run rounds of section 2 (every size in each round, alternating)",
    )
    parser.add_argument(
        "--export-rows", default=EXPORT_SIZES, help="report sizes of section 3 (comma-separated)"
    )
    parser.add_argument(
        "--engine-rows",
        default="1000000,10000000",
        help="lake sizes of section 4, DuckDB and Spark on each (comma-separated)",
    )
    parser.add_argument(
        "--lake-day-rows",
        type=positive_int,
        default=1_000_000,
        help="wallet transactions of section 5's one day (lake local vs on S3)",
    )
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
            ingestion, floors, marts = [], [], []
            lakes: dict[int, tuple[int, Path]] = {}  # size -> (days, home) for the re-runs
            # Section 2 runs on the lake of every size: issue 17 compares the one-day
            # re-run at the largest size with the same at the smallest.
            for size in sizes:
                days = args.marts_days if size == marts_size else INGEST_DAYS
                home = work / f"pipeline-{size}"
                rounds = 1 if size == marts_size else args.ingest_rounds
                measured, summary = bench_ingestion(size, days, home, rounds)
                ingestion += measured
                floors.append(summary)
                if "marts" in only:
                    marts += bench_marts(size, days, home)
                    lakes[size] = (days, home)
                elif size != marts_size:
                    shutil.rmtree(home, ignore_errors=True)
            if "marts" in only:
                marts += bench_daily_reruns(lakes, args.daily_rounds)
                for size, (_, home) in lakes.items():
                    if size != marts_size:
                        shutil.rmtree(home, ignore_errors=True)
                all_rows += marts
                sections["marts"] = {"rows": marts}
            all_rows += ingestion
            if "ingestion" in only:
                # bench.profile_ingest's table (a separate run) is kept.
                profile = sections.get("ingestion", {}).get("profile")
                sections["ingestion"] = {
                    "rows": ingestion,
                    "floor": floors,
                    "marts_size": marts_size,
                    "marts_days": args.marts_days,
                    **({"profile": profile} if profile else {}),
                }
            save()
        if "startup" in only:
            # On section 2's published marts (run `--only marts` first when alone).
            startup = bench_startup(work / f"pipeline-{marts_size}", GEN_START.isoformat(),
                                    measure, pipeline_env)  # fmt: skip
            sections["startup"] = startup
            all_rows += startup["rows"]
            save()
        if "export" in only:
            home = work / f"pipeline-{marts_size}"
            export_sizes = [int(n) for n in args.export_rows.split(",")]
            export = bench_export(home, args.repeat, export_sizes)
            # bench.profile_export's table (a separate, longer run) is kept.
            if "profile" in sections.get("export", {}):
                export["profile"] = sections["export"]["profile"]
            sections["export"] = export
            for size in export["sizes"]:
                all_rows += [size["setup"], *size["rows"]]
            save()
        if "engines" in only:
            engine_sizes = [int(n) for n in args.engine_rows.split(",")]
            engines = bench_engines(
                work, engine_sizes, args.marts_days, GEN_START, measure, pipeline_env
            )
            sections["engines"] = engines
            all_rows += engines["rows"]
            save()
        if "lake_s3" in only:
            lake_s3 = bench_lake_s3(work, args.lake_day_rows, measure, pipeline_env)
            sections["lake_s3"] = lake_s3
            all_rows += lake_s3["rows"]
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
