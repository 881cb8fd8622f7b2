"""Classify a chunk of raw lines of one stream: typed valid rows, and quarantined rows
with their reason. Every line of the chunk ends in exactly one of the two.

Two parsers give the same columns, and one set of checks runs on both:

- the **fast path** takes the lines that look plain (`{"` ... `}` with no backslash
  anywhere and no amount of 16 or more digits): DuckDB parses each of them once
  (`json_transform` into the contract's fields as JSON text) and polars reads the JSON
  types off the first character. A line whose fields are all of the expected JSON types
  stays here; any other goes to the careful path;
- the **careful path** takes the rest (invalid JSON, escapes, wrong types, long numbers,
  unreadable lines): DuckDB extracts every field with its JSON type (`json_type`), and
  amounts are read again from the line's text (`promo.amounts`).

Then polars checks the folder date, amounts and timestamps (format and range) in one pass,
and the stream's Pandera schema checks required fields, enums, signs and cross-field rules
on the typed frame. Details are built only for the rows that fail.
"""

from __future__ import annotations

import threading

import duckdb
import pandera.errors
import polars as pl

from promo import amounts
from promo import contract as c
from promo.contract import Stream

RAW_PREVIEW = 10_000  # characters of a raw line kept in quarantine (a 10 MB line is cut)
# RFC 3339 date-time with an offset; hours 00-23, minutes and seconds 00-59 (a leap second
# has no instant in Python, polars or DuckDB: it is refused), offsets up to +-23:59.
RFC3339 = (
    r"(?i)^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
NUMBER_TYPES = ("UBIGINT", "BIGINT", "DOUBLE", "HUGEINT")

REJECTED_SCHEMA = {
    "_file": pl.String,
    "_line": pl.Int64,
    "_folder": pl.Date,
    "reason": pl.String,
    "detail": pl.String,
}
QUARANTINE_SCHEMA = {
    "file": pl.String,
    "line_number": pl.Int64,
    "raw_line": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}


_LOCAL = threading.local()


def _duckdb() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB for parsing, one per thread and kept: opening one costs ~30 ms
    of CPU (more than parsing a small folder), and ingestion parses hundreds of chunks."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = _LOCAL.con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
    return con


def _query(sql: str, lines: pl.DataFrame) -> pl.DataFrame:
    con = _duckdb()
    # Arrow string views: polars' own layout, handed over without a copy (the default
    # converts every string column to large strings first, ~7 ms per 100k lines).
    con.register("lines", lines.to_arrow(compat_level=pl.CompatLevel.newest()))
    try:
        return con.sql(sql).pl()
    finally:
        con.unregister("lines")


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)


def classify_chunk(
    stream: Stream, lines: pl.DataFrame, fast: bool = True
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed valid rows (contract columns + _file, _line, _folder, _seq, _raw) and quarantined
    rows (QUARANTINE_SCHEMA + _folder) of `lines` (`promo.rawlines.LINE_SCHEMA` + `folder`,
    the UTC date of the landing folder each line comes from, and optionally `seq`, the
    lines' order; lines of several folders may be classified together). `fast=False` sends
    every line down the careful path (tests compare the two)."""
    if "seq" not in lines.columns:
        lines = lines.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    parsed = parse(stream, lines, fast)
    checks = _checks(stream)
    failed = pl.any_horizontal(cond.fill_null(False) for cond, _, _ in checks)
    parsed = parsed.with_columns(failed.alias("_failed"))
    # Reasons and details only for the rows that fail (few): the first check that holds.
    reason = detail = pl.lit(None, pl.String)
    for cond, code, text in reversed(checks):
        reason = pl.when(cond.fill_null(False)).then(pl.lit(code)).otherwise(reason)
        detail = pl.when(cond.fill_null(False)).then(text).otherwise(detail)
    bad = parsed.filter("_failed").with_columns(reason.alias("reason"), detail.alias("detail"))
    quarantine = bad.select(
        pl.col("file"),
        pl.col("line").alias("line_number"),
        pl.col("raw").fill_null("").str.slice(0, RAW_PREVIEW).alias("raw_line"),
        pl.col("reason"),
        pl.col("detail").str.slice(0, 1000),
        pl.col("folder").alias("_folder"),
    )
    # Only the typed columns are filtered (the raw text stays behind: it is fetched again
    # for the few rows the Pandera schema rejects).
    typed = (
        parsed.select(
            *[_typed(f).alias(f.name) for f in stream.fields],
            pl.col("file").alias("_file"),
            pl.col("line").alias("_line"),
            pl.col("folder").alias("_folder"),
            pl.col("seq").alias("_seq"),
            # The raw text of a row whose id shows up again in the chunk (a redelivery or
            # an id conflict): conflicts then need no second read of the file. Ids are
            # compared by their 64-bit hash (a few times cheaper than the strings): a rare
            # collision only keeps the raw text of a row that did not need it.
            pl.when(pl.col(stream.id_field).hash().is_duplicated())
            .then(pl.col("raw").str.slice(0, RAW_PREVIEW))
            .alias("_raw"),
            "_failed",
        )
        .filter(~pl.col("_failed"))
        .drop("_failed")
    )
    typed, rejected = apply_schema(stream, typed)
    return typed, pl.concat([quarantine, _with_raw(rejected, parsed)])


def _with_raw(rejected: pl.DataFrame, parsed: pl.DataFrame) -> pl.DataFrame:
    """Quarantine rows for rows the schema rejected: (_file, _line, _folder, reason,
    detail) with their raw line from `parsed`."""
    raw = parsed.select(
        pl.col("file").alias("_file"),
        pl.col("line").alias("_line"),
        pl.col("folder").alias("_folder"),
        "raw",
    ).join(rejected, on=["_file", "_line", "_folder"], how="semi")
    return rejected.join(raw, on=["_file", "_line", "_folder"], how="left").select(
        pl.col("_file").alias("file"),
        pl.col("_line").alias("line_number"),
        pl.col("raw").fill_null("").str.slice(0, RAW_PREVIEW).alias("raw_line"),
        "reason",
        "detail",
        "_folder",
    )


def _typed(f: c.Field) -> pl.Expr:
    if f.kind == "timestamp":
        return pl.col(f"ts:{f.name}")
    if f.kind == "amount":
        # Cast before the failing rows are dropped: those may hold any text (null here);
        # a row that passed the checks holds a valid amount text.
        return pl.col(f"x:{f.name}").cast(c.AMOUNT_DTYPE, strict=False)
    return pl.col(f.name)


def _timestamps(stream: Stream, parsed: pl.DataFrame) -> pl.DataFrame:
    """`ts:f` for every timestamp field f: its text as a UTC instant, null where it does
    not parse. DuckDB parses about five times faster than polars' `%#z` format; it is
    lenient about the layout, which the RFC 3339 check (`RFC3339`) makes strict; RFC 3339
    allows a lowercase t and z, which DuckDB wants uppercase."""
    names = [f.name for f in stream.fields if f.kind == "timestamp"]
    if not names or parsed.is_empty():
        return parsed.with_columns(pl.lit(None, c.TIMESTAMP_DTYPE).alias(f"ts:{n}") for n in names)
    cols = ", ".join(f'TRY_CAST(upper("{n}") AS TIMESTAMPTZ) AS "ts:{n}"' for n in names)
    instants = _query(f"SELECT {cols} FROM lines", parsed.select(names))
    return pl.concat([parsed, instants.select(pl.all().cast(c.TIMESTAMP_DTYPE))], how="horizontal")


# --------------------------------------------------------------------------- parsing
def parse(stream: Stream, lines: pl.DataFrame, fast: bool = True) -> pl.DataFrame:
    """Columns per contract field f: `p:f` (present and not null), `t:f` (its JSON type
    from the careful path; null on the fast path, which has no wrong types), `f` (a
    string's value), for amounts `x:f` (the canonical amount text) and `a:f` (whether it
    is a valid amount), for timestamps `ts:f` (the instant); plus the line's columns and
    `jtype` (the line's JSON type)."""
    if not fast or lines.is_empty():
        return _careful(stream, lines)
    amount_fields = [f.name for f in stream.fields if f.kind == "amount"]
    raw = pl.col("raw")
    plain = (
        pl.col("pre_reason").is_null()
        & raw.str.starts_with('{"')
        & raw.str.ends_with("}")
        & ~raw.str.contains("\\", literal=True)
    )
    for name in amount_fields:
        plain = plain & ~raw.str.contains(amounts.long_number(name))
    lines = lines.with_columns(plain.fill_null(False).alias("_plain"))
    candidates = lines.filter("_plain").drop("_plain")
    rest = [lines.filter(~pl.col("_plain")).drop("_plain")]
    taken = []
    if not candidates.is_empty():
        parsed = _fast(stream, candidates)
        taken.append(parsed.filter("_ok").drop("_ok"))
        rest.append(parsed.filter(~pl.col("_ok")).select(candidates.columns))
    return pl.concat([*taken, _careful(stream, pl.concat(rest))], how="diagonal_relaxed")


def _fast(stream: Stream, candidates: pl.DataFrame) -> pl.DataFrame:
    struct = "{" + ", ".join(f'"{f.name}": "JSON"' for f in stream.fields) + "}"
    # Timestamps are cast in the same query: a plain line's string is its JSON text less
    # the quotes (see `_timestamps` for the cast).
    instants = "".join(
        f', TRY_CAST(upper(v."{f.name}"[2:-2]) AS TIMESTAMPTZ) AS "ts:{f.name}"'
        for f in stream.fields
        if f.kind == "timestamp"
    )
    text = candidates.select("raw")
    try:
        # Plain lines are nearly always valid JSON: parse once, without json_valid first.
        values = _query(
            f"SELECT v{instants} FROM (SELECT json_transform(raw, '{struct}') AS v FROM lines)",
            text,
        )
    # Some line is not JSON after all: check each one. DuckDB's error quotes the line cut
    # at a byte count; cut inside a multi-byte character, the message itself fails to
    # decode, so that UnicodeDecodeError means the same thing.
    except (duckdb.Error, UnicodeDecodeError):
        values = _query(
            f"SELECT v{instants} FROM (SELECT CASE WHEN json_valid(raw) "
            f"THEN json_transform(raw, '{struct}') END AS v FROM lines)",
            text,
        )
    fields = values.select(
        pl.col("v").is_not_null().alias("_valid"),
        pl.col("v").struct.unnest(),
        pl.col("^ts:.*$").cast(c.TIMESTAMP_DTYPE),
    )
    ok = [pl.col("_valid")]
    cols = []
    for f in stream.fields:
        text = pl.col(f.name)  # the value's JSON text, null when the key is absent
        present = text.is_not_null() & (text != "null")
        if f.kind == "amount":
            # DuckDB's rendering is exact here (see promo.amounts) and already canonical
            # enough for the cast when it passes AMOUNT_TEXT; anything else goes careful.
            ok.append(~present | text.str.contains(amounts.AMOUNT_TEXT))
            cols += [pl.when(present).then(text).alias(f"x:{f.name}"), present.alias(f"a:{f.name}")]
        else:
            # Without a backslash in the line, a string's JSON text is its value quoted.
            ok.append(~present | text.str.starts_with('"'))
            cols.append(pl.when(present).then(text.str.head(-1).str.tail(-1)).alias(f.name))
        if f.kind == "timestamp":
            cols.append(pl.col(f"ts:{f.name}"))
        cols += [present.alias(f"p:{f.name}"), pl.lit(None, pl.String).alias(f"t:{f.name}")]
    typed = fields.select(pl.all_horizontal(ok).fill_null(False).alias("_ok"), *cols)
    return pl.concat(
        [candidates.with_columns(pl.lit("OBJECT").alias("jtype")), typed], how="horizontal"
    )


def _careful_sql(stream: Stream) -> str:
    paths = ", ".join(f"'$.\"{f.name}\"'" for f in stream.fields)
    cols = []
    for i, f in enumerate(stream.fields, start=1):
        cols.append(f'json_type(v[{i}]) AS "t:{f.name}"')
        cols.append(f"coalesce(json_type(v[{i}]) NOT IN ('NULL'), false) AS \"p:{f.name}\"")
        if f.kind == "amount":
            # DuckDB's rendering of the parsed double: replaced below by the written text.
            cols.append(f'CAST(v[{i}] AS VARCHAR) AS "{f.name}"')
        else:
            cols.append(f"v[{i}]->>'$' AS \"{f.name}\"")
    return f"""
        WITH parsed AS (
            SELECT *,
                   CASE WHEN raw IS NOT NULL AND pre_reason IS NULL AND json_valid(raw)
                        THEN raw::JSON END AS j
            FROM lines
        ), typed AS (
            SELECT *, json_type(j) AS jtype,
                   CASE WHEN json_type(j) = 'OBJECT' THEN json_extract(j, [{paths}]) END AS v
            FROM parsed
        )
        SELECT * EXCLUDE (j, v), {", ".join(cols)} FROM typed
    """


def _careful(stream: Stream, lines: pl.DataFrame) -> pl.DataFrame:
    parsed = _timestamps(stream, _query(_careful_sql(stream), lines))
    amount_fields = [f.name for f in stream.fields if f.kind == "amount"]
    if not amount_fields or parsed.is_empty():
        return parsed.with_columns(
            *(pl.lit(None, pl.String).alias(f"x:{f}") for f in amount_fields),
            *(pl.lit(None, pl.Boolean).alias(f"a:{f}") for f in amount_fields),
        ).drop(amount_fields)
    types = [pl.col(f"t:{f}").is_in(NUMBER_TYPES).fill_null(False) for f in amount_fields]
    texts: dict[str, list[str | None]] = {f: [] for f in amount_fields}
    rows = parsed.select(pl.concat_list(types).alias("n"), "raw", *amount_fields).iter_rows()
    for numeric, raw, *rendered in rows:
        written = amounts.number_texts(raw, amount_fields) if any(numeric) else {}
        for f, is_number, double in zip(amount_fields, numeric, rendered, strict=True):
            # A line Python's json refuses but DuckDB reads (a trailing comma) keeps
            # DuckDB's rendering of its numbers.
            text = (written.get(f) or double) if is_number else None
            texts[f].append(amounts.canonical_amount(text) if text is not None else None)
    return (
        parsed.with_columns(pl.Series(f"x:{f}", texts[f], dtype=pl.String) for f in amount_fields)
        .with_columns(
            pl.col(f"x:{f}").str.contains(amounts.AMOUNT_TEXT).alias(f"a:{f}")
            for f in amount_fields
        )
        .drop(amount_fields)
    )


# --------------------------------------------------------------------------- checks
def _checks(stream: Stream) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(condition, reason code, detail) of every structural problem, in priority order:
    a row gets the first that holds."""
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col("raw").is_null(), c.UNREADABLE_FILE, pl.col("pre_reason")),
        (pl.col("pre_reason").is_not_null(), c.INVALID_JSON, pl.col("pre_reason")),
        (pl.col("jtype").is_null(), c.INVALID_JSON, pl.lit("not valid JSON")),
        (
            pl.col("jtype") != "OBJECT",
            c.INVALID_JSON,
            pl.format("a JSON {} where an object is required", pl.col("jtype")),
        ),
    ]
    for f in stream.fields:
        checks += _field_checks(f)
    if stream.time_field:
        ts = pl.col(f"ts:{stream.time_field}")
        checks.append(
            (
                ts.is_not_null() & (ts.dt.date() != pl.col("folder")),
                c.WRONG_DATE_FOLDER,
                pl.format(
                    f"{stream.time_field}: {{}} is on UTC date {{}}, not on its folder's {{}}",
                    pl.col(stream.time_field),
                    ts.dt.date(),
                    pl.col("folder"),
                ),
            )
        )
    return checks


def _field_checks(f: c.Field) -> list[tuple[pl.Expr, str, pl.Expr]]:
    jt = pl.col(f"t:{f.name}")  # null on the fast path, which has no wrong types
    present = pl.col(f"p:{f.name}")
    want = NUMBER_TYPES if f.kind == "amount" else ("VARCHAR",)
    label = "a number" if f.kind == "amount" else "a string"
    checks = [
        (
            present & jt.is_not_null() & ~jt.is_in(want),
            c.WRONG_TYPE,
            pl.format(f"{f.name}: expected {label}, got JSON {{}}", jt),
        )
    ]
    if f.kind == "amount":
        text = pl.col(f"x:{f.name}")
        checks.append(
            (
                present & ~pl.col(f"a:{f.name}"),
                c.BAD_AMOUNT,
                pl.format(
                    f"{f.name}: {{}} is not an amount with at most 2 decimals and at most "
                    f"{c.AMOUNT_INTEGER_DIGITS} integer digits",
                    text,
                ),
            )
        )
    if f.kind == "timestamp":
        value, ts = pl.col(f.name), pl.col(f"ts:{f.name}")
        checks.append(
            (
                present & (~value.str.contains(RFC3339) | ts.is_null()),
                c.BAD_TIMESTAMP,
                pl.format(f"{f.name}: {{}} is not an RFC 3339 timestamp with an offset", value),
            )
        )
        checks.append(
            (
                present & ((ts < c.TIMESTAMP_MIN) | (ts >= c.TIMESTAMP_MAX)),
                c.BAD_TIMESTAMP,
                pl.format(
                    f"{f.name}: {{}} is outside the accepted range, {c.TIMESTAMP_RANGE_TEXT} UTC",
                    value,
                ),
            )
        )
    return checks


# --------------------------------------------------------------------------- Pandera
def apply_schema(stream: Stream, typed: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Run the Pandera contract schema. Returns the rows it accepts, and the rows it
    rejects as (_file, _line, _folder, reason, detail)."""
    try:
        c.pandera_schema(stream).validate(typed, lazy=True)
        return typed, pl.DataFrame(schema=REJECTED_SCHEMA)
    except pandera.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    checks = cases["check"].unique().to_list()
    reasons = pl.DataFrame(
        {"check": checks, "reason": [c.reason_of_check(k) for k in checks]},
        schema={"check": cases.schema["check"], "reason": pl.String},
    )
    cases = (
        cases.filter(pl.col("index").is_not_null())
        .join(reasons, on="check", how="left")
        .with_columns(
            pl.format(
                "{}: failed check {} (value: {})",
                pl.col("column").fill_null("record"),
                pl.col("check"),
                pl.col("failure_case").fill_null("null").str.slice(0, 200),
            ).alias("detail"),
            pl.col("index").cast(pl.Int64),
        )
        # One reason per row; among several failed checks, a deterministic pick (a
        # column's own check before a cross-field rule), whatever the chunk looked like.
        .sort("index", "reason", pl.col("column").is_null(), "detail")
        .unique("index", keep="first", maintain_order=True)
        .select("index", "reason", "detail")
    )
    indexed = typed.with_row_index("index").with_columns(pl.col("index").cast(pl.Int64))
    rejected = indexed.join(cases, on="index", how="inner")
    kept = indexed.filter(~pl.col("index").is_in(cases["index"].implode())).drop("index")
    return kept, rejected.select(*REJECTED_SCHEMA)
