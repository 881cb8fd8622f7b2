"""Whether every id of a report is distinct, in memory that does not grow with the report.

A report checks that its ids are unique over the whole file (a repeated id means a broken
mart or query). Holding a 64-bit hash of every id costs 8 bytes a row: 240 MB for a
three-month, 30 M-row report, then as much again to count the distinct ones. Instead,
each chunk's hashes are spread into BUCKETS ranges by their top bits and appended to one
temporary file, each chunk as one run ordered by bucket; at the end every bucket is read
back alone (1/BUCKETS of the hashes) and its distinct values counted.

Two different ids with the same 64-bit hash would count as a repeat: at 30 M ids that
happens with a probability of about 2.4e-5, and it would fail the report (never pass a
broken one).
"""

from __future__ import annotations

import tempfile

import numpy as np
import polars as pl

BUCKETS = 64
_SHIFT = np.uint64(64 - 6)  # the top 6 bits choose one of 64 buckets
_ITEM = 8  # bytes per hash


class UniqueIds:
    def __init__(self) -> None:
        # Lives as long as the checker (closed by close()); unlinked at once, so a
        # report that fails half-way leaves nothing behind.
        self._file = tempfile.TemporaryFile(prefix="promo-report-ids-")  # noqa: SIM115
        self._runs: list[tuple[int, np.ndarray]] = []  # (offset, bucket starts) per chunk
        self._offset = 0
        self.count = 0

    def add(self, hashes: pl.Series) -> None:
        """The 64-bit hashes (UInt64) of one chunk's ids."""
        values = hashes.to_numpy()
        if values.size == 0:
            return
        buckets = (values >> _SHIFT).astype(np.uint8)
        # A stable sort of 8-bit keys is a radix sort in numpy: linear, a few ms a million.
        ordered = values[np.argsort(buckets, kind="stable")]
        starts = np.zeros(BUCKETS + 1, np.int64)
        np.cumsum(np.bincount(buckets, minlength=BUCKETS), out=starts[1:])
        self._file.write(ordered.tobytes())
        self._runs.append((self._offset, starts))
        self._offset += values.size * _ITEM
        self.count += int(values.size)

    def repeats(self) -> int:
        """How many ids repeat one seen before (the number of rows minus distinct ids)."""
        repeats = 0
        for bucket in range(BUCKETS):
            pieces = []
            for offset, starts in self._runs:
                first, end = int(starts[bucket]), int(starts[bucket + 1])
                if end > first:
                    self._file.seek(offset + first * _ITEM)
                    pieces.append(np.frombuffer(self._file.read((end - first) * _ITEM), "<u8"))
            if pieces:
                # polars' hash-based count on its threads: about half numpy's sort here,
                # and this runs after the last chunk is written (nothing overlaps it).
                values = np.concatenate(pieces)
                repeats += values.size - pl.Series(values).n_unique()
        return repeats

    def close(self) -> None:
        self._file.close()
