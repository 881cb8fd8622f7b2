"""The report file writer: CSV parts, the streaming ZIP64 archive, hashes, formula cells.

The archive is read back by two independent readers, Python's `zipfile` and Info-ZIP's
`unzip -t` (CRC and structure of every entry); the CSV text by polars' own writer and
Python's csv module."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
import sys
import threading
import zipfile
import zlib
from decimal import Decimal

import polars as pl
import pytest

from promo.reports.csv_safety import neutralise
from promo.reports.files import PartWriter
from promo.reports.unique_ids import UniqueIds
from promo.reports.zipstream import ZipStream

HEADER = ["id", "name", "amount", "note"]


def frame(start: int, n: int) -> pl.DataFrame:
    """Rows with what CSV must quote (commas, quotes, line breaks), nulls, non-ASCII text
    and decimals."""
    return pl.DataFrame(
        {
            "id": [f"id-{i:07d}" for i in range(start, start + n)],
            "name": [
                ["plain", 'say "hi"', "a,b", "two\nlines", "Zürich ✓", None][i % 6]
                for i in range(start, start + n)
            ],
            "amount": pl.Series(
                [Decimal(i % 1000) / 100 - 3 for i in range(start, start + n)],
                dtype=pl.Decimal(18, 2),
            ),
            "note": [None if i % 3 else f"n{i}" for i in range(start, start + n)],
        }
    )


def write(tmp_path, chunks, rows_per_file, text_columns=("id", "name", "note")):
    writer = PartWriter(tmp_path, "rep", HEADER, rows_per_file, text_columns=text_columns)
    for chunk in chunks:
        writer.write(chunk)
    return writer.close()


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_up_to_the_limit_is_one_csv_byte_for_byte_what_polars_writes(tmp_path):
    chunks = [frame(0, 700), frame(700, 300)]
    written = write(tmp_path, chunks, rows_per_file=1000)
    whole = pl.concat(chunks)
    assert written.path == tmp_path / "rep.csv"
    assert written.path.read_bytes() == whole.write_csv(null_value="").encode()
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()
    assert [(p.path.name, p.rows) for p in written.parts] == [("rep.csv", 1000)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep.csv"], "no part file left"


def test_an_empty_report_is_a_header_only_csv(tmp_path):
    written = write(tmp_path, [], rows_per_file=10)
    assert written.path.read_bytes() == b"id,name,amount,note\n"
    assert written.parts[0].rows == 0


def test_more_rows_become_a_zip64_that_zipfile_and_unzip_both_accept(tmp_path):
    chunks = [frame(0, 2500), frame(2500, 1), frame(2501, 1499)]  # straddle two limits
    written = write(tmp_path, chunks, rows_per_file=1000)
    assert written.path == tmp_path / "rep.zip"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rep.zip"], "no part file left"
    assert written.sha256 == hashlib.sha256(written.path.read_bytes()).hexdigest()
    names = [f"rep_part-{n:04d}.csv" for n in range(1, 5)]
    assert [(p.path.name, p.rows) for p in written.parts] == list(
        zip(names, [1000, 1000, 1000, 1000], strict=True)
    )
    whole = pl.concat(chunks)
    with zipfile.ZipFile(written.path) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == names
        for n, (name, part) in enumerate(zip(names, written.parts, strict=True)):
            info = zf.getinfo(name)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            data = zf.read(name)
            assert hashlib.sha256(data).hexdigest() == part.sha256
            # Each part: the header, then its 1000 rows in order, as polars writes them.
            expected = whole.slice(n * 1000, 1000).write_csv(null_value="").encode()
            assert data == expected
    check = subprocess.run(
        [sys.executable, "-m", "zipfile", "-t", str(written.path)], capture_output=True
    )
    assert check.returncode == 0, check.stderr


UNZIP = shutil.which("unzip")


@pytest.mark.skipif(UNZIP is None, reason="needs unzip: scripts/install_test_tools.sh (make test)")
def test_unzip_finds_no_error_in_the_archives(tmp_path):
    """Info-ZIP's checker, independent of Python: the CRC-32 of every entry, the sizes in
    the data descriptors, the ZIP64 directory records."""
    report = write(tmp_path, [frame(0, 2500)], rows_per_file=1000).path
    other = tmp_path / "b.zip"
    with other.open("wb") as fh:
        stream = ZipStream(fh)
        stream.start("empty.csv")
        stream.end()
        stream.start("données-ü.csv")
        stream.write(b"x,y\n" * 100_000)
        stream.end()
        stream.close()
    for path in (report, other):
        check = subprocess.run([UNZIP, "-t", str(path)], capture_output=True, text=True)
        assert check.returncode == 0 and "No errors detected" in check.stdout, check.stdout


def test_zip_stream_entries_of_any_size_and_name(tmp_path):
    path = tmp_path / "a.zip"
    big = b"".join(b"%09d,some text\n" % i for i in range(400_000))  # several compress calls
    with path.open("wb") as fh:
        stream = ZipStream(fh)
        stream.start("empty.csv")
        stream.end()
        stream.start("données-ü.csv")  # a UTF-8 name (flag bit 11)
        for at in range(0, len(big), 1 << 20):
            stream.write(memoryview(big)[at : at + (1 << 20)])
        stream.end()
        sha = stream.close()
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == ["empty.csv", "données-ü.csv"]
        assert zf.read("empty.csv") == b""
        assert zf.read("données-ü.csv") == big
        assert zlib.crc32(big) == zf.getinfo("données-ü.csv").CRC


def test_isal_deflate_leaves_the_zipfile_module_alone(tmp_path):
    """Issue 11: ISA-L's deflate was swapped into `zipfile.zlib` for the whole process
    while an archive was written, so any other thread's zipfile use in that time ran on
    ISA-L too. Now the writer uses its own compressor objects: another thread watching
    the zipfile module while a report ZIP is written never sees it changed."""
    seen, done = set(), threading.Event()

    def watch():
        while not done.is_set():
            seen.add(zipfile.zlib)
            with zipfile.ZipFile(io.BytesIO(), "w", zipfile.ZIP_DEFLATED) as other:
                other.writestr("x.txt", "x" * 1000)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        written = write(tmp_path, [frame(0, 20_000), frame(20_000, 20_000)], rows_per_file=500)
    finally:
        done.set()
        watcher.join()
    assert seen == {zlib}
    with zipfile.ZipFile(written.path) as zf:
        assert zf.testzip() is None and len(zf.namelist()) == 80


def test_formula_cells_are_prefixed_in_text_columns_only(tmp_path):
    chunk = pl.DataFrame(
        {
            "id": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", " =space", "'=quoted"],
            "name": [None, "a=b", "=cmd|' /C calc'!A0", "x", "y", "z", "", "-", "@"],
            "amount": pl.Series([-1, -2, 3, 4, 5, 6, 7, 8, 9], dtype=pl.Decimal(18, 2)),
            "note": ["-5.00"] * 9,
        }
    )
    written = write(tmp_path, [chunk], rows_per_file=100, text_columns=("id", "name"))
    rows = csv_rows(written.path.read_bytes())
    assert [r[0] for r in rows[1:]] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", " =space", "'=quoted",
    ]  # fmt: skip
    assert [r[1] for r in rows[1:]] == [
        "",
        "a=b",
        "'=cmd|' /C calc'!A0",
        "x",
        "y",
        "z",
        "",
        "'-",
        "'@",
    ]
    assert [r[2] for r in rows[1:]] == ["-1.00", "-2.00", "3.00", "4.00", "5.00", "6.00", "7.00",
                                        "8.00", "9.00"]  # fmt: skip
    assert {r[3] for r in rows[1:]} == {"-5.00"}, "a column not listed as text is left alone"
    assert written.formula_cells_neutralised == 6 + 3


def test_neutralise_leaves_a_clean_frame_as_it_is():
    clean = frame(0, 50)
    same, changed = neutralise(clean, ["id", "name", "note"])
    assert same is clean and changed == 0


def test_a_text_column_that_is_not_text_fails_the_write(tmp_path):
    writer = PartWriter(tmp_path, "rep", ["id"], 10, text_columns=["id"])
    with pytest.raises(pl.exceptions.PolarsError):
        writer.write(pl.DataFrame({"id": [1, 2, 3]}))


def test_unique_ids_counts_repeats_across_chunks_and_buckets():
    ids = UniqueIds()
    ids.add(pl.Series([f"id-{i}" for i in range(100_000)]).hash())
    ids.add(pl.Series([f"id-{i}" for i in range(100_000, 150_000)]).hash())
    assert ids.repeats() == 0
    # Repeats inside one chunk and across chunks, in whichever bucket they fall.
    ids.add(pl.Series(["id-7", "id-7", "id-149999", "new"]).hash())
    ids.add(pl.Series([], dtype=pl.String).hash())
    assert ids.repeats() == 3
    assert ids.count == 150_004
    ids.close()


def test_a_failed_part_write_reaches_the_caller(tmp_path):
    """An I/O failure while a part is written (here: a part file that refuses writes) is
    raised by `write` itself, before anything is finished."""
    writer = PartWriter(tmp_path, "rep", HEADER, 1000)
    writer._first.close()
    writer._first = (tmp_path / "rep_part-0001.csv").open("rb")
    with pytest.raises(io.UnsupportedOperation):
        writer.write(frame(0, 5000))
