"""Section 3 of `make bench`: the Wallet Transactions export against its bare bound.

For each size (10M rows over 30 days, 30M rows over 90 days, i.e. three months), a
synthetic published mart, then rounds of: the bound (`python -m bench.steps bound`: ONE
DuckDB `COPY (… ORDER BY …) TO csv`, DuckDB's default threads), then the export
(`python -m bench.steps export`: the product's export_report). Each is its own process:
wall time, CPU seconds and peak RSS are the whole process's. Figures are medians over the
rounds of per-round ratios, so a burst of load from other work moves one round, not the
verdict.
"""

from __future__ import annotations

import hashlib
import shutil
import statistics
from datetime import date, timedelta
from pathlib import Path

EXPORT_TZ = "Europe/Berlin"
# rows -> (first day, days): both windows cross the end of summer time on 2026-10-25.
EXPORT_CASES = {
    10_000_000: (date(2026, 10, 1), 30),
    30_000_000: (date(2026, 8, 1), 90),  # three months: the longest window a report takes
}
TARGET_RATIO = 1.0  # issue 17: the export at the speed of the bare bound …
TARGET_PEAK_MIB = 1024  # … in at most 1 GiB, at every size


def case_of(n_rows: int) -> tuple[date, int]:
    return EXPORT_CASES.get(n_rows, (date(2026, 10, 1), 30))


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


def _median(rows: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 2)


def bench_size(home: Path, repeat: int, n_rows: int) -> dict:
    from bench.run import measure

    start, days = case_of(n_rows)
    marts, out = home / f"bench-export-marts-{n_rows}", home / "downloads"
    shutil.rmtree(marts, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    common = ("--start", start.isoformat(), "--days", str(days), "--tz", EXPORT_TZ)
    where = ("--marts", str(marts), "--out", str(out))
    setup = measure("synthetic-mart", *common, "--out", str(marts), "--rows", str(n_rows))
    rows, same = [], None
    for round_ in range(1, repeat + 1):
        b = measure("bound", *common, *where)
        e = measure("export", *common, *where)
        if same is None:
            same = verify_same_bytes(Path(b["uri"]), e["part_sha256"], 1_000_000)
        b["what"], e["what"] = f"bound (DuckDB threads={b['threads']})", "export_report"
        for r in (b, e):
            r["round"] = round_
            r.pop("uri"), r.pop("part_sha256", None)
        e["ratio_wall"] = round(e["seconds"] / b["seconds"], 2)
        e["ratio_work"] = round(e["work_s"] / b["work_s"], 2)
        e["ratio_cpu"] = round(e["cpu_s"] / b["cpu_s"], 2)
        rows += [b, e]
        shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(marts, ignore_errors=True)
    exports = [r for r in rows if r["step"] == "export"]
    bounds = [r for r in rows if r["step"] == "bound"]
    median_export = sorted(exports, key=lambda r: r["work_s"])[len(exports) // 2]
    medians = {
        "ratio_wall": _median(exports, "ratio_wall"),
        "ratio_work": _median(exports, "ratio_work"),
        "ratio_cpu": _median(exports, "ratio_cpu"),
        **{f"export_{k}": _median(exports, k) for k in ("seconds", "work_s", "cpu_s")},
        **{f"bound_{k}": _median(bounds, k) for k in ("seconds", "work_s", "cpu_s")},
        "export_peak_mib": max(r["peak_rss_mb"] for r in exports),
        "bound_peak_mib": max(r["peak_rss_mb"] for r in bounds),
    }
    return {
        "n_rows": n_rows,
        "start": start.isoformat(),
        "days": days,
        "setup": setup,
        "rows": rows,
        "same_bytes": same,
        "medians": medians,
        "met_speed": medians["ratio_wall"] <= TARGET_RATIO,
        "met_memory": medians["export_peak_mib"] <= TARGET_PEAK_MIB,
        "phases": median_export["phases"],
        "phases_of": median_export["round"],
    }


def bench_export(home: Path, repeat: int, sizes: list[int]) -> dict:
    return {"sizes": [bench_size(home, repeat, n) for n in sizes]}


# ------------------------------------------------------------------ rendering
PHASE_NOTES = {
    "query": "DuckDB (one thread): read the day's Parquet in file order, filter, the 13 "
    "columns (display names, decimals); Arrow batches -> polars, which checks the day is in "
    "the report's order (sorting it only if not) and renders the timestamps in the account "
    "timezone (strftime with a ±HH:MM offset)",
    "validate (Pandera, per chunk)": "Pandera schema and data checks, chunks of >= 512k rows",
    "validate (id uniqueness)": "64-bit hashes of every id, n_unique at the end",
    "write: formula check, CSV, SHA-256, deflate": "formula check of the text columns, "
    "polars write_csv, SHA-256 of each part, CRC-32 and ISA-L deflate into the part's ZIP "
    "entry (part 1 moved into the ZIP once), SHA-256 of the ZIP",
    "write: close the file": "the ZIP's directory (or the single CSV renamed)",
    "other": "listing partitions, manifest, atomic delivery (rename into downloads)",
    "waiting for the writer thread": "the query thread waiting for the previous chunk's "
    "validation and writing to finish (at most one chunk is in the writer)",
}


def render_size(s: dict) -> list[str]:
    from bench.steps import WRITER_THREAD
    from bench.tables import LOAD_COLS, table

    m, setup = s["medians"], s["setup"]
    first = date.fromisoformat(s["start"])
    last = first + timedelta(days=s["days"] - 1)
    lines = [
        f"### {s['n_rows']:,} rows, {s['days']} days ({first}..{last})",
        "",
        f"Synthetic mart: {s['days']} `date=` partitions of ~{s['n_rows'] // s['days']:,} "
        f"rows, {setup['parquet_mb']} MB of Parquet, written in {setup['seconds']} s. "
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
                ("cpu_s", "CPU s"),
                ("peak_rss_mb", "peak RSS MiB"),
                ("file_mb", "file MB"),
                ("ratio_wall", "export / bound, wall"),
                ("ratio_cpu", "export / bound, CPU"),
                *LOAD_COLS,
            ],
        ),
        "",
        f"**Medians: wall {m['ratio_wall']:.2f}× the bound** (export {m['export_seconds']:.1f} s, "
        f"bound {m['bound_seconds']:.1f} s, whole processes), "
        f"{m['ratio_work']:.2f}× on *work s* (timed around the call, without process start "
        f"and imports), **CPU {m['ratio_cpu']:.2f}×** ({m['export_cpu_s']:.1f} s against "
        f"{m['bound_cpu_s']:.1f} s). **Peak memory: export {m['export_peak_mib']:,} MiB**, "
        f"bound {m['bound_peak_mib']:,} MiB (the global sort). Target ≤ {TARGET_RATIO}× in "
        f"≤ {TARGET_PEAK_MIB:,} MiB: speed "
        + ("**met**" if s["met_speed"] else "**not met**")
        + ", memory "
        + ("**met**" if s["met_memory"] else "**not met**")
        + ".",
        "",
        f"Where the export's time goes (the median round, {s['phases_of']}; measured by "
        "wrapping the engine's functions in the benchmark process, the engine unchanged). "
        "Phases marked *(writer thread)* run at the same time as the query of the next "
        "batches; the total is the main thread's (wall time of the call):",
        "",
        "| phase | s | what |",
        "|---|---:|---|",
    ]
    for name, secs in s["phases"].items():
        label = f"{name} *(writer thread)*" if name in WRITER_THREAD else name
        lines.append(f"| {label} | {secs:.2f} | {PHASE_NOTES.get(name, '')} |")
    main = sum(v for k, v in s["phases"].items() if k not in WRITER_THREAD)
    lines.append(f"| total | {main:.2f} | |")
    return lines


def render_export(section: dict) -> list[str]:
    if "sizes" not in section:  # a results file from before the per-size layout
        return ["(re-run `make bench` or `python -m bench.run --only export`)"]
    lines = [
        "A Wallet Transactions report (one wallet, all four sources and all six types, "
        f"{EXPORT_TZ}) through `promo.reports.engine.export_report`: per-day queries "
        "on one DuckDB thread that read each day file in file order (publishing writes it "
        "in the report's order; the engine checks the order and would sort a day that is "
        "not), Pandera validation of every chunk, CSV parts of at most 1,000,000 rows written "
        "straight into the ZIP's entries (ISA-L deflate, level 1), "
        "manifest, delivery to a local downloads folder. The data is a synthetic published "
        "`wallet_transactions` mart written with DuckDB like the publish step writes it "
        "(each day's rows ordered by occurred_at, transaction_id), because the generator "
        "spreads rows over several wallets.",
        "",
        "The bound is the bare lower bound of the same output: ONE DuckDB `COPY (SELECT <the "
        "report's 13 columns, same display names and timezone conversion, the timestamps "
        "rendered by DuckDB's strftime with regexp_replace adding the offset's colon> FROM "
        "read_parquet(<every "
        "day file>) WHERE wallet_id = … ORDER BY occurred_at, transaction_id) TO 'bound.csv' "
        "(HEADER)` with DuckDB's default threads — no validation, no split, no compression. "
        "Each round runs the bound, then the export; the figures are medians of the rounds. "
        "On a busy machine the bound, which keeps both cores busy, loses more than the "
        "export: compare rounds whose load columns are near zero.",
        "",
    ]
    for size in section["sizes"]:
        lines += [*render_size(size), ""]
        if size.get("note"):
            lines += [f"*{size['note']}*", ""]
    if section.get("profile"):
        from bench.profile_export import render_profile

        lines += render_profile(section["profile"])
    return lines
