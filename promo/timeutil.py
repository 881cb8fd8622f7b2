"""Account-timezone days, weekdays, and the UTC instants and folders behind them.

The one home of day and window arithmetic: ingestion, dbt's vars, publishing, the report
windows and the stats periods all call these functions.

Windows are half-open `[start, end)` intervals of UTC instants built from local
midnights with `zoneinfo`, never by subtracting aware datetimes (a DST day is 23 or 25
hours long, and wall-clock arithmetic would hide that).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Self
from zoneinfo import ZoneInfo

from promo.vocabulary import Vocabulary

ONE_DAY = timedelta(days=1)

# Every timestamp of the contract (event times, expiries, campaign start/end) must fall in
# [TIMESTAMP_MIN, TIMESTAMP_MAX) in UTC, else it is `bad_timestamp` (promo/contract.py);
# event times are held tighter still by their folder's date, and a report's days must fall
# in it too (promo/reports/spec_fields.py). The range keeps a year 0 or 10000 (which a
# valid offset can produce from "0001-..." or "9999-...") out of the marts and reports,
# whose timestamps have four-digit years in every account timezone; 2100 leaves room for
# any expiry or campaign end a promotion can have.
TIMESTAMP_MIN = datetime(2000, 1, 1, tzinfo=UTC)
TIMESTAMP_MAX = datetime(2100, 1, 1, tzinfo=UTC)
TIMESTAMP_RANGE_TEXT = "2000-01-01T00:00:00Z (included) to 2100-01-01T00:00:00Z (excluded)"


class Weekday(Vocabulary):
    """A day of the week: `monday` in specs, `MONDAY` in JSON, `Monday` for people."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @property
    def index(self) -> int:
        """0 for Monday, as `date.weekday()` counts."""
        return list(Weekday).index(self)

    @property
    def sunday_based(self) -> int:
        """0 for Sunday: how cron and Dagster's weekly partitions count."""
        return (self.index + 1) % 7

    @classmethod
    def parse(cls, text: str) -> Self:
        """A weekday from its name in any case, three letters being enough (`Sun`)."""
        word = text.strip().lower()
        for day in cls:
            if len(word) >= 3 and day.value.startswith(word):
                return day
        raise ValueError(f"{text!r} is not a weekday name (monday .. sunday)")

    @classmethod
    def of(cls, day: date) -> Self:
        return list(cls)[day.weekday()]


def days(first: date, last: date) -> list[date]:
    """The calendar days `first`..`last`, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_days_window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC `[start, end)` covering the local days `first`..`last` inclusive."""
    if last < first:
        raise ValueError(f"end date {last} is before start date {first}")
    return local_midnight_utc(first, tz), local_midnight_utc(last + ONE_DAY, tz)


def window_days(start: datetime, end: datetime) -> tuple[date, date]:
    """First and last local day of a window `[start, end)` of local midnights (aware
    datetimes in the local zone, as Dagster's partition time windows are)."""
    if end <= start:
        raise ValueError(f"empty window {start} .. {end}")
    return start.date(), (end - ONE_DAY).date()


def utc_folders_of_window(start: datetime, end: datetime) -> list[date]:
    """The UTC date folders overlapping the aware half-open window `[start, end)`."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return days(first, last)


def utc_folders_for_local_days(first: date, last: date, tz: ZoneInfo) -> list[date]:
    """The UTC date folders that can hold events of local days `first`..`last`.

    One local day overlaps two UTC dates in any zone but UTC (three on rare DST days with
    half-hour offsets), so ingestion of a local day reads every folder listed here.
    """
    return utc_folders_of_window(*local_days_window(first, last, tz))


def local_days_for_utc_folder(folder: date, tz: ZoneInfo) -> list[date]:
    """The local days whose events can sit in the UTC folder `folder`."""
    start = datetime.combine(folder, time(0), tzinfo=UTC)
    first = start.astimezone(tz).date()
    last = (start + ONE_DAY - timedelta(microseconds=1)).astimezone(tz).date()
    return days(first, last)
