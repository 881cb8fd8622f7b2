"""Pandera schemas of the report files, built from the report definitions.

Every chunk is validated with data checks (not only the schema) before a byte of it is
written: column names and order, types, enums, non-null keys, the timestamp format, and
that rows are in time order — within the chunk, and against the chunk before it. Id
uniqueness over the whole file is checked with 64-bit hashes kept on disk
(promo.reports.unique_ids; Pandera's `unique` check would cost ~90 % of the validation
time at 10 M rows, and holding the hashes in memory 240 MB at 30 M rows).
"""

from __future__ import annotations

import pandera.errors
import pandera.polars as pa
import polars as pl

from promo.reports.definitions import TIMESTAMP_PATTERN, ReportDefinition
from promo.reports.unique_ids import UniqueIds

MAX_CASES = 10


class ReportValidationError(ValueError):
    """The report's data broke its file contract; nothing was delivered."""


def polars_dtype(kind: str) -> pl.DataType:
    """The type of a report column of this kind in the frames the engine validates."""
    return {
        "string": pl.String,
        "timestamp": pl.String,
        "date": pl.String,
        "amount": pl.Decimal(18, 2),
        "count": pl.Int64,
    }[kind]


def report_schema(definition: ReportDefinition) -> pa.DataFrameSchema:
    columns = {}
    for col in definition.columns:
        checks = []
        if col.allowed:
            checks.append(pa.Check.isin(list(col.allowed)))
        if col.kind == "timestamp":
            checks.append(pa.Check.str_matches(TIMESTAMP_PATTERN))
        if col.kind == "date":
            checks.append(pa.Check.str_matches(r"^\d{4}-\d{2}-\d{2}$"))
        if col.kind == "count":
            checks.append(pa.Check.ge(0))
        columns[col.name] = pa.Column(
            polars_dtype(col.kind), checks=checks, nullable=not col.required
        )
    columns["_order"] = pa.Column(
        pl.Int64,
        checks=[
            pa.Check(
                lambda data: data.lazyframe.select(pl.col(data.key).diff().fill_null(0) >= 0),
                name="rows in time order",
            )
        ],
        nullable=False,
    )
    return pa.DataFrameSchema(columns, strict=True, ordered=True)


def summarize(cases: pl.DataFrame) -> str:
    """Counts per column and check, then the first failure cases: short enough to read."""
    counts = cases.group_by("column", "check").len().sort("len", descending=True)
    lines = [
        f"{row['len']} × {row['column']}: {row['check']}" for row in counts.iter_rows(named=True)
    ]
    first = cases.head(MAX_CASES).select("column", "check", "failure_case", "index")
    lines.append(
        "first failures: "
        + "; ".join(
            f"row {r['index']} {r['column']}={r['failure_case']!r} ({r['check']})"
            for r in first.iter_rows(named=True)
        )
    )
    return "\n".join(lines)


class ChunkValidator:
    """Validates successive chunks of one report; keeps what spans chunks."""

    def __init__(self, definition: ReportDefinition):
        self.definition = definition
        self.schema = report_schema(definition)
        self.last_order: int | None = None
        self.rows_before = 0
        self.ids = UniqueIds()

    def check(self, chunk: pl.DataFrame) -> None:
        try:
            self.schema.validate(chunk, lazy=True)
        except pandera.errors.SchemaErrors as exc:
            cases = exc.failure_cases.with_columns(pl.col("index") + self.rows_before)
            raise ReportValidationError(
                f"{self.definition.report_type}: the file failed its schema\n{summarize(cases)}"
            ) from None
        if chunk.height and self.last_order is not None and chunk["_order"][0] < self.last_order:
            raise ReportValidationError(
                f"{self.definition.report_type}: rows out of time order at row {self.rows_before}"
            )
        if chunk.height:
            self.last_order = chunk["_order"][-1]
            self.ids.add(chunk[self.definition.id_column].hash())
        self.rows_before += chunk.height

    def finish(self) -> None:
        """Ids unique over the whole file (a repeated id means a broken mart or query)."""
        try:
            if not self.definition.ids_unique:
                return
            repeats = self.ids.repeats()
        finally:
            self.ids.close()
        if repeats:
            raise ReportValidationError(
                f"{self.definition.report_type}: {repeats} repeated "
                f"{self.definition.id_column} values"
            )
