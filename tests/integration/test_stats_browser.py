"""Campaign stats end to end: published marts (written here with polars in the published
layout) -> the Dagster asset -> JSON, pages and images; totals and series compared with
plain DuckDB SQL over the same Parquet; the CLI; then a real headless Chromium opens the
pages (offline, file://), switches Day / Week / Month and hovers points. And once from the
raw files: the generator's sample logs through the whole Dagster pipeline (the shared
`berlin_pipeline` fixture), the CLI's JSON against plain DuckDB SQL over the raw JSON lines.

Screenshots of every kind of page land in tests/artifacts/screenshots/ (gitignored);
docs/screenshots/ holds copies that were looked at.
"""

import json
import random
import re
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
from dagster import AssetKey, DailyPartitionsDefinition, materialize

from assets.stats import METADATA_CHARTS, build_stats_assets, charts_markdown
from orchestration.cli_stats import cmd_stats
from orchestration.settings import Settings
from promo.stats import Campaign, campaign_stats, loads
from promo.timeutil import Weekday
from resources.dagster_resources import LakeResource, StorageResource
from tests.conftest import LOCAL_FIRST, LOCAL_LAST, make_env

pytestmark = pytest.mark.integration

TZ = "Europe/Berlin"
FIRST, LAST = date(2026, 10, 20), date(2026, 12, 6)  # crosses two month turns and DST's end
QUIET_DAY = date(2026, 11, 10)  # published, but no campaign had activity
LOYALTY_GAP = (date(2026, 11, 9), date(2026, 11, 15))  # a whole Monday week without rewards
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STATS_KEY = AssetKey(["stats", "campaign_stats"])
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
D2 = pl.Decimal(38, 2)
MART_SCHEMA = {
    "campaign_id": pl.String,
    "local_date": pl.Date,
    "campaign_name": pl.String,
    "reward_type": pl.String,
    "coupon_type": pl.String,
    "coupon_benefit": pl.String,
    "custom_reward_kind": pl.String,
    "segment_kind": pl.String,
    "rewards_distributed": pl.Int64,
    "points_distributed": D2,
    "coupons_distributed": pl.Int64,
    "discount_redeemed": D2,
    "cashback_points_credited": D2,
    "voucher_codes_distributed": pl.Int64,
    "webhook_sent": pl.Int64,
    "webhook_failed": pl.Int64,
    "webhook_credits_rewarded": D2,
}
# id, name, reward type, coupon type, benefit, custom kind, segment, life (UTC dates)
CAMPAIGNS = [
    ("cmp_checkin", "Daily Check-in Points", "LOYALTY_POINTS", None, None, None, "LIVE_BEHAVIOR",
     "2026-09-01", "2027-03-01"),
    ("cmp_codes", "Personal Discount Codes", "COUPON", "BULK", "DISCOUNT", None, "LIVE_BEHAVIOR",
     "2026-10-01", "2027-01-01"),
    ("cmp_cashback", "Weekend Cashback Code", "COUPON", "SINGLE", "CASHBACK", None,
     "LIVE_BEHAVIOR", "2026-11-01", "2027-01-01"),
    ("cmp_streak", "Streak Credits", "CUSTOM_REWARD", None, None, "SELF_MANAGED_WALLET_CREDITS",
     "LIVE_BEHAVIOR", "2026-09-15", "2026-12-24"),
    ("cmp_movie", "Movie Night Voucher", "PARTNER_VOUCHER", None, None, None, "PAST_BEHAVIOR",
     "2026-09-30", "2026-12-14"),
    ("cmp_holiday", "Holiday Double Points", "LOYALTY_POINTS", None, None, None,
     "LIVE_BEHAVIOR", "2027-01-01", "2027-01-31"),
]  # fmt: skip
CENTS = [Decimal(c) / 100 for c in range(1, 100)]


def day_row(campaign: tuple, day: date, rng: random.Random) -> dict | None:
    cid, name, kind, ctype, benefit, custom, segment, start, _ = campaign
    if day < date.fromisoformat(start) or day == QUIET_DAY or cid == "cmp_holiday":
        return None
    if cid == "cmp_checkin" and LOYALTY_GAP[0] <= day <= LOYALTY_GAP[1]:
        return None
    if cid == "cmp_cashback" and day.weekday() < 5:  # weekends only
        return None
    n = rng.randint(5, 60) * (3 if day == date(2026, 11, 27) else 1)  # a Black Friday spike
    row = dict.fromkeys(MART_SCHEMA)
    row.update(
        campaign_id=cid, local_date=day, campaign_name=name, reward_type=kind, coupon_type=ctype,
        coupon_benefit=benefit, custom_reward_kind=custom, segment_kind=segment,
        rewards_distributed=n,
    )  # fmt: skip
    if kind == "LOYALTY_POINTS":
        row["points_distributed"] = Decimal(n * 10) + rng.choice(CENTS)
    elif kind == "COUPON":
        row["coupons_distributed"] = n - rng.randint(0, 3) if ctype == "BULK" else n
        # Cents that add up badly in binary floating point (0.1 + 0.2 ...).
        amount = Decimal(rng.randint(0, 40)) + rng.choice([Decimal("0.10"), Decimal("0.20")])
        row["discount_redeemed" if benefit == "DISCOUNT" else "cashback_points_credited"] = amount
    elif kind == "PARTNER_VOUCHER":
        row["voucher_codes_distributed"] = n
    else:
        failed = rng.randint(0, 6)
        row.update(webhook_sent=n, webhook_failed=failed, webhook_credits_rewarded=n * Decimal(5))
    return row


def write_published_marts(marts: Path, lake: Path) -> None:
    rng = random.Random(20261120)
    day = FIRST
    while day <= LAST:
        rows = [r for c in CAMPAIGNS if (r := day_row(c, day, rng))]
        folder = marts / "campaign_daily_stats" / f"date={day.isoformat()}"
        folder.mkdir(parents=True)
        pl.DataFrame(rows, schema=MART_SCHEMA).write_parquet(folder / "part-0.parquet")
        (folder / "_manifest.json").write_text(json.dumps({"rows": len(rows)}))
        day += timedelta(days=1)
    (lake / "dimensions").mkdir(parents=True)
    utc = pl.Datetime("us", "UTC")
    pl.DataFrame(
        [
            {
                "campaign_id": c[0],
                "name": c[1],
                "reward_type": c[2],
                "coupon_type": c[3],
                "coupon_benefit": c[4],
                "custom_reward_kind": c[5],
                "segment_kind": c[6],
                "start_at": datetime.fromisoformat(c[7]).replace(tzinfo=UTC),
                "end_at": datetime.fromisoformat(c[8]).replace(tzinfo=UTC),
            }  # fmt: skip
            for c in CAMPAIGNS
        ],
        schema_overrides={"start_at": utc, "end_at": utc},
    ).write_parquet(lake / "dimensions" / "campaigns.parquet")


def run_asset(marts_uri: str, lake: Path, endpoint: str | None = None):
    # Any partition recomputes everything; an old one exists whatever the clock says.
    partitions = DailyPartitionsDefinition(start_date="2020-01-01", timezone=TZ)
    return materialize(
        build_stats_assets(partitions, ZoneInfo(TZ)),
        partition_key="2020-01-01",
        resources={
            "marts": StorageResource(uri=marts_uri, s3_endpoint_url=endpoint),
            "lake": LakeResource(uri=str(lake)),
        },
    )


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("stats")
    marts, lake = root / "marts", root / "lake"
    write_published_marts(marts, lake)
    result = run_asset(str(marts), lake)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("stats__campaign_stats")
    return marts, lake, materialization.metadata


def load(marts: Path, campaign_id: str) -> dict:
    return loads((marts / "stats" / f"{campaign_id}.json").read_text())


@pytest.fixture(scope="module")
def sql(published):
    marts = published[0]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(
        "CREATE VIEW mart AS SELECT * FROM read_parquet("
        f"'{marts}/campaign_daily_stats/date=*/part-0.parquet', hive_partitioning = false)"
    )
    yield con
    con.close()


# ----------------------------------------------------------------------------- numbers
def test_totals_match_plain_sql(published, sql):
    marts = published[0]
    rows = sql.sql(
        "SELECT campaign_id, sum(rewards_distributed), sum(points_distributed), "
        "sum(coupons_distributed), sum(discount_redeemed), sum(cashback_points_credited), "
        "sum(voucher_codes_distributed), sum(webhook_credits_rewarded), sum(webhook_sent), "
        "sum(webhook_failed) FROM mart GROUP BY ALL"
    ).fetchall()
    names = ["rewards_distributed", "points_distributed", "coupons_distributed",
             "discount_redeemed", "cashback_points_credited", "voucher_codes_distributed",
             "webhook_credits_rewarded", "webhook_sent", "webhook_failed"]  # fmt: skip
    for cid, *sums in rows:
        expected = {n: v for n, v in zip(names, sums, strict=True) if v is not None}
        assert load(marts, cid)["totals"] == expected, cid
        text = (marts / "stats" / f"{cid}.json").read_text()
        for n, v in expected.items():  # JSON numbers; amounts with exactly their 2 decimals
            number = f"{v:.2f}" if isinstance(v, Decimal) else str(v)
            assert re.search(f'"{n}": {re.escape(number)}[,\n]', text), (cid, n)
    assert load(marts, "cmp_holiday")["totals"] == {
        "rewards_distributed": 0,
        "points_distributed": Decimal("0.00"),
    }
    assert '"points_distributed": 0.00' in (marts / "stats" / "cmp_holiday.json").read_text()


def test_weekly_series_with_its_gap_matches_plain_sql(published, sql):
    """Monday weeks over the campaign's days in range, empty weeks 0, % change with lag()."""
    expected = sql.sql(
        f"""
        WITH weeks AS (
            SELECT unnest(generate_series(date_trunc('week', DATE '{FIRST}'),
                                          DATE '{LAST}', INTERVAL 7 DAY))::DATE AS w
        ), sums AS (
            SELECT w, coalesce(sum(rewards_distributed), 0) AS v
            FROM weeks LEFT JOIN mart
              ON date_trunc('week', local_date) = w AND campaign_id = 'cmp_checkin'
            GROUP BY w
        )
        SELECT strftime(w, '%Y-%m-%d'), v::BIGINT,
               CASE WHEN lag(v) OVER (ORDER BY w) <> 0 THEN
                   round((v - lag(v) OVER (ORDER BY w)) * 100.0 / lag(v) OVER (ORDER BY w), 2)
               END
        FROM sums ORDER BY w
        """
    ).fetchall()
    actual = load(published[0], "cmp_checkin")["series"]["week"]["rewards_distributed"]
    assert [(p["period_start"], p["value"], p["pct_change"]) for p in actual] == [
        (w, v, None if pct is None else Decimal(str(pct))) for w, v, pct in expected
    ]
    gap_week = next(p for p in actual if p["period_start"] == LOYALTY_GAP[0].isoformat())
    after_gap = actual[actual.index(gap_week) + 1]
    assert gap_week["value"] == 0 and after_gap["pct_change"] is None


def test_monthly_amounts_are_exact_and_match_plain_sql(published, sql):
    expected = sql.sql(
        "SELECT strftime(date_trunc('month', local_date), '%Y-%m-%d'), sum(discount_redeemed) "
        "FROM mart WHERE campaign_id = 'cmp_codes' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    actual = load(published[0], "cmp_codes")["series"]["month"]["discount_redeemed"]
    assert [(p["period_start"], p["value"]) for p in actual] == expected
    assert [p["period_start"] for p in actual] == ["2026-10-01", "2026-11-01", "2026-12-01"]


def test_series_start_with_the_campaign_life_not_its_first_reward(published):
    """Weekend Cashback starts on Sunday 1 Nov and has rewards on weekends only: its days
    run from 1 Nov, weekdays are 0."""
    days = load(published[0], "cmp_cashback")["series"]["day"]["rewards_distributed"]
    assert days[0]["period_start"] == "2026-11-01" and days[-1]["period_start"] == "2026-12-06"
    assert days[1]["value"] == 0 and days[1]["pct_change"] == -100.0
    assert days[2]["pct_change"] is None  # previous day was 0


def test_past_behaviour_campaign_has_totals_only(published):
    movie = load(published[0], "cmp_movie")
    assert movie["series"] == {}
    assert movie["totals"]["voucher_codes_distributed"] > 0


def test_metadata_holds_the_kpi_table_small_charts_and_the_index(published):
    marts, _, metadata = published
    assert "cmp_streak" in metadata["kpis"].value
    charts = metadata["charts"].value
    assert charts.count("data:image/png;base64,") == 4  # the live campaigns with activity
    assert len(charts) < 150_000
    assert metadata["index_page"].value == str(marts / "stats" / "index.html")
    assert sorted(p.name for p in (marts / "stats" / "images").iterdir()) == [
        "cmp_cashback.png", "cmp_checkin.png", "cmp_codes.png", "cmp_streak.png",
    ]  # fmt: skip


def test_metadata_charts_are_capped_to_the_busiest_live_campaigns():
    """14 live campaigns with images: the 12 with the most rewards go inline (docs/stats.md
    gives the sizes behind the cap), the rest are named as a count."""
    live = [
        campaign_stats(
            Campaign(f"c{i:02d}", reward_type="PARTNER_VOUCHER", segment_kind="LIVE_BEHAVIOR"),
            [{"local_date": FIRST, "rewards_distributed": i, "voucher_codes_distributed": i}],
        )
        for i in range(1, 15)
    ]
    text = charts_markdown(live, {s.campaign.campaign_id: b"png" for s in live})
    assert METADATA_CHARTS == 12 and text.count("data:image/png;base64,") == 12
    assert "(`c14`)" in text and "(`c03`)" in text and "(`c02`)" not in text
    assert text.endswith("2 more campaign(s) with charts: see the pages or `stats/images/`.")


# ----------------------------------------------------------------------------- CLI
def settings_for(marts: Path, lake: Path) -> Settings:
    return Settings.from_env(
        {"PROMO_MARTS_URI": str(marts), "PROMO_LAKE_URI": str(lake), "PROMO_ACCOUNT_TIMEZONE": TZ}
    )


class Args:
    def __init__(self, campaign, by=None, json=False):
        self.campaign, self.by, self.json = campaign, by, json


def test_cli_json_is_the_published_shape(published, capsys):
    marts, lake, _ = published
    assert cmd_stats(Args("cmp_codes", json=True), settings_for(marts, lake)) == 0
    # Byte for byte: reading and printing again loses no digit of an amount.
    assert capsys.readouterr().out == (marts / "stats" / "cmp_codes.json").read_text()
    assert cmd_stats(Args("cmp_codes", by="month", json=True), settings_for(marts, lake)) == 0
    out = loads(capsys.readouterr().out)
    assert list(out["series"]) == ["month"]
    assert out["page"] == (marts / "stats" / "cmp_codes.html").as_uri()


def test_cli_table(published, capsys):
    marts, lake, _ = published
    assert cmd_stats(Args("cmp_checkin", by="week"), settings_for(marts, lake)) == 0
    out = capsys.readouterr().out
    assert "Daily Check-in Points (cmp_checkin)" in out
    gap = next(line for line in out.splitlines() if line.strip().startswith(str(LOYALTY_GAP[0])))
    assert "  0 (-100.0%)" in gap
    assert "in Europe/Berlin; weeks start Monday" in out and "page: file://" in out


def test_cli_unknown_campaign_lists_the_known_ones(published, capsys):
    marts, lake, _ = published
    assert cmd_stats(Args("cmp_nope"), settings_for(marts, lake)) == 2
    err = capsys.readouterr().err
    assert "'cmp_nope'" in err and "cmp_checkin, cmp_codes" in err


def test_cli_without_published_stats_says_to_materialize(tmp_path, capsys):
    assert cmd_stats(Args("cmp_codes"), settings_for(tmp_path / "marts", tmp_path)) == 1
    assert "promo-reports materialize" in capsys.readouterr().err


def test_stats_publish_to_s3(published, s3_bucket, s3_endpoint):
    import boto3

    marts, lake, _ = published
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for path in (marts / "campaign_daily_stats").rglob("part-0.parquet"):
        client.upload_file(str(path), s3_bucket, f"marts/{path.relative_to(marts)}")
    assert run_asset(f"s3://{s3_bucket}/marts", lake, s3_endpoint).success
    index = loads(client.get_object(Bucket=s3_bucket, Key="marts/stats/index.json")["Body"].read())
    codes = next(c for c in index["campaigns"] if c["campaign_id"] == "cmp_codes")
    assert codes["page"] == f"s3://{s3_bucket}/marts/stats/cmp_codes.html"
    assert codes["totals"] == load(marts, "cmp_codes")["totals"]


def test_week_start_setting_reaches_the_asset_pages_and_cli(tmp_path, capsys):
    """PROMO_WEEK_START=sunday, through Settings and the code location's definitions."""
    from orchestration.definitions import build_definitions

    marts, lake = tmp_path / "marts", tmp_path / "lake"
    write_published_marts(marts, lake)
    settings = Settings.from_env(
        {**make_env(tmp_path, PROMO_ACCOUNT_TIMEZONE=TZ), "PROMO_MARTS_URI": str(marts),
         "PROMO_LAKE_URI": str(lake), "PROMO_WEEK_START": "sunday"}
    )  # fmt: skip
    stats_def = build_definitions(settings).resolve_assets_def(STATS_KEY)
    assert "week (from Sunday)" in stats_def.descriptions_by_key[STATS_KEY]
    # The definition comes with the resources of `settings` bound: the folders above.
    result = materialize([stats_def], partition_key=settings.partition_start.isoformat())
    assert result.success
    weeks = load(marts, "cmp_checkin")["series"]["week"]["rewards_distributed"]
    assert {date.fromisoformat(p["period_start"]).strftime("%A") for p in weeks} == {"Sunday"}
    assert weeks[0]["period_start"] == "2026-10-18"  # the Sunday before Tuesday 20 Oct
    assert loads((marts / "stats" / "index.json").read_text())["week_start"] == "SUNDAY"
    assert cmd_stats(Args("cmp_checkin", by="week"), settings) == 0
    assert "weeks start Sunday" in capsys.readouterr().out


# ----------------------------------------------------------------------------- raw files
def spec_totals(row: dict) -> dict:
    """The KPIs SPEC "Outputs 3" gives a campaign of this configuration, from raw sums."""
    kind, out = row["reward_type"], {"rewards_distributed": row["rewards"]}
    if kind == "LOYALTY_POINTS":
        out["points_distributed"] = row["points"]
    elif kind == "COUPON":
        # Single code: every hand-out of the one code; bulk: the distinct codes handed out.
        single = row["coupon_type"] == "SINGLE"
        out["coupons_distributed"] = row["coupon_handouts"] if single else row["distinct_codes"]
        if row["coupon_benefit"] == "DISCOUNT":
            out["discount_redeemed"] = row["discount"]
        else:
            out["cashback_points_credited"] = row["cashback"]
    elif kind == "PARTNER_VOUCHER":
        out["voucher_codes_distributed"] = row["vouchers"]
    elif kind == "CUSTOM_REWARD":
        if row["custom_reward_kind"] == "SELF_MANAGED_WALLET_CREDITS":
            out["webhook_credits_rewarded"] = row["credits"]
        out |= {"webhook_sent": row["sent"], "webhook_failed": row["failed"]}
    return out


RAW_TOTALS = """
WITH events AS (
    SELECT
        campaign_id,
        count(*) FILTER (WHERE status = 'SUCCESS') AS rewards,
        sum(points) FILTER (WHERE status = 'SUCCESS') AS points,
        count(coupon_code) FILTER (WHERE status = 'SUCCESS') AS coupon_handouts,
        count(DISTINCT coupon_code) FILTER (WHERE status = 'SUCCESS') AS distinct_codes,
        count(voucher_code) FILTER (WHERE status = 'SUCCESS') AS vouchers,
        count(*) FILTER (WHERE webhook_status = 'SENT') AS sent,
        count(*) FILTER (WHERE webhook_status = 'FAILED') AS failed,
        sum(credits) FILTER (WHERE webhook_status = 'SENT') AS credits
    FROM raw_reward_events GROUP BY campaign_id
), redeemed AS (
    SELECT campaign_id, sum(discount_amount) AS discount, sum(cashback_points) AS cashback
    FROM raw_coupon_redemptions GROUP BY campaign_id
)
SELECT c.campaign_id, c.reward_type, c.coupon_type, c.coupon_benefit, c.custom_reward_kind,
       c.segment_kind, coalesce(rewards, 0) AS rewards, coalesce(points, 0) AS points,
       coalesce(coupon_handouts, 0) AS coupon_handouts,
       coalesce(distinct_codes, 0) AS distinct_codes, coalesce(vouchers, 0) AS vouchers,
       coalesce(sent, 0) AS sent, coalesce(failed, 0) AS failed,
       coalesce(credits, 0) AS credits, coalesce(discount, 0) AS discount,
       coalesce(cashback, 0) AS cashback
FROM raw_campaigns c LEFT JOIN events USING (campaign_id) LEFT JOIN redeemed USING (campaign_id)
ORDER BY c.campaign_id
"""


def cli_json(settings: Settings, campaign_id: str, capsys, by: str | None = None) -> dict:
    assert cmd_stats(Args(campaign_id, by=by, json=True), settings) == 0
    return loads(capsys.readouterr().out)


def test_cli_totals_match_plain_sql_over_the_raw_files(berlin_pipeline, capsys):
    """Generator logs -> ingestion -> dbt -> publish -> stats (one Dagster run) -> CLI, for
    every campaign of the sample data, against SQL over the raw JSON lines (redeliveries
    dropped by DISTINCT)."""
    settings, con, _ = berlin_pipeline
    cursor = con.execute(RAW_TOTALS)
    names = [c[0] for c in cursor.description]
    raw = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    seen = set()
    for row in raw:
        out = cli_json(settings, row["campaign_id"], capsys)
        assert out["totals"] == spec_totals(row), row["campaign_id"]
        if row["segment_kind"] == "PAST_BEHAVIOR":
            assert out["series"] == {}, row["campaign_id"]
        seen.add((row["reward_type"], row["coupon_type"], row["custom_reward_kind"]))
        for kpi, value in out["totals"].items():
            assert type(value) is (Decimal if kpi.endswith(AMOUNT_SUFFIXES) else int), kpi
    # The sample data exercises every configuration the SPEC distinguishes.
    assert seen >= {
        ("LOYALTY_POINTS", None, None),
        ("COUPON", "SINGLE", None),
        ("COUPON", "BULK", None),
        ("PARTNER_VOUCHER", None, None),
        ("CUSTOM_REWARD", None, "SELF_MANAGED_WALLET_CREDITS"),
        ("CUSTOM_REWARD", None, "PHYSICAL_DIGITAL"),
    }
    by_id = {r["campaign_id"]: r for r in raw}
    # Not a comparison of zeros: the distinctions the SPEC makes show in this data.
    single = by_id["cmp_welcome10"]
    assert single["coupon_handouts"] > single["distinct_codes"] == 1  # one code, many times
    assert by_id["cmp_personal_discount"]["distinct_codes"] > 1
    assert by_id["cmp_streak_credits"]["credits"] > 0 and by_id["cmp_streak_credits"]["failed"] > 0
    assert by_id["cmp_welcome10"]["discount"] > 0


AMOUNT_SUFFIXES = ("points_distributed", "_redeemed", "_credited", "_rewarded")


def test_cli_series_match_plain_sql_over_the_raw_files(berlin_pipeline, capsys):
    """Rewards of a loyalty campaign by Berlin day (across the 25-hour day of 25 Oct), and a
    coupon's redeemed discount by Monday week, with % change, from the raw files."""
    settings, con, _ = berlin_pipeline
    daily = con.execute(
        f"""
        WITH days AS (
            SELECT unnest(generate_series(DATE '{LOCAL_FIRST}', DATE '{LOCAL_LAST}',
                                          INTERVAL 1 DAY))::DATE AS d
        ), sums AS (
            SELECT d, count(e.event_id) AS v FROM days LEFT JOIN raw_reward_events e
              ON local_day(e.occurred_at) = d AND e.campaign_id = 'cmp_everyday_points'
                 AND e.status = 'SUCCESS'
            GROUP BY d
        )
        SELECT strftime(d, '%Y-%m-%d'), v,
               round((v - lag(v) OVER w) * 100.0 / nullif(lag(v) OVER w, 0), 2)
        FROM sums WINDOW w AS (ORDER BY d) ORDER BY d
        """
    ).fetchall()
    out = cli_json(settings, "cmp_everyday_points", capsys, by="day")
    actual = out["series"]["day"]["rewards_distributed"]
    assert [(p["period_start"], p["value"], p["pct_change"]) for p in actual] == [
        (d, v, None if pct is None else Decimal(str(pct))) for d, v, pct in daily
    ]
    weekly = con.execute(
        """
        SELECT strftime(date_trunc('week', local_day(redeemed_at)), '%Y-%m-%d') AS w,
               sum(discount_amount) AS v
        FROM raw_coupon_redemptions WHERE campaign_id = 'cmp_welcome10'
        GROUP BY w ORDER BY w
        """
    ).fetchall()
    out = cli_json(settings, "cmp_welcome10", capsys, by="week")
    actual = out["series"]["week"]["discount_redeemed"]
    assert [(p["period_start"], p["value"]) for p in actual] == weekly
    assert len(weekly) == 2 and all(v > 0 for _, v in weekly)
    change = (weekly[1][1] - weekly[0][1]) * 100 / weekly[0][1]
    assert actual[1]["pct_change"] == change.quantize(Decimal("0.01"), ROUND_HALF_UP)


# ----------------------------------------------------------------------------- browser
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install_browser.sh (CI installs it first)",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser, published):
    """Open a stats page from file:// with every network request refused; returns the page
    and the problems seen (console errors, page errors, attempted requests)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    problems: list[str] = []

    def refuse(route):
        problems.append(f"network request: {route.request.url}")
        route.abort()

    context.route("http*://**/*", refuse)

    def opener(name: str):
        page = context.new_page()
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.goto((published[0] / "stats" / f"{name}.html").as_uri())
        page.wait_for_load_state("load")
        return page, problems

    yield opener
    context.close()


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def visible_points(page, chart: str = "#chart-0") -> int:
    return page.locator(f"{chart} .scatterlayer .trace:visible .points path").count()


def hover_point(page, index: int, chart: str = "#chart-0") -> str:
    """Move the real mouse over a point; returns the hover label's text."""
    page.locator(chart).scroll_into_view_if_needed()
    points = page.locator(f"{chart} .scatterlayer .trace:visible .points path")
    box = points.nth(index).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    label = page.locator(f"{chart} .hoverlayer .hovertext")
    label.wait_for()
    return " ".join(label.all_text_contents())


def test_index_page_lists_every_campaign(open_page):
    page, problems = open_page("index")
    links = page.locator("tbody a")
    assert links.count() == len(CAMPAIGNS)
    assert "Europe/Berlin" in page.locator("footer").inner_text()
    screenshot(page, "index")
    links.filter(has_text="Daily Check-in Points").click()
    page.wait_for_selector("#chart-0 .scatterlayer .trace")
    assert page.locator("h1").inner_text() == "Daily Check-in Points"
    assert problems == []


def test_loyalty_page_switches_periods_and_hovers_value_and_change(open_page, published):
    page, problems = open_page("cmp_checkin")
    page.wait_for_selector("#chart-0 .scatterlayer .trace")
    series = load(published[0], "cmp_checkin")["series"]
    assert visible_points(page) == len(series["day"]["rewards_distributed"]) == 48
    assert "Day (Europe/Berlin)" in page.locator("#chart-0 .g-xtitle").text_content()
    screenshot(page, "loyalty_live")

    page.get_by_role("button", name="Month").click()
    assert visible_points(page) == len(series["month"]["rewards_distributed"]) == 3
    page.get_by_role("button", name="Week").click()
    weeks = series["week"]["rewards_distributed"]
    assert visible_points(page) == len(weeks) == 7
    assert page.get_by_role("button", name="Week").get_attribute("aria-pressed") == "true"

    i = next(i for i, p in enumerate(weeks) if i and p["pct_change"] not in (None, 0))
    label = hover_point(page, i)
    assert f"Rewards distributed: {weeks[i]['value']:,}" in label
    assert f"{weeks[i]['pct_change']:+.1f}% vs previous week" in label
    after_gap = next(i for i, p in enumerate(weeks) if p["period_start"] > str(LOYALTY_GAP[0]))
    assert "previous week was 0: no % change" in hover_point(page, after_gap)
    assert "no previous week to compare with" in hover_point(page, 0)
    screenshot(page, "loyalty_live_week_hover")
    assert problems == []


def test_coupon_page_hover_shows_exact_amounts(open_page, published):
    page, problems = open_page("cmp_codes")
    page.wait_for_selector("#chart-2 .scatterlayer .trace")
    assert page.locator(".chart").count() == 3  # rewards, coupons, discount redeemed
    page.get_by_role("button", name="Month").click()
    month = load(published[0], "cmp_codes")["series"]["month"]["discount_redeemed"]
    label = hover_point(page, 1, "#chart-2")
    assert f"Discount redeemed: {Decimal(month[1]['value']):,.2f}" in label
    assert "November 2026" in label
    page.mouse.move(0, 0)
    screenshot(page, "coupon")
    assert problems == []


def test_custom_reward_page(open_page):
    page, problems = open_page("cmp_streak")
    page.wait_for_selector("#chart-2 .scatterlayer .trace")
    assert page.locator("#chart-1").get_attribute("data-kpis") == "webhook_sent webhook_failed"
    assert page.locator("#chart-2").get_attribute("data-kpis") == "webhook_credits_rewarded"
    page.get_by_role("button", name="Week").click()
    screenshot(page, "custom_reward")
    assert problems == []


def test_past_behaviour_page_has_tiles_and_a_note_instead_of_charts(open_page):
    page, problems = open_page("cmp_movie")
    assert page.locator(".tile").count() == 2
    assert page.locator(".chart").count() == 0
    assert "past-behaviour segment" in page.locator(".note").inner_text()
    screenshot(page, "past_behaviour")
    assert problems == []


def test_week_start_is_a_factory_setting():
    partitions = DailyPartitionsDefinition(start_date="2020-01-01", timezone=TZ)
    (sunday,) = build_stats_assets(partitions, ZoneInfo(TZ), Weekday.parse("SUNDAY"))
    assert "week (from Sunday)" in sunday.descriptions_by_key[sunday.key]
    with pytest.raises(ValueError, match="not a weekday"):
        Weekday.parse("FUNDAY")
