"""Where ingestion spends its CPU: `promo.lake.ingest_folders` over UTC days start..end for
every event stream, into an empty lake (it refuses any other), with Dagster left out, and
the CPU seconds of each phase (all threads of the process: polars' and DuckDB's pools
count). Not part of `make bench`; settings come from the environment as for `bench.steps`:

    python -m bench.profile_ingest --start 2026-08-01 --end 2026-08-30
    python -m bench.profile_ingest ... --save   # ... and adds the table to docs/benchmarks.md

The phases are promo's own functions, wrapped (a clock read per call: a few thousand in
all). They nest: `parse` is inside `classify_chunk`, `write_parquet` inside
`write_folder`, and so on; `read lines` is the time spent producing each frame of lines.
The code measured is only called, never changed. Compare a phase's CPU with the bare
floor of `bench.steps floor` on the same files.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bench.phases import Phases
from orchestration.settings import Settings
from promo import classify, contract, idindex, ingest, lake
from resources.storage import open_storage

# (owner, attribute, label): looked up where the caller finds them (e.g. `ingest` imports
# `classify_chunk` and `file_lines` into its own namespace).
PHASES = [
    (ingest, "file_lines", "read lines (rawlines)"),
    (ingest, "classify_chunk", "classify_chunk"),
    (classify, "parse", "  parse"),
    (classify, "_fast", "    fast path (DuckDB + polars)"),
    (classify, "_careful", "    careful path"),
    (classify, "apply_schema", "  Pandera schema"),
    (ingest, "_resolve", "resolve a folder"),
    (ingest, "resolve_ids", "  ids (incl. other folders)"),
    (ingest, "_conflict_rows", "  id conflict rows"),
    (lake.Lake, "write_folder", "write a folder"),
    (lake.Lake, "write_parquet", "  Parquet files"),
    (idindex.IdIndex, "replace", "id index updates"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    parser.add_argument("--save", action="store_true", help="add the table to docs/benchmarks.md")
    args = parser.parse_args()
    first, last = args.start, args.end
    if last < first:
        parser.error(f"--end {last} is before --start {first}")
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    settings = Settings.from_env()
    landing = open_storage(settings.landing_uri, settings.s3_endpoint_url)
    the_lake = lake.Lake(open_storage(settings.lake_uri, settings.s3_endpoint_url))
    if the_lake.manifests():
        # Measured into an empty lake, like `bench.steps ingest`; never someone's lake.
        raise SystemExit(f"the lake is not empty: {settings.lake_uri}")
    load1 = os.getloadavg()[0]
    phases = Phases(time.process_time, [label for _, _, label in PHASES])
    for owner, attr, label in PHASES:
        phases.wrap(owner, attr, label)
    cpu = phases.seconds  # printed in this order
    started, wall = time.process_time(), time.perf_counter()
    lines = 0
    for stream in contract.STREAMS.values():
        stream_started = time.process_time()
        manifests = lake.ingest_folders(landing, the_lake, stream, days, ZoneInfo("UTC"))
        lines += sum(m["lines"] for m in manifests)
        cpu[f"stream {stream.name}"] = time.process_time() - stream_started
    total = time.process_time() - started
    wall_s = time.perf_counter() - wall
    print(f"{lines} lines, {total:.2f} CPU s, {wall_s:.2f} wall s")
    for label, seconds in cpu.items():
        print(f"{seconds:7.2f}  {seconds / total:4.0%}  {label}")
    if args.save:
        from bench.run import keep_profile

        keep_profile(
            "ingestion",
            {
                "ran_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
                "window": f"UTC days {first}..{last}",
                "lines": lines,
                "cpu_s": round(total, 2),
                "wall_s": round(wall_s, 2),
                "load1_before": load1,
                "phases": [
                    {"phase": label, "cpu_s": round(sec, 2), "share": f"{sec / total:.0%}"}
                    for label, sec in cpu.items()
                ],
            },
        )
    return 0


def render_profile(p: dict) -> list[str]:
    """The table of a saved profile."""
    from bench.tables import table

    phases = [{**row, "phase": row["phase"].replace("  ", "&nbsp;&nbsp;")} for row in p["phases"]]
    return [
        "",
        "### Profile: where ingestion's CPU goes",
        "",
        f"`python -m bench.profile_ingest --save` ({p['ran_at']} UTC, {p['window']}, "
        f"{p['lines']:,} lines, load {p['load1_before']:.2f} before): `promo.lake."
        "ingest_folders` for every event stream into an empty lake, without Dagster, one "
        f"process; {p['cpu_s']:.2f} CPU s ({p['wall_s']:.2f} wall s) in all. Indented phases "
        "are inside the one above them; *read lines* is the time spent producing the "
        "frames of lines. Compare with the floor's work CPU above: its DuckDB JSON reader "
        "and Parquet writer do what *read lines*, the JSON parse inside *fast path* and "
        "*Parquet files* do here, without the checks.",
        "",
        *table(phases, [("phase", "phase"), ("cpu_s", "CPU s"), ("share", "share")]),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
