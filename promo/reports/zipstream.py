"""A small streaming ZIP64 writer with ISA-L deflate, for report archives.

Why not `zipfile`: it reaches its compressor through its module-level `zlib`, so using
ISA-L's deflate (~4x zlib's level 1 on our CSV; a 10 M-row report zips in ~1 s instead of
~13 s) meant swapping that module for the whole process. Here each entry gets its own
`isal_zlib.compressobj`, and nothing outside this object changes.

The archive is written strictly front to back (no seeking back to patch headers): each
entry is a local header with the ZIP64 extra field, the raw deflate stream, then a ZIP64
data descriptor with the CRC-32 and both sizes; the central directory, the ZIP64
end-of-central-directory record and its locator, and the classic end record close the
file. So the SHA-256 of the whole archive is computed on the bytes as they are written,
and no entry or archive size limit applies. Python's `zipfile`, Info-ZIP's `unzip -t`
and the usual desktop tools read the result (tests check the first two).
"""

from __future__ import annotations

import hashlib
import struct
import time
from dataclasses import dataclass
from typing import BinaryIO

from isal import isal_zlib

LEVEL = 1  # ISA-L level 1: files about 8 % larger than zlib level 6, at ~4x its speed
_VERSION = 45  # 4.5: ZIP64
_MADE_BY = (3 << 8) | _VERSION  # 3: Unix (so external attributes are file modes)
_FLAGS = 0x0008  # sizes and CRC follow the data (data descriptor)
_UTF8 = 0x0800
_DEFLATED = 8
_FILE_MODE = 0o100644 << 16  # a regular file, rw-r--r--
_ZIP64_SENTINEL = 0xFFFFFFFF


@dataclass
class _Entry:
    name: bytes
    flags: int
    dos_time: int
    dos_date: int
    offset: int
    crc: int = 0
    size: int = 0
    compressed: int = 0


def _dos_stamp(seconds: float) -> tuple[int, int]:
    t = time.localtime(seconds)
    year = min(max(t.tm_year, 1980), 2107)
    return (
        t.tm_hour << 11 | t.tm_min << 5 | t.tm_sec // 2,
        (year - 1980) << 9 | t.tm_mon << 5 | t.tm_mday,
    )


class ZipStream:
    """Writes a ZIP archive to an open binary file, one entry at a time:
    `start(name)`, `write(data)` any number of times, `end()`; then `close()`, which
    writes the directory and returns the archive's SHA-256. Not thread-safe: one writer
    at a time (the report writer calls it from one thread at a time)."""

    def __init__(self, fh: BinaryIO, level: int = LEVEL, modified: float | None = None):
        self._fh = fh
        self._level = level
        self._stamp = _dos_stamp(time.time() if modified is None else modified)
        self._sha = hashlib.sha256()
        self._offset = 0
        self._entries: list[_Entry] = []
        self._current: _Entry | None = None
        self._compressor = None

    def _emit(self, data: bytes) -> None:
        if data:
            self._fh.write(data)
            self._sha.update(data)
            self._offset += len(data)

    def start(self, name: str) -> None:
        if self._current is not None:
            raise RuntimeError(f"zip entry {self._current.name!r} is still open")
        try:
            encoded, flags = name.encode("ascii"), _FLAGS
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), _FLAGS | _UTF8
        entry = _Entry(encoded, flags, *self._stamp, offset=self._offset)
        # Sizes and CRC are not known yet: zeros in the ZIP64 extra field, the sentinel in
        # the 32-bit fields, the real values in the data descriptor after the data.
        extra = struct.pack("<HHQQ", 1, 16, 0, 0)
        header = struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            _VERSION,
            flags,
            _DEFLATED,
            entry.dos_time,
            entry.dos_date,
            0,
            _ZIP64_SENTINEL,
            _ZIP64_SENTINEL,
            len(encoded),
            len(extra),
        )
        self._emit(header + encoded + extra)
        self._current = entry
        # Raw deflate (negative window bits): ZIP stores no zlib header or trailer.
        self._compressor = isal_zlib.compressobj(self._level, isal_zlib.DEFLATED, -15)

    def write(self, data: bytes | memoryview) -> None:
        entry = self._current
        if entry is None:
            raise RuntimeError("no zip entry is open")
        entry.crc = isal_zlib.crc32(data, entry.crc)
        entry.size += len(data)
        out = self._compressor.compress(data)
        entry.compressed += len(out)
        self._emit(out)

    def end(self) -> None:
        entry = self._current
        if entry is None:
            raise RuntimeError("no zip entry is open")
        out = self._compressor.flush()
        entry.compressed += len(out)
        self._emit(out)
        self._emit(struct.pack("<IIQQ", 0x08074B50, entry.crc, entry.compressed, entry.size))
        self._entries.append(entry)
        self._current, self._compressor = None, None

    def close(self) -> str:
        """Writes the central directory and the end records; returns the SHA-256 of the
        whole archive. The file itself stays open (its owner closes it)."""
        if self._current is not None:
            self.end()
        directory_offset = self._offset
        for entry in self._entries:
            extra = struct.pack("<HHQQQ", 1, 24, entry.size, entry.compressed, entry.offset)
            record = struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                _MADE_BY,
                _VERSION,
                entry.flags,
                _DEFLATED,
                entry.dos_time,
                entry.dos_date,
                entry.crc,
                _ZIP64_SENTINEL,
                _ZIP64_SENTINEL,
                len(entry.name),
                len(extra),
                0,  # comment
                0,  # disk
                0,  # internal attributes
                _FILE_MODE,
                _ZIP64_SENTINEL,
            )
            self._emit(record + entry.name + extra)
        directory_size = self._offset - directory_offset
        end64_offset = self._offset
        count = len(self._entries)
        self._emit(
            struct.pack(
                "<IQHHIIQQQQ",
                0x06064B50,
                44,  # the size of the rest of this record
                _MADE_BY,
                _VERSION,
                0,
                0,
                count,
                count,
                directory_size,
                directory_offset,
            )
        )
        self._emit(struct.pack("<IIQI", 0x07064B50, 0, end64_offset, 1))
        self._emit(
            struct.pack(
                "<IHHHHIIH",
                0x06054B50,
                0,
                0,
                min(count, 0xFFFF),
                min(count, 0xFFFF),
                min(directory_size, _ZIP64_SENTINEL),
                min(directory_offset, _ZIP64_SENTINEL),
                0,
            )
        )
        return self._sha.hexdigest()
