"""Report windows: every preset in the account timezone, across DST, month and year turns,
in a +05:45 zone, and the edges of the 3-month cap."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from promo.reports.windows import (
    PRESETS,
    custom_window,
    latest_last_day,
    months_between_ok,
    recurring_window,
    resolve_preset,
)

BERLIN = ZoneInfo("Europe/Berlin")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45, no DST
HOUR = timedelta(hours=1)


def midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def hours(window) -> float:
    return (window.end - window.start) / HOUR


def test_presets_are_the_products_list():
    assert PRESETS == (
        "yesterday",
        "today",
        "past_7_days",
        "past_week",
        "past_2_weeks",
        "past_3_weeks",
        "past_month",
        "past_2_months",
        "past_3_months",
    )


# Wednesday 18 November 2026, 10:00 in Berlin (UTC+1).
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("preset", "first_day", "last_day"),
    [
        ("yesterday", date(2026, 11, 17), date(2026, 11, 17)),
        ("past_7_days", date(2026, 11, 11), date(2026, 11, 17)),
        ("past_week", date(2026, 11, 9), date(2026, 11, 15)),  # Monday..Sunday
        ("past_2_weeks", date(2026, 11, 2), date(2026, 11, 15)),
        ("past_3_weeks", date(2026, 10, 26), date(2026, 11, 15)),
        ("past_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("past_2_months", date(2026, 9, 1), date(2026, 10, 31)),
        ("past_3_months", date(2026, 8, 1), date(2026, 10, 31)),
    ],
)
def test_each_preset_covers_whole_local_days(preset, first_day, last_day):
    window = resolve_preset(preset, NOW, BERLIN)
    assert (window.first_day, window.last_day) == (first_day, last_day)
    assert window.start == midnight_utc(first_day, BERLIN)
    assert window.end == midnight_utc(last_day + timedelta(days=1), BERLIN)
    assert window.start.tzinfo is UTC and window.end.tzinfo is UTC
    assert window.timezone == "Europe/Berlin"


def test_today_runs_from_local_midnight_to_now():
    window = resolve_preset("today", NOW, BERLIN)
    assert window.start == datetime(2026, 11, 17, 23, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
    assert window.first_day == window.last_day == date(2026, 11, 18)


def test_today_at_midnight_exactly_is_empty():
    midnight = datetime(2026, 11, 18, 0, 0, tzinfo=BERLIN)
    window = resolve_preset("today", midnight, BERLIN)
    assert window.start == window.end == midnight.astimezone(UTC)
    assert window.first_day == window.last_day == date(2026, 11, 18)
    # One microsecond earlier it is still the 17th, almost whole.
    before = resolve_preset("today", midnight - timedelta(microseconds=1), BERLIN)
    assert before.first_day == date(2026, 11, 17)
    assert before.end - before.start == timedelta(hours=24, microseconds=-1)


def test_now_in_another_zone_is_read_in_the_account_timezone():
    # 23:30 UTC on the 17th is already the 18th in Berlin.
    now = datetime(2026, 11, 17, 23, 30, tzinfo=UTC)
    assert resolve_preset("yesterday", now, BERLIN).first_day == date(2026, 11, 17)
    assert resolve_preset("yesterday", now, ZoneInfo("UTC")).first_day == date(2026, 11, 16)


def test_dst_start_day_lasts_23_hours():
    window = resolve_preset("yesterday", datetime(2026, 3, 30, 8, 0, tzinfo=BERLIN), BERLIN)
    assert window.first_day == date(2026, 3, 29)
    assert window.start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert hours(window) == 23


def test_dst_end_day_lasts_25_hours():
    window = resolve_preset("yesterday", datetime(2026, 10, 26, 8, 0, tzinfo=BERLIN), BERLIN)
    assert window.first_day == date(2026, 10, 25)
    assert window.start == datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert hours(window) == 25


def test_today_on_a_dst_day_counts_real_hours():
    # Noon on 29 March is 11 real hours after midnight: 02:00 to 03:00 never happened.
    window = resolve_preset("today", datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN), BERLIN)
    assert hours(window) == 11
    window = resolve_preset("today", datetime(2026, 10, 25, 12, 0, tzinfo=BERLIN), BERLIN)
    assert hours(window) == 13


def test_weeks_and_months_across_dst_keep_their_real_length():
    after_dst_end = datetime(2026, 10, 28, 9, 0, tzinfo=BERLIN)
    assert hours(resolve_preset("past_week", after_dst_end, BERLIN)) == 7 * 24 + 1
    assert hours(resolve_preset("past_7_days", after_dst_end, BERLIN)) == 7 * 24 + 1
    assert hours(resolve_preset("past_month", NOW, BERLIN)) == 31 * 24 + 1  # October
    april = datetime(2026, 4, 15, 9, 0, tzinfo=BERLIN)
    assert hours(resolve_preset("past_month", april, BERLIN)) == 31 * 24 - 1  # March


def test_turn_of_the_year():
    # 00:30 on New Year's Day in Berlin is still 2026 in UTC.
    now = datetime(2027, 1, 1, 0, 30, tzinfo=BERLIN)
    expected = {
        "yesterday": (date(2026, 12, 31), date(2026, 12, 31)),
        "today": (date(2027, 1, 1), date(2027, 1, 1)),
        "past_7_days": (date(2026, 12, 25), date(2026, 12, 31)),
        "past_week": (date(2026, 12, 21), date(2026, 12, 27)),  # 1 Jan 2027 is a Friday
        "past_3_weeks": (date(2026, 12, 7), date(2026, 12, 27)),
        "past_month": (date(2026, 12, 1), date(2026, 12, 31)),
        "past_3_months": (date(2026, 10, 1), date(2026, 12, 31)),
    }
    for preset, days in expected.items():
        window = resolve_preset(preset, now, BERLIN)
        assert (window.first_day, window.last_day) == days, preset
    today = resolve_preset("today", now, BERLIN)
    assert today.start == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert today.end - today.start == timedelta(minutes=30)


def test_turn_of_the_month():
    now = datetime(2026, 3, 1, 0, 30, tzinfo=BERLIN)
    assert resolve_preset("yesterday", now, BERLIN).first_day == date(2026, 2, 28)
    past_month = resolve_preset("past_month", now, BERLIN)
    assert (past_month.first_day, past_month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    leap = resolve_preset("past_month", datetime(2028, 3, 1, 9, 0, tzinfo=BERLIN), BERLIN)
    assert leap.last_day == date(2028, 2, 29)
    two = resolve_preset("past_2_months", datetime(2027, 2, 1, 0, 0, tzinfo=BERLIN), BERLIN)
    assert (two.first_day, two.last_day) == (date(2026, 12, 1), date(2027, 1, 31))


def test_kathmandu_quarter_hour_offset():
    # 20:00 UTC on the 19th is 01:45 on the 20th in Kathmandu.
    now = datetime(2026, 11, 19, 20, 0, tzinfo=UTC)
    today = resolve_preset("today", now, KATHMANDU)
    assert today.first_day == date(2026, 11, 20)
    assert today.start == datetime(2026, 11, 19, 18, 15, tzinfo=UTC)
    assert today.end == now
    yesterday = resolve_preset("yesterday", now, KATHMANDU)
    assert yesterday.start == datetime(2026, 11, 18, 18, 15, tzinfo=UTC)
    assert yesterday.end == datetime(2026, 11, 19, 18, 15, tzinfo=UTC)
    week = resolve_preset("past_week", now, KATHMANDU)  # the 20th is a Friday
    assert (week.first_day, week.last_day) == (date(2026, 11, 9), date(2026, 11, 15))
    assert week.start == datetime(2026, 11, 8, 18, 15, tzinfo=UTC)


@pytest.mark.parametrize("tz_name", ["Europe/Berlin", "Asia/Kathmandu", "America/Santiago"])
def test_every_preset_ends_where_a_local_day_ends(tz_name):
    tz = ZoneInfo(tz_name)
    now = datetime(2026, 1, 1, 12, 0, tzinfo=tz)
    while now.year < 2028:
        for preset in PRESETS[2:]:  # all but yesterday/today, which the tests above pin
            window = resolve_preset(preset, now, tz)
            assert window.start == midnight_utc(window.first_day, tz)
            assert window.end == midnight_utc(window.last_day + timedelta(days=1), tz)
            assert window.last_day < now.astimezone(tz).date()
            assert months_between_ok(window.first_day, window.last_day), (preset, now)
        now += timedelta(days=5)


def test_naive_now_and_unknown_presets_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        resolve_preset("yesterday", datetime(2026, 11, 18, 10, 0), BERLIN)
    with pytest.raises(ValueError, match="choose one of: yesterday, today"):
        resolve_preset("last_quarter", NOW, BERLIN)


def test_custom_window_includes_both_days():
    window = custom_window(date(2026, 10, 1), date(2026, 10, 31), BERLIN)
    assert window.start == datetime(2026, 9, 30, 22, 0, tzinfo=UTC)
    assert window.end == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert hours(window) == 31 * 24 + 1
    one_day = custom_window(date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    assert hours(one_day) == 23
    with pytest.raises(ValueError, match="before start"):
        custom_window(date(2026, 10, 2), date(2026, 10, 1), BERLIN)


def test_window_to_dict_is_json_able():
    window = custom_window(date(2026, 10, 1), date(2026, 10, 1), KATHMANDU)
    assert window.to_dict() == {
        "start": "2026-09-30T18:15:00+00:00",
        "end": "2026-10-01T18:15:00+00:00",
        "first_day": "2026-10-01",
        "last_day": "2026-10-01",
        "timezone": "Asia/Kathmandu",
    }


def test_recurring_daily_covers_the_previous_day():
    window = recurring_window("daily", date(2026, 10, 26), BERLIN)
    assert (window.first_day, window.last_day) == (date(2026, 10, 25), date(2026, 10, 25))
    assert hours(window) == 25


@pytest.mark.parametrize(
    ("run_day", "first_day"),
    [(date(2026, 11, 16), date(2026, 11, 9)), (date(2026, 11, 18), date(2026, 11, 11))],
    ids=["monday", "wednesday"],
)
def test_recurring_weekly_covers_the_7_days_before_the_delivery_day(run_day, first_day):
    window = recurring_window("weekly", run_day, BERLIN)
    assert (window.first_day, window.last_day) == (first_day, run_day - timedelta(days=1))


def test_recurring_weekly_across_dst():
    window = recurring_window("weekly", date(2026, 3, 30), BERLIN)
    assert hours(window) == 7 * 24 - 1


def test_unknown_interval_is_refused():
    with pytest.raises(ValueError, match="unknown interval 'monthly'"):
        recurring_window("monthly", date(2026, 11, 16), BERLIN)


@pytest.mark.parametrize(
    ("first_day", "last_day", "ok"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), True),
        (date(2026, 1, 1), date(2026, 3, 31), True),  # three whole months
        (date(2026, 1, 1), date(2026, 4, 1), False),  # one day more
        (date(2026, 1, 31), date(2026, 4, 30), True),  # "31 April" is 1 May: limit 30 April
        (date(2026, 1, 31), date(2026, 5, 1), False),
        (date(2026, 1, 30), date(2026, 4, 29), True),
        (date(2026, 1, 30), date(2026, 4, 30), False),
        (date(2025, 11, 30), date(2026, 2, 28), True),  # "30 February" is 1 March
        (date(2025, 11, 30), date(2026, 3, 1), False),
        (date(2027, 11, 29), date(2028, 2, 28), True),  # leap year: 29 Feb exists
        (date(2027, 11, 29), date(2028, 2, 29), False),
        (date(2026, 10, 15), date(2027, 1, 14), True),  # across the year
        (date(2026, 10, 15), date(2027, 1, 15), False),
    ],
)
def test_three_month_cap_edges(first_day, last_day, ok):
    assert months_between_ok(first_day, last_day) is ok


def test_latest_last_day_is_the_cap_edge():
    assert latest_last_day(date(2026, 1, 1)) == date(2026, 3, 31)
    assert latest_last_day(date(2026, 1, 31)) == date(2026, 4, 30)
    assert latest_last_day(date(2026, 11, 30)) == date(2027, 2, 28)


def test_a_zone_whose_midnight_can_be_skipped_still_tiles_the_days():
    # Santiago springs forward at midnight (00:00 -> 01:00 on 6 September 2026): that day
    # starts at 01:00, lasts 23 hours, and consecutive days still meet without gap or overlap.
    santiago = ZoneInfo("America/Santiago")
    skipped = custom_window(date(2026, 9, 6), date(2026, 9, 6), santiago)
    assert skipped.start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # 01:00 -03
    assert hours(skipped) == 23
    day = date(2026, 9, 1)
    while day < date(2026, 9, 10):
        following = day + timedelta(days=1)
        assert (
            custom_window(day, day, santiago).end
            == custom_window(following, following, santiago).start
        )
        day = following
