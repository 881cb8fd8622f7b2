"""The marts published for BI: name, grain, the order of rows inside a file, and whether
a re-run of one day changes later days. Publishing, the report definitions and the stats
read their mart facts here."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Mart:
    name: str
    order_by: str  # rows inside a partition file, in this order (stable ids break ties)
    description: str
    daily: bool = True  # one file per account-timezone day; else one snapshot file
    cascades: bool = False  # re-running day D changes every later day (running balances)


WALLET_TRANSACTIONS = Mart(
    "wallet_transactions", "occurred_at, transaction_id", "One row per wallet transaction."
)
WALLET_DAILY_SUMMARY = Mart(
    "wallet_daily_summary",
    "wallet_id",
    "One row per wallet per day, with the closing balance.",
    cascades=True,
)
REWARD_ASSIGNMENTS = Mart(
    "reward_assignments", "distributed_at, event_id", "One row per successful reward."
)
CAMPAIGN_USER_ERRORS = Mart(
    "campaign_user_errors", "error_at, event_id", "One row per failed distribution."
)
VOUCHER_ASSIGNMENTS = Mart(
    "voucher_assignments", "assigned_at, assignment_id", "One row per voucher assignment."
)
CAMPAIGN_DAILY_STATS = Mart(
    "campaign_daily_stats", "campaign_id", "One row per campaign per day: KPIs."
)
USER_LEDGER = Mart(
    "user_ledger",
    "last_transaction_at, user_id, wallet_id",
    "One row per user per wallet: balances as of the latest build.",
    daily=False,
)

MARTS: dict[str, Mart] = {
    m.name: m
    for m in (
        WALLET_TRANSACTIONS,
        WALLET_DAILY_SUMMARY,
        REWARD_ASSIGNMENTS,
        CAMPAIGN_USER_ERRORS,
        VOUCHER_ASSIGNMENTS,
        CAMPAIGN_DAILY_STATS,
        USER_LEDGER,
    )
}


# ------------------------------------------------------------------ contracts
# Each mart's dbt model has an enforced contract (a data_type per column, in the engine's
# own words: `timestamptz` on DuckDB is `timestamp` on Spark, DuckDB's `timestamp` is
# Spark's `timestamp_ntz`). Publishing writes Parquet whichever engine built the mart, and
# its schema must be the contract's, column for column: these are the Arrow types.
_SIMPLE = {
    "string": "string",
    "varchar": "string",
    "text": "string",
    "bigint": "int64",
    "int": "int32",
    "integer": "int32",
    "boolean": "bool",
    "double": "double",
    "date": "date32[day]",
    "timestamptz": "timestamp[us, tz=UTC]",
    "timestamp with time zone": "timestamp[us, tz=UTC]",
    "timestamp_ntz": "timestamp[us]",
}


class ContractError(ValueError):
    """A published mart's schema differs from its contract; the message lists how."""


def arrow_type(data_type: str, engine: str) -> str:
    """The Arrow type (as pyarrow writes it) of a contract column type of `engine`."""
    text = " ".join(data_type.lower().split())
    decimal = re.fullmatch(r"(?:decimal|numeric)\((\d+), ?(\d+)\)", text)
    if decimal:
        return f"decimal128({decimal[1]}, {decimal[2]})"
    if text == "timestamp":  # an instant on Spark, a wall-clock time on DuckDB
        return "timestamp[us, tz=UTC]" if engine == "spark" else "timestamp[us]"
    if text not in _SIMPLE:
        raise ContractError(f"contract type {data_type!r} has no Arrow equivalent here")
    return _SIMPLE[text]


def schema_drift(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """How an actual schema (column -> Arrow type, in file order) differs from the
    expected one: missing, extra, re-typed or re-ordered columns. Empty when equal."""
    problems = [f"{c}: missing (contract: {t})" for c, t in expected.items() if c not in actual]
    problems += [f"{c}: not in the contract ({t})" for c, t in actual.items() if c not in expected]
    problems += [
        f"{c}: {actual[c]}, contract says {t}"
        for c, t in expected.items()
        if c in actual and actual[c] != t
    ]
    if not problems and list(expected) != list(actual):
        problems.append(f"column order {list(actual)}, contract says {list(expected)}")
    return problems
