"""Raw logs -> ingestion -> dbt -> published marts, through Dagster, in a non-UTC
account timezone across a DST change; every column of every published mart is compared
with an independent computation: plain DuckDB SQL over the raw JSON files, written here
(EXPECTED), never sharing code with the dbt models."""

import json
import re
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.settings import Settings
from promo.dbt_vars import dbt_vars
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import TZ, make_env, raw_views
from tests.helpers import run_daily, run_dbt_unit_tests, run_dimensions

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def built(berlin_pipeline):
    return berlin_pipeline


def same(con, expected: str, actual: str) -> None:
    """Both queries return the same multiset of rows (EXCEPT ALL both ways)."""
    missing = con.sql(f"({expected}) EXCEPT ALL ({actual})").fetchall()
    extra = con.sql(f"({actual}) EXCEPT ALL ({expected})").fetchall()
    assert not missing and not extra, f"missing {missing[:5]}, unexpected {extra[:5]}"
    assert con.sql(f"SELECT count(*) FROM ({expected})").fetchall()[0][0] > 0


def published(mart: str) -> str:
    """Every column of a published mart, in its published order. The hive folder column
    `date` that DuckDB adds when reading daily marts is checked apart (same_day_folder)."""
    if mart == "user_ledger":
        return "SELECT * FROM user_ledger"
    return f"SELECT * EXCLUDE (date) FROM {mart}"


SIGNED = """CASE WHEN transaction_type IN ('CREDIT', 'REFUND') THEN points
     WHEN transaction_type IN ('DEBIT', 'EXPIRED', 'REVERSE') THEN -points ELSE 0 END"""
LOCAL = f"timezone('{TZ}', {{}})"  # UTC instant -> account wall-clock time


def by_type() -> str:
    """The six per-type point sums, 0 when the group has none of a type."""
    return ", ".join(
        f"coalesce(sum(points) FILTER (WHERE transaction_type = '{t}'), 0)"
        for t in ("CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND")
    )


# One query per mart, columns in the mart's published order.
EXPECTED = {
    "wallet_transactions": f"""
        SELECT t.transaction_id, t.wallet_id, w.name, t.user_id, t.transaction_type,
               t.transaction_source, t.points, {SIGNED}, t.campaign_id, t.coupon_code,
               t.reference_transaction_id, t.expires_at, t.occurred_at,
               {LOCAL.format("t.occurred_at")}, local_day(t.occurred_at)
        FROM raw_wallet_transactions t LEFT JOIN raw_wallets w USING (wallet_id)""",
    # Every day from the wallet's first transaction day through the latest day of any
    # wallet; the closing balance is summed straight from the transactions up to that day.
    "wallet_daily_summary": f"""
        WITH tx AS (
            SELECT *, {SIGNED} AS effect, local_day(occurred_at) AS d
            FROM raw_wallet_transactions
        ), calendar AS (
            SELECT wallet_id, CAST(unnest(generate_series(min(d), (SELECT max(d) FROM tx),
                                                         INTERVAL 1 DAY)) AS DATE) AS d
            FROM tx GROUP BY wallet_id
        ), days AS (
            SELECT c.wallet_id, c.d, {by_type()},
                   coalesce(sum(tx.effect), 0) AS net, count(DISTINCT tx.user_id) AS users
            FROM calendar c LEFT JOIN tx USING (wallet_id, d) GROUP BY ALL
        )
        SELECT days.wallet_id, w.name, days.* EXCLUDE (wallet_id, users),
               (SELECT sum(effect) FROM tx
                WHERE tx.wallet_id = days.wallet_id AND tx.d <= days.d),
               users
        FROM days LEFT JOIN raw_wallets w USING (wallet_id)""",
    "user_ledger": f"""
        SELECT t.user_id, t.wallet_id, w.name, {by_type()}, sum({SIGNED}),
               coalesce(sum(points) FILTER (WHERE transaction_type = 'PROMISED'), 0),
               min(t.occurred_at), {LOCAL.format("min(t.occurred_at)")},
               max(t.occurred_at), {LOCAL.format("max(t.occurred_at)")}
        FROM raw_wallet_transactions t LEFT JOIN raw_wallets w USING (wallet_id)
        GROUP BY t.user_id, t.wallet_id, w.name""",
    "reward_assignments": f"""
        SELECT e.event_id, e.campaign_id, c.name, e.user_id, e.reward_type,
               CASE e.reward_type WHEN 'LOYALTY_POINTS' THEN CAST(e.points AS VARCHAR)
                    WHEN 'COUPON' THEN e.coupon_code WHEN 'PARTNER_VOUCHER' THEN e.voucher_code
                    ELSE CAST(e.credits AS VARCHAR) END,
               e.points, e.coupon_code, e.partner_id, e.list_tag, e.voucher_code, e.credits,
               e.wallet_id, e.occurred_at, {LOCAL.format("e.occurred_at")},
               local_day(e.occurred_at),
               c.coupon_type, c.coupon_benefit, c.custom_reward_kind, c.segment_kind
        FROM raw_reward_events e LEFT JOIN raw_campaigns c USING (campaign_id)
        WHERE e.status = 'SUCCESS'""",
    "campaign_user_errors": f"""
        SELECT e.event_id, e.campaign_id, c.name, e.user_id, e.reward_type, e.error_code,
               e.error_message, e.occurred_at, {LOCAL.format("e.occurred_at")},
               local_day(e.occurred_at)
        FROM raw_reward_events e LEFT JOIN raw_campaigns c USING (campaign_id)
        WHERE e.status = 'FAILED'""",
    "voucher_assignments": f"""
        SELECT a.assignment_id, a.partner_id, p.name, a.list_tag, l.name, a.voucher_code,
               a.user_id, a.campaign_id, a.assigned_at, {LOCAL.format("a.assigned_at")},
               local_day(a.assigned_at)
        FROM raw_voucher_assignments a
        LEFT JOIN raw_partners p USING (partner_id)
        LEFT JOIN raw_voucher_lists l USING (partner_id, list_tag)""",
    # A day has a row when the campaign has a reward event or a redemption; a KPI is NULL
    # unless the campaign's configuration (campaigns snapshot) calls for it.
    "campaign_daily_stats": """
        WITH e AS (
            SELECT *, local_day(occurred_at) AS d, status = 'SUCCESS' AS ok
            FROM raw_reward_events
        ), r AS (
            SELECT *, local_day(redeemed_at) AS d FROM raw_coupon_redemptions
        ), days AS (
            SELECT campaign_id, d FROM e UNION SELECT campaign_id, d FROM r
        ), events AS (
            SELECT campaign_id, d,
                count(*) FILTER (WHERE ok) AS rewards,
                coalesce(sum(points) FILTER (WHERE ok), 0) AS points,
                count(DISTINCT coupon_code) FILTER (WHERE ok) AS codes,
                count(*) FILTER (WHERE webhook_status = 'SENT') AS sent,
                count(*) FILTER (WHERE webhook_status = 'FAILED') AS failed,
                coalesce(sum(credits) FILTER (WHERE webhook_status = 'SENT'), 0) AS credits
            FROM e GROUP BY ALL
        ), redeemed AS (
            SELECT campaign_id, d,
                coalesce(sum(discount_amount) FILTER (WHERE benefit = 'DISCOUNT'), 0) AS discount,
                coalesce(sum(cashback_points) FILTER (WHERE benefit = 'CASHBACK'), 0) AS cashback
            FROM r GROUP BY ALL
        )
        SELECT days.campaign_id, days.d, c.name, c.reward_type, c.coupon_type,
            c.coupon_benefit, c.custom_reward_kind, c.segment_kind,
            coalesce(events.rewards, 0),
            CASE WHEN c.reward_type = 'LOYALTY_POINTS' THEN coalesce(events.points, 0) END,
            CASE WHEN c.reward_type = 'COUPON' AND c.coupon_type = 'BULK'
                     THEN coalesce(events.codes, 0)
                 WHEN c.reward_type = 'COUPON' THEN coalesce(events.rewards, 0) END,
            CASE WHEN c.reward_type = 'COUPON' AND c.coupon_benefit = 'DISCOUNT'
                 THEN coalesce(redeemed.discount, 0) END,
            CASE WHEN c.reward_type = 'COUPON' AND c.coupon_benefit = 'CASHBACK'
                 THEN coalesce(redeemed.cashback, 0) END,
            CASE WHEN c.reward_type = 'PARTNER_VOUCHER' THEN coalesce(events.rewards, 0) END,
            CASE WHEN c.reward_type = 'CUSTOM_REWARD' THEN coalesce(events.sent, 0) END,
            CASE WHEN c.reward_type = 'CUSTOM_REWARD' THEN coalesce(events.failed, 0) END,
            CASE WHEN c.custom_reward_kind = 'SELF_MANAGED_WALLET_CREDITS'
                 THEN coalesce(events.credits, 0) END
        FROM days
        LEFT JOIN raw_campaigns c USING (campaign_id)
        LEFT JOIN events USING (campaign_id, d)
        LEFT JOIN redeemed USING (campaign_id, d)""",
}
DAILY = [m for m in EXPECTED if m != "user_ledger"]


def assert_marts_match_raw(con) -> None:
    for mart, expected in EXPECTED.items():
        try:
            same(con, expected, published(mart))
        except AssertionError as error:
            raise AssertionError(f"{mart}: {error}") from None


def test_dbt_checks_all_pass(built):
    _, _, result = built
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    failed = [c.asset_check_key.name for c in checks if not c.passed]
    assert not failed
    # The reconciliation tests are asset checks of the mart they reconcile.
    names = {(c.asset_check_key.asset_key.path[-1], c.asset_check_key.name) for c in checks}
    assert {
        ("wallet_daily_summary", "assert_wallet_daily_summary_matches_transactions"),
        ("user_ledger", "assert_ledger_balances_match_latest_closing_balances"),
        ("campaign_daily_stats", "assert_campaign_rewards_distributed_match_reward_events"),
    } <= names


def test_the_dbt_unit_tests_pass(built, tmp_path):
    """The orchestrator leaves dbt's unit tests out of its runs (assets/dbt.py): they run
    here, on a copy of the pipeline's warehouse (same file name: dbt names the database
    after it), which holds every model they read column types from."""
    settings, _, _ = built
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(settings.warehouse_path, warehouse)
    variables = dbt_vars(TZ, str(settings.lake_dir)) | {"warehouse_path": str(warehouse)}
    code, out, expected = run_dbt_unit_tests(variables, tmp_path)
    assert code == 0, out[-3000:]
    assert re.search(rf"\b{expected} unit tests\b", out), out[-1000:]  # all of them ran

    # The per-model data test (tests/generic/column_values.sql) fails on one NULL in any
    # of its not-null columns and on one value outside any enum column's list, as dbt's
    # per-column tests would; a NULL enum passes.
    con = duckdb.connect(str(warehouse))
    ids = [r[0] for r in con.sql(
        "SELECT transaction_id FROM wallet_transactions ORDER BY transaction_id LIMIT 3"
    ).fetchall()]  # fmt: skip
    con.execute("UPDATE wallet_transactions SET user_id = NULL WHERE transaction_id = $1", [ids[0]])
    con.execute(
        "UPDATE wallet_transactions SET transaction_source = 'FAX' WHERE transaction_id = $1",
        [ids[1]],
    )
    con.execute(
        "UPDATE wallet_transactions SET transaction_type = NULL WHERE transaction_id = $1",
        [ids[2]],
    )
    con.close()
    code, out, _ = run_dbt_unit_tests(
        variables, tmp_path, select="column_values_wallet_transactions"
    )
    assert code != 0, out[-3000:]
    # The NULL user and the unknown source; the NULL type passes.
    assert re.search(r"FAIL 2 column_values_wallet_transactions\b", out), out[-3000:]


@pytest.mark.parametrize("mart", list(EXPECTED))
def test_every_column_matches_the_raw_files(built, mart):
    _, con, _ = built
    same(con, EXPECTED[mart], published(mart))


@pytest.mark.parametrize("mart", DAILY)
def test_each_row_is_published_under_its_local_day(built, mart):
    _, con, _ = built
    assert con.sql(f"SELECT count(*) FROM {mart} WHERE date <> local_date").fetchall() == [(0,)]


def test_the_kpis_under_test_are_not_trivially_empty(built):
    """Guards the comparisons above against passing on all-NULL or all-zero columns."""
    _, con, _ = built
    row = con.sql(
        """SELECT sum(points_distributed), sum(coupons_distributed), sum(discount_redeemed),
                  sum(cashback_points_credited), sum(voucher_codes_distributed),
                  sum(webhook_sent), sum(webhook_failed), sum(webhook_credits_rewarded)
           FROM campaign_daily_stats"""
    ).fetchall()[0]
    assert all(value and value > 0 for value in row), row
    kinds = con.sql("SELECT DISTINCT coupon_type FROM campaign_daily_stats").fetchall()
    assert {("SINGLE",), ("BULK",)} <= set(kinds)
    ledger = con.sql(
        """SELECT sum(points_credited), sum(points_debited), sum(points_expired),
                  sum(points_promised), sum(points_reversed), sum(points_refunded)
           FROM user_ledger"""
    ).fetchall()[0]
    assert all(value > 0 for value in ledger), ledger


def test_wallet_daily_summary_dst_day_and_quiet_days(built):
    _, con, _ = built
    # Days without transactions carry the balance unchanged (the data has such days).
    quiet = con.sql("SELECT count(*) FROM wallet_daily_summary WHERE transacting_users = 0")
    assert quiet.fetchall()[0][0] > 0
    gaps = con.sql(
        "SELECT count(*) FROM (SELECT *, lag(closing_balance) OVER (PARTITION BY wallet_id "
        "ORDER BY local_date) AS prev FROM wallet_daily_summary) "
        "WHERE transacting_users = 0 AND (net_change <> 0 OR closing_balance <> prev)"
    ).fetchall()[0][0]
    assert gaps == 0
    # The DST day is one row per wallet, not two.
    rows, wallets = con.sql(
        "SELECT count(*), count(DISTINCT wallet_id) FROM wallet_daily_summary "
        "WHERE local_date = DATE '2026-10-25'"
    ).fetchall()[0]
    assert rows == wallets > 0


def test_rerunning_a_day_changes_nothing(built):
    settings, con, _ = built
    snapshot = "SELECT * FROM {} ORDER BY ALL"
    marts = ["wallet_transactions", "wallet_daily_summary", "user_ledger", "campaign_daily_stats"]
    before = {m: con.sql(snapshot.format(m)).fetchall() for m in marts}
    assert run_daily(settings, "2026-10-25", "2026-10-25").success
    for mart in marts:
        assert con.sql(snapshot.format(mart)).fetchall() == before[mart], mart


# A late delivery: new valid records in the UTC folder 2026-10-23 after the whole range
# was built. In Europe/Berlin (UTC+2 that week) the folder holds local 10-23 02:00 to
# 10-24 02:00, so the records fall on two local days; the later days' closing balances
# and the ledger must move with them.
LATE_FOLDER = "2026-10-23"
LATE_LOCAL_DAYS = ("2026-10-23", "2026-10-24")  # every local day the folder overlaps
LATE_RECORDS = {
    "wallet_transactions": [
        {"transaction_id": "wtx_late_1", "wallet_id": "wlt_main", "user_id": "usr_late",
         "transaction_type": "CREDIT", "transaction_source": "API", "points": 1000.25,
         "occurred_at": "2026-10-23T12:00:00Z"},
        # 01:30 local on 10-24, written with the local offset.
        {"transaction_id": "wtx_late_2", "wallet_id": "wlt_main", "user_id": "usr_late",
         "transaction_type": "DEBIT", "transaction_source": "API", "points": 200,
         "occurred_at": "2026-10-24T01:30:00+02:00"},
        {"transaction_id": "wtx_late_3", "wallet_id": "wlt_main", "user_id": "usr_late",
         "transaction_type": "PROMISED", "transaction_source": "SYSTEM", "points": 5.5,
         "occurred_at": "2026-10-23T23:59:00Z"},
    ],
    "reward_events": [
        {"event_id": "rwe_late_1", "campaign_id": "cmp_everyday_points", "user_id": "usr_late",
         "reward_type": "LOYALTY_POINTS", "status": "SUCCESS", "wallet_id": "wlt_main",
         "points": 42, "occurred_at": "2026-10-23T22:10:00Z"},
    ],
    "coupon_redemptions": [
        {"redemption_id": "red_late_1", "coupon_code": "LATE-1",
         "campaign_id": "cmp_personal_discount", "user_id": "usr_late", "benefit": "DISCOUNT",
         "discount_amount": 12.5, "redeemed_at": "2026-10-23T09:00:00Z"},
    ],
    "voucher_assignments": [
        {"assignment_id": "vas_late_1", "partner_id": "prt_brewhouse", "list_tag": "free-latte",
         "voucher_code": "LATTE-LATE1", "user_id": "usr_late", "campaign_id": "cmp_free_latte",
         "assigned_at": "2026-10-23T23:59:59Z"},
    ],
}  # fmt: skip


def mart_views(con, settings) -> None:
    con.execute(f"CREATE MACRO local_day(ts) AS timezone('{TZ}', ts)::DATE")
    marts = Path(settings.marts_uri)
    for mart in DAILY:
        con.execute(f"CREATE VIEW {mart} AS SELECT * FROM '{marts}/{mart}/*/*.parquet'")
    # A glob, not the manifest's file: the view outlives re-runs, which rename the file.
    con.execute(f"CREATE VIEW user_ledger AS SELECT * FROM '{marts}/user_ledger/part-*.parquet'")


@pytest.fixture(scope="module")
def late_pipeline(tmp_path_factory):
    """Its own home: the late file must not leak into the shared berlin_pipeline."""
    home = tmp_path_factory.mktemp("late")
    settings = Settings.from_env(make_env(home, PROMO_ACCOUNT_TIMEZONE=TZ))
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 22), 4, seed=3, scale=150,
             bad_rate=0.0, redelivery_rate=0.0)  # fmt: skip
    assert run_dimensions(settings).success
    assert run_daily(settings, "2026-10-22", "2026-10-26").success
    con = duckdb.connect()
    raw_views(con, Path(settings.landing_uri))
    mart_views(con, settings)
    yield settings, con
    con.close()


def test_a_late_file_in_an_earlier_folder_flows_into_every_mart(late_pipeline):
    settings, con = late_pipeline
    closing = (
        "SELECT local_date, closing_balance FROM wallet_daily_summary "
        "WHERE wallet_id = 'wlt_main' AND local_date >= DATE '2026-10-24' ORDER BY 1"
    )
    before = dict(con.sql(closing).fetchall())
    landing = Path(settings.landing_uri)
    for stream, records in LATE_RECORDS.items():
        path = landing / "events" / stream / f"date={LATE_FOLDER}" / "late-0001.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))

    # The documented procedure (docs/marts.md): re-run every local day the folder overlaps.
    result = run_daily(settings, LATE_LOCAL_DAYS[0], LATE_LOCAL_DAYS[-1])
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)

    assert_marts_match_raw(con)
    # Spelled out for the balances: every later day moved by the late net (+1000.25 - 200),
    # including 10-25 and 10-26, which were not in the re-run window.
    after = dict(con.sql(closing).fetchall())
    assert sorted(after) == sorted(before) and len(after) == 3
    assert all(after[day] - before[day] == Decimal("800.25") for day in before), (before, after)
    ledger = con.sql(
        "SELECT available_balance, promised_balance, points_credited, points_debited "
        "FROM user_ledger WHERE user_id = 'usr_late'"
    ).fetchall()
    assert ledger == [(Decimal("800.25"), Decimal("5.50"), Decimal("1000.25"), Decimal("200"))]
