from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from promo.dbt_vars import dbt_vars, dbt_window_env
from promo.timeutil import window_days

BERLIN = ZoneInfo("Europe/Berlin")


def test_one_day_window():
    start = datetime(2026, 10, 25, tzinfo=BERLIN)
    end = datetime(2026, 10, 26, tzinfo=BERLIN)  # a 25-hour DST day is still one day
    assert dbt_window_env(start, end) == {
        "PROMO_DBT_MIN_DATE": "2026-10-25",
        "PROMO_DBT_MAX_DATE": "2026-10-25",
    }


def test_the_vars_do_not_depend_on_the_run():
    """dbt re-parses the whole project when its --vars change: they hold only what is
    fixed for a deployment, the window goes through the environment."""
    assert dbt_vars("Europe/Berlin", "/lake") == {
        "account_timezone": "Europe/Berlin",
        "lake_dir": "/lake",
    }
    assert dbt_vars("UTC", "s3://b/lake", "http://127.0.0.1:9000") == {
        "account_timezone": "UTC",
        "lake_dir": "s3://b/lake",
        "s3_endpoint_url": "http://127.0.0.1:9000",
    }


def test_range_window_is_inclusive_of_its_last_day():
    start = datetime(2026, 12, 30, tzinfo=BERLIN)
    end = datetime(2027, 1, 3, tzinfo=BERLIN)
    assert [d.isoformat() for d in window_days(start, end)] == ["2026-12-30", "2027-01-02"]


def test_empty_window_is_refused():
    t = datetime(2026, 1, 1, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="empty"):
        window_days(t, t)
