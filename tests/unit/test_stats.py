import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orchestration.settings import Settings, SettingsError
from promo.stats import (
    Campaign,
    all_campaign_stats,
    applicable_kpis,
    build_series,
    campaign_stats,
    dumps,
    format_value,
    json_number,
    loads,
    own_charts,
    pct_change,
    period_start,
    series_range,
)
from promo.timeutil import Weekday

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY, SUNDAY = Weekday.MONDAY, Weekday.SUNDAY


def d(text: str) -> date:
    return date.fromisoformat(text)


def values(points) -> list:
    return [(p.period_start.isoformat(), p.value, p.pct_change) for p in points]


# ----------------------------------------------------------------------------- KPI choice
@pytest.mark.parametrize(
    ("reward_type", "benefit", "kind", "expected"),
    [
        ("LOYALTY_POINTS", None, None, ("rewards_distributed", "points_distributed")),
        (
            "COUPON",
            "DISCOUNT",
            None,
            ("rewards_distributed", "coupons_distributed", "discount_redeemed"),
        ),
        (
            "COUPON",
            "CASHBACK",
            None,
            ("rewards_distributed", "coupons_distributed", "cashback_points_credited"),
        ),
        ("COUPON", None, None, ("rewards_distributed", "coupons_distributed")),
        ("PARTNER_VOUCHER", None, None, ("rewards_distributed", "voucher_codes_distributed")),
        (
            "CUSTOM_REWARD",
            None,
            "SELF_MANAGED_WALLET_CREDITS",
            ("rewards_distributed", "webhook_credits_rewarded", "webhook_sent", "webhook_failed"),
        ),
        (
            "CUSTOM_REWARD",
            None,
            "PHYSICAL_DIGITAL",
            ("rewards_distributed", "webhook_sent", "webhook_failed"),
        ),
        (None, None, None, ("rewards_distributed",)),  # campaign missing from the snapshot
    ],
)
def test_kpis_follow_the_reward_type(reward_type, benefit, kind, expected):
    assert applicable_kpis(reward_type, benefit, kind) == expected


def test_benefit_and_custom_kind_only_matter_for_their_own_reward_type():
    assert applicable_kpis("LOYALTY_POINTS", "DISCOUNT", "SELF_MANAGED_WALLET_CREDITS") == (
        "rewards_distributed",
        "points_distributed",
    )


def test_own_charts_put_webhook_outcomes_together_and_first():
    kpis = applicable_kpis("CUSTOM_REWARD", None, "SELF_MANAGED_WALLET_CREDITS")
    assert own_charts(kpis) == [("webhook_sent", "webhook_failed"), ("webhook_credits_rewarded",)]
    coupon = applicable_kpis("COUPON", "CASHBACK")
    assert own_charts(coupon) == [("coupons_distributed",), ("cashback_points_credited",)]


@pytest.mark.parametrize(
    ("text", "expected"), [("MONDAY", 0), ("sunday", 6), ("Sun", 6), (" wed ", 2)]
)
def test_week_start_accepts_names(text, expected):
    assert Weekday.parse(text).index == expected


@pytest.mark.parametrize("bad", ["", "Mo", "funday", "7", "-1"])
def test_week_start_refuses_anything_else(bad):
    with pytest.raises(ValueError, match="not a weekday"):
        Weekday.parse(bad)


# ----------------------------------------------------------------------------- periods
def test_period_starts_across_a_year_turn():
    new_year = d("2026-01-01")  # a Thursday
    assert period_start(new_year, "day") == new_year
    assert period_start(new_year, "week", MONDAY) == d("2025-12-29")
    assert period_start(new_year, "week", SUNDAY) == d("2025-12-28")
    assert period_start(new_year, "month") == new_year
    assert period_start(d("2025-12-31"), "month") == d("2025-12-01")
    # A day on the week-start weekday starts its own week.
    assert period_start(d("2025-12-28"), "week", SUNDAY) == d("2025-12-28")


# ----------------------------------------------------------------------------- % change
@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (15, 10, 50.0),
        (5, 10, -50.0),
        (0, 10, -100.0),
        (10, 10, 0.0),
        (7, 0, None),  # from nothing: no percentage (not infinity, not 0)
        (0, 0, None),
        (7, None, None),  # no previous period
        (Decimal("0.30"), Decimal("0.20"), 50.0),
        (2, 3, -33.33),
    ],
)
def test_pct_change(current, previous, expected):
    assert pct_change(current, previous) == expected


# ----------------------------------------------------------------------------- series
DAILY = {  # a gap from 2025-12-31 to 2026-01-04, a year turn, a month turn
    d("2025-12-27"): 4,  # Saturday
    d("2025-12-29"): 6,  # Monday
    d("2025-12-30"): 2,
    d("2026-01-05"): 10,  # Monday
    d("2026-02-02"): 3,
}


def test_daily_series_fills_gaps_with_zero_and_compares_with_the_day_before():
    points = build_series(DAILY, d("2025-12-29"), d("2026-01-06"), "day")
    assert values(points) == [
        ("2025-12-29", 6, None),  # first period: nothing to compare with
        ("2025-12-30", 2, -66.67),
        ("2025-12-31", 0, -100.0),
        ("2026-01-01", 0, None),  # previous was 0
        ("2026-01-02", 0, None),
        ("2026-01-03", 0, None),
        ("2026-01-04", 0, None),
        ("2026-01-05", 10, None),
        ("2026-01-06", 0, -100.0),
    ]


def test_weeks_starting_monday_across_the_year_turn():
    points = build_series(DAILY, d("2025-12-27"), d("2026-02-02"), "week", MONDAY)
    assert values(points) == [
        ("2025-12-22", 4, None),  # partial week: only 27-28 Dec in range
        ("2025-12-29", 8, 100.0),  # holds 29 Dec .. 4 Jan: both years
        ("2026-01-05", 10, 25.0),
        ("2026-01-12", 0, -100.0),
        ("2026-01-19", 0, None),
        ("2026-01-26", 0, None),
        ("2026-02-02", 3, None),
    ]


def test_weeks_starting_sunday_group_other_days():
    points = build_series(DAILY, d("2025-12-27"), d("2026-01-10"), "week", SUNDAY)
    assert values(points) == [
        ("2025-12-21", 4, None),
        ("2025-12-28", 8, 100.0),  # Sunday 28 Dec .. Saturday 3 Jan
        ("2026-01-04", 10, 25.0),  # Sunday 4 Jan holds Monday 5 Jan
    ]


@pytest.mark.parametrize("setting", ["sunday", "SUNDAY", "Sun"])
def test_week_start_setting_groups_a_campaign_into_sunday_weeks(setting):
    week_start = Settings.from_env({"PROMO_WEEK_START": setting}).week_start
    campaign = Campaign("c", reward_type="LOYALTY_POINTS", segment_kind="LIVE_BEHAVIOR")
    rows = [  # Saturday, Sunday, Monday: Sunday starts a new week, Monday does not
        {"local_date": d("2026-03-07"), "rewards_distributed": 2, "points_distributed": 20},
        {"local_date": d("2026-03-08"), "rewards_distributed": 3, "points_distributed": 30},
        {"local_date": d("2026-03-09"), "rewards_distributed": 5, "points_distributed": 50},
    ]
    weeks = campaign_stats(campaign, rows, week_start=week_start).series["week"]
    assert values(weeks["rewards_distributed"]) == [
        ("2026-03-01", 2, None),  # partial week: Saturday 7 Mar only
        ("2026-03-08", 8, 300.0),  # Sunday 8 + Monday 9 Mar
    ]
    monday = campaign_stats(campaign, rows).series["week"]  # the default
    assert values(monday["rewards_distributed"]) == [
        ("2026-03-02", 5, None),
        ("2026-03-09", 5, 0.0),
    ]


def test_week_start_setting_defaults_to_monday():
    assert Settings.from_env({}).week_start is Weekday.MONDAY
    assert Settings.from_env({"PROMO_WEEK_START": ""}).week_start is Weekday.MONDAY


@pytest.mark.parametrize("bad", ["funday", "Mo", "7", "0"])
def test_bad_week_start_setting_is_refused_naming_the_variable(bad):
    with pytest.raises(SettingsError, match=f"PROMO_WEEK_START='{bad}' is not a weekday name"):
        Settings.from_env({"PROMO_WEEK_START": bad})


def test_months_with_an_empty_month_inside_the_range():
    points = build_series(DAILY, d("2025-12-27"), d("2026-03-15"), "month")
    assert values(points) == [
        ("2025-12-01", 12, None),
        ("2026-01-01", 10, -16.67),
        ("2026-02-01", 3, -70.0),
        ("2026-03-01", 0, -100.0),
    ]


def test_days_outside_the_range_are_left_out():
    points = build_series(DAILY, d("2025-12-29"), d("2025-12-30"), "month")
    assert values(points) == [("2025-12-01", 8, None)]


def test_bulk_coupon_weeks_are_sums_of_daily_distinct_counts():
    """Documented approximation: the mart has distinct codes per day; a week adds days up
    (codes are single-use, so a code is never handed out on two days)."""
    campaign = Campaign("c", reward_type="COUPON", coupon_type="BULK", segment_kind="LIVE_BEHAVIOR")
    rows = [
        {"local_date": d("2026-03-02"), "rewards_distributed": 5, "coupons_distributed": 5},
        {"local_date": d("2026-03-03"), "rewards_distributed": 4, "coupons_distributed": 3},
    ]
    stats = campaign_stats(campaign, rows)
    assert values(stats.series["week"]["coupons_distributed"]) == [("2026-03-02", 8, None)]


# ----------------------------------------------------------------------------- exactness
def test_amounts_stay_exact_decimals():
    campaign = Campaign(
        "c", reward_type="COUPON", coupon_benefit="DISCOUNT", segment_kind="LIVE_BEHAVIOR"
    )
    rows = [
        {
            "local_date": d("2026-03-02"),
            "rewards_distributed": 1,
            "discount_redeemed": Decimal("0.10"),
        },
        {
            "local_date": d("2026-03-03"),
            "rewards_distributed": 1,
            "discount_redeemed": Decimal("0.20"),
        },
    ]
    stats = campaign_stats(campaign, rows)
    assert stats.totals["discount_redeemed"] == Decimal("0.30")
    text = dumps(stats.to_json())
    assert '"discount_redeemed": 0.30' in text  # a JSON number, with its cents
    assert '"value": 0.30,' in text  # the week's sum
    assert "0.30000000000000004" not in text
    # The float sum a naive encoder would have written: the bug this guards against.
    assert json.dumps(0.10 + 0.20) == "0.30000000000000004"
    week = loads(text)["series"]["week"]["discount_redeemed"]
    assert week == [{"period_start": "2026-03-02", "value": Decimal("0.30"), "pct_change": None}]
    assert stats.to_json()["series"]["day"]["discount_redeemed"][1]["pct_change"] == 100.0


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7, "7"),
        (Decimal("5"), "5.00"),  # amounts always show their cents
        (Decimal("12.3"), "12.30"),
        (Decimal("0.125"), "0.125"),  # never rounded
        (Decimal("1E+3"), "1000.00"),  # never exponent notation
        (Decimal("-0.10"), "-0.10"),
        # Beyond what a float holds exactly (2**53 cents and more): digits kept as they are.
        (Decimal("123456789012345678.91"), "123456789012345678.91"),
    ],
)
def test_json_numbers_are_exact(value, text):
    assert dumps({"v": json_number(value)}, indent=0) == '{\n"v": ' + text + "\n}"
    assert loads(dumps(json_number(value))) == value


def test_dumps_lays_out_like_the_standard_encoder():
    payload = {"a": [1, -47.93, None, {"b": "é", "c": []}, {}], "d": True, "e": 'x"y'}
    assert dumps(payload) == json.dumps(payload, indent=2, ensure_ascii=False)
    with pytest.raises(ValueError, match="no JSON form"):
        dumps(Decimal("NaN"))


def test_many_cents_add_up_exactly_in_json():
    """A thousand 0.10 discounts: float addition drifts, the published JSON does not."""
    campaign = Campaign(
        "c", reward_type="COUPON", coupon_benefit="DISCOUNT", segment_kind="LIVE_BEHAVIOR"
    )
    start = d("2026-01-01")
    rows = [
        {
            "local_date": start + timedelta(days=i % 90),
            "rewards_distributed": 1,
            "discount_redeemed": Decimal("0.10"),
        }
        for i in range(1000)
    ]
    assert sum([0.10] * 1000) != 100.0  # what a float sum would publish
    out = loads(dumps(campaign_stats(campaign, rows).to_json()))
    assert out["totals"]["discount_redeemed"] == Decimal("100.00")
    assert sum(p["value"] for p in out["series"]["month"]["discount_redeemed"]) == Decimal("100.00")


def test_values_for_people():
    assert format_value("rewards_distributed", 1234567) == "1,234,567"
    assert format_value("points_distributed", Decimal("6132.00")) == "6,132"
    assert format_value("points_distributed", "62340.36") == "62,340.36"
    assert format_value("discount_redeemed", Decimal("12")) == "12.00"


# ----------------------------------------------------------------------------- campaigns
def test_past_behaviour_campaigns_get_totals_only():
    campaign = Campaign("c", reward_type="LOYALTY_POINTS", segment_kind="PAST_BEHAVIOR")
    rows = [{"local_date": d("2026-03-02"), "rewards_distributed": 3, "points_distributed": 30}]
    out = campaign_stats(campaign, rows).to_json()
    assert out["totals"] == {"rewards_distributed": 3, "points_distributed": Decimal("30.00")}
    assert '"points_distributed": 30.00' in dumps(out)
    assert out["series"] == {}


def test_json_shape_and_the_by_filter():
    campaign = Campaign("c", "Name", reward_type="PARTNER_VOUCHER", segment_kind="LIVE_BEHAVIOR")
    rows = [
        {"local_date": d("2026-03-02"), "rewards_distributed": 2, "voucher_codes_distributed": 2}
    ]
    stats = campaign_stats(campaign, rows)
    stats.page = "file:///x/stats/c.html"
    out = stats.to_json(by=["month"])
    assert list(out) == [
        "campaign_id",
        "campaign_name",
        "reward_type",
        "segment_kind",
        "totals",
        "series",
        "page",
    ]
    assert list(out["series"]) == ["month"]
    assert list(out["series"]["month"]) == ["rewards_distributed", "voucher_codes_distributed"]
    assert list(stats.to_json()["series"]) == ["day", "week", "month"]


def test_null_kpis_of_a_day_count_as_nothing():
    """A day built under an older campaign configuration may hold NULL for a KPI that
    applies now: it adds nothing, and the KPI is still 0 on that day, not missing."""
    campaign = Campaign("c", reward_type="LOYALTY_POINTS", segment_kind="LIVE_BEHAVIOR")
    rows = [
        {"local_date": d("2026-03-02"), "rewards_distributed": 2, "points_distributed": None},
        {"local_date": d("2026-03-03"), "rewards_distributed": 1, "points_distributed": Decimal(5)},
    ]
    stats = campaign_stats(campaign, rows)
    assert stats.totals == {"rewards_distributed": 3, "points_distributed": Decimal("5.00")}
    assert values(stats.series["day"]["points_distributed"]) == [
        ("2026-03-02", Decimal(0), None),
        ("2026-03-03", Decimal(5), None),
    ]


def test_a_half_percent_rounds_away_from_zero():
    # 8 -> 8.01 is +0.125 %, 8 -> 7.99 is -0.125 %: 0.13 and -0.13, not 0.12 (half to even)
    assert pct_change(Decimal("8.01"), Decimal(8)) == 0.13
    assert pct_change(Decimal("7.99"), Decimal(8)) == -0.13


def test_series_range_is_the_life_within_published_days_widened_to_activity():
    life = Campaign("c", first_local_day=d("2026-03-05"), last_local_day=d("2026-05-01"))
    coverage = (d("2026-03-01"), d("2026-03-31"))
    assert series_range([], life, coverage) == (d("2026-03-05"), d("2026-03-31"))
    assert series_range([d("2026-03-02")], life, coverage) == (d("2026-03-02"), d("2026-03-31"))
    unknown_life = Campaign("c")
    assert series_range([d("2026-03-09"), d("2026-03-12")], unknown_life, coverage) == (
        d("2026-03-09"),
        d("2026-03-12"),
    )
    future = Campaign("c", first_local_day=d("2026-06-01"), last_local_day=d("2026-06-30"))
    assert series_range([], future, coverage) is None
    # Still running (no end): to the last published day, so a quiet April shows as 0s.
    running = Campaign("c", first_local_day=d("2026-03-01"))
    april = (d("2026-03-01"), d("2026-04-30"))
    assert series_range([d("2026-03-02"), d("2026-03-10")], running, april) == (
        d("2026-03-01"),
        d("2026-04-30"),
    )
    assert series_range([], running, april) == (d("2026-03-01"), d("2026-04-30"))


def test_campaigns_come_from_the_mart_and_the_dimension():
    utc = datetime(2026, 3, 1, tzinfo=UTC)
    dimension = [
        {  # renamed since the mart rows were built: the snapshot wins
            "campaign_id": "a",
            "name": "New name",
            "reward_type": "LOYALTY_POINTS",
            "segment_kind": "LIVE_BEHAVIOR",
            "start_at": utc + timedelta(days=2, hours=23),  # 3 Mar 23:00 UTC = 4 Mar Berlin
            "end_at": datetime(2026, 3, 10, 23, tzinfo=UTC),  # exclusive: last day 10 Mar
        },
        {  # no activity at all
            "campaign_id": "b",
            "name": "Draft",
            "reward_type": "COUPON",
            "coupon_benefit": "CASHBACK",
            "segment_kind": "LIVE_BEHAVIOR",
            "start_at": None,
            "end_at": None,
        },
    ]
    rows = [
        {
            "campaign_id": "a",
            "campaign_name": "Old name",
            "reward_type": "LOYALTY_POINTS",
            "segment_kind": "LIVE_BEHAVIOR",
            "local_date": d("2026-03-05"),
            "rewards_distributed": 1,
            "points_distributed": Decimal(10),
        },
        {  # not in the snapshot: attributes from its latest row
            "campaign_id": "z",
            "campaign_name": None,
            "reward_type": "PARTNER_VOUCHER",
            "segment_kind": "PAST_BEHAVIOR",
            "local_date": d("2026-03-06"),
            "rewards_distributed": 1,
            "voucher_codes_distributed": 1,
        },
    ]
    stats = all_campaign_stats(rows, dimension, BERLIN, (d("2026-03-01"), d("2026-03-31")))
    by_id = {s.campaign.campaign_id: s for s in stats}
    assert [s.campaign.campaign_id for s in stats] == ["b", "a", "z"]  # by name, then id
    assert by_id["a"].campaign.campaign_name == "New name"
    assert (by_id["a"].first_day, by_id["a"].last_day) == (d("2026-03-04"), d("2026-03-10"))
    assert len(by_id["a"].series["day"]["rewards_distributed"]) == 7
    assert by_id["b"].totals == {
        "rewards_distributed": 0,
        "coupons_distributed": 0,
        "cashback_points_credited": Decimal("0.00"),
    }
    assert by_id["b"].series == {} and by_id["b"].first_day is None
    assert by_id["z"].to_json()["totals"] == {
        "rewards_distributed": 1,
        "voucher_codes_distributed": 1,
    }
