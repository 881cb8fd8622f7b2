"""The six report types, one table: everything that differs per type lives in its
`ReportDefinition` — the promotion type it belongs to, the filters it takes and how they
bind, whether it has a date range and the 3-month cap, the published mart it reads, its
contract columns (docs/contracts/report_files.md), its time column and id, and what it
does on a day without rows. The spec rules, the export engine and the file validation
read this table; none of them tests for a report type by name.

Every query reads a list of local Parquet files (one published day at a time, already in
time order) and takes filter values only as bound parameters. Timestamps leave the query
as instants; the export engine renders them in the account timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from promo import marts
from promo.marts import Mart
from promo.vocabulary import (
    PromotionType,
    ReportType,
    RewardType,
    TransactionSource,
    TransactionType,
)

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$"
SCHEMA_VERSION = 1
TEXT, AMOUNT, COUNT, TIMESTAMP, DATE = "string", "amount", "count", "timestamp", "date"


# ISO 8601 local time with milliseconds and a ±HH:MM offset, in polars' (chrono's) terms:
# the engine renders timestamps with it (promo.reports.engine.render_timestamps).
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S%.3f%:z"


def display(column: str, labels: dict[str, str]) -> str:
    """The product's label of a code; an unknown code stays as it is, so the report's enum
    check names it instead of seeing a null."""
    cases = " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in labels.items())
    return f"CASE {column} {cases} ELSE {column} END"


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    kind: str = TEXT  # string | amount | count | timestamp | date
    required: bool = False
    allowed: tuple[str, ...] | None = None


def _c(name, sql=None, kind=TEXT, required=False, allowed=None) -> Column:
    sql = sql or name
    # One exact type per kind at the SQL edge (sums arrive as DECIMAL(38,x) or HUGEINT).
    if kind == AMOUNT:
        sql = f"CAST({sql} AS DECIMAL(18, 2))"
    elif kind == COUNT:
        sql = f"CAST({sql} AS BIGINT)"
    elif kind == TIMESTAMP:
        sql = f"CAST({sql} AS TIMESTAMPTZ)"  # an instant, rendered by the engine
    return Column(name, sql, kind, required, allowed)


def _labelled(name: str, vocabulary) -> Column:
    labels = vocabulary.labels()
    return _c(name, display(name, labels), required=True, allowed=tuple(labels.values()))


@dataclass(frozen=True)
class Filter:
    """A filter a report type takes: its spec key, the query parameter it binds, and
    whether the spec must give it (ids) or may leave it out to mean "all" (lists)."""

    key: str
    param: str
    required: bool = True


WALLET = Filter("wallet_id", "wallet_id")
SOURCES = Filter("transaction_sources", "sources", required=False)
TYPES = Filter("transaction_types", "types", required=False)
PARTNER = Filter("partner_id", "partner_id")
LIST_TAG = Filter("list_tag", "list_tag")
CAMPAIGN = Filter("campaign_id", "campaign_id")


@dataclass(frozen=True)
class ReportDefinition:
    report_type: ReportType
    promotion_type: PromotionType
    filters: tuple[Filter, ...]
    mart: Mart
    columns: tuple[Column, ...]
    where: str  # SQL predicate with $named parameters
    order_key: str  # the timestamp (UTC instant) rows are sorted by
    id_column: str  # the stable tie-break
    date_range: bool = True  # False: a snapshot as of generation time
    three_month_cap: bool = True
    windowed: bool = True  # filters rows on [window start, window end)
    ids_unique: bool = True  # the id column is unique over the file
    # A published day with no row for the filters still gives one row (all zeros).
    fills_quiet_days: bool = False

    @property
    def label(self) -> str:
        return self.report_type.label

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def timestamp_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind == TIMESTAMP]

    @property
    def filter_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.filters)

    def select_sql(self, ordered: bool = True) -> str:
        """The report's rows of the given files. `ordered=False` leaves out the ORDER BY:
        the export reads each published day in file order (already the report's, as
        published) and checks it (promo.reports.engine `in_report_order`)."""
        cols = ",\n  ".join(f"{c.sql} AS {c.name}" for c in self.columns)
        window = (
            f"AND {self.order_key} >= $start AND {self.order_key} < $end" if self.windowed else ""
        )
        order = f"\nORDER BY {self.order_key}, {self.id_column}" if ordered else ""
        return (
            f"SELECT\n  {cols},\n  epoch_us({self.order_key}) AS _order\n"
            f"FROM read_parquet($files, union_by_name = true)\n"
            f"WHERE {self.where} {window}{order}"
        )

    def quiet_day_row(self, day: date, params: dict[str, Any]) -> dict[str, Any]:
        """The row of a day without activity: zeros for amounts and counts, the day, and
        the filter values (and their names) the report was asked for."""
        row: dict[str, Any] = {c.name: None for c in self.columns}
        for col in self.columns:
            if col.kind in (AMOUNT, COUNT):
                row[col.name] = 0
            elif col.kind == DATE:
                row[col.name] = day.isoformat()
            elif col.name in params:
                row[col.name] = params[col.name]
        return row


_TOTALS = ("credited", "debited", "expired", "promised", "reversed", "refunded")
_LOYALTY, _VOUCHERS, _CAMPAIGNS = list(PromotionType)

WALLET_TRANSACTIONS = ReportDefinition(
    report_type=ReportType.WALLET_TRANSACTIONS,
    promotion_type=_LOYALTY,
    filters=(WALLET, SOURCES, TYPES),
    mart=marts.WALLET_TRANSACTIONS,
    columns=(
        _c("transaction_id", required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        _c("user_id", required=True),
        _labelled("transaction_type", TransactionType),
        _labelled("transaction_source", TransactionSource),
        _c("points", kind=AMOUNT, required=True),
        _c("balance_effect", kind=AMOUNT, required=True),
        _c("campaign_id"),
        _c("coupon_code"),
        _c("reference_transaction_id"),
        _c("expires_at", kind=TIMESTAMP),
        _c("transaction_time", "occurred_at", kind=TIMESTAMP, required=True),
    ),
    # list_position, not list_contains: DuckDB turns list_contains on a parameter into a
    # join, which costs ~25 % more and does not keep the file's row order (see _batches).
    where="wallet_id = $wallet_id AND list_position($sources, transaction_source) IS NOT NULL "
    "AND list_position($types, transaction_type) IS NOT NULL",
    order_key="occurred_at",
    id_column="transaction_id",
)

WALLET_SUMMARY = ReportDefinition(
    report_type=ReportType.WALLET_SUMMARY,
    promotion_type=_LOYALTY,
    filters=(WALLET,),
    mart=marts.WALLET_DAILY_SUMMARY,
    columns=(
        _c("date", "strftime(local_date, '%Y-%m-%d')", kind=DATE, required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        *(_c(f"points_{t}", kind=AMOUNT, required=True) for t in _TOTALS),
        _c("net_change", kind=AMOUNT, required=True),
        _c("closing_balance", kind=AMOUNT, required=True),
        _c("transacting_users", kind=COUNT, required=True),
    ),
    where="wallet_id = $wallet_id",
    order_key="local_date",
    id_column="wallet_id",
    three_month_cap=False,
    windowed=False,  # whole local days: the day partitions are the window
    ids_unique=False,  # one row per day of one wallet
    # A day before the wallet's first transaction has no mart row (the mart fills the
    # quiet days after it), yet the report has one row per day of its window.
    fills_quiet_days=True,
)

USER_LEDGER_SUMMARY = ReportDefinition(
    report_type=ReportType.USER_LEDGER_SUMMARY,
    promotion_type=_LOYALTY,
    filters=(WALLET,),
    mart=marts.USER_LEDGER,
    columns=(
        _c("user_id", required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        *(_c(f"points_{t}", kind=AMOUNT, required=True) for t in _TOTALS),
        _c("available_balance", kind=AMOUNT, required=True),
        _c("promised_balance", kind=AMOUNT, required=True),
        _c("first_transaction_time", "first_transaction_at", TIMESTAMP, True),
        _c("last_transaction_time", "last_transaction_at", TIMESTAMP, True),
    ),
    where="wallet_id = $wallet_id",
    order_key="last_transaction_at",
    id_column="user_id",
    date_range=False,
    three_month_cap=False,
    windowed=False,
)

VOUCHER_ASSIGNMENT_LOGS = ReportDefinition(
    report_type=ReportType.VOUCHER_ASSIGNMENT_LOGS,
    promotion_type=_VOUCHERS,
    filters=(PARTNER, LIST_TAG),
    mart=marts.VOUCHER_ASSIGNMENTS,
    columns=(
        _c("assignment_id", required=True),
        _c("partner_id", required=True),
        _c("partner_name"),
        _c("list_tag", required=True),
        _c("voucher_code", required=True),
        _c("user_id", required=True),
        _c("campaign_id"),
        _c("assigned_time", "assigned_at", kind=TIMESTAMP, required=True),
    ),
    where="partner_id = $partner_id AND list_tag = $list_tag",
    order_key="assigned_at",
    id_column="assignment_id",
)

# The first columns of both campaign event reports, and how their rows are found.
_CAMPAIGN_EVENT = (
    _c("event_id", required=True),
    _c("campaign_id", required=True),
    _c("campaign_name"),
    _c("user_id", required=True),
    _labelled("reward_type", RewardType),
)
_BY_CAMPAIGN = {
    "promotion_type": _CAMPAIGNS,
    "filters": (CAMPAIGN,),
    "where": "campaign_id = $campaign_id",
    "id_column": "event_id",
}

REWARD_ASSIGNMENT = ReportDefinition(
    report_type=ReportType.REWARD_ASSIGNMENT,
    mart=marts.REWARD_ASSIGNMENTS,
    columns=(
        *_CAMPAIGN_EVENT,
        _c("reward_value"),
        _c("points", kind=AMOUNT),
        _c("coupon_code"),
        _c("partner_id"),
        _c("voucher_code"),
        _c("credits", kind=AMOUNT),
        _c("distributed_time", "distributed_at", kind=TIMESTAMP, required=True),
    ),
    order_key="distributed_at",
    **_BY_CAMPAIGN,
)

USER_ERRORS = ReportDefinition(
    report_type=ReportType.USER_ERRORS,
    mart=marts.CAMPAIGN_USER_ERRORS,
    columns=(
        *_CAMPAIGN_EVENT,
        _c("error_code", required=True),
        _c("error_message"),
        _c("error_time", "error_at", kind=TIMESTAMP, required=True),
    ),
    order_key="error_at",
    **_BY_CAMPAIGN,
)

REPORTS: dict[ReportType, ReportDefinition] = {
    d.report_type: d
    for d in (
        WALLET_SUMMARY,
        WALLET_TRANSACTIONS,
        USER_LEDGER_SUMMARY,
        VOUCHER_ASSIGNMENT_LOGS,
        REWARD_ASSIGNMENT,
        USER_ERRORS,
    )
}
assert list(REPORTS) == list(ReportType), "one definition per report type, in vocabulary order"
