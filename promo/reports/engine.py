"""Export one report: published marts -> validated CSV / ZIP -> destination.

Streaming: the published marts are day partitions already in time order, so the export
reads one day at a time (no global sort, and no sort of the day unless its file is out of
order), pulls Arrow batches from DuckDB and gathers them into chunks; a writer thread
validates each chunk with the report's Pandera schema and appends it to the current CSV
part while the next chunk is gathered. Memory stays at about two chunks plus one day,
whatever the window's size.

Nothing is visible at the destination until the whole file is written and valid: the
file is built in a private working folder, then published atomically through the storage
interface, then its manifest beside it (a failed manifest takes the file back).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from promo import layout, published
from promo.reports.csv_safety import text_columns
from promo.reports.definitions import REPORTS, SCHEMA_VERSION, TIMESTAMP_FORMAT, ReportDefinition
from promo.reports.files import ROWS_PER_FILE, PartWriter
from promo.reports.validation import ChunkValidator, polars_dtype
from promo.reports.windows import Window
from promo.storage import Storage
from promo.timeutil import days

BATCH_ROWS = 256 * 1024
# Pandera's cost is mostly per call (3.9 s for 90 chunks of a 10 M-row report against
# 1.0 s for 10 chunks of >= 1 M rows), so batches are validated and written in groups
# of at least this many rows. Two groups are in memory at once (one in the writer
# thread, one filling): ~130 MB of frame each at the widest report.
VALIDATE_ROWS = 512 * 1024


class ReportDataMissing(RuntimeError):
    """The marts the report needs are not published (yet) for its window."""


@dataclass
class ReportRequest:
    name: str
    report_type: str
    params: dict[str, Any]  # bound filter values: wallet_id, sources, types, partner_id, ...
    window: Window | None  # None: a snapshot (user ledger summary)
    spec: dict[str, Any] = field(default_factory=dict)  # the spec as given, for the manifest


@dataclass
class Delivered:
    file_name: str
    uri: str
    manifest_uri: str
    rows: int
    sha256: str
    parts: list[dict[str, Any]]
    manifest: dict[str, Any]


def file_stem(definition: ReportDefinition, window: Window | None, now_local: datetime) -> str:
    slug = definition.report_type.slug
    if window is None:
        return f"{slug}_asof_{now_local.strftime('%Y-%m-%dT%H%M%S%z')}"
    return f"{slug}_{window.first_day.isoformat()}_{window.last_day.isoformat()}"


class MartFiles:
    """Local paths of published mart files: read in place from a local folder; fetched one
    at a time into the working folder (and removed after use) from remote storage."""

    def __init__(self, storage: Storage, workdir: Path):
        self.storage, self.workdir = storage, workdir

    def daily(self, mart: str, window_days: list[date]) -> dict[date, str]:
        """The window's published days -> their data file, through each day's manifest."""
        return published.daily_files(self.storage, mart, window_days)

    def snapshot(self, mart: str) -> str | None:
        return published.snapshot_file(self.storage, mart)

    def fetch(self, key: str) -> Path:
        local = self.storage.local_path(key)
        if local is not None:
            return local
        target = self.workdir / "marts" / key
        target.parent.mkdir(parents=True, exist_ok=True)
        with self.storage.open(key) as src, target.open("wb") as dst:
            shutil.copyfileobj(src, dst, 4 * 1024 * 1024)
        return target

    def release(self, path: Path) -> None:
        if path.is_relative_to(self.workdir):
            path.unlink(missing_ok=True)


def partition_keys(
    definition: ReportDefinition, window: Window | None, mart_files: MartFiles
) -> list[tuple[date | None, str]]:
    """The published files the report reads with their day, in time order; refuses a
    missing day."""
    mart = definition.mart.name
    if not definition.mart.daily:
        key = mart_files.snapshot(mart)
        if key is None:
            raise ReportDataMissing(
                f"the {mart} mart is not published yet: run `promo-reports materialize`"
            )
        return [(None, key)]
    assert window is not None
    window_days = days(window.first_day, window.last_day)
    available = mart_files.daily(mart, window_days)
    missing = [d.isoformat() for d in window_days if d not in available]
    if missing:
        raise ReportDataMissing(
            f"the {mart} mart has no published data for {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more days" if len(missing) > 5 else "")
            + f": run `promo-reports materialize --start {missing[0]} --end {missing[-1]}` first"
        )
    return [(d, available[d]) for d in window_days]


def _quiet_day(definition: ReportDefinition, day: date, params: dict[str, Any]) -> pl.DataFrame:
    """The one row of a day without activity (see `ReportDefinition.fills_quiet_days`), in
    the report's column types, ordered like a mart row of that day."""
    schema = {c.name: polars_dtype(c.kind) for c in definition.columns}
    frame = pl.DataFrame([definition.quiet_day_row(day, params)], schema=schema)
    order = int(datetime.combine(day, datetime.min.time(), UTC).timestamp() * 1_000_000)
    return frame.with_columns(pl.lit(order, pl.Int64).alias("_order"))


def render_timestamps(frame: pl.DataFrame, columns: list[str], timezone: str) -> pl.DataFrame:
    """The timestamp columns (instants) as ISO 8601 text in the account timezone.

    Rendered by polars rather than DuckDB: DuckDB's strftime has no ±HH:MM offset, and the
    regexp that added the colon cost a 10 M-row export ~7 of its ~20 query CPU seconds."""
    return frame.with_columns(
        pl.col(c).dt.convert_time_zone(timezone).dt.strftime(TIMESTAMP_FORMAT) for c in columns
    )


def in_report_order(day: pl.DataFrame, id_column: str) -> bool:
    """Whether the rows are in the report's order: by `_order` (the order key's instant),
    ties by the id. Published day files are written in that order (promo.marts), so this
    holds unless a file was written some other way."""
    if day.height < 2:
        return True
    order, ids = pl.col("_order"), pl.col(id_column)
    step = order.diff().slice(1)
    ok = (step > 0) | ((step == 0) & (ids.slice(1) >= ids.slice(0, day.height - 1)))
    return bool(day.select(ok.fill_null(False).all()).item())


def _batches(con, definition: ReportDefinition, path: Path, request: ReportRequest, timezone: str):
    """One day's rows in the report's order, in batches of at most BATCH_ROWS.

    The query has no ORDER BY: sorting each day again in DuckDB cost a 10 M-row export
    ~2 of its ~20 CPU seconds, and the day file is already in order. DuckDB returns it in
    file order on one thread (the session runs one); the day is checked, and sorted here
    only if it is not in order. Either way the day is held in memory, as DuckDB's sort
    held it before."""
    sql = definition.select_sql(ordered=False)
    params = {k: v for k, v in request.params.items() if f"${k}" in sql}
    params["files"] = [str(path)]
    if definition.windowed:
        params.update(start=request.window.start, end=request.window.end)
    frames = [pl.from_arrow(b) for b in con.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)]
    if not frames:
        return
    day = pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]
    del frames
    if not in_report_order(day, definition.id_column):
        day = day.sort("_order", definition.id_column, nulls_last=True)
    stamps = definition.timestamp_columns
    for offset in range(0, day.height, BATCH_ROWS):
        yield render_timestamps(day.slice(offset, BATCH_ROWS), stamps, timezone)


class _Pending:
    """Batches waiting to be validated and written, flushed every VALIDATE_ROWS rows.

    A flushed chunk is validated and written by one writer thread while this thread pulls
    the next batches from DuckDB, so the two stages share the machine's cores instead of
    taking turns (polars' CSV writer, the SHA-256 and ISA-L's deflate release the GIL, as
    does DuckDB while it reads). At most one chunk is in the writer: a flush first waits
    for the one before it, which keeps memory at two chunks and the parts in row order. A
    chunk that fails validation stops the export at the next flush, before anything is
    delivered.
    """

    def __init__(self, validator: ChunkValidator, writer: PartWriter):
        self.validator, self.writer = validator, writer
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="report-writer")
        self._busy: Future | None = None
        # The first chunk goes to the writer after one batch, not VALIDATE_ROWS: the
        # writer's core is idle until then.
        self._threshold = BATCH_ROWS

    def add(self, chunk: pl.DataFrame) -> None:
        self.frames.append(chunk)
        self.rows += chunk.height
        if self.rows >= self._threshold:
            self.flush()

    def flush(self) -> None:
        if not self.frames:
            return
        chunk = pl.concat(self.frames, rechunk=False) if len(self.frames) > 1 else self.frames[0]
        self.frames, self.rows, self._threshold = [], 0, VALIDATE_ROWS
        self._wait()
        self._busy = self._pool.submit(self._validate_and_write, chunk)

    def finish(self) -> None:
        """Flushes the last batches and waits for the writer; raises what it raised."""
        self.flush()
        self._wait()

    def shutdown(self) -> None:
        """Stops the writer thread (after its current chunk, if any)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _wait(self) -> None:
        if self._busy is not None:
            busy, self._busy = self._busy, None
            busy.result()

    def _validate_and_write(self, chunk: pl.DataFrame) -> None:
        self.validator.check(chunk)  # before a byte of it is written
        self.writer.write(chunk.drop("_order"))


def export_report(
    request: ReportRequest,
    *,
    marts,
    destination,
    folder: str,
    timezone: str,
    now: datetime,
    generated_by: str,
    rows_per_file: int = ROWS_PER_FILE,
) -> Delivered:
    definition = REPORTS[request.report_type]
    now_local = now.astimezone(ZoneInfo(timezone))
    stem = file_stem(definition, request.window, now_local)
    with tempfile.TemporaryDirectory(prefix="promo-report-") as tmp:
        workdir = Path(tmp)
        mart_files = MartFiles(marts, workdir)
        keys = partition_keys(definition, request.window, mart_files)
        writer = PartWriter(
            workdir,
            stem,
            definition.header,
            rows_per_file,
            text_columns=text_columns(definition.columns),
        )
        validator = ChunkValidator(definition)
        con = duckdb.connect()
        try:
            # The marts hold instants (TIMESTAMPTZ): the session zone only matters to a
            # timestamp without one, which the marts store in UTC.
            con.execute("SET TimeZone = 'UTC'")
            # One DuckDB thread: it reads a day file in file order (the report's order,
            # see _batches), and the writer thread has the other core (two threads were
            # measured: ~3 CPU s more at 10 M rows, and slower).
            con.execute("SET threads = 1")
            pending = _Pending(validator, writer)
            try:
                for day, key in keys:
                    path = mart_files.fetch(key)
                    seen = 0
                    for chunk in _batches(con, definition, path, request, timezone):
                        pending.add(chunk)
                        seen += chunk.height
                    if seen == 0 and definition.fills_quiet_days:
                        pending.add(_quiet_day(definition, day, request.params))
                    mart_files.release(path)
                pending.finish()
            finally:
                pending.shutdown()
        finally:
            con.close()
        validator.finish()
        written = writer.close()
        parts, final, sha = written.parts, written.path, written.sha256
        manifest = {
            "report_name": request.name,
            "report_type": request.report_type,
            "filters": request.spec.get("filters", {}),
            "window": None
            if request.window is None
            else {
                "start": request.window.start.astimezone(now_local.tzinfo).isoformat(),
                "end": request.window.end.astimezone(now_local.tzinfo).isoformat(),
                "first_day": request.window.first_day.isoformat(),
                "last_day": request.window.last_day.isoformat(),
                "timezone": timezone,
            },
            "as_of": now_local.isoformat() if request.window is None else None,
            "file": final.name,
            "sha256": sha,
            "rows": sum(p.rows for p in parts),
            "parts": [{"file": p.path.name, "rows": p.rows, "sha256": p.sha256} for p in parts],
            "schema_version": SCHEMA_VERSION,
            "columns": definition.header,
            "formula_cells_neutralised": written.formula_cells_neutralised,
            "generated_at": now_local.isoformat(),
            "generated_by": generated_by,
        }
        key = f"{folder}/{final.name}"
        uri = destination.put_file(final, key)
        try:
            manifest_uri = destination.put_bytes(
                (json.dumps(manifest, indent=2) + "\n").encode(), layout.report_manifest(key)
            )
        except BaseException:
            # A report whose manifest cannot be written is Creation Failed: take its file
            # back, and the manifest an earlier run left beside it, which would describe a
            # file that is gone, so nothing is left that looks delivered (best effort: the
            # server that refused the manifest may refuse this too).
            for written_key in (key, layout.report_manifest(key)):
                with contextlib.suppress(Exception):
                    destination.delete_prefix(written_key)
            raise
    return Delivered(
        file_name=final.name,
        uri=uri,
        manifest_uri=manifest_uri,
        rows=manifest["rows"],
        sha256=sha,
        parts=manifest["parts"],
        manifest=manifest,
    )
