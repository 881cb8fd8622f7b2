"""A recurring report's next run (`report list`, the API) is the earliest time its sensor
may deliver the next period: PROMO_REPORT_HOUR on the day after a daily period, on the
delivery day after a weekly one, in the account timezone (across the end of DST too).

`report list` computes it without Dagster (`promo.reports.recurring.next_delivery`); the
sensor works on the report's Dagster partitions. The two must agree at every instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from assets.reports import report_partitions
from orchestration.report_sensors import earliest_delivery, recent_periods
from promo.reports.recurring import RecurringReport, next_delivery
from promo.reports.spec_io import load_spec

BERLIN = ZoneInfo("Europe/Berlin")


def report(frequency) -> RecurringReport:
    spec = load_spec(
        {
            "name": "Errors",
            "promotion_type": "promo_campaigns",
            "report_type": "user_errors",
            "filters": {"campaign_id": "c1"},
            "delivery": {"destination": "s3", "bucket": "b-reports"},
            "frequency": frequency,
        }
    )
    return RecurringReport(spec, {})


def by_partitions(partitions, now: datetime, hour: int) -> datetime:
    """The sensor's view: the last completed partition if its hour is still to come, else
    the end of the partition running now."""
    tz = ZoneInfo(partitions.timezone)
    for period in recent_periods(partitions, now, hour, 1):
        if period.due > now:
            return period.due
    current = partitions.get_partition_key_for_timestamp(now.timestamp())
    return earliest_delivery(partitions.time_window_for_partition_key(current).end, hour, tz)


@pytest.mark.parametrize(
    "frequency, now, expected",
    [
        ({"interval": "daily"}, "2026-10-25T05:59:00+01:00", "2026-10-25T06:00:00+01:00"),
        ({"interval": "daily"}, "2026-10-25T06:00:00+01:00", "2026-10-26T06:00:00+01:00"),
        ({"interval": "daily"}, "2026-10-24T23:30:00+00:00", "2026-10-25T06:00:00+01:00"),
        (
            {"interval": "weekly", "delivery_day": "monday"},
            "2026-10-26T07:00:00+01:00",
            "2026-11-02T06:00:00+01:00",
        ),
        (
            {"interval": "weekly", "delivery_day": "sunday"},
            "2026-10-20T12:00:00+02:00",
            "2026-10-25T06:00:00+01:00",  # the 25-hour day: after the clocks went back
        ),
    ],
)
def test_next_run_in_the_account_timezone(frequency, now, expected):
    got = next_delivery(
        report(frequency), date(2026, 10, 1), BERLIN, datetime.fromisoformat(now), 6
    )
    assert got.isoformat() == expected


FREQUENCIES = [{"interval": "daily"}] + [
    {"interval": "weekly", "delivery_day": day}
    for day in ("monday", "wednesday", "saturday", "sunday")
]


@pytest.mark.parametrize("frequency", FREQUENCIES, ids=lambda f: f.get("delivery_day", "daily"))
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"])
def test_next_run_equals_the_partitions_own_arithmetic(frequency, zone):
    """Every 5 hours 10 minutes, and exactly at every local midnight and 06:00, over the
    DST ends of 2026 and the weeks before and after the partitions start (a report with no
    completed period yet), for delivery hours 0, 6 and 23."""
    tz, recurring = ZoneInfo(zone), report(frequency)
    start = date(2026, 10, 14)
    partitions = report_partitions(recurring, start, tz)
    instants = [datetime(2026, 10, 1, tzinfo=UTC) + timedelta(minutes=310 * i) for i in range(233)]
    for day in (date(2026, 10, 1) + timedelta(days=i) for i in range(50)):
        instants += [datetime.combine(day, time(h), tz) for h in (0, 6)]
    for now in instants:
        for hour in (0, 6, 23):
            expected = by_partitions(partitions, now, hour)
            assert next_delivery(recurring, start, tz, now, hour) == expected, (now, hour)
