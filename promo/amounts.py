"""Amounts from the text of JSON numbers, exactly: never through a double.

A JSON number such as `1.999999999999999999` or `9999999999999999.99` has no exact double
(they read as 2.0 and 1e16), so the contract's rule (at most 2 decimals, at most 16
integer digits) is checked on the number's own text, and the value converted from that
text. The classifier gets the text two ways:

- the fast path takes DuckDB's rendering of the parsed number, which has the exact value
  whenever the written number has at most 15 significant digits (a double holds any
  15-digit decimal, and DuckDB prints the shortest text that reads back as the same
  double); `long_number` sends every line with a longer amount to the careful path;
- the careful path reads the line again with Python's `json`, keeping each number's text
  (`number_texts`), and `canonical_amount` turns it into the text polars casts to a
  decimal.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation

from promo.contract import AMOUNT_DECIMALS, AMOUNT_INTEGER_DIGITS

# The text of a valid amount (what is cast to Decimal(18, 2)).
AMOUNT_TEXT = rf"^-?\d{{1,{AMOUNT_INTEGER_DIGITS}}}(\.\d{{1,{AMOUNT_DECIMALS}}})?$"
CENT = Decimal(1).scaleb(-AMOUNT_DECIMALS)
LIMIT = Decimal(10) ** AMOUNT_INTEGER_DIGITS


def long_number(field: str) -> str:
    """A regex for a line where `field` is a number written with 16 or more digit or dot
    characters: its double may not hold the written value. One regex per field: polars
    finds a line's single literal key fast (~10x faster than an alternation of keys)."""
    return rf'"{re.escape(field)}"\s*:\s*-?[0-9.]{{16,}}'


class _Number(str):
    """The text of a JSON number, kept as written."""


def _first_wins(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # DuckDB (yyjson) reads the first of duplicated keys: so does this.
    out: dict[str, object] = {}
    for key, value in pairs:
        out.setdefault(key, value)
    return out


def number_texts(line: str, fields: list[str]) -> dict[str, str | None]:
    """The written text of each top-level number field of a JSON object line (None where
    the field is absent or not a number, or the line does not parse here)."""
    try:
        record = json.loads(
            line,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_Number,
            object_pairs_hook=_first_wins,
        )
    except (ValueError, RecursionError):
        return dict.fromkeys(fields)
    if not isinstance(record, dict):
        return dict.fromkeys(fields)
    values = {f: record.get(f) for f in fields}
    return {f: str(v) if isinstance(v, _Number) else None for f, v in values.items()}


def canonical_amount(text: str) -> str:
    """`text` as a plain decimal with 2 decimals when its value has at most 2 decimals and
    at most 16 integer digits (`1E+3` -> `1000.00`, `10.500` -> `10.50`); otherwise the
    text unchanged, which fails `AMOUNT_TEXT` and is reported as written."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite() or abs(value) >= LIMIT:
        return text
    cents = value.quantize(CENT)
    return format(cents, "f") if cents == value else text
