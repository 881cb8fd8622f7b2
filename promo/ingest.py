"""Classify the raw lines of one UTC date folder of one stream.

Every line ends in exactly one bucket: accepted, duplicate (an exact redelivery of an
accepted record) or quarantined with a reason. The steps, cheapest first:

1. read lines (gzip or plain; BOM and CRLF tolerated; a truncated file quarantines its
   unreadable rest as one line);
2. DuckDB pulls every contract field out of the JSON with its JSON type (one parse per
   line, vectorised), polars checks types, amounts, timestamps and the folder date;
3. the Pandera schema of `promo.contract` checks required fields, enums, signs and
   cross-field rules on the typed frame; its failure cases name the rows to quarantine;
4. ids: the first holder of an id wins (earlier folder, then file name, then line);
   the same content again is a duplicate, other content is an `id_conflict`.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import IO

import duckdb
import pandera.errors
import polars as pl

from promo import contract as c
from promo.contract import Stream

CHUNK_LINES = 200_000
RAW_PREVIEW = 10_000  # characters of a raw line kept in quarantine (a 10 MB line is cut)
BOM = b"\xef\xbb\xbf"
RFC3339 = r"(?i)^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
AMOUNT_TEXT = r"^-?\d{1,16}(\.\d{1,2})?$"
NUMBER_TYPES = ("UBIGINT", "BIGINT", "DOUBLE")
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%#z"

QUARANTINE_SCHEMA = {
    "file": pl.String,
    "line_number": pl.Int64,
    "raw_line": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}


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

    @property
    def quarantined_by_reason(self) -> dict[str, int]:
        counts = self.quarantine.group_by("reason").len().sort("reason")
        return dict(zip(counts["reason"], counts["len"], strict=True))


# --------------------------------------------------------------------------- reading
Line = tuple[str, int, str | None, str | None]  # file, line number, text, pre-reason


def iter_lines(name: str, stream: IO[bytes]) -> Iterator[Line]:
    """Lines of one landing file. Yields (file, number, text, reason-if-unreadable)."""
    source: IO[bytes] = gzip.GzipFile(fileobj=stream) if name.endswith(".gz") else stream
    number = 0
    try:
        for raw in source:
            number += 1
            if number == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            raw = raw.rstrip(b"\n").rstrip(b"\r")
            try:
                yield name, number, raw.decode("utf-8"), None
            except UnicodeDecodeError as exc:
                yield (
                    name,
                    number,
                    raw.decode("utf-8", "replace"),
                    f"not valid UTF-8 ({exc.reason})",
                )
    except (EOFError, OSError, zlib.error) as exc:
        # A truncated or corrupt gzip: its unreadable rest is one quarantined line.
        yield name, number + 1, None, f"file unreadable after line {number}: {exc}"


def chunked(lines: Iterable[Line], size: int = CHUNK_LINES) -> Iterator[list[Line]]:
    batch: list[Line] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# --------------------------------------------------------------------------- parsing
def _extract_sql(stream: Stream) -> str:
    paths = ", ".join(f"'$.\"{f.name}\"'" for f in stream.fields)
    cols = []
    for i, f in enumerate(stream.fields, start=1):
        cols.append(f'json_type(v[{i}]) AS "t:{f.name}"')
        if f.kind == "amount":
            cols.append(f'CAST(v[{i}] AS VARCHAR) AS "x:{f.name}"')
            cols.append(f"TRY_CAST(v[{i}]->>'$' AS DECIMAL(18,2)) AS \"{f.name}\"")
        else:
            cols.append(f"v[{i}]->>'$' AS \"{f.name}\"")
    return f"""
        WITH parsed AS (
            SELECT file, line, raw, pre_reason,
                   CASE WHEN raw IS NOT NULL AND json_valid(raw) THEN raw::JSON END AS j
            FROM lines
        ), typed AS (
            SELECT *, json_type(j) AS jtype,
                   CASE WHEN json_type(j) = 'OBJECT' THEN json_extract(j, [{paths}]) END AS v
            FROM parsed
        )
        SELECT file, line, raw, pre_reason, jtype, {", ".join(cols)} FROM typed
    """


def _first_reason(stream: Stream, folder: date) -> tuple[pl.Expr, pl.Expr]:
    """Reason code and detail of the first structural problem of a row (or null)."""
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col("raw").is_null(), c.UNREADABLE_FILE, pl.col("pre_reason")),
        (pl.col("pre_reason").is_not_null(), c.INVALID_JSON, pl.col("pre_reason")),
        (
            pl.col("jtype").is_null(),
            c.INVALID_JSON,
            pl.lit("not valid JSON"),
        ),
        (
            pl.col("jtype") != "OBJECT",
            c.INVALID_JSON,
            pl.format("a JSON {} where an object is required", pl.col("jtype")),
        ),
    ]
    for f in stream.fields:
        jt = pl.col(f"t:{f.name}")
        present = jt.is_not_null() & (jt != "NULL")
        want = NUMBER_TYPES if f.kind == "amount" else ("VARCHAR",)
        label = "a number" if f.kind == "amount" else "a string"
        checks.append(
            (
                present & ~jt.is_in(want),
                c.WRONG_TYPE,
                pl.format(f"{f.name}: expected {label}, got JSON {{}}", jt),
            )
        )
        if f.kind == "amount":
            text = pl.col(f"x:{f.name}")
            checks.append(
                (
                    present & ~text.str.contains(AMOUNT_TEXT),
                    c.BAD_AMOUNT,
                    pl.format(f"{f.name}: {{}} is not an amount with at most 2 decimals", text),
                )
            )
        if f.kind == "timestamp":
            value = pl.col(f.name)
            checks.append(
                (
                    present & (~value.str.contains(RFC3339) | pl.col(f"ts:{f.name}").is_null()),
                    c.BAD_TIMESTAMP,
                    pl.format(f"{f.name}: {{}} is not an RFC 3339 timestamp with an offset", value),
                )
            )
    if stream.time_field:
        ts = pl.col(f"ts:{stream.time_field}")
        checks.append(
            (
                ts.is_not_null() & (ts.dt.date() != pl.lit(folder)),
                c.WRONG_DATE_FOLDER,
                pl.format(
                    f"{stream.time_field}: {{}} is on UTC date {{}}, not on its folder's {folder}",
                    pl.col(stream.time_field),
                    ts.dt.date(),
                ),
            )
        )
    reason = pl.lit(None, pl.String)
    detail = pl.lit(None, pl.String)
    for cond, code, text in reversed(checks):
        reason = pl.when(cond.fill_null(False)).then(pl.lit(code)).otherwise(reason)
        detail = pl.when(cond.fill_null(False)).then(text).otherwise(detail)
    return reason, detail


def classify_chunk(
    stream: Stream, folder: date, lines: list[Line]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed valid rows (contract columns + _file, _line) and quarantined rows of a chunk."""
    frame = pl.DataFrame(
        lines,
        schema={"file": pl.String, "line": pl.Int64, "raw": pl.String, "pre_reason": pl.String},
        orient="row",
    )
    con = duckdb.connect()
    try:
        con.register("lines", frame.to_arrow())
        parsed = con.sql(_extract_sql(stream)).pl()
    finally:
        con.close()
    timestamp_cols = [
        pl.col(f.name)
        .str.to_uppercase()
        .str.to_datetime(TIMESTAMP_FORMAT, time_zone="UTC", strict=False, time_unit="us")
        .alias(f"ts:{f.name}")
        for f in stream.fields
        if f.kind == "timestamp"
    ]
    parsed = parsed.with_columns(timestamp_cols)
    reason, detail = _first_reason(stream, folder)
    parsed = parsed.with_columns(reason.alias("reason"), detail.alias("detail"))

    bad = _quarantine_rows(parsed.filter(pl.col("reason").is_not_null()))
    good = parsed.filter(pl.col("reason").is_null())
    typed = good.select(
        [
            (pl.col(f"ts:{f.name}") if f.kind == "timestamp" else pl.col(f.name))
            .cast(f.dtype)
            .alias(f.name)
            for f in stream.fields
        ]
        + [pl.col("file").alias("_file"), pl.col("line").alias("_line"), pl.col("raw")]
    )
    typed, rule_bad = apply_schema(stream, typed)
    return typed.drop("raw"), pl.concat([bad, rule_bad])


def apply_schema(stream: Stream, typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the Pandera contract schema; rows it rejects move to quarantine."""
    try:
        c.pandera_schema(stream).validate(typed, lazy=True)
        return typed, _empty_quarantine()
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = (
        cases.filter(pl.col("index").is_not_null())
        .with_columns(
            pl.col("check").map_elements(c.reason_of_check, return_dtype=pl.String).alias("reason"),
            pl.format(
                "{}: failed check {} (value: {})",
                pl.col("column").fill_null("record"),
                pl.col("check"),
                pl.col("failure_case").fill_null("null").str.slice(0, 200),
            ).alias("detail"),
            pl.col("index").cast(pl.Int64),
        )
        .sort("index", "reason")
        .unique("index", keep="first", maintain_order=True)
    )
    indexed = typed.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    rejected = indexed.join(cases.select("index", "reason", "detail"), on="index", how="inner")
    kept = indexed.join(cases.select("index"), on="index", how="anti").drop("index")
    bad = rejected.select(
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line_number"),
        pl.col("raw").str.slice(0, RAW_PREVIEW).alias("raw_line"),
        "reason",
        "detail",
    )
    return kept, bad


def _quarantine_rows(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        pl.col("file"),
        pl.col("line").alias("line_number"),
        pl.col("raw").fill_null("").str.slice(0, RAW_PREVIEW).alias("raw_line"),
        pl.col("reason"),
        pl.col("detail").str.slice(0, 1000),
    )


def _empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def empty_accepted(stream: Stream) -> pl.DataFrame:
    return pl.DataFrame(schema={**stream.polars_schema, "_file": pl.String, "_line": pl.Int64})


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
    valid = valid.sort("_file", "_line")
    first = valid.unique(key, keep="first", maintain_order=True)
    rest = valid.join(first.select("_file", "_line"), on=["_file", "_line"], how="anti")
    duplicates = 0
    conflicts = []
    if rest.height:
        paired = rest.join(first, on=key, suffix="__first")
        same = pl.all_horizontal(
            [
                pl.col(col).eq_missing(pl.col(f"{col}__first"))
                for col in stream.columns
                if col not in key
            ]
        )
        paired = paired.with_columns(same.alias("same"))
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
    conflict_frame = (
        pl.concat(conflicts)
        if conflicts
        else pl.DataFrame(schema={"_file": pl.String, "_line": pl.Int64, "detail": pl.String})
    )
    return first, duplicates, conflict_frame, later


# --------------------------------------------------------------------------- folder
Opener = Callable[[str], IO[bytes]]


def classify_folder(
    stream: Stream,
    folder: date,
    files: list[str],
    open_file: Callable[[str], object],
    others: IdLookup | None = None,
) -> FolderResult:
    """Classify every line of `files` (names in this folder, any order) in contract order.

    `open_file(name)` returns a context manager yielding a binary stream.
    """
    files = sorted(files)
    valid_parts = [empty_accepted(stream)]
    bad_parts = [_empty_quarantine()]
    lines = 0

    def all_lines() -> Iterator[Line]:
        for name in files:
            with open_file(name) as fh:  # type: ignore[attr-defined]
                yield from iter_lines(name, fh)

    for batch in chunked(all_lines()):
        lines += len(batch)
        valid, bad = classify_chunk(stream, folder, batch)
        valid_parts.append(valid)
        bad_parts.append(bad)
    valid = pl.concat(valid_parts)
    accepted, duplicates, conflicts, later = resolve_ids(stream, folder, valid, others)
    if conflicts.height:
        bad_parts.append(_conflict_rows(conflicts, files, open_file))
    quarantine = pl.concat(bad_parts).sort("file", "line_number")
    return FolderResult(
        stream=stream.name,
        folder=folder,
        files=files,
        lines=lines,
        accepted=accepted,
        duplicates=duplicates,
        quarantine=quarantine,
        later_folders=later,
    )


def _conflict_rows(conflicts: pl.DataFrame, files: list[str], open_file) -> pl.DataFrame:
    """Quarantine rows for id conflicts; their raw lines are read again (conflicts are rare,
    so raw text is not kept in memory for every valid row)."""
    wanted = {(f, n) for f, n in conflicts.select("_file", "_line").iter_rows()}
    raw: dict[tuple[str, int], str] = {}
    for name in sorted({f for f, _ in wanted}):
        with open_file(name) as fh:
            for file, number, text, _ in iter_lines(name, fh):
                if (file, number) in wanted:
                    raw[(file, number)] = (text or "")[:RAW_PREVIEW]
    return conflicts.select(
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line_number"),
        pl.struct("_file", "_line")
        .map_elements(lambda s: raw.get((s["_file"], s["_line"]), ""), return_dtype=pl.String)
        .alias("raw_line"),
        pl.lit(c.ID_CONFLICT).alias("reason"),
        pl.col("detail"),
    )
