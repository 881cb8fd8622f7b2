"""Landing files as numbered lines: read in large blocks, nothing lost, nothing invented.

One landing file becomes frames of `LINE_SCHEMA`, one row per line in file order:
`line` counts from 1, `raw` is the text without its line end (a UTF-8 BOM before the
first line and any carriage returns before a line end are dropped), `pre_reason` says why
a line cannot be used before it is even parsed (not UTF-8). A line is what a text reader
of the file sees: the bytes up to each newline, plus a last unterminated piece if it is
not empty.

A file that cannot be opened, or whose rest cannot be read (a truncated or corrupt gzip,
a read error), ends in ONE row whose `raw` is null and whose `pre_reason` says what
happened: ingestion quarantines it as `unreadable_file`. The complete lines read before
the failure are kept.

Blocks of decompressed bytes are validated as UTF-8 and cut at their newlines as a whole
(a few C calls per block, not one Python step per line); only a block holding invalid
UTF-8 is decoded line by line. Gzip is inflated with ISA-L (about 3x zlib); when ISA-L
fails, the file is read again with the standard library from where ISA-L stopped,
because ISA-L does not hand out the data it inflated before a truncation.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import IO

import numpy as np
import polars as pl
import pyarrow as pa
from isal import igzip

from promo.storage import StorageError

BLOCK_BYTES = 8 << 20  # decompressed bytes read at a time
BOM = b"\xef\xbb\xbf"
NEWLINE = 0x0A
LINE_SCHEMA = {"file": pl.String, "line": pl.Int64, "raw": pl.String, "pre_reason": pl.String}
# What a failed read raises: a truncated or corrupt gzip, a disk or network error.
READ_ERRORS = (EOFError, OSError, zlib.error, StorageError)

Opener = Callable[[str], AbstractContextManager[IO[bytes]]]


def file_lines(name: str, open_file: Opener) -> Iterator[pl.DataFrame]:
    """Frames of the lines of landing file `name` (see the module docstring)."""
    number = 0
    try:
        opened = open_file(name)
        stream = opened.__enter__()
    except READ_ERRORS as exc:
        # A link leaving the landing zone, a file removed meanwhile, no permission.
        yield _unreadable(name, 1, f"cannot be opened: {_reason(exc)}")
        return
    try:
        carry = b""
        for block in _blocks(name, stream, open_file):
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            carry = data[cut:]
            if cut:
                frame = _frame(name, number, data[:cut] if carry else data)
                number += frame.height
                yield frame
        if carry:
            # A last line without its newline.
            frame = _frame(name, number, carry + b"\n")
            number += 1
            yield frame
    except READ_ERRORS as exc:
        # The unreadable rest (with any partial last line) is one quarantined line.
        yield _unreadable(name, number + 1, f"file unreadable after line {number}: {_reason(exc)}")
    finally:
        opened.__exit__(None, None, None)


def lines_at(name: str, open_file: Opener, numbers: set[int]) -> dict[int, str]:
    """The text of lines `numbers` of a file that was read before (as `file_lines` gives
    it), found by counting newlines: no frame is built for the other lines."""
    found: dict[int, str] = {}
    number = 0
    carry = b""
    try:
        with open_file(name) as stream:
            for block in _blocks(name, stream, open_file):
                data = carry + block if carry else block
                ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == NEWLINE)
                for i in np.flatnonzero(
                    np.isin(np.arange(number + 1, number + 1 + len(ends)), sorted(numbers))
                ):
                    start = ends[i - 1] + 1 if i else 0
                    found[number + 1 + int(i)] = _text(data[start : ends[i]], number + 1 + int(i))
                number += len(ends)
                carry = data[ends[-1] + 1 :] if len(ends) else data
            if carry and number + 1 in numbers:
                found[number + 1] = _text(carry, number + 1)
    except READ_ERRORS:
        pass  # what could not be read was quarantined as unreadable, not accepted
    return found


def _text(piece: bytes, number: int) -> str:
    if number == 1 and piece.startswith(BOM):
        piece = piece[len(BOM) :]
    return piece.decode("utf-8", "replace").rstrip("\r")


def _blocks(name: str, stream: IO[bytes], open_file: Opener) -> Iterator[bytes]:
    if not name.endswith(".gz"):
        while block := stream.read(BLOCK_BYTES):
            yield block
        return
    emitted = 0
    try:
        fast = igzip.GzipFile(fileobj=stream)
        while block := fast.read1(BLOCK_BYTES):
            emitted += len(block)
            yield block
        return
    except READ_ERRORS:
        pass
    # The standard library hands out every byte it inflated before a failure.
    with open_file(name) as again:
        slow = gzip.GzipFile(fileobj=again)
        skip = emitted
        while skip:
            skipped = slow.read1(min(skip, BLOCK_BYTES))
            if not skipped:
                raise EOFError("the file changed while it was read")
            skip -= len(skipped)
        while block := slow.read1(BLOCK_BYTES):
            yield block


def _frame(name: str, before: int, data: bytes) -> pl.DataFrame:
    """Rows for the lines of `data` (whole lines, each ending in a newline), numbered after
    line `before`. The text column is one Arrow array over the block's bytes, its offsets
    from the newline positions: no Python object per line."""
    if before == 0 and data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        data.decode("utf-8")  # validates the whole block at C speed
    except UnicodeDecodeError:
        return _frame_by_line(name, before, data)
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == NEWLINE)
    # The lines back to back (newlines removed): line i ends where its newline was, less
    # the i newlines removed before it.
    joined = data.replace(b"\n", b"")
    offsets = np.concatenate(([0], newlines - np.arange(len(newlines)))).astype(np.int64)
    text = pa.LargeStringArray.from_buffers(
        len(newlines), pa.py_buffer(offsets), pa.py_buffer(joined)
    )
    raw = pl.Series("raw", text)
    if b"\r" in data:
        raw = raw.str.strip_chars_end("\r")
    return pl.DataFrame({"raw": raw}).select(
        pl.lit(name, pl.String).alias("file"),
        pl.int_range(before + 1, before + 1 + len(newlines), dtype=pl.Int64).alias("line"),
        pl.col("raw"),
        pl.lit(None, pl.String).alias("pre_reason"),
    )


def _frame_by_line(name: str, before: int, data: bytes) -> pl.DataFrame:
    """`_frame` for a block holding invalid UTF-8: each line decoded on its own; a line
    that is not UTF-8 keeps its text with the bad bytes replaced, and says why."""
    texts, reasons = [], []
    for piece in data[:-1].split(b"\n"):
        piece = piece.rstrip(b"\r")
        try:
            texts.append(piece.decode("utf-8"))
            reasons.append(None)
        except UnicodeDecodeError as exc:
            texts.append(piece.decode("utf-8", "replace"))
            reasons.append(f"not valid UTF-8 ({exc.reason})")
    n = len(texts)
    return pl.DataFrame(
        {
            "file": [name] * n,
            "line": range(before + 1, before + 1 + n),
            "raw": texts,
            "pre_reason": reasons,
        },
        schema=LINE_SCHEMA,
    )


def _unreadable(name: str, number: int, why: str) -> pl.DataFrame:
    return pl.DataFrame([(name, number, None, why)], schema=LINE_SCHEMA, orient="row")


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def empty_lines() -> pl.DataFrame:
    return pl.DataFrame(schema=LINE_SCHEMA)
