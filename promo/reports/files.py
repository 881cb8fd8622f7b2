"""Report files: CSV parts of at most 1,000,000 rows, a single CSV or a ZIP of parts,
names that are safe for paths and keys.

The CSV bytes are written once: part 1 goes to a file; if the report turns out to need a
second part, part 1 is moved into a ZIP once and every later part is deflated straight
into its ZIP entry as polars renders it (no part files written and read back). Every part
is hashed as it is written, and the ZIP as it is written.

A `PartWriter` is used by one thread at a time: the export engine calls it from its
writer thread, one chunk after another (promo.reports.engine `_Pending`). A byte worker
that hashed and deflated while polars rendered was measured and dropped: ~4 % more CPU
and no faster (polars renders on its own threads, which overlap the sink already).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl

from promo.reports.csv_safety import neutralise
from promo.reports.zipstream import ZipStream

ROWS_PER_FILE = 1_000_000
# Rows polars renders per batch: 8192 measured faster than its default of 1024. (It hands
# the sink ~1 MB at a time either way, so the calls into Python stay few.)
CSV_BATCH_ROWS = 8192
COPY_BLOCK = 4 * 1024 * 1024


@dataclass
class Part:
    """One CSV of the report: `path.name` is its file name (the delivered CSV, or the
    entry's name inside the ZIP)."""

    path: Path
    rows: int
    sha256: str


@dataclass
class Written:
    """The finished file: `<stem>.csv` or `<stem>.zip` in the working folder."""

    path: Path
    sha256: str
    parts: list[Part]
    formula_cells_neutralised: int


class _PartSink:
    """Where the current part's bytes go (a file or a ZIP entry), hashed on the way."""

    def __init__(self, write):
        self._write = write
        self.digest = hashlib.sha256()

    def write(self, data) -> int:
        self.digest.update(data)
        self._write(data)
        return len(data)

    def flush(self) -> None:
        pass


class PartWriter:
    """Streams chunks into parts `<stem>_part-0001.csv`, `…-0002.csv`, … of at most
    `rows_per_file` rows each, every part with the header; a chunk straddling a limit is
    split, so parts follow the rows' (chronological) order. Cells of `text_columns` that
    a spreadsheet would take for a formula are neutralised (promo.reports.csv_safety)."""

    def __init__(
        self,
        workdir: Path,
        stem: str,
        header: list[str],
        rows_per_file: int,
        *,
        text_columns: list[str] | tuple[str, ...] = (),
    ):
        self.workdir, self.stem = workdir, stem
        self.rows_per_file = rows_per_file
        self.text_columns = list(text_columns)
        self.parts: list[Part] = []
        self.formula_cells_neutralised = 0
        self._header = (",".join(header) + "\n").encode()
        self._first_path = workdir / f"{stem}_part-0001.csv"
        self._first: IO[bytes] = self._first_path.open("w+b")
        self._zip_path = workdir / f"{stem}.zip"
        self._zip_file: IO[bytes] | None = None
        self._zip: ZipStream | None = None
        self._sink: _PartSink | None = None
        self._rows = 0

    def write(self, chunk: pl.DataFrame) -> None:
        """Appends `chunk` (already validated) after the chunks before it."""
        while chunk.height:
            if self._sink is None:
                self._open_part()
            room = self.rows_per_file - self._rows
            self._write_rows(chunk.head(room))
            chunk = chunk.slice(room)
            if self._rows >= self.rows_per_file:
                self._close_part()

    def close(self) -> Written:
        """Finishes the file: a single CSV renamed to `<stem>.csv`, or the ZIP's
        directory written."""
        if not self.parts:  # an empty window still gives a header-only file
            self._open_part()
        self._close_part()
        if self._zip is None:
            self._first.close()
            final = self.workdir / f"{self.stem}.csv"
            self._first_path.rename(final)
            self.parts[0].path = final
            return Written(final, self.parts[0].sha256, self.parts, self.formula_cells_neutralised)
        sha = self._zip.close()
        self._zip_file.close()
        self._first.close()
        self._first_path.unlink()
        return Written(self._zip_path, sha, self.parts, self.formula_cells_neutralised)

    def _write_rows(self, rows: pl.DataFrame) -> None:
        rows, changed = neutralise(rows, self.text_columns)
        self.formula_cells_neutralised += changed
        rows.write_csv(self._sink, include_header=False, null_value="", batch_size=CSV_BATCH_ROWS)
        self._rows += rows.height

    def _open_part(self) -> None:
        number = len(self.parts) + 1
        name = f"{self.stem}_part-{number:04d}.csv"
        if number == 1:
            self._sink = _PartSink(self._first.write)
        else:
            if self._zip is None:
                self._zip_file = self._zip_path.open("wb")
                self._zip = ZipStream(self._zip_file)
                self._move_first_part_into_zip()
            self._zip.start(name)
            self._sink = _PartSink(self._zip.write)
        self.parts.append(Part(self.workdir / name, 0, ""))
        self._rows = 0
        self._sink.write(self._header)

    def _move_first_part_into_zip(self) -> None:
        """Row 1,000,001 arrived: the report is a ZIP after all, so part 1's file becomes
        the archive's first entry (read back once, ~1/N of the bytes of N parts)."""
        self._zip.start(self.parts[0].path.name)
        self._first.seek(0)
        while block := self._first.read(COPY_BLOCK):
            self._zip.write(block)
        self._zip.end()
        self._first.truncate(0)

    def _close_part(self) -> None:
        if self._sink is not None:
            self.parts[-1].rows = self._rows
            self.parts[-1].sha256 = self._sink.digest.hexdigest()
            self._sink = None
            if self._zip is not None:
                self._zip.end()
