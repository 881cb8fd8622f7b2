"""Account-timezone days and the UTC instants and folders behind them.

Windows are half-open `[start, end)` intervals of UTC instants built from local
midnights with `zoneinfo`, never by subtracting aware datetimes (a DST day is 23 or 25
hours long, and wall-clock arithmetic would hide that).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_midnight_utc(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `tz`."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_days_window(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC `[start, end)` covering the local days `first`..`last` inclusive."""
    if last < first:
        raise ValueError(f"end date {last} is before start date {first}")
    return local_midnight_utc(first, tz), local_midnight_utc(last + timedelta(days=1), tz)


def utc_folders_for_local_days(first: date, last: date, tz: ZoneInfo) -> list[date]:
    """The UTC date folders that can hold events of local days `first`..`last`.

    One local day overlaps two UTC dates in any zone but UTC (three on rare DST days with
    half-hour offsets), so ingestion of a local day reads every folder listed here.
    """
    start, end = local_days_window(first, last, tz)
    last_folder = (end - timedelta(microseconds=1)).date()
    return [start.date() + timedelta(days=i) for i in range((last_folder - start.date()).days + 1)]


def local_days_for_utc_folder(folder: date, tz: ZoneInfo) -> list[date]:
    """The local days whose events can sit in the UTC folder `folder`."""
    start = datetime.combine(folder, time(0), tzinfo=UTC)
    first = start.astimezone(tz).date()
    last = (start + timedelta(days=1) - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
