"""A recurring report's next run (`report list`, the API) comes from the same rule as its
schedule: checked against the cron string Dagster builds for that schedule."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from dagster import Definitions

from assets.reports import ReportSettings, build_recurring_asset
from orchestration.schedules import build_report_schedule
from promo.reports.recurring import RecurringReport, next_run
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
    "frequency, cron",
    [
        ({"interval": "daily"}, "0 6 * * *"),
        ({"interval": "weekly", "delivery_day": "monday"}, "0 6 * * 1"),
    ],
)
def test_the_rule_is_the_schedules_cron(frequency, cron):
    r = report(frequency)
    asset = build_recurring_asset(r, date(2026, 10, 1), BERLIN)
    job, unresolved = build_report_schedule(r, asset, 6)
    reports = ReportSettings(marts_uri="m", lake_uri="l", downloads_dir="d", timezone="UTC")
    defs = Definitions(
        assets=[asset], jobs=[job], schedules=[unresolved], resources={"reports": reports}
    )
    schedule = defs.resolve_schedule_def(r.schedule_name)
    assert schedule.cron_schedule == cron
    assert schedule.execution_timezone == "Europe/Berlin"


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
    got = next_run(report(frequency).spec.frequency, 6, BERLIN, datetime.fromisoformat(now))
    assert got.isoformat() == expected
