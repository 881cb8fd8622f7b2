"""Benchmark steps, each run in its own process by bench/run.py (`python -m bench.steps STEP
...`), so its peak memory is its own. The last line printed is a JSON object: counts, and
`work_s`, the time of the measured work alone (without the interpreter start and imports,
which the harness's wall time includes); `ingest` and `floor` also give `work_cpu_s`, the
CPU seconds of that work (all threads of the process).

Settings come from the environment (PROMO_HOME etc.), as for the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from bench.phases import Phases

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
# Dagster's console logger prints every engine event at DEBUG; warnings and errors only.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}

# The report the export benchmark builds, and its bound.
WALLET = "W-BENCH"
ALL_SOURCES = ["CASHBACK_COUPON", "SYSTEM", "API", "PROMO_CAMPAIGN"]
ALL_TYPES = ["CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND"]


class Timer:
    def __enter__(self):
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        return self

    def __exit__(self, *exc):
        self.seconds = round(time.perf_counter() - self.started, 2)
        self.cpu_seconds = round(time.process_time() - self.cpu_started, 2)


# ------------------------------------------------------------------ pipeline steps
def generate(args) -> dict:
    from orchestration.settings import Settings
    from promo.generator import generate as gen
    from resources.storage import LocalStorage

    settings = Settings.from_env()
    with Timer() as t:
        summary = gen(
            LocalStorage(settings.landing_uri),
            date.fromisoformat(args.start),
            args.days,
            scale=args.scale,
        )
    return {
        "lines": sum(s.lines for s in summary.streams.values()),
        "wallet_lines": summary.streams["wallet_transactions"].lines,
        "work_s": t.seconds,
    }


def _daily_run(args, keys, timer: Timer | None = None):
    """The daily job in process over local days start..end as ONE run (like a backfill
    with the single-run policy), limited to `keys`."""
    from dagster import DagsterInstance

    from orchestration.location import build_definitions
    from orchestration.settings import Settings

    job = build_definitions(Settings.from_env()).resolve_job_def("promo_daily")
    # Created before the clock starts: creating the first instance imports ~0.75 CPU s of
    # Dagster's storage modules, an import like the others `work_s` leaves out.
    instance = DagsterInstance.ephemeral()
    with timer or Timer() as t:
        result = job.execute_in_process(
            instance=instance,
            tags={RANGE_START_TAG: args.start, RANGE_END_TAG: args.end},
            asset_selection=keys,
            run_config=QUIET,
        )
    assert result.success
    return result, t.seconds


def ingest(args) -> dict:
    """The ingestion assets as one run. Besides the run's time, where the process's CPU
    goes: `startup_cpu_s` before the run (interpreter, imports, the code location, the
    instance), `promo_cpu_s` inside promo's ingestion (`ingest_folders`, the rest of the
    run being Dagster's), and `end_cpu_s` when the result is printed (the harness adds the
    interpreter's exit: whole process less this)."""
    from dagster import AssetKey

    from assets import ingestion
    from orchestration.settings import Settings
    from promo import contract
    from promo.lake import Lake
    from resources.storage import open_storage

    promo = Phases(time.process_time, ["promo"])
    promo.wrap(ingestion, "ingest_folders", "promo")  # as the assets module calls it
    timer = Timer()
    _, seconds = _daily_run(args, [AssetKey(["lake", s]) for s in contract.STREAMS], timer)
    # Every line the run accounted for, from the folder manifests it wrote (the lake was
    # empty before the run; the materializations carry per-day figures, not the run's).
    settings = Settings.from_env()
    lake = Lake(open_storage(settings.lake_uri, settings.s3_endpoint_url))
    lines = sum(m["lines"] for m in lake.manifests() if m["stream"] in contract.STREAMS)
    if lines and not promo.seconds["promo"]:
        # The assets module no longer calls `ingest_folders` by that name: the split below
        # would count all of promo's work as Dagster's.
        raise SystemExit("bench.steps ingest: assets.ingestion.ingest_folders was not called")
    return {
        "lines": lines,
        "work_s": seconds,
        "work_cpu_s": timer.cpu_seconds,
        "startup_cpu_s": round(timer.cpu_started, 2),
        "promo_cpu_s": round(promo.seconds["promo"], 2),
        "end_cpu_s": round(time.process_time(), 2),
    }


def floor(args) -> dict:
    """The bare floor of ingestion: DuckDB reads every landing file of every stream for
    UTC days start..end (gz and plain) with `read_ndjson(..., ignore_errors=true)` and
    writes one Parquet file per stream. No validation, no dedupe, no quarantine: what any
    ingestion costs at least."""
    import duckdb

    from orchestration.settings import Settings
    from promo import contract

    settings = Settings.from_env()
    first, last = date.fromisoformat(args.start), date.fromisoformat(args.end)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    landing = Path(settings.landing_uri)
    con = duckdb.connect()
    lines = 0
    with Timer() as t:
        for stream in contract.STREAMS:
            files = sorted(
                str(p)
                for d in days
                for p in (landing / f"events/{stream}/date={d}").glob("*.jsonl*")
            )
            target = out / f"{stream}.parquet"
            con.execute(
                f"COPY (SELECT * FROM read_ndjson({files!r}, ignore_errors = true)) "
                f"TO '{target}' (FORMAT parquet)"
            )
            lines += con.sql(f"SELECT count(*) FROM '{target}'").fetchall()[0][0]
    con.close()
    return {"lines": lines, "work_s": t.seconds, "work_cpu_s": t.cpu_seconds}


def dimensions(args) -> dict:
    from dagster import DagsterInstance

    from orchestration.location import build_definitions
    from orchestration.settings import Settings

    job = build_definitions(Settings.from_env()).resolve_job_def("promo_dimensions")
    with Timer() as t:
        result = job.execute_in_process(instance=DagsterInstance.ephemeral(), run_config=QUIET)
    assert result.success
    return {"work_s": t.seconds}


def _keys(prefix: str):
    from orchestration.location import build_definitions
    from orchestration.settings import Settings

    graph = build_definitions(Settings.from_env()).resolve_asset_graph()
    return sorted(k for k in graph.get_all_asset_keys() if k.path[0] == prefix)


def dbt(args) -> dict:
    """`dbt build` (models + tests as asset checks) through the dagster-dbt multi-asset;
    `dbt_parse` says whether dbt reused its saved parse (a run after the first should)."""
    from orchestration.location import warehouse_resource
    from orchestration.settings import Settings

    timer = Timer()
    children = _children_cpu()
    result, seconds = _daily_run(args, _keys("warehouse"), timer)
    # On Spark the dbt process is a child: its CPU counts once it has been waited for (on
    # DuckDB dbt runs in this process, and the children's share is zero).
    work_cpu = round(timer.cpu_seconds + _children_cpu() - children, 2)
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    failed = [e for e in checks if not e.event_specific_data.passed]
    # Either engine's tables (PROMO_ENGINE): read the way the publishing step reads them.
    with warehouse_resource(Settings.from_env()).connect({"wallet_transactions": True}) as con:
        rows = con.sql(
            "SELECT count(*) FROM wallet_transactions WHERE local_date BETWEEN $a AND $b",
            params={"a": date.fromisoformat(args.start), "b": date.fromisoformat(args.end)},
        ).fetchall()[0][0]
    return {
        "wallet_rows": rows,
        "checks": len(checks),
        "checks_failed": len(failed),
        "dbt_parse": dbt_parse(warehouse_resource(Settings.from_env()).dbt_target_dir()),
        "work_s": seconds,
        "work_cpu_s": work_cpu,
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def dbt_parse(target_dir: Path) -> str:
    """How dbt's last invocation in this target folder parsed the project: `partial` (it
    reused the saved parse) or `full`, from dbt's own log there (one for every run; it
    rotates at 10 MB, so the invocation may start in the previous file)."""
    lines = [
        line
        for name in ("dbt.log.1", "dbt.log")
        if (target_dir / name).exists()
        for line in (target_dir / name).read_text().splitlines()
        if line.startswith("{")
    ]
    events = [json.loads(line)["info"] for line in lines]
    last = events[-1]["invocation_id"]
    names = {e["name"] for e in events if e["invocation_id"] == last}
    return "partial" if "PartialParsingEnabled" in names else "full"


def publish(args) -> dict:
    import json

    from orchestration.settings import Settings
    from promo import layout
    from resources.storage import open_storage

    _, seconds = _daily_run(args, _keys("marts"))
    # What was published, from the partitions' manifests (the run wrote every one of the
    # range; the materializations carry per-partition figures).
    settings = Settings.from_env()
    marts = open_storage(settings.marts_uri, settings.s3_endpoint_url)
    keys = [o.key for o in marts.list("") if o.key.endswith("/" + layout.MART_MANIFEST)]
    manifests = [json.loads(marts.read_bytes(k)) for k in keys]
    return {
        "partitions": len(manifests),
        "published_rows": sum(m["rows"] for m in manifests),
        "work_s": seconds,
    }


# ------------------------------------------------------------------ report export
def synthetic_mart(args) -> dict:
    """A published `wallet_transactions` mart for ONE wallet: `days` local-day partitions
    of the account timezone, `rows` in all, every type and source, in the mart's layout
    (the columns dbt publishes, rows ordered by occurred_at, transaction_id)."""
    from zoneinfo import ZoneInfo

    import duckdb

    from promo.timeutil import local_midnight_utc

    tz = ZoneInfo(args.tz)
    first = date.fromisoformat(args.start)
    base, extra = divmod(args.rows, args.days)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    with Timer() as t:
        for d in range(args.days):
            day = first + timedelta(days=d)
            n = base + (1 if d < extra else 0)
            start = local_midnight_utc(day, tz)
            # Spread the day's rows over its first 23 h (a DST day has 23 h), in order.
            step_us = (23 * 3600 * 1_000_000) // n
            target = Path(args.out) / "wallet_transactions" / f"date={day.isoformat()}"
            target.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"""
                COPY (
                    WITH t AS (
                        SELECT i,
                               TIMESTAMPTZ '{start.isoformat()}' + to_microseconds(i * {step_us})
                                   AS occurred_at,
                               (['CREDIT', 'CREDIT', 'CREDIT', 'DEBIT', 'EXPIRED', 'PROMISED',
                                 'REVERSE', 'REFUND'])[1 + i % 8] AS transaction_type,
                               (['PROMO_CAMPAIGN', 'API', 'CASHBACK_COUPON', 'SYSTEM'])
                                   [1 + (i // 8) % 4] AS transaction_source
                        FROM range({n}) r(i)
                    )
                    SELECT printf('tx-{day}-%09d', i) AS transaction_id,
                           '{WALLET}' AS wallet_id,
                           'Bench wallet' AS wallet_name,
                           printf('u%07d', (i * 7919) % 400000) AS user_id,
                           transaction_type, transaction_source,
                           CAST(1 + (i % 5000) / 100.0 AS DECIMAL(18, 2)) AS points,
                           CAST(CASE WHEN transaction_type IN ('CREDIT', 'REFUND')
                                     THEN 1 + (i % 5000) / 100.0
                                     WHEN transaction_type = 'PROMISED' THEN 0
                                     ELSE -(1 + (i % 5000) / 100.0) END AS DECIMAL(18, 2))
                               AS balance_effect,
                           CASE WHEN transaction_source = 'PROMO_CAMPAIGN'
                                THEN printf('camp-%03d', i % 40) END AS campaign_id,
                           CASE WHEN transaction_source = 'CASHBACK_COUPON'
                                THEN printf('CPN-%08d', i) END AS coupon_code,
                           CASE WHEN transaction_type IN ('REVERSE', 'REFUND')
                                THEN printf('tx-{day}-%09d', i - 1) END
                               AS reference_transaction_id,
                           CASE WHEN transaction_type = 'CREDIT'
                                THEN occurred_at + INTERVAL 90 DAY END AS expires_at,
                           occurred_at,
                           timezone('{args.tz}', occurred_at) AS occurred_at_local,
                           DATE '{day}' AS local_date
                    FROM t
                    ORDER BY occurred_at, transaction_id
                ) TO '{target}/part-0.parquet' (FORMAT parquet, COMPRESSION zstd)
                """
            )
    con.close()
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*.parquet"))
    return {"rows": args.rows, "parquet_mb": round(size / 2**20), "work_s": t.seconds}


def _request(args):
    from zoneinfo import ZoneInfo

    from promo.reports.engine import ReportRequest
    from promo.reports.windows import custom_window

    first = date.fromisoformat(args.start)
    window = custom_window(first, first + timedelta(days=args.days - 1), ZoneInfo(args.tz))
    return ReportRequest(
        "bench",
        "wallet_transactions",
        {"wallet_id": WALLET, "sources": ALL_SOURCES, "types": ALL_TYPES},
        window,
    )


WRITE = "write: formula check, CSV, SHA-256, deflate"
WRITE_CLOSE = "write: close the file"
WAIT = "waiting for the writer thread"
# Run by the export's writer thread, at the same time as the query of the next batches.
WRITER_THREAD = ("validate (Pandera, per chunk)", WRITE)


def export(args) -> dict:
    """The product's export_report on the synthetic mart: query per day, validation,
    CSV parts, ISA-L ZIP, manifest and delivery to a local downloads folder."""
    from datetime import UTC, datetime

    from promo.reports import engine, files, validation
    from resources.storage import LocalStorage

    phases = Phases()
    # The query phase: DuckDB's query and Arrow -> polars, per batch.
    phases.wrap(engine, "_batches", "query")
    phases.wrap(validation.ChunkValidator, "check", "validate (Pandera, per chunk)")
    phases.wrap(validation.ChunkValidator, "finish", "validate (id uniqueness)")
    phases.wrap(files.PartWriter, "write", WRITE)
    phases.wrap(files.PartWriter, "close", WRITE_CLOSE)
    phases.wrap(engine._Pending, "_wait", WAIT)
    request = _request(args)
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with Timer() as t:
        delivered = engine.export_report(
            request,
            marts=LocalStorage(args.marts),
            destination=LocalStorage(args.out),
            folder="bench",
            timezone=args.tz,
            now=datetime.now(UTC),
            generated_by="bench",
        )
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)
    # The query phase includes DuckDB -> Arrow -> polars and the generator's own frames;
    # "other" is what the main thread's wrapped phases do not cover (listing, manifest,
    # delivery). The writer thread's phases overlap the main thread's.
    named = {k: round(v, 2) for k, v in phases.seconds.items()}
    main_thread = sum(v for k, v in phases.seconds.items() if k not in WRITER_THREAD)
    named["other"] = round(t.seconds - main_thread, 2)
    return {
        "rows": delivered.rows,
        "parts": len(delivered.parts),
        "file_mb": round(Path(delivered.uri).stat().st_size / 2**20),
        "uri": delivered.uri,
        "part_sha256": [p["sha256"] for p in delivered.parts],
        "phases": named,
        "work_s": t.seconds,
    }


def _sql_local_ts(column: str) -> str:
    """ISO 8601 in the session time zone with a ±HH:MM offset, in DuckDB alone: strftime's
    %z gives ±HH (whole hours) or ±HH:MM, so a whole-hour offset gets its ':00'. (The
    engine renders timestamps with polars instead; DuckDB alternatives without the regexp,
    e.g. left()/right() around %z, saved ~10 % of the query's CPU, not enough to matter.)"""
    return (
        f"regexp_replace(strftime({column}, '%Y-%m-%dT%H:%M:%S.%g%z'), "
        f"'([+-][0-9]{{2}})$', '\\1:00')"
    )


def bound_sql(args) -> str:
    """The bare lower bound: the report's own columns (same display names, same timezone
    conversion and ISO rendering, done in DuckDB's SQL), over every published day file at
    once, one global ORDER BY, one CSV."""
    from promo.reports.definitions import REPORTS, TIMESTAMP

    definition = REPORTS["wallet_transactions"]
    cols = ",\n  ".join(
        f"{_sql_local_ts(c.sql) if c.kind == TIMESTAMP else c.sql} AS {c.name}"
        for c in definition.columns
    )
    return (
        f"SELECT\n  {cols}\nFROM read_parquet($files)\n"
        f"WHERE wallet_id = $wallet_id\n"
        f"ORDER BY {definition.order_key}, {definition.id_column}"
    )


def bound(args) -> dict:
    import duckdb

    files_ = sorted(str(p) for p in Path(args.marts).glob("wallet_transactions/date=*/*.parquet"))
    out = Path(args.out) / "bound.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = $tz", {"tz": args.tz})
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    threads = con.sql("SELECT current_setting('threads')").fetchall()[0][0]
    select = bound_sql(args)
    with Timer() as t:
        # COPY takes no prepared parameters: the (trusted) file list and wallet are inlined.
        con.execute(
            f"COPY ({select.replace('$files', repr(files_)).replace('$wallet_id', repr(WALLET))})"
            f" TO '{out}' (HEADER, FORMAT csv)"
        )
    con.close()
    return {
        "file_mb": round(out.stat().st_size / 2**20),
        "uri": str(out),
        "files": len(files_),
        "threads": threads,
        "work_s": t.seconds,
    }


def live_descendants() -> dict:
    """CPU seconds and peak RSS of this process's descendants that are still running (read
    from /proc). The benchmark's parent counts only the children it waits for; Spark's
    JVM (the dbt step with PROMO_ENGINE=spark) is a grandchild that is killed, not waited
    for, when the step exits: without this its CPU and memory would be missed, and its
    CPU would show up as other processes' load."""
    procs = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            procs[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, (ppid, _) in procs.items() if ppid in frontier} - mine
        mine |= frontier
    ticks, peak_kb = 0, 0
    for pid in mine:
        ticks += procs[pid][1]
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            peak_kb += int(status.split("VmHWM:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return {
        "live_children_cpu_s": round(ticks / os.sysconf("SC_CLK_TCK"), 1),
        "live_children_peak_rss_mb": round(peak_kb / 1024),
    }


# ------------------------------------------------------------------ start-up
def _timed_runs(argv: list[str], runs: int) -> tuple[float, float, str]:
    """Median wall and CPU seconds of `runs` whole processes (interpreter start and imports
    included: what a user waits for), and the last run's output."""
    import resource
    import statistics
    import subprocess

    walls, cpus, out = [], [], ""
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        if proc.returncode not in (0, 1):  # 1: a report that failed is still timed
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr[-500:]}")
        out = proc.stdout
    return round(statistics.median(walls), 2), round(statistics.median(cpus), 2), out


def startup(args) -> dict:
    """`promo-reports --help`, `report list` and (with --spec) `report create` timed as
    whole processes on the PROMO_HOME of the environment (medians of --runs)."""
    exe = str(Path(sys.executable).parent / "promo-reports")
    user = ["--user", args.user] if args.user else []
    python_s, python_cpu, _ = _timed_runs([sys.executable, "-c", "pass"], args.runs)
    help_s, help_cpu, _ = _timed_runs([exe, "--help"], args.runs)
    list_s, list_cpu, listed = _timed_runs([exe, "report", *user, "list", "--json"], args.runs)
    out = {
        "python_s": python_s,
        "python_cpu_s": python_cpu,
        "help_s": help_s,
        "help_cpu_s": help_cpu,
        "list_s": list_s,
        "list_cpu_s": list_cpu,
        "reports_listed": len(json.loads(listed)),
        "work_s": list_s,
    }
    if args.spec:
        create = [exe, "report", *user, "create", "--spec", args.spec]
        create += ["--now", args.now] if args.now else []
        out["create_s"], out["create_cpu_s"], _ = _timed_runs(create, args.runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="step", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--start", required=True)
    g.add_argument("--days", type=int, required=True)
    g.add_argument("--scale", type=int, required=True)
    for name in ("ingest", "dbt", "publish"):
        p = sub.add_parser(name)
        p.add_argument("--start", required=True)
        p.add_argument("--end", required=True)
    p = sub.add_parser("floor", help="the bare floor of ingestion (see floor())")
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    p.add_argument("--out", required=True, help="folder for the Parquet files it writes")
    sub.add_parser("dimensions")
    for name in ("synthetic-mart", "export", "bound"):
        p = sub.add_parser(name)
        p.add_argument("--start", required=True)
        p.add_argument("--days", type=int, required=True)
        p.add_argument("--tz", required=True)
        p.add_argument("--marts" if name != "synthetic-mart" else "--out", required=True)
        if name != "synthetic-mart":
            p.add_argument("--out", required=True)
        if name == "synthetic-mart":
            p.add_argument("--rows", type=int, required=True)
        if name == "export":
            p.add_argument("--profile", help="write cProfile stats to this file")
        if name == "bound":
            p.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    p = sub.add_parser("startup", help="whole-process times of --help, report list/create")
    p.add_argument("--runs", type=int, default=5, help="runs per command (the median counts)")
    p.add_argument("--user", help="the acting user of the report commands (else PROMO_USER)")
    p.add_argument("--spec", help="a one-time report spec to time `report create` with")
    p.add_argument("--now", help="`report create --now` (a fixed clock for date presets)")
    args = parser.parse_args()
    steps = {
        "generate": generate,
        "ingest": ingest,
        "floor": floor,
        "dimensions": dimensions,
        "dbt": dbt,
        "publish": publish,
        "synthetic-mart": synthetic_mart,
        "export": export,
        "bound": bound,
        "startup": startup,
    }
    print(json.dumps(steps[args.step](args) | live_descendants()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
