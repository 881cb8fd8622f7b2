"""Recurring reports run when their data is published, not at a fixed hour.

One sensor per recurring report (`report_<id>_sensor`) is the report's on/off switch:
RUNNING = Active, STOPPED = Stopped (the CLI flips it through GraphQL, the UI's toggle is
the same switch). On each evaluation it looks at the report's last few partitions and
asks for a run of each one that is

1. due: its period has ended and the local time is past `PROMO_REPORT_HOUR` on the day
   after it (the partition ending on day D is the run of day D, `recurring_window`), and
2. complete: every day of its window has a materialization of the published mart the
   report reads (`marts/<mart>`, one per day partition, written by publishing).

Each partition is asked for once (the run key is the partition key). A day whose marts
never arrive produces no run and no failure: the report waits (the tick says for what),
and the mart's freshness alert (orchestration/freshness.py) is what an operator sees.
A report switched on for the first time does not deliver periods that were already due
before that moment (as a schedule would not); a backfill does that on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    TimeWindowPartitionsDefinition,
    define_asset_job,
    sensor,
)

from promo import names
from promo.reports.destinations import delivery_label
from promo.reports.recurring import RecurringReport
from promo.reports.spec_fields import Interval
from promo.timeutil import days, window_days

# How many of the latest partitions are still delivered when their marts arrive late:
# three days for a daily report, the last week for a weekly one (older ones: a backfill).
LOOKBACK = {Interval.DAILY: 3, Interval.WEEKLY: 1}


@dataclass(frozen=True)
class Period:
    key: str
    first: date
    last: date
    due: datetime  # the earliest delivery time, aware


def earliest_delivery(end: datetime, hour: int, tz: ZoneInfo) -> datetime:
    """`hour` o'clock local on the day the period ends (its end is that day's midnight)."""
    return datetime.combine(end.astimezone(tz).date(), time(hour), tz)


def recent_periods(
    partitions: TimeWindowPartitionsDefinition, now: datetime, hour: int, lookback: int
) -> list[Period]:
    """The last `lookback` completed partitions, oldest first, with their due times."""
    tz = ZoneInfo(partitions.timezone)
    keys = partitions.get_partition_keys(current_time=now)[-lookback:]
    out = []
    for key in keys:
        window = partitions.time_window_for_partition_key(key)
        first, last = window_days(window.start, window.end)
        out.append(Period(key, first, last, earliest_delivery(window.end, hour, tz)))
    return out


def plan(
    periods: list[Period], published: set[str], now: datetime, since: datetime
) -> tuple[list[Period], list[str]]:
    """Periods to run now, and why the others wait. Pure: unit-tested."""
    ready, waiting = [], []
    for period in periods:
        if period.due < since:
            continue  # due before the switch was first on: not ours to deliver
        if period.due > now:
            waiting.append(f"{period.key}: not before {period.due.isoformat()}")
            continue
        missing = [d.isoformat() for d in days(period.first, period.last)]
        missing = [d for d in missing if d not in published]
        if missing:
            waiting.append(f"{period.key}: waiting for {', '.join(missing)} to be published")
        else:
            ready.append(period)
    return ready, waiting


def build_report_job(report: RecurringReport, asset):
    return define_asset_job(
        report.job_name,
        selection=[asset.key],
        tags={
            names.KIND_TAG: "recurring_report",
            names.REPORT_NAME_TAG: report.spec.name,
            names.DESTINATION_TAG: delivery_label(report.spec.to_dict()["delivery"]),
        },
        description=f"Recurring report {report.spec.name!r}",
    )


def build_report_sensor(report: RecurringReport, asset, job, hour: int):
    partitions = asset.partitions_def
    mart_key = AssetKey(["marts", report.spec.definition.mart.name])
    lookback = LOOKBACK[report.spec.frequency.interval]

    @sensor(
        name=report.switch_name,
        job=job,
        minimum_interval_seconds=120,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"{report.spec.frequency.label}: {report.spec.name}. Runs a period once "
        f"its days of {mart_key.to_user_string()} are published, not before {hour:02d}:00 "
        "local the day after it. On = Active, off = Stopped.",
    )
    def _report_sensor(context: SensorEvaluationContext):
        now = datetime.now(ZoneInfo(partitions.timezone))
        cursor = json.loads(context.cursor) if context.cursor else {}
        since = datetime.fromisoformat(cursor.get("since", now.isoformat()))
        if not context.cursor:
            context.update_cursor(json.dumps({"since": since.isoformat()}))
        if context.last_sensor_start_time is not None:
            # Switched on again (Stop then Start, or deleted and created again): the cursor
            # survives that, but what became due while it was off is not delivered either.
            started = datetime.fromtimestamp(context.last_sensor_start_time, now.tzinfo)
            since = max(since, started)
        periods = recent_periods(partitions, now, hour, lookback)
        published = set(context.instance.get_materialized_partitions(mart_key))
        ready, waiting = plan(periods, published, now, since)
        for period in ready:
            yield RunRequest(run_key=period.key, partition_key=period.key)
        if not ready:
            yield SkipReason("; ".join(waiting) or "nothing due")

    return _report_sensor
