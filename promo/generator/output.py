"""Where lines go: one writer per stream and UTC day, spreading the day's lines over
several plain or gzip files of the day's folder, mixing in bad lines and redeliveries,
and counting every line."""

from __future__ import annotations

import heapq
import random
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from isal import igzip

from promo.generator.clock import DAY_MS, day_start_ms
from promo.generator.noise import Noise
from promo.generator.streams import StreamView
from promo.generator.summary import StreamSummary
from promo.storage import Storage


class StreamState:
    """What one stream carries from line to line and day to day."""

    def __init__(self, view: StreamView, noise: Noise):
        self.view = view
        self.summary = StreamSummary()
        self.seq = 0
        self.prev: dict | None = None  # the last valid record written: id_conflict target
        self.older: dict | None = None  # a valid record of an earlier day: same purpose
        self.bad_gap = noise.gap(noise.bad_rate)
        self.redelivery_gap = noise.gap(noise.redelivery_rate)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def new_id(self) -> str:
        return self.view.id_of(self.next_seq())


class Output:
    """Run-wide output plumbing: where files go and how they are cut and compressed (the
    layout stream, independent of the data and the noise)."""

    def __init__(self, storage: Storage, tmp: Path, seed: int, gzip_share: float, noise: Noise):
        self.storage = storage
        self.tmp = tmp
        self.layout = random.Random(f"layout-{seed}")
        self.gzip_share = gzip_share
        self.noise = noise

    def publish(self, local: Path, key: str) -> None:
        self.storage.put_file(local, key)
        local.unlink()


class FolderWriter:
    """One stream's lines for one UTC day, spread over several files of its folder.

    Records arrive in time order. Files are cut at random times of the day, as a producer
    rotating its log would, so file-name order is time order and "earlier" means the same
    thing to a reader going through the folder as it does to the simulation.
    """

    _FLUSH_LINES = 4096

    def __init__(self, out: Output, state: StreamState, day: date, expected_lines: int):
        self._out, self._state = out, state
        self._prefix = f"events/{state.view.name}/date={day.isoformat()}/"
        n_files = min(48, 2 + int(out.layout.random() * 3) + expected_lines // 100_000)
        start = day_start_ms(day)
        cuts = sorted(start + int(out.layout.random() * DAY_MS) for _ in range(n_files - 1))
        self._cuts = [*cuts, start + DAY_MS]
        self._gzip = [out.layout.random() < out.gzip_share for _ in range(n_files)]
        self._index = 0
        self._next_cut = self._cuts[0]
        self._buffer: list[bytes] = []
        self._raw: Any = None
        self._sink: Any = None
        self._local: Path | None = None
        self._line_no = 0  # lines written to this folder
        self._records = 0
        self._pending: list[tuple[int, int, bytes]] = []  # (due line, order, redelivered line)
        self._order = 0

    def write(self, record: dict, ts: int) -> None:
        if ts >= self._next_cut:
            self._rotate(ts)
        if self._pending and self._pending[0][0] <= self._line_no:
            self._flush_due()
        state = self._state
        state.bad_gap -= 1
        if state.bad_gap < 0:
            self._write_bad(record, ts)
        line = orjson.dumps(record)
        if self._sink is None or len(self._buffer) >= self._FLUSH_LINES:
            self._emit(line)
        else:  # the common case of _emit, inlined: this runs for every record
            self._buffer.append(line)
            self._line_no += 1
        self._records += 1
        state.prev = record
        state.redelivery_gap -= 1
        if state.redelivery_gap < 0:
            self._schedule_redelivery(record, line)

    def close(self) -> None:
        """Flush redeliveries still waiting (they stay in this day's folder) and publish."""
        while self._pending:
            self._emit(heapq.heappop(self._pending)[2])
            self._state.summary.redeliveries += 1
        self._close_file()
        summary = self._state.summary
        summary.lines += self._line_no
        summary.records += self._records
        if self._state.prev is not None:
            self._state.older = self._state.prev

    def _write_bad(self, record: dict, ts: int) -> None:
        noise, state = self._out.noise, self._state
        kind, line = noise.bad_line(record, ts, state)
        self._emit(line)
        state.summary.bad[kind] = state.summary.bad.get(kind, 0) + 1
        state.bad_gap = noise.gap(noise.bad_rate)

    def _schedule_redelivery(self, record: dict, line: bytes) -> None:
        noise = self._out.noise
        # 1 to 40 lines later: the same file or, near a cut, the next file of the folder.
        due = self._line_no + 1 + int(noise.rng.random() * 40)
        self._order += 1
        heapq.heappush(self._pending, (due, self._order, noise.redelivery(record, line)))
        self._state.redelivery_gap = noise.gap(noise.redelivery_rate)

    def _flush_due(self) -> None:
        while self._pending and self._pending[0][0] <= self._line_no:
            self._emit(heapq.heappop(self._pending)[2])
            self._state.summary.redeliveries += 1

    def _rotate(self, ts: int) -> None:
        self._close_file()
        while ts >= self._next_cut:
            self._index += 1
            self._next_cut = self._cuts[self._index]

    def _emit(self, line: bytes) -> None:
        if self._sink is None:
            self._open_file()
        self._buffer.append(line)
        self._line_no += 1
        if len(self._buffer) >= self._FLUSH_LINES:
            self._flush_buffer()

    def _flush_buffer(self) -> None:
        if self._buffer:
            self._buffer.append(b"")
            self._sink.write(b"\n".join(self._buffer))
            self._buffer = []

    def _open_file(self) -> None:
        self._local = self._out.tmp / f"{self._state.view.name}.part"
        self._raw = self._local.open("wb")
        if self._gzip[self._index]:
            # No file name and mtime 0 in the header: same input, same bytes.
            self._sink = igzip.IGzipFile(
                filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=1
            )
        else:
            self._sink = self._raw

    def _close_file(self) -> None:
        if self._sink is None:
            return  # an empty time slice: no file rather than an empty one
        self._flush_buffer()
        if self._sink is not self._raw:
            self._sink.close()
        self._raw.close()
        suffix = ".jsonl.gz" if self._gzip[self._index] else ".jsonl"
        self._out.publish(self._local, f"{self._prefix}batch-{self._index:02d}{suffix}")
        self._state.summary.files += 1
        self._sink = self._raw = self._local = None
