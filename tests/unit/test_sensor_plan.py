from zoneinfo import ZoneInfo

from orchestration.sensors import landing_fingerprints, plan_requests
from resources.storage import StoredObject

KOLKATA = ZoneInfo("Asia/Kolkata")
DAYS = {"2026-11-19", "2026-11-20", "2026-11-21"}


def objs(*keys, version="1"):
    return [StoredObject(k, 10, version) for k in keys]


def test_fingerprints_group_by_folder_and_ignore_foreign_paths():
    fp = landing_fingerprints(
        objs(
            "events/wallet_transactions/date=2026-11-20/a.jsonl",
            "events/wallet_transactions/date=2026-11-20/b.jsonl.gz",
            "events/not_a_stream/date=2026-11-20/a.jsonl",
            "dimensions/campaigns.jsonl",
        )
    )
    assert set(fp) == {"wallet_transactions/2026-11-20", "dimensions"}


def test_a_new_folder_asks_for_both_local_days_it_overlaps():
    current = landing_fingerprints(objs("events/reward_events/date=2026-11-20/a.jsonl"))
    days, dims, cursor = plan_requests({}, current, KOLKATA, DAYS)
    assert days == {
        "2026-11-20": ["reward_events/2026-11-20"],
        "2026-11-21": ["reward_events/2026-11-20"],
    }
    assert not dims
    assert cursor == current


def test_nothing_new_asks_for_nothing_and_a_late_file_asks_again():
    first = landing_fingerprints(objs("events/reward_events/date=2026-11-20/a.jsonl"))
    _, _, cursor = plan_requests({}, first, ZoneInfo("UTC"), DAYS)
    assert plan_requests(cursor, first, ZoneInfo("UTC"), DAYS)[0] == {}
    late = landing_fingerprints(
        objs(
            "events/reward_events/date=2026-11-20/a.jsonl",
            "events/reward_events/date=2026-11-20/late.jsonl",
        )
    )
    assert list(plan_requests(cursor, late, ZoneInfo("UTC"), DAYS)[0]) == ["2026-11-20"]


def test_a_folder_asks_for_its_ended_day_now_and_its_open_day_once_it_ends():
    """Kolkata (+05:30): folder 11-21 holds the end of local 11-21 and the start of
    11-22. A file landing in it after 11-21 ended (the last hours' delivery, late) runs
    11-21 at once, not a day later; 11-22 is asked for once it has ended; nothing twice."""
    key = "reward_events/2026-11-21"
    current = landing_fingerprints(objs("events/reward_events/date=2026-11-21/a.jsonl"))
    days, _, cursor = plan_requests({}, current, KOLKATA, DAYS)  # 11-22 has not ended
    assert days == {"2026-11-21": [key]} and key not in cursor
    assert plan_requests(cursor, current, KOLKATA, DAYS)[0] == {}, "asked for once"
    late = landing_fingerprints(
        objs(
            "events/reward_events/date=2026-11-21/a.jsonl",
            "events/reward_events/date=2026-11-21/late.jsonl",
        )
    )
    days, _, cursor = plan_requests(cursor, late, KOLKATA, DAYS)
    assert days == {"2026-11-21": [key]}, "a late file for the ended day runs it again now"
    days, _, cursor = plan_requests(cursor, late, KOLKATA, DAYS | {"2026-11-22"})
    assert days == {"2026-11-22": [key]}, "the open day once it ended, the other not again"
    assert cursor == {key: late[key]}


def test_a_changed_dimension_snapshot_reloads_dimensions():
    current = landing_fingerprints(objs("dimensions/campaigns.jsonl", version="2"))
    _, dims, cursor = plan_requests({"dimensions": "old"}, current, KOLKATA, DAYS)
    assert dims and cursor["dimensions"] == current["dimensions"]
