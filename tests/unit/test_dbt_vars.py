from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from promo.dbt_vars import dbt_vars
from promo.timeutil import window_days

BERLIN = ZoneInfo("Europe/Berlin")


def test_one_day_window():
    start = datetime(2026, 10, 25, tzinfo=BERLIN)
    end = datetime(2026, 10, 26, tzinfo=BERLIN)  # a 25-hour DST day is still one day
    assert dbt_vars(start, end, "Europe/Berlin", "/lake") == {
        "min_date": "2026-10-25",
        "max_date": "2026-10-25",
        "account_timezone": "Europe/Berlin",
        "lake_dir": "/lake",
    }


def test_range_window_is_inclusive_of_its_last_day():
    start = datetime(2026, 12, 30, tzinfo=BERLIN)
    end = datetime(2027, 1, 3, tzinfo=BERLIN)
    assert [d.isoformat() for d in window_days(start, end)] == ["2026-12-30", "2027-01-02"]


def test_empty_window_is_refused():
    t = datetime(2026, 1, 1, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="empty"):
        window_days(t, t)
