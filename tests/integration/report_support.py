"""What the report contract tests share: the contract typed out by hand, the expected
rows of every report type computed with plain DuckDB over the raw JSON lines (the
`raw_*` views of `tests.conftest.raw_views`), and a way to run a spec the way a user does.

Nothing here imports the report definitions: the columns, display names and timestamp
format are typed out from `docs/contracts/report_files.md`, so a change in the code that
breaks the contract fails the tests instead of moving them along.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from orchestration.report_runs import report_settings
from promo.reports.catalog import load_catalog
from promo.reports.request import prepare
from promo.reports.spec_io import load_spec

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
USER = "contract-tester@example.com"

CONTRACT_COLUMNS = {
    "wallet_transactions": [
        "transaction_id", "wallet_id", "wallet_name", "user_id", "transaction_type",
        "transaction_source", "points", "balance_effect", "campaign_id", "coupon_code",
        "reference_transaction_id", "expires_at", "transaction_time",
    ],
    "wallet_summary": [
        "date", "wallet_id", "wallet_name", "points_credited", "points_debited",
        "points_expired", "points_promised", "points_reversed", "points_refunded",
        "net_change", "closing_balance", "transacting_users",
    ],
    "user_ledger_summary": [
        "user_id", "wallet_id", "wallet_name", "points_credited", "points_debited",
        "points_expired", "points_promised", "points_reversed", "points_refunded",
        "available_balance", "promised_balance", "first_transaction_time",
        "last_transaction_time",
    ],
    "voucher_assignment_logs": [
        "assignment_id", "partner_id", "partner_name", "list_tag", "voucher_code", "user_id",
        "campaign_id", "assigned_time",
    ],
    "reward_assignment": [
        "event_id", "campaign_id", "campaign_name", "user_id", "reward_type", "reward_value",
        "points", "coupon_code", "partner_id", "voucher_code", "credits", "distributed_time",
    ],
    "user_errors": [
        "event_id", "campaign_id", "campaign_name", "user_id", "reward_type", "error_code",
        "error_message", "error_time",
    ],
}  # fmt: skip
TYPE_NAMES = {
    "CREDIT": "Credit",
    "DEBIT": "Debit",
    "EXPIRED": "Expired",
    "PROMISED": "Promised",
    "REVERSE": "Reverse",
    "REFUND": "Refund",
}
SOURCE_NAMES = {
    "CASHBACK_COUPON": "Cashback Coupon",
    "SYSTEM": "System",
    "API": "API",
    "PROMO_CAMPAIGN": "Promo Campaign",
}
REWARD_NAMES = {
    "LOYALTY_POINTS": "Loyalty Points",
    "COUPON": "Coupon",
    "PARTNER_VOUCHER": "Partner Voucher",
    "CUSTOM_REWARD": "Custom Reward",
}
TIMESTAMP_COLUMNS = {
    "expires_at",
    "transaction_time",
    "first_transaction_time",
    "last_transaction_time",
    "assigned_time",
    "distributed_time",
    "error_time",
}
DISPLAY = {
    "transaction_type": TYPE_NAMES,
    "transaction_source": SOURCE_NAMES,
    "reward_type": REWARD_NAMES,
}


# ------------------------------------------------------------------ running a spec
def spec_of(report_type: str, filters: dict, days: tuple[date, date] | None, **extra) -> dict:
    promotion = {
        "wallet_summary": "loyalty_wallet",
        "wallet_transactions": "loyalty_wallet",
        "user_ledger_summary": "loyalty_wallet",
        "voucher_assignment_logs": "partner_vouchers",
        "reward_assignment": "promo_campaigns",
        "user_errors": "promo_campaigns",
    }[report_type]
    spec = {
        "name": f"Contract check {report_type}",
        "promotion_type": promotion,
        "report_type": report_type,
        "filters": filters,
        "delivery": {"destination": "download"},
        "frequency": "one_time",
    }
    if days is not None:
        spec["date_range"] = {"start": days[0].isoformat(), "end": days[1].isoformat()}
    spec.update(extra)
    return spec


def deliver(settings, spec: dict, now: datetime = NOW):
    """Check the spec, prepare it and export it, as `report create` does."""
    reports = report_settings(settings)
    catalog = load_catalog(reports.lake())
    checked = load_spec(spec, catalog, settings.destinations)
    return reports.export(checked, prepare(checked, catalog, now, settings.tz), now, USER)


def read_csv_bytes(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def read_file(path: Path) -> list[list[str]]:
    """Header plus rows of a delivered CSV (or of every part of a ZIP, in order)."""
    if path.suffix != ".zip":
        return read_csv_bytes(path.read_bytes())
    table: list[list[str]] = []
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            part = read_csv_bytes(zf.read(name))
            table += part if not table else part[1:]
    return table


# ------------------------------------------------------------------ independent rows
def local_midnight(day: date, tz: str) -> datetime:
    """A local midnight as a UTC instant, straight from zoneinfo."""
    return datetime.combine(day, time(0), ZoneInfo(tz)).astimezone(UTC)


def render(column: str, value, tz: str) -> str:
    """One value as the contract writes it: empty for null, amounts with their 2 decimals,
    instants as ISO 8601 in the account timezone with milliseconds and the offset."""
    if value is None:
        return ""
    if column in TIMESTAMP_COLUMNS:
        instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)
        return instant.astimezone(ZoneInfo(tz)).isoformat(timespec="milliseconds")
    if column in DISPLAY:
        return DISPLAY[column][value]
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


EFFECT = """CASE WHEN t.transaction_type IN ('CREDIT', 'REFUND') THEN t.points
                 WHEN t.transaction_type = 'PROMISED' THEN 0 ELSE -t.points END"""
TYPE_SUMS = ",\n".join(
    f"CAST(coalesce(sum(t.points) FILTER (WHERE t.transaction_type = '{code}'), 0)"
    f" AS DECIMAL(18, 2)) AS points_{name}"
    for code, name in [
        ("CREDIT", "credited"),
        ("DEBIT", "debited"),
        ("EXPIRED", "expired"),
        ("PROMISED", "promised"),
        ("REVERSE", "reversed"),
        ("REFUND", "refunded"),
    ]
)
IN_WINDOW = "{ts} >= $start AND {ts} < $end"

EXPECTED_SQL = {
    "wallet_transactions": f"""
        SELECT t.transaction_id, t.wallet_id, w.name, t.user_id, t.transaction_type,
               t.transaction_source, t.points, CAST({EFFECT} AS DECIMAL(18, 2)), t.campaign_id,
               t.coupon_code, t.reference_transaction_id, epoch_us(t.expires_at),
               epoch_us(t.occurred_at)
        FROM raw_wallet_transactions t LEFT JOIN raw_wallets w USING (wallet_id)
        WHERE t.wallet_id = $wallet_id AND list_contains($sources, t.transaction_source)
          AND list_contains($types, t.transaction_type)
          AND {IN_WINDOW.format(ts="t.occurred_at")}
        ORDER BY t.occurred_at, t.transaction_id""",
    # Days come from Python (zoneinfo) as [start, end) instants, not from DuckDB's ICU.
    "wallet_summary": f"""
        WITH days AS (
            SELECT unnest($days) AS d, unnest($starts) AS s, unnest($ends) AS e
        )
        SELECT strftime(days.d, '%Y-%m-%d'), $wallet_id,
               (SELECT name FROM raw_wallets WHERE wallet_id = $wallet_id),
               {TYPE_SUMS},
               CAST(coalesce(sum({EFFECT}), 0) AS DECIMAL(18, 2)),
               (SELECT CAST(coalesce(sum({EFFECT}), 0) AS DECIMAL(18, 2))
                FROM raw_wallet_transactions t
                WHERE t.wallet_id = $wallet_id AND t.occurred_at < days.e),
               count(DISTINCT t.user_id)
        FROM days LEFT JOIN raw_wallet_transactions t
          ON t.wallet_id = $wallet_id AND t.occurred_at >= days.s AND t.occurred_at < days.e
        GROUP BY days.d, days.e ORDER BY days.d""",
    "user_ledger_summary": f"""
        SELECT t.user_id, t.wallet_id, any_value(w.name), {TYPE_SUMS},
               CAST(sum({EFFECT}) AS DECIMAL(18, 2)),
               CAST(coalesce(sum(t.points) FILTER (WHERE t.transaction_type = 'PROMISED'), 0)
                    AS DECIMAL(18, 2)),
               epoch_us(min(t.occurred_at)), epoch_us(max(t.occurred_at))
        FROM raw_wallet_transactions t LEFT JOIN raw_wallets w USING (wallet_id)
        WHERE t.wallet_id = $wallet_id
        GROUP BY t.user_id, t.wallet_id
        ORDER BY max(t.occurred_at), t.user_id""",
    "voucher_assignment_logs": f"""
        SELECT v.assignment_id, v.partner_id, p.name, v.list_tag, v.voucher_code, v.user_id,
               v.campaign_id, epoch_us(v.assigned_at)
        FROM raw_voucher_assignments v LEFT JOIN raw_partners p USING (partner_id)
        WHERE v.partner_id = $partner_id AND v.list_tag = $list_tag
          AND {IN_WINDOW.format(ts="v.assigned_at")}
        ORDER BY v.assigned_at, v.assignment_id""",
    "reward_assignment": f"""
        SELECT r.event_id, r.campaign_id, c.name, r.user_id, r.reward_type,
               CASE r.reward_type WHEN 'LOYALTY_POINTS' THEN CAST(r.points AS VARCHAR)
                                  WHEN 'COUPON' THEN r.coupon_code
                                  WHEN 'PARTNER_VOUCHER' THEN r.voucher_code
                                  WHEN 'CUSTOM_REWARD' THEN CAST(r.credits AS VARCHAR) END,
               r.points, r.coupon_code, r.partner_id, r.voucher_code, r.credits,
               epoch_us(r.occurred_at)
        FROM raw_reward_events r LEFT JOIN raw_campaigns c USING (campaign_id)
        WHERE r.status = 'SUCCESS' AND r.campaign_id = $campaign_id
          AND {IN_WINDOW.format(ts="r.occurred_at")}
        ORDER BY r.occurred_at, r.event_id""",
    "user_errors": f"""
        SELECT r.event_id, r.campaign_id, c.name, r.user_id, r.reward_type, r.error_code,
               r.error_message, epoch_us(r.occurred_at)
        FROM raw_reward_events r LEFT JOIN raw_campaigns c USING (campaign_id)
        WHERE r.status = 'FAILED' AND r.campaign_id = $campaign_id
          AND {IN_WINDOW.format(ts="r.occurred_at")}
        ORDER BY r.occurred_at, r.event_id""",
}


def expected_table(con, report_type: str, filters: dict, days, tz: str) -> list[list[str]]:
    """Header plus rows the contract asks for, rendered as CSV text."""
    sql = EXPECTED_SQL[report_type]
    params: dict = {
        "wallet_id": filters.get("wallet_id"),
        "partner_id": filters.get("partner_id"),
        "list_tag": filters.get("list_tag"),
        "campaign_id": filters.get("campaign_id"),
        "sources": [s.upper() for s in filters.get("transaction_sources", SOURCE_NAMES)],
        "types": [t.upper() for t in filters.get("transaction_types", TYPE_NAMES)],
    }
    if days is not None:
        first, last = days
        every = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        params.update(
            start=local_midnight(first, tz),
            end=local_midnight(last + timedelta(days=1), tz),
            days=every,
            starts=[local_midnight(d, tz) for d in every],
            ends=[local_midnight(d + timedelta(days=1), tz) for d in every],
        )
    params = {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}
    header = CONTRACT_COLUMNS[report_type]
    rows = con.execute(sql, params).fetchall()
    return [header] + [[render(c, v, tz) for c, v in zip(header, r, strict=True)] for r in rows]
