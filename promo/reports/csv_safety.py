"""Formula injection: text cells that a spreadsheet would run as a formula.

Marketers open report CSVs in spreadsheets, which treat a cell starting with `=`, `+`,
`-` or `@` (and, in some, a leading tab or carriage return) as a formula: a raw field such
as `=cmd|' /C calc'!A0` in an error message or a campaign name would run on their
machine. Following OWASP's advice, such a text cell is written with a leading apostrophe
(`'=cmd|' /C calc'!A0`), which spreadsheets show as text and never evaluate.

Only columns of kind `string` (ids, codes, names, messages) are neutralised: amounts,
counts, timestamps and dates are rendered by the report itself, and a negative amount such
as `-5.00` must stay a number. The report's manifest counts the cells changed
(`formula_cells_neutralised`).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "^[" + "".join("\\" + c if c in "-\\]^" else c for c in FORMULA_START) + "]"
PREFIX = "'"
_BELOW = "A"
assert all(c < _BELOW for c in FORMULA_START)


def text_columns(columns: Iterable) -> list[str]:
    """The names of a report definition's text columns (kind `string`)."""
    return [c.name for c in columns if c.kind == "string"]


def neutralise(frame: pl.DataFrame, columns: Iterable[str]) -> tuple[pl.DataFrame, int]:
    """`frame` with every cell of `columns` that starts like a formula prefixed by `'`,
    and how many cells that was. A frame with none comes back as it is (no copy)."""
    # An all-null chunk of a column may come typed Null: nothing in it to neutralise.
    columns = [c for c in columns if c in frame.columns and frame.schema[c] != pl.Null]
    if not columns or frame.height == 0:
        return frame, 0
    # Every formula start sorts before "A" (tab, CR, +, -, = and @ are bytes below 0x41),
    # and a byte comparison is ~10x cheaper than the pattern: the pattern only runs on the
    # columns that have a value before "A" at all (digits do too: numeric user ids).
    below = frame.select((pl.col(c) < _BELOW).any().alias(c) for c in columns).row(0)
    columns = [c for c, flagged in zip(columns, below, strict=True) if flagged]
    if not columns:
        return frame, 0
    risky = {c: pl.col(c).str.contains(_PATTERN) for c in columns}
    counts = frame.select(risky[c].sum().alias(c) for c in columns).row(0, named=True)
    hit = [c for c in columns if counts[c]]
    if not hit:
        return frame, 0
    frame = frame.with_columns(
        pl.when(risky[c])
        .then(pl.concat_str(pl.lit(PREFIX), pl.col(c)))
        .otherwise(pl.col(c))
        .alias(c)
        for c in hit
    )
    return frame, sum(counts[c] for c in hit)
