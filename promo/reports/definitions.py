"""The six report types: which published mart each reads, its contract columns
(`docs/contracts/report_files.md`), and its filters.

Every query reads a list of local Parquet files (one published day at a time, already in
time order), runs with the DuckDB session time zone set to the account timezone so that
`strftime` renders local time with its offset, and takes filter values only as bound
parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

TRANSACTION_TYPE_NAMES = {
    "CREDIT": "Credit",
    "DEBIT": "Debit",
    "EXPIRED": "Expired",
    "PROMISED": "Promised",
    "REVERSE": "Reverse",
    "REFUND": "Refund",
}
TRANSACTION_SOURCE_NAMES = {
    "CASHBACK_COUPON": "Cashback Coupon",
    "SYSTEM": "System",
    "API": "API",
    "PROMO_CAMPAIGN": "Promo Campaign",
}
REWARD_TYPE_NAMES = {
    "LOYALTY_POINTS": "Loyalty Points",
    "COUPON": "Coupon",
    "PARTNER_VOUCHER": "Partner Voucher",
    "CUSTOM_REWARD": "Custom Reward",
}
TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$"
SCHEMA_VERSION = 1


def local_ts(column: str) -> str:
    """ISO 8601 in the session (account) time zone with a ±HH:MM offset."""
    return (
        f"regexp_replace(strftime({column}, '%Y-%m-%dT%H:%M:%S.%g%z'), "
        f"'([+-][0-9]{{2}})$', '\\1:00')"
    )


def display(column: str, names: dict[str, str]) -> str:
    """The product's name of a code; an unknown code stays as it is, so the report's enum
    check names it instead of seeing a null."""
    cases = " ".join(f"WHEN '{code}' THEN '{name}'" for code, name in names.items())
    return f"CASE {column} {cases} ELSE {column} END"


@dataclass(frozen=True)
class Column:
    name: str
    sql: str
    kind: str = "string"  # string | amount | count | timestamp | date
    required: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ReportDefinition:
    report_type: str
    mart: str
    columns: tuple[Column, ...]
    filters: str  # SQL predicate with $named parameters
    order_key: str  # the timestamp (UTC instant) rows are sorted by
    id_column: str  # the stable tie-break and the uniqueness key
    daily: bool = True  # reads day partitions (else the mart's snapshot)
    windowed: bool = True  # filters on [window start, window end)

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]

    def select_sql(self) -> str:
        cols = ",\n  ".join(f"{c.sql} AS {c.name}" for c in self.columns)
        window = (
            f"AND {self.order_key} >= $start AND {self.order_key} < $end" if self.windowed else ""
        )
        return (
            f"SELECT\n  {cols},\n  epoch_us({self.order_key}) AS _order\n"
            f"FROM read_parquet($files, union_by_name = true)\n"
            f"WHERE {self.filters} {window}\n"
            f"ORDER BY {self.order_key}, {self.id_column}"
        )


def _c(name, sql=None, kind="string", required=False, allowed=None) -> Column:
    sql = sql or name
    # One exact type per kind at the SQL edge (sums arrive as DECIMAL(38,x) or HUGEINT).
    if kind == "amount":
        sql = f"CAST({sql} AS DECIMAL(18, 2))"
    elif kind == "count":
        sql = f"CAST({sql} AS BIGINT)"
    return Column(name, sql, kind, required, allowed)


WALLET_TRANSACTIONS = ReportDefinition(
    report_type="wallet_transactions",
    mart="wallet_transactions",
    columns=(
        _c("transaction_id", required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        _c("user_id", required=True),
        _c(
            "transaction_type",
            display("transaction_type", TRANSACTION_TYPE_NAMES),
            required=True,
            allowed=tuple(TRANSACTION_TYPE_NAMES.values()),
        ),
        _c(
            "transaction_source",
            display("transaction_source", TRANSACTION_SOURCE_NAMES),
            required=True,
            allowed=tuple(TRANSACTION_SOURCE_NAMES.values()),
        ),
        _c("points", kind="amount", required=True),
        _c("balance_effect", kind="amount", required=True),
        _c("campaign_id"),
        _c("coupon_code"),
        _c("reference_transaction_id"),
        _c("expires_at", local_ts("expires_at"), kind="timestamp"),
        _c("transaction_time", local_ts("occurred_at"), kind="timestamp", required=True),
    ),
    filters="wallet_id = $wallet_id AND list_contains($sources, transaction_source) "
    "AND list_contains($types, transaction_type)",
    order_key="occurred_at",
    id_column="transaction_id",
)

_TOTALS = ("credited", "debited", "expired", "promised", "reversed", "refunded")

WALLET_SUMMARY = ReportDefinition(
    report_type="wallet_summary",
    mart="wallet_daily_summary",
    columns=(
        _c("date", "strftime(local_date, '%Y-%m-%d')", kind="date", required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        *(_c(f"points_{t}", kind="amount", required=True) for t in _TOTALS),
        _c("net_change", kind="amount", required=True),
        _c("closing_balance", kind="amount", required=True),
        _c("transacting_users", kind="count", required=True),
    ),
    filters="wallet_id = $wallet_id",
    order_key="local_date",
    id_column="wallet_id",
    windowed=False,  # whole local days: the day partitions are the window
)

USER_LEDGER_SUMMARY = ReportDefinition(
    report_type="user_ledger_summary",
    mart="user_ledger",
    columns=(
        _c("user_id", required=True),
        _c("wallet_id", required=True),
        _c("wallet_name"),
        *(_c(f"points_{t}", kind="amount", required=True) for t in _TOTALS),
        _c("available_balance", kind="amount", required=True),
        _c("promised_balance", kind="amount", required=True),
        _c("first_transaction_time", local_ts("first_transaction_at"), "timestamp", True),
        _c("last_transaction_time", local_ts("last_transaction_at"), "timestamp", True),
    ),
    filters="wallet_id = $wallet_id",
    order_key="last_transaction_at",
    id_column="user_id",
    daily=False,
    windowed=False,
)

VOUCHER_ASSIGNMENT_LOGS = ReportDefinition(
    report_type="voucher_assignment_logs",
    mart="voucher_assignments",
    columns=(
        _c("assignment_id", required=True),
        _c("partner_id", required=True),
        _c("partner_name"),
        _c("list_tag", required=True),
        _c("voucher_code", required=True),
        _c("user_id", required=True),
        _c("campaign_id"),
        _c("assigned_time", local_ts("assigned_at"), kind="timestamp", required=True),
    ),
    filters="partner_id = $partner_id AND list_tag = $list_tag",
    order_key="assigned_at",
    id_column="assignment_id",
)

REWARD_ASSIGNMENT = ReportDefinition(
    report_type="reward_assignment",
    mart="reward_assignments",
    columns=(
        _c("event_id", required=True),
        _c("campaign_id", required=True),
        _c("campaign_name"),
        _c("user_id", required=True),
        _c(
            "reward_type",
            display("reward_type", REWARD_TYPE_NAMES),
            required=True,
            allowed=tuple(REWARD_TYPE_NAMES.values()),
        ),
        _c("reward_value"),
        _c("points", kind="amount"),
        _c("coupon_code"),
        _c("partner_id"),
        _c("voucher_code"),
        _c("credits", kind="amount"),
        _c("distributed_time", local_ts("distributed_at"), kind="timestamp", required=True),
    ),
    filters="campaign_id = $campaign_id",
    order_key="distributed_at",
    id_column="event_id",
)

USER_ERRORS = ReportDefinition(
    report_type="user_errors",
    mart="campaign_user_errors",
    columns=(
        _c("event_id", required=True),
        _c("campaign_id", required=True),
        _c("campaign_name"),
        _c("user_id", required=True),
        _c(
            "reward_type",
            display("reward_type", REWARD_TYPE_NAMES),
            required=True,
            allowed=tuple(REWARD_TYPE_NAMES.values()),
        ),
        _c("error_code", required=True),
        _c("error_message"),
        _c("error_time", local_ts("error_at"), kind="timestamp", required=True),
    ),
    filters="campaign_id = $campaign_id",
    order_key="error_at",
    id_column="event_id",
)

REPORTS: dict[str, ReportDefinition] = {
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
