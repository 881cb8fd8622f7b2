"""Report files: CSV parts of at most 1,000,000 rows, a single CSV or a ZIP of parts,
names that are safe for paths and keys.

The CSV bytes are written once: part 1 goes to a file; if the report turns out to need a
second part, part 1 is moved into a ZIP once and every later part is deflated straight
into its ZIP entry as it is rendered (no part files written and read back). Every part is
hashed as it is written, and the ZIP as it is written.

Rendering, hashing and deflating a chunk run on a writer thread while the caller fetches
and validates the next chunk: `write` hands a (validated) chunk over and returns at once,
after waiting for the chunk before it. So at most two chunks are in memory, the one being
written and the one being gathered. The thread never creates a file: both files it may
write are opened by the caller's thread, so a report that fails half-way (its working
folder removed while the last chunk is still being written) leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl

from promo.reports.csv_safety import neutralise
from promo.reports.zipstream import ZipStream

ROWS_PER_FILE = 1_000_000
# Rows per piece of CSV polars hands to the part's sink (~1 MB at the widest report):
# large enough that the calls into Python are few, small enough to need no buffer.
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
        # Opened here, in the caller's thread (see the module docstring).
        self._first_path = workdir / f"{stem}_part-0001.csv"
        self._first: IO[bytes] = self._first_path.open("w+b")
        self._zip_path = workdir / f"{stem}.zip"
        self._zip_file: IO[bytes] = self._zip_path.open("wb")
        self._zip: ZipStream | None = None
        self._sink: _PartSink | None = None
        self._rows = 0
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # ------------------------------------------------------------ the caller's side
    def write(self, chunk: pl.DataFrame) -> None:
        """Queues `chunk` (already validated) after the chunks before it."""
        self._wait()
        # Handed over in a list the thread empties, so that the thread holds the only
        # reference and memory goes back batch by batch as the chunk is written.
        self._thread = threading.Thread(
            target=self._run, args=([chunk],), name=f"report-writer-{self.stem}", daemon=True
        )
        self._thread.start()

    def close(self) -> Written:
        """Waits for the last chunk, then finishes the file: a single CSV renamed to
        `<stem>.csv`, or the ZIP's directory written."""
        self._wait()
        if not self.parts:  # an empty window still gives a header-only file
            self._open_part()
        self._close_part()
        if self._zip is None:
            self._zip_file.close()
            self._zip_path.unlink()
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

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error

    # ------------------------------------------------------------ the writer thread
    def _run(self, handed: list[pl.DataFrame]) -> None:
        try:
            pieces = _batches(handed.pop())
            while pieces:
                piece = pieces.pop(0)
                while piece.height:
                    if self._sink is None:
                        self._open_part()
                    room = self.rows_per_file - self._rows
                    self._write_rows(piece.head(room))
                    piece = piece.slice(room)
                    if self._rows >= self.rows_per_file:
                        self._close_part()
        except BaseException as exc:  # handed to the caller by the next write/close
            self._error = exc

    def _write_rows(self, rows: pl.DataFrame) -> None:
        rows, changed = neutralise(rows, self.text_columns)
        self.formula_cells_neutralised += changed
        # polars calls the sink's write with the CSV of CSV_BATCH_ROWS rows at a time.
        rows.write_csv(self._sink, include_header=False, null_value="", batch_size=CSV_BATCH_ROWS)
        self._rows += rows.height

    def _open_part(self) -> None:
        number = len(self.parts) + 1
        name = f"{self.stem}_part-{number:04d}.csv"
        if number == 1:
            self._sink = _PartSink(self._first.write)
        else:
            if self._zip is None:
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


def _batches(chunk: pl.DataFrame) -> list[pl.DataFrame]:
    """The chunk cut where its memory is cut (the batches it was concatenated from), so
    each batch is freed once written."""
    lengths = chunk.get_column(chunk.columns[0]).chunk_lengths() if chunk.width else []
    pieces, offset = [], 0
    for length in lengths:
        pieces.append(chunk.slice(offset, length))
        offset += length
    if offset < chunk.height:  # columns chunked differently: one piece for the rest
        pieces.append(chunk.slice(offset))
    return pieces


def slugify(text: str, limit: int = 60) -> str:
    """A name as a safe path segment: ASCII letters, digits and dashes only. Look-alike
    Unicode letters fold to ASCII; anything else (slashes, dots, control characters)
    becomes a dash, so no slug can climb out of its folder."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:limit].strip("-")
    return slug or "report"
