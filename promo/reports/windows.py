"""Report windows: the date range a report covers, resolved in the account timezone.

A window is a half-open interval `[start, end)` of UTC instants plus the local days it
covers (`first_day`..`last_day`, inclusive). Every boundary is a local midnight built
with `zoneinfo` and converted to UTC; nothing subtracts aware datetimes, because
wall-clock arithmetic would give a 23 h or 25 h DST day 24 h. The one boundary that is
not a midnight is the end of "today", which is `now` itself.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from promo.timeutil import ONE_DAY, local_midnight_utc

MAX_MONTHS = 3  # the cap of SPEC.md on most report types; see `months_between_ok`
RECURRING_DAYS = {"daily": 1, "weekly": 7}  # days one run of each interval covers


@dataclass(frozen=True)
class Window:
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    first_day: date  # local, inclusive
    last_day: date  # local, inclusive
    timezone: str  # IANA name of the account timezone

    def to_dict(self) -> dict[str, str]:
        """JSON-able form, for manifests and run metadata."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "first_day": self.first_day.isoformat(),
            "last_day": self.last_day.isoformat(),
            "timezone": self.timezone,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Window:
        return cls(
            start=datetime.fromisoformat(data["start"]).astimezone(UTC),
            end=datetime.fromisoformat(data["end"]).astimezone(UTC),
            first_day=date.fromisoformat(data["first_day"]),
            last_day=date.fromisoformat(data["last_day"]),
            timezone=data["timezone"],
        )


def _past_weeks(weeks: int, today: date) -> tuple[date, date]:
    """Whole Monday-to-Sunday weeks before the current one."""
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(weeks=weeks), this_monday - ONE_DAY


def _past_months(months: int, today: date) -> tuple[date, date]:
    """Whole calendar months before the current one."""
    first_of_month = today.replace(day=1)
    return _months_later(first_of_month, -months), first_of_month - ONE_DAY


# Each preset as the local days it covers, given today's local date. The order is the
# order a user sees them in.
_PRESET_DAYS: dict[str, Callable[[date], tuple[date, date]]] = {
    "yesterday": lambda today: (today - ONE_DAY, today - ONE_DAY),
    "today": lambda today: (today, today),
    "past_7_days": lambda today: (today - 7 * ONE_DAY, today - ONE_DAY),
    "past_week": partial(_past_weeks, 1),
    "past_2_weeks": partial(_past_weeks, 2),
    "past_3_weeks": partial(_past_weeks, 3),
    "past_month": partial(_past_months, 1),
    "past_2_months": partial(_past_months, 2),
    "past_3_months": partial(_past_months, 3),
}
PRESETS = tuple(_PRESET_DAYS)


def resolve_preset(preset: str, now: datetime, tz: ZoneInfo) -> Window:
    """The window of `preset` as seen at the instant `now` in the timezone `tz`.

    "today" runs from local midnight to `now` (an empty window at midnight exactly); every
    other preset ends at a local midnight at or before `now`.
    """
    if preset not in _PRESET_DAYS:
        raise ValueError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now.isoformat()}")
    today = now.astimezone(tz).date()
    first_day, last_day = _PRESET_DAYS[preset](today)
    if preset == "today":
        return Window(local_midnight_utc(today, tz), now.astimezone(UTC), today, today, str(tz))
    return custom_window(first_day, last_day, tz)


def custom_window(start: date, end: date, tz: ZoneInfo) -> Window:
    """The local days `start`..`end`, both included."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    return Window(
        start=local_midnight_utc(start, tz),
        end=local_midnight_utc(end + ONE_DAY, tz),
        first_day=start,
        last_day=end,
        timezone=str(tz),
    )


def recurring_window(
    interval: str, run_day: date, tz: ZoneInfo, last_run_day: date | None = None
) -> Window:
    """What recurring runs on the local days `run_day`..`last_run_day` cover (one run, as
    a backfill over several partitions is).

    daily: the day before each run day; weekly: the 7 days before each delivery day (the
    run day itself is never included: it has not ended when the run starts). Dagster's
    partitions of a recurring report are built to match: the partition that ends on day D
    is the run of day D (see `assets/reports.py`).
    """
    if interval not in RECURRING_DAYS:
        choices = ", ".join(RECURRING_DAYS)
        raise ValueError(f"unknown interval {interval!r}; choose one of: {choices}")
    last = last_run_day or run_day
    if last < run_day:
        raise ValueError(f"last run day {last} is before the first {run_day}")
    return custom_window(run_day - RECURRING_DAYS[interval] * ONE_DAY, last - ONE_DAY, tz)


def _months_later(day: date, months: int) -> date:
    """The same day of the month `months` later (or earlier, when negative).

    When that month is too short to have the day (31 January + 1 month), the result is the
    first day of the month after it (1 March), so the span never shrinks below whole months.
    """
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    if day.day <= calendar.monthrange(year, month)[1]:
        return date(year, month, day.day)
    return _months_later(date(year, month, 1), 1)


def latest_last_day(first_day: date) -> date:
    """The last local day a capped window starting on `first_day` may include."""
    return _months_later(first_day, MAX_MONTHS) - ONE_DAY


def months_between_ok(first_day: date, last_day: date) -> bool:
    """Whether the local days `first_day`..`last_day` fit the 3-month cap.

    The rule: `last_day` must come before the same day of the month 3 months after
    `first_day`; when that month lacks the day, the limit is the 1st of the month after.
    So 2026-01-01..2026-03-31 and 2026-01-31..2026-04-30 are allowed,
    2026-01-01..2026-04-01 is not, and "past 3 months" (whole months) always fits.
    Only the length is judged here: an end before the start is another rule's business.
    """
    return last_day <= latest_last_day(first_day)
