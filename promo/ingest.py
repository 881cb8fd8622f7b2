"""Classify the raw lines of the UTC date folders of one stream, folder by folder.

Every line ends in exactly one bucket: accepted, duplicate (an exact redelivery of an
accepted record), superseded (an accepted record replaced by a correction) or
quarantined with a reason. The steps:

1. read lines (`promo.rawlines`: gzip or plain; BOM and CRLF tolerated; a file that
   cannot be opened, or the unreadable rest of one, is one `unreadable_file` line);
2. classify them in chunks (`promo.classify`): JSON, types, amounts, timestamps, the
   folder date, then the Pandera schema of `promo.contract`;
3. ids: the first holder of an id wins (earlier folder, then file name, then line); the
   same content again is a duplicate, other content is an `id_conflict`;
4. corrections: records of `*.corrections.jsonl[.gz]` files replace the record of the
   same id accepted from the folder's other files (see `apply_corrections`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from promo import contract as c
from promo.classify import QUARANTINE_SCHEMA, RAW_PREVIEW, classify_chunk, empty_quarantine
from promo.contract import Stream
from promo.corrections import CONFLICT_SCHEMA, apply_corrections
from promo.rawlines import Opener, file_lines, lines_at

__all__ = [
    "QUARANTINE_SCHEMA",
    "RAW_PREVIEW",
    "FolderFiles",
    "FolderResult",
    "classify_folder",
    "classify_folders",
]

CHUNK_LINES = 100_000  # lines classified at a time: bounds memory, amortises per-call costs
CORRECTION_SUFFIXES = (".corrections.jsonl", ".corrections.jsonl.gz")
CORRECTIONS_LISTED = 1_000  # corrections named one by one in a manifest; all are counted


def is_correction_file(name: str) -> bool:
    return name.endswith(CORRECTION_SUFFIXES)


@dataclass
class FolderResult:
    stream: str
    folder: date
    files: list[str]
    lines: int
    accepted: pl.DataFrame  # contract columns + _file, _line; in file/line order
    duplicates: int
    quarantine: pl.DataFrame  # QUARANTINE_SCHEMA
    later_folders: list[date] = field(default_factory=list)  # ... and which folders
    ignored_files: list[str] = field(default_factory=list)
    superseded: int = 0  # accepted records replaced by a correction
    corrections: list[dict[str, Any]] = field(default_factory=list)  # the first of them

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        counts = self.quarantine.group_by("reason").len().sort("reason")
        return dict(zip(counts["reason"], counts["len"], strict=True))


def empty_accepted(stream: Stream) -> pl.DataFrame:
    return pl.DataFrame(schema={**stream.polars_schema, "_file": pl.String, "_line": pl.Int64})


# --------------------------------------------------------------------------- folders
@dataclass(frozen=True)
class FolderFiles:
    """The files of one landing folder to classify: names in the folder, and how to open
    one (a context manager yielding a binary stream)."""

    folder: date
    files: list[str]
    open_file: Opener


@dataclass
class _Pending:
    """A folder being classified: its parts so far."""

    source: FolderFiles
    lines: int = 0
    valid: list[pl.DataFrame] = field(default_factory=list)
    bad: list[pl.DataFrame] = field(default_factory=list)


def classify_folder(
    stream: Stream,
    folder: date,
    files: list[str],
    open_file: Opener,
    others: IdLookup | None = None,
    corrections: bool = False,
) -> FolderResult:
    """Classify every line of `files` (names in one folder, any order) in contract order.
    See `classify_folders`."""
    source = FolderFiles(folder, files, open_file)
    return next(classify_folders(stream, [source], lambda _: others, corrections))


def classify_folders(
    stream: Stream,
    sources: list[FolderFiles],
    others_of: Callable[[date], IdLookup | None],
    corrections: bool = False,
) -> Iterator[FolderResult]:
    """The result of each folder of `sources`, in their order.

    Lines of consecutive folders are classified together in chunks of about CHUNK_LINES
    (per-call costs of DuckDB, polars and Pandera are paid per chunk, not per folder; a
    small folder costs little). Ids are resolved folder by folder when its result is
    yielded, with `others_of(folder)` looking up the other folders: the caller writes each
    result before asking for the next, so a folder sees the ones before it. With
    `corrections`, files named `*.corrections.jsonl[.gz]` are corrections (event folders);
    otherwise every file is a regular one (dimension snapshots).
    """
    pending: list[_Pending] = []
    buffer: list[pl.DataFrame] = []
    size = seq = 0

    def flush() -> None:
        nonlocal buffer, size
        if not buffer:
            return
        valid, bad = classify_chunk(stream, pl.concat(buffer))
        valid_of = valid.partition_by("_folder", as_dict=True)
        bad_of = bad.partition_by("_folder", as_dict=True)
        for p in pending:
            key = (p.source.folder,)
            if key in valid_of:
                p.valid.append(valid_of[key])
            if key in bad_of:
                p.bad.append(bad_of[key])
        buffer, size = [], 0

    for source in sources:
        pending.append(_Pending(source))
        for name in _in_contract_order(source.files, corrections):
            for frame in file_lines(name, source.open_file):
                pending[-1].lines += frame.height
                # `seq` numbers the lines in contract order across the call: sorting by
                # it (one integer) puts a folder's rows back in order after the chunk.
                buffer.append(
                    frame.with_columns(
                        pl.lit(source.folder).alias("folder"),
                        pl.int_range(seq, seq + frame.height, dtype=pl.Int64).alias("seq"),
                    )
                )
                seq += frame.height
                size += frame.height
                if size >= CHUNK_LINES:
                    flush()
                    # Every folder before this one is complete.
                    while len(pending) > 1:
                        yield _resolve(stream, pending.pop(0), others_of, corrections)
    flush()
    while pending:
        yield _resolve(stream, pending.pop(0), others_of, corrections)


def _in_contract_order(files: list[str], corrections: bool) -> list[str]:
    """Files by name; with corrections, correction files after the regular ones."""
    return sorted(files, key=lambda n: (corrections and is_correction_file(n), n))


def _resolve(
    stream: Stream,
    p: _Pending,
    others_of: Callable[[date], IdLookup | None],
    corrections: bool,
) -> FolderResult:
    folder, others = p.source.folder, others_of(p.source.folder)
    empty = empty_accepted(stream).with_columns(
        pl.lit(None, pl.Int64).alias("_seq"), pl.lit(None, pl.String).alias("_raw")
    )
    valid = pl.concat([empty, *(v.drop("_folder") for v in p.valid)])
    regular, fixes = valid, valid.clear()
    if corrections and any(is_correction_file(n) for n in p.source.files):
        is_fix = pl.any_horizontal(pl.col("_file").str.ends_with(s) for s in CORRECTION_SUFFIXES)
        regular, fixes = valid.filter(~is_fix), valid.filter(is_fix)
    accepted, duplicates, conflicts, later = resolve_ids(stream, folder, regular, others)
    fixed = apply_corrections(stream, folder, accepted, fixes, others)
    bad = [empty_quarantine(), *(b.drop("_folder") for b in p.bad)]
    conflicts = pl.concat([conflicts, fixed.conflicts])
    if conflicts.height:
        bad.append(_conflict_rows(conflicts, valid, p.source.open_file))
    return FolderResult(
        stream=stream.name,
        folder=folder,
        files=sorted(p.source.files),
        lines=p.lines,
        accepted=fixed.accepted.drop("_seq", "_raw"),
        duplicates=duplicates + fixed.duplicates,
        quarantine=pl.concat(bad).sort("file", "line_number"),
        later_folders=sorted({*later, *fixed.later_folders}),
        superseded=fixed.superseded,
        corrections=fixed.log[:CORRECTIONS_LISTED],
    )


def _conflict_rows(conflicts: pl.DataFrame, valid: pl.DataFrame, open_file: Opener) -> pl.DataFrame:
    """Quarantine rows for id conflicts. Their raw lines come from `_raw` where the
    classifier kept it (an id seen twice in a chunk), else the file is read again: raw text
    is not kept in memory for every valid row."""
    keys = ["_file", "_line"]
    known = conflicts.join(valid.select(*keys, "_raw"), on=keys).drop_nulls("_raw")
    raw = {(f, n): text for f, n, text in known.select(*keys, "_raw").iter_rows()}
    missing = conflicts.join(known, on=keys, how="anti")
    for name, numbers in missing.group_by("_file").agg("_line").iter_rows():
        for number, text in lines_at(name, open_file, set(numbers)).items():
            raw[(name, number)] = text[:RAW_PREVIEW]
    texts = [raw.get(pos, "") for pos in conflicts.select("_file", "_line").iter_rows()]
    return conflicts.select(
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line_number"),
        pl.Series("raw_line", texts, dtype=pl.String),
        pl.lit(c.ID_CONFLICT).alias("reason"),
        pl.col("detail"),
    )


# --------------------------------------------------------------------------- ids
IdLookup = Callable[[pl.Series], pl.DataFrame]
"""Given candidate ids, returns the rows (id, folder) of other folders holding them."""


def resolve_ids(
    stream: Stream, folder: date, valid: pl.DataFrame, others: IdLookup | None
) -> tuple[pl.DataFrame, int, pl.DataFrame, list[date]]:
    """Split valid rows into accepted, duplicate count and id conflicts.

    Returns (accepted, duplicates, conflicts as (_file, _line, detail), and the later
    folders that hold some of this folder's ids: they must be classified again).
    """
    idc = stream.id_field
    key = stream.key
    # Contract order: `_seq` when the rows carry it (one integer, cheap to sort). Rows come
    # back from the classifier in order unless some lines of their chunk took the careful
    # path: then they are sorted, else not copied again.
    if "_seq" not in valid.columns:
        valid = valid.sort("_file", "_line")
    elif not valid["_seq"].is_sorted():
        valid = valid.sort("_seq")
    holder = (pl.col(key[0]) if len(key) == 1 else pl.struct(key)).is_first_distinct()
    valid = valid.with_columns(holder.alias("_first"))
    first = valid.filter("_first").drop("_first")
    rest = valid.filter(~pl.col("_first")).drop("_first")
    duplicates = 0
    conflicts = [pl.DataFrame(schema=CONFLICT_SCHEMA)]
    if rest.height:
        paired = rest.join(first, on=key, suffix="__first")
        paired = paired.with_columns(_same_content(stream, "__first").alias("same"))
        duplicates = int(paired["same"].sum())
        conflicts.append(
            paired.filter(~pl.col("same")).select(
                "_file",
                "_line",
                pl.format(
                    "{} {} was already accepted from {} line {} with different content",
                    pl.lit("+".join(key)),
                    pl.concat_str([pl.col(k) for k in key], separator="+"),
                    pl.col("_file__first"),
                    pl.col("_line__first"),
                ).alias("detail"),
            )
        )
    later: list[date] = []
    if others is not None and first.height:
        held = others(first[idc])
        if held.height:
            earlier = held.filter(pl.col("folder") < folder).unique("id").sort("id")
            later = sorted(held.filter(pl.col("folder") > folder)["folder"].unique().to_list())
            lost = first.join(earlier, left_on=idc, right_on="id")
            conflicts.append(
                lost.select(
                    "_file",
                    "_line",
                    pl.format(
                        "{} {} was already accepted in folder date={} with different content",
                        pl.lit(idc),
                        pl.col(idc),
                        pl.col("folder"),
                    ).alias("detail"),
                )
            )
            first = first.join(earlier.select(pl.col("id").alias(idc)), on=idc, how="anti")
    return first, duplicates, pl.concat(conflicts), later


def _same_content(stream: Stream, suffix: str) -> pl.Expr:
    """Two records are the same when their contract fields are equal (nulls included)."""
    return pl.all_horizontal(
        [
            pl.col(col).eq_missing(pl.col(f"{col}{suffix}"))
            for col in stream.columns
            if col not in stream.key
        ]
    )
