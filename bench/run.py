"""`make bench`: throughput and peak memory of each stage, written to docs/benchmarks.md.

Each measured step runs in its own child process (`python -m bench.steps STEP ...`) so
its peak memory is its own (from wait4's rusage), not the harness's. Results are kept in
docs/benchmarks.json, so a partial run (`--only`) updates its rows and keeps the others.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "benchmarks.json"
REPORT = ROOT / "docs" / "benchmarks.md"


def measure(step: str, *args: str, env: dict[str, str] | None = None) -> dict:
    """Run one step in a child process; wall time, peak RSS and what the step printed."""
    cmd = [sys.executable, "-m", "bench.steps", step, *args]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"benchmark step {step} failed (status {status}): {' '.join(cmd)}")
    result = json.loads(out.decode().strip().splitlines()[-1])
    return {
        "step": step,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        **result,
    }


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


def bench_ingestion(rows: int, work: Path) -> list[dict]:
    days = 30
    per_day = rows // days
    home = work / f"ingest-{rows}"
    shutil.rmtree(home, ignore_errors=True)
    env = {
        "PROMO_HOME": str(home),
        "PROMO_PARTITION_START": "2026-01-01",
        "PROMO_ACCOUNT_TIMEZONE": "UTC",
    }
    gen = measure(
        "generate", "--start", "2026-09-01", "--days", str(days), "--scale", str(per_day), env=env
    )
    ing = measure("ingest", "--start", "2026-09-01", "--end", "2026-09-30", env=env)
    out = []
    for r in (gen, ing):
        r["rows"] = rows
        r["records_per_s"] = round(r["lines"] / r["seconds"])
        out.append(r)
    return out


def render(results: dict) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python -m bench.run`). Each step runs in its own process;",
        "peak memory is that process's maximum resident set size. Figures are from one run",
        "on the machine below, not a timed test: compare them between commits, not to a budget.",
        "",
        f"Machine: {results.get('machine', '?')}  ",
        f"Last run: {results.get('ran_at', '?')}",
        "",
    ]
    sections = results.get("sections", {})
    for title, section in sections.items():
        lines += [f"## {title}", "", section.get("about", ""), ""]
        rows = section["rows"]
        if rows:
            cols = section["columns"]
            lines.append("| " + " | ".join(cols) + " |")
            lines.append("|" + "---|" * len(cols))
            for row in rows:
                lines.append(
                    "| "
                    + " | ".join(
                        f"{row.get(c, '')}"
                        if not isinstance(row.get(c), float)
                        else f"{row[c]:,.2f}"
                        for c in cols
                    )
                    + " |"
                )
        lines.append("")
    return "\n".join(lines)


SECTIONS = {
    "ingestion": (
        "Generation and ingestion",
        "Sample data: `promo-reports generate` over 30 days (all streams; wallet transactions "
        "are the row count named). Ingestion: the daily job's ingestion assets through Dagster "
        "(in process) over the 30 days: parse, validate with the Pandera contract, dedupe, "
        "write Parquet. Records/s counts every line of every stream.",
        ["step", "rows", "lines", "seconds", "records_per_s", "peak_rss_mb"],
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(SECTIONS), action="append")
    parser.add_argument("--sizes", default="1000000,10000000", help="wallet transaction counts")
    parser.add_argument("--work", default=str(ROOT / ".promo" / "bench"))
    args = parser.parse_args(argv)
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results["machine"] = machine()
    results["ran_at"] = datetime.now(UTC).isoformat(timespec="minutes")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.sizes.split(",")]
    for name in args.only or list(SECTIONS):
        title, about, cols = SECTIONS[name]
        rows = []
        for size in sizes:
            rows += {"ingestion": bench_ingestion}[name](size, work)
            print(json.dumps(rows[-2:]), flush=True)
        results.setdefault("sections", {})[title] = {"about": about, "columns": cols, "rows": rows}
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")
        REPORT.write_text(render(results))
    shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {REPORT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
