from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from promo.timeutil import (
    local_days_for_utc_folder,
    local_days_window,
    utc_folders_for_local_days,
)

BERLIN = ZoneInfo("Europe/Berlin")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45


def test_a_utc_day_is_its_own_folder():
    assert utc_folders_for_local_days(date(2026, 11, 20), date(2026, 11, 20), ZoneInfo("UTC")) == [
        date(2026, 11, 20)
    ]


def test_a_positive_offset_day_starts_in_the_previous_utc_folder():
    assert utc_folders_for_local_days(date(2026, 11, 20), date(2026, 11, 20), KATHMANDU) == [
        date(2026, 11, 19),
        date(2026, 11, 20),
    ]
    start, end = local_days_window(date(2026, 11, 20), date(2026, 11, 20), KATHMANDU)
    assert start == datetime(2026, 11, 19, 18, 15, tzinfo=UTC)
    assert end == datetime(2026, 11, 20, 18, 15, tzinfo=UTC)


def test_a_negative_offset_day_ends_in_the_next_utc_folder():
    la = ZoneInfo("America/Los_Angeles")
    assert utc_folders_for_local_days(date(2026, 11, 20), date(2026, 11, 20), la) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
    ]


def test_dst_end_day_lasts_25_hours():
    start, end = local_days_window(date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert (end - start).total_seconds() == 25 * 3600
    start, end = local_days_window(date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    assert (end - start).total_seconds() == 23 * 3600


def test_the_extreme_offsets_by_hand():
    # UTC+14: local 2026-11-20 is 2026-11-19 10:00 .. 2026-11-20 10:00 UTC, and UTC
    # 2026-11-20 is local 2026-11-20 14:00 .. 2026-11-21 14:00.
    kiritimati = ZoneInfo("Pacific/Kiritimati")
    day = date(2026, 11, 20)
    assert utc_folders_for_local_days(day, day, kiritimati) == [date(2026, 11, 19), day]
    assert local_days_for_utc_folder(day, kiritimati) == [day, date(2026, 11, 21)]
    # UTC-11: local 2026-11-20 is 2026-11-20 11:00 .. 2026-11-21 11:00 UTC, and UTC
    # 2026-11-20 is local 2026-11-19 13:00 .. 2026-11-20 13:00.
    pago_pago = ZoneInfo("Pacific/Pago_Pago")
    assert utc_folders_for_local_days(day, day, pago_pago) == [day, date(2026, 11, 21)]
    assert local_days_for_utc_folder(day, pago_pago) == [date(2026, 11, 19), day]


def test_folders_and_days_are_inverse_views():
    for tz in (BERLIN, KATHMANDU, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")):
        for day in (date(2026, 10, 25), date(2026, 11, 20)):
            folders = utc_folders_for_local_days(day, day, tz)
            assert folders, (tz, day)  # a local day always overlaps some UTC folder
            for folder in folders:
                assert day in local_days_for_utc_folder(folder, tz)
