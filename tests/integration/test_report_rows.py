"""Every report type, every column: the delivered file equals, row for row and in order,
what plain DuckDB computes from the raw JSON lines (rendered in Python with zoneinfo).

Two accounts: Europe/Berlin across the end of DST (the session's published marts), and
Asia/Kathmandu (+05:45) with hand-written transactions on both sides of the window's
local midnights, so a day boundary off by the 15-minute part of the offset shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import TZ, make_env, raw_views
from tests.helpers import run_daily, run_dimensions
from tests.integration.report_support import deliver, expected_table, read_file, spec_of

pytestmark = pytest.mark.integration
KTM = "Asia/Kathmandu"

# Transactions of wlt_main at the local midnights that open and close 2026-10-23 in
# Kathmandu (2026-10-22T18:15Z and 2026-10-23T18:15Z), one millisecond either side.
EDGES = {
    "2026-10-22": [
        ("wtx_edge_1_before", "2026-10-22T18:14:59.999Z"),
        ("wtx_edge_2_first", "2026-10-23T00:00:00.000+05:45"),
    ],
    "2026-10-23": [
        ("wtx_edge_3_last", "2026-10-23T18:14:59.999Z"),
        ("wtx_edge_4_after", "2026-10-24T00:00:00+05:45"),
    ],
}
EDGE_USER = "usr_edge_ü"  # not ASCII: the file is UTF-8
QUOTED, QUOTED_CODE = "wtx_edge_2_first", 'EDGE,"2"'


def write_edges(landing: Path) -> None:
    for folder, lines in EDGES.items():
        target = landing / "events" / "wallet_transactions" / f"date={folder}" / "zz-edges.jsonl"
        records = [
            {
                "transaction_id": tx_id,
                "wallet_id": "wlt_main",
                "user_id": EDGE_USER,
                "transaction_type": "CREDIT",
                # One cashback with a code that needs RFC 4180 quoting.
                "transaction_source": "CASHBACK_COUPON" if tx_id == QUOTED else "API",
                "points": 1.25,
                "campaign_id": None,
                "coupon_code": QUOTED_CODE if tx_id == QUOTED else None,
                "reference_transaction_id": None,
                "expires_at": "2027-10-23T00:00:00.000+05:45",
                "occurred_at": occurred_at,
            }
            for tx_id, occurred_at in lines
        ]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        target.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def kathmandu_pipeline(tmp_path_factory):
    """Two UTC days of sample logs plus the edge transactions, through Dagster in a
    +05:45 account: local days 2026-10-22..24 are published."""
    home = tmp_path_factory.mktemp("kathmandu")
    settings = Settings.from_env(make_env(home, PROMO_ACCOUNT_TIMEZONE=KTM))
    landing = Path(settings.landing_uri)
    generate(
        LocalStorage(settings.landing_uri), date(2026, 10, 22), 2, seed=5, scale=150, bad_rate=0.0
    )
    write_edges(landing)
    assert run_dimensions(settings).success
    assert run_daily(settings, "2026-10-22", "2026-10-24").success
    con = duckdb.connect()
    raw_views(con, landing)
    yield settings, con
    con.close()


@dataclass
class Account:
    settings: Settings
    con: duckdb.DuckDBPyConnection
    tz: str
    window: tuple[date, date]  # days of the windowed reports
    published: tuple[date, date]  # every published day (the wallet summary covers them)


@pytest.fixture(params=["berlin", "kathmandu"])
def account(request) -> Account:
    if request.param == "berlin":
        settings, con, _ = request.getfixturevalue("berlin_pipeline")
        # 2026-10-25 lasts 25 hours in Berlin: the window holds +02:00 and +01:00 rows.
        return Account(
            settings, con, TZ, (date(2026, 10, 24), date(2026, 10, 26)),
            (date(2026, 10, 22), date(2026, 10, 28)),
        )  # fmt: skip
    settings, con = request.getfixturevalue("kathmandu_pipeline")
    return Account(
        settings, con, KTM, (date(2026, 10, 23), date(2026, 10, 23)),
        (date(2026, 10, 22), date(2026, 10, 24)),
    )  # fmt: skip


def busiest(account: Account, sql: str) -> tuple:
    """The filter values with the most raw rows in the window (the report is not empty)."""
    start, end = account.window
    params = {"first": start, "last": end, "tz": account.tz}
    rows = account.con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchall()
    assert rows, "the sample data has rows for this case"
    return rows[0]


IN_DAYS = "timezone($tz, {ts})::DATE BETWEEN $first AND $last"
WALLET = "SELECT wallet_id FROM raw_wallet_transactions GROUP BY 1 ORDER BY count(*) DESC, 1"


def campaign_sql(status: str, reward_type: str | None = None) -> str:
    of_type = f"AND reward_type = '{reward_type}'" if reward_type else ""
    return f"""SELECT campaign_id FROM raw_reward_events
               WHERE status = '{status}' {of_type} AND {IN_DAYS.format(ts="occurred_at")}
               GROUP BY 1 ORDER BY count(*) DESC, 1"""


def check_rows(account: Account, report_type: str, filters: dict, windowed=True, days=None):
    """Deliver the report and compare the whole file with the independent table."""
    days = (days or account.window) if windowed else None
    delivered = deliver(account.settings, spec_of(report_type, filters, days))
    got = read_file(Path(delivered.uri))
    expected = expected_table(account.con, report_type, filters, days, account.tz)
    assert got[0] == expected[0], "contract header"
    assert len(got) > 1, "a non-empty report, or the comparison proves nothing"
    for i, (g, e) in enumerate(zip(got[1:], expected[1:], strict=False)):
        assert g == e, f"row {i + 1} differs:\n got      {g}\n expected {e}"
    assert len(got) == len(expected), f"{len(got) - 1} rows, expected {len(expected) - 1}"
    assert delivered.rows == len(got) - 1
    return got


def filled(table: list[list[str]], column: str) -> bool:
    i = table[0].index(column)
    return any(row[i] for row in table[1:])


def test_wallet_transactions_every_source_and_type(account):
    (wallet,) = busiest(account, WALLET)
    table = check_rows(account, "wallet_transactions", {"wallet_id": wallet})
    for column in table[0]:  # every nullable column was compared on real values
        assert filled(table, column), column


def test_wallet_transactions_filtered(account):
    (wallet,) = busiest(account, WALLET)
    filters = {
        "wallet_id": wallet,
        "transaction_sources": ["promo_campaign", "api"],
        "transaction_types": ["credit", "promised", "reverse", "refund"],
    }
    table = check_rows(account, "wallet_transactions", filters)
    assert {r[5] for r in table[1:]} <= {"Promo Campaign", "API"}


def test_wallet_summary_every_published_day(account):
    (wallet,) = busiest(account, WALLET)
    first, last = account.published
    table = check_rows(account, "wallet_summary", {"wallet_id": wallet}, days=(first, last))
    assert len(table) - 1 == (last - first).days + 1, "one row per local day"


def test_user_ledger_summary(account):
    (wallet,) = busiest(account, WALLET)
    check_rows(account, "user_ledger_summary", {"wallet_id": wallet}, windowed=False)


def test_voucher_assignment_logs(account):
    partner, tag = busiest(
        account,
        f"""SELECT partner_id, list_tag FROM raw_voucher_assignments
            WHERE {IN_DAYS.format(ts="assigned_at")} GROUP BY ALL ORDER BY count(*) DESC, 1, 2""",
    )
    table = check_rows(account, "voucher_assignment_logs", {"partner_id": partner, "list_tag": tag})
    assert filled(table, "partner_name")


@pytest.mark.parametrize(
    "reward_type, value_column",
    [
        ("LOYALTY_POINTS", "points"),
        ("COUPON", "coupon_code"),
        ("PARTNER_VOUCHER", "voucher_code"),
        ("CUSTOM_REWARD", "credits"),
    ],
)
def test_reward_assignment(account, reward_type, value_column):
    (campaign,) = busiest(account, campaign_sql("SUCCESS", reward_type))
    table = check_rows(account, "reward_assignment", {"campaign_id": campaign})
    assert filled(table, value_column) and filled(table, "reward_value")


def test_user_errors(account):
    (campaign,) = busiest(account, campaign_sql("FAILED"))
    table = check_rows(account, "user_errors", {"campaign_id": campaign})
    assert filled(table, "error_code") and filled(table, "error_message")


# ------------------------------------------------------------------ day boundaries
def test_kathmandu_day_boundaries_and_offsets(kathmandu_pipeline):
    """The local day 2026-10-23 starts at 18:15Z the day before: the transactions one
    millisecond inside it are in the report, those one millisecond outside are not, and
    every time carries +05:45."""
    settings, _ = kathmandu_pipeline
    day = date(2026, 10, 23)
    spec = spec_of("wallet_transactions", {"wallet_id": "wlt_main"}, (day, day))
    path = Path(deliver(settings, spec).uri)
    table = read_file(path)
    by_id = {row[0]: row for row in table[1:]}
    assert by_id[QUOTED][9] == QUOTED_CODE and by_id[QUOTED][3] == EDGE_USER
    assert f'{EDGE_USER},Credit,Cashback Coupon,1.25,1.25,,"EDGE,""2""",'.encode() in (
        path.read_bytes()
    )
    assert "wtx_edge_1_before" not in by_id and "wtx_edge_4_after" not in by_id
    assert by_id["wtx_edge_2_first"][12] == "2026-10-23T00:00:00.000+05:45"
    assert by_id["wtx_edge_3_last"][12] == "2026-10-23T23:59:59.999+05:45"
    assert by_id["wtx_edge_2_first"][11] == "2027-10-23T00:00:00.000+05:45"  # expires_at
    assert table[1][0] == "wtx_edge_2_first" and table[-1][0] == "wtx_edge_3_last"
    assert {row[12][-6:] for row in table[1:]} == {"+05:45"}


def test_berlin_window_spans_both_offsets(berlin_pipeline):
    """The Berlin comparisons above really cross the DST change (else they would not
    test the offset switch)."""
    settings, con, _ = berlin_pipeline
    (wallet,) = con.sql(WALLET).fetchall()[0]
    spec = spec_of(
        "wallet_transactions", {"wallet_id": wallet}, (date(2026, 10, 24), date(2026, 10, 26))
    )
    table = read_file(Path(deliver(settings, spec).uri))
    assert {row[12][-6:] for row in table[1:]} == {"+02:00", "+01:00"}
