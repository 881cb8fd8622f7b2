"""Raw logs -> ingestion -> dbt -> published marts, through Dagster, in a non-UTC
account timezone across a DST change; every published mart is compared with an
independent computation: plain DuckDB SQL over the raw JSON files, written here."""

import pytest

from tests.helpers import run_daily

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


SIGNED = """CASE WHEN transaction_type IN ('CREDIT', 'REFUND') THEN points
     WHEN transaction_type IN ('DEBIT', 'EXPIRED', 'REVERSE') THEN -points ELSE 0 END"""


def test_dbt_checks_all_pass(built):
    _, _, result = built
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 50
    failed = [c.asset_check_key.name for c in checks if not c.passed]
    assert not failed


def test_wallet_transactions(built):
    _, con, _ = built
    same(
        con,
        f"SELECT transaction_id, wallet_id, user_id, points, {SIGNED} AS effect, "
        "local_day(occurred_at) AS d FROM raw_wallet_transactions",
        "SELECT transaction_id, wallet_id, user_id, points, balance_effect, local_date "
        "FROM wallet_transactions",
    )


def test_wallet_daily_summary_including_closing_balance(built):
    _, con, _ = built
    expected = f"""
        WITH tx AS (
            SELECT wallet_id, user_id, transaction_type AS t, points,
                   {SIGNED} AS effect, local_day(occurred_at) AS d
            FROM raw_wallet_transactions
        ), days AS (
            SELECT wallet_id, d,
                coalesce(sum(points) FILTER (WHERE t = 'CREDIT'), 0) AS credited,
                coalesce(sum(points) FILTER (WHERE t = 'DEBIT'), 0) AS debited,
                coalesce(sum(points) FILTER (WHERE t = 'EXPIRED'), 0) AS expired,
                coalesce(sum(points) FILTER (WHERE t = 'PROMISED'), 0) AS promised,
                coalesce(sum(points) FILTER (WHERE t = 'REVERSE'), 0) AS reversed,
                coalesce(sum(points) FILTER (WHERE t = 'REFUND'), 0) AS refunded,
                sum(effect) AS net, count(DISTINCT user_id) AS users
            FROM tx GROUP BY ALL
        )
        SELECT *, sum(net) OVER (PARTITION BY wallet_id ORDER BY d) AS closing FROM days
    """
    actual = """
        SELECT wallet_id, local_date, points_credited, points_debited, points_expired,
               points_promised, points_reversed, points_refunded, net_change,
               transacting_users, closing_balance
        FROM wallet_daily_summary WHERE transacting_users > 0
    """
    same(
        con,
        "SELECT wallet_id, d, credited, debited, expired, promised, reversed, refunded, net, "
        f"users, closing FROM ({expected})",
        actual,
    )
    # Days without transactions carry the balance unchanged.
    gaps = con.sql(
        "SELECT count(*) FROM (SELECT *, lag(closing_balance) OVER (PARTITION BY wallet_id "
        "ORDER BY local_date) AS prev FROM wallet_daily_summary) "
        "WHERE transacting_users = 0 AND (net_change <> 0 OR closing_balance <> prev)"
    ).fetchall()[0][0]
    assert gaps == 0
    # The DST day is one row per wallet, not two.
    assert con.sql(
        "SELECT count(*) = count(DISTINCT wallet_id) FROM wallet_daily_summary "
        "WHERE local_date = DATE '2026-10-25'"
    ).fetchall()[0][0]


def test_user_ledger(built):
    _, con, _ = built
    same(
        con,
        f"""SELECT user_id, wallet_id, sum({SIGNED}) AS available,
            coalesce(sum(points) FILTER (WHERE transaction_type = 'PROMISED'), 0) AS promised,
            min(occurred_at) AS first_at, max(occurred_at) AS last_at
            FROM raw_wallet_transactions GROUP BY ALL""",
        "SELECT user_id, wallet_id, available_balance, promised_balance, first_transaction_at, "
        "last_transaction_at FROM user_ledger",
    )


def test_reward_assignments_and_errors(built):
    _, con, _ = built
    same(
        con,
        """SELECT e.event_id, e.campaign_id, c.name, e.reward_type,
               CASE e.reward_type WHEN 'LOYALTY_POINTS' THEN CAST(e.points AS VARCHAR)
                    WHEN 'COUPON' THEN e.coupon_code WHEN 'PARTNER_VOUCHER' THEN e.voucher_code
                    ELSE CAST(e.credits AS VARCHAR) END,
               local_day(e.occurred_at)
           FROM raw_reward_events e LEFT JOIN raw_campaigns c USING (campaign_id)
           WHERE e.status = 'SUCCESS'""",
        "SELECT event_id, campaign_id, campaign_name, reward_type, reward_value, local_date "
        "FROM reward_assignments",
    )
    same(
        con,
        "SELECT event_id, error_code, error_message, local_day(occurred_at) "
        "FROM raw_reward_events WHERE status = 'FAILED'",
        "SELECT event_id, error_code, error_message, local_date FROM campaign_user_errors",
    )


def test_voucher_assignments(built):
    _, con, _ = built
    same(
        con,
        """SELECT a.assignment_id, a.partner_id, p.name, a.list_tag, a.voucher_code,
                  local_day(a.assigned_at)
           FROM raw_voucher_assignments a LEFT JOIN raw_partners p USING (partner_id)""",
        "SELECT assignment_id, partner_id, partner_name, list_tag, voucher_code, local_date "
        "FROM voucher_assignments",
    )


def test_campaign_daily_stats(built):
    _, con, _ = built
    expected = """
        WITH e AS (
            SELECT e.*, c.reward_type AS kind, c.coupon_type, c.custom_reward_kind,
                   local_day(e.occurred_at) AS d
            FROM raw_reward_events e JOIN raw_campaigns c USING (campaign_id)
        )
        SELECT campaign_id, d,
            count(*) FILTER (WHERE status = 'SUCCESS') AS rewards,
            sum(points) FILTER (WHERE status = 'SUCCESS' AND reward_type = 'LOYALTY_POINTS'),
            CASE WHEN any_value(coupon_type) = 'BULK'
                 THEN count(DISTINCT coupon_code) FILTER (WHERE status = 'SUCCESS')
                 ELSE count(*) FILTER (WHERE status = 'SUCCESS') END AS coupons,
            count(*) FILTER (WHERE webhook_status = 'SENT') AS sent,
            count(*) FILTER (WHERE webhook_status = 'FAILED') AS failed,
            sum(credits) FILTER (WHERE webhook_status = 'SENT'
                AND custom_reward_kind = 'SELF_MANAGED_WALLET_CREDITS') AS credits
        FROM e GROUP BY ALL
    """
    same(
        con,
        f"SELECT campaign_id, d, rewards FROM ({expected})",
        # days with reward events (days with only coupon redemptions are checked below)
        "SELECT campaign_id, local_date, rewards_distributed FROM campaign_daily_stats "
        "WHERE (campaign_id, local_date) IN "
        "(SELECT campaign_id, local_day(occurred_at) FROM raw_reward_events)",
    )
    for kpi, column, kind in (
        ("coupons", "coupons_distributed", "COUPON"),
        ("sent", "webhook_sent", "CUSTOM_REWARD"),
        ("failed", "webhook_failed", "CUSTOM_REWARD"),
    ):
        same(
            con,
            f"SELECT campaign_id, d, {kpi} FROM ({expected}) WHERE campaign_id IN "
            f"(SELECT campaign_id FROM raw_campaigns WHERE reward_type = '{kind}')",
            f"SELECT campaign_id, local_date, {column} FROM campaign_daily_stats WHERE "
            f"reward_type = '{kind}' AND (campaign_id, local_date) IN "
            "(SELECT campaign_id, local_day(occurred_at) FROM raw_reward_events)",
        )
    # Credits only for self-managed wallet credits; null where the KPI does not apply.
    same(
        con,
        f"SELECT campaign_id, d, coalesce(credits, 0) FROM ({expected}) WHERE campaign_id IN "
        "(SELECT campaign_id FROM raw_campaigns WHERE "
        "custom_reward_kind = 'SELF_MANAGED_WALLET_CREDITS')",
        "SELECT campaign_id, local_date, webhook_credits_rewarded FROM campaign_daily_stats "
        "WHERE custom_reward_kind = 'SELF_MANAGED_WALLET_CREDITS' AND (campaign_id, local_date) "
        "IN (SELECT campaign_id, local_day(occurred_at) FROM raw_reward_events)",
    )
    assert (
        con.sql(
            "SELECT count(*) FROM campaign_daily_stats WHERE reward_type <> 'CUSTOM_REWARD' "
            "AND webhook_sent IS NOT NULL"
        ).fetchall()[0][0]
        == 0
    )
    redeemed = """
        SELECT campaign_id, local_day(redeemed_at) AS d,
               sum(discount_amount) FILTER (WHERE benefit = 'DISCOUNT') AS discount,
               sum(cashback_points) FILTER (WHERE benefit = 'CASHBACK') AS cashback
        FROM raw_coupon_redemptions GROUP BY ALL
    """
    same(
        con,
        f"SELECT campaign_id, d, coalesce(discount, 0), coalesce(cashback, 0) FROM ({redeemed})",
        "SELECT campaign_id, local_date, coalesce(discount_redeemed, 0), "
        "coalesce(cashback_points_credited, 0) FROM campaign_daily_stats WHERE "
        f"(campaign_id, local_date) IN (SELECT campaign_id, d FROM ({redeemed}))",
    )


def test_rerunning_a_day_changes_nothing(built):
    settings, con, _ = built
    snapshot = "SELECT * FROM {} ORDER BY ALL"
    marts = ["wallet_transactions", "wallet_daily_summary", "user_ledger", "campaign_daily_stats"]
    before = {m: con.sql(snapshot.format(m)).fetchall() for m in marts}
    assert run_daily(settings, "2026-10-25", "2026-10-25").success
    for mart in marts:
        assert con.sql(snapshot.format(mart)).fetchall() == before[mart], mart
