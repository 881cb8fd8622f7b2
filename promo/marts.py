"""The marts published for BI: name, grain, the order of rows inside a file, and whether
a re-run of one day changes later days. Publishing, the report definitions and the stats
read their mart facts here."""

from __future__ import annotations

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
