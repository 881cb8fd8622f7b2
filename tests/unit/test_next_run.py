"""A recurring report's next run (`report list`, the API) is the earliest time its sensor
may deliver the next period: PROMO_REPORT_HOUR on the day after a daily period, on the
delivery day after a weekly one, in the account timezone (across the end of DST too)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from assets.reports import report_partitions
from orchestration.report_sensors import next_delivery
from promo.reports.recurring import RecurringReport
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
    partitions = report_partitions(report(frequency), date(2026, 10, 1), BERLIN)
    got = next_delivery(partitions, datetime.fromisoformat(now), 6)
    assert got.isoformat() == expected
