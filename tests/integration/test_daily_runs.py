"""Day-by-day runs (issue 17, "a daily run that costs a day"): dbt keeps its parse from one
run to the next, and `user_ledger`, which a run updates only for the users it touched,
and `wallet_daily_summary`, which a run continues from its own closing balances before
the window, stay equal to a rebuild from all history after every kind of run: new days
one at a time, a late file re-run in an earlier window, a landing folder emptied, a wallet
renamed in the dimension snapshot. Both are checked against computations written here
over the `wallet_transactions` mart (what a full rebuild aggregates) after each run, and
the ledger against the raw JSON files at the end."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.definitions import build_definitions
from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import make_env, raw_views
from tests.helpers import run_daily, run_dimensions
from tests.integration.test_marts import EXPECTED, LATE_RECORDS, by_type

pytestmark = pytest.mark.integration

TZ = "Europe/Berlin"  # EXPECTED's zone; DST ends 2026-10-25 (a 25-hour day)
FIRST, DAYS = date(2026, 10, 22), 5  # UTC folders 10-22 .. 10-26
LATER = ("2026-10-25", "2026-10-26")  # folders that "arrive" after the first build
LOCAL = "timezone('Europe/Berlin', {})"

# The ledger a full rebuild would give: every transaction of the mart, per user and
# wallet, with the wallet's current name (columns in the mart's order).
REBUILT_LEDGER = f"""
    SELECT t.user_id, t.wallet_id, w.wallet_name, {by_type()}, sum(t.balance_effect),
           coalesce(sum(t.points) FILTER (WHERE t.transaction_type = 'PROMISED'), 0),
           min(t.occurred_at), {LOCAL.format("min(t.occurred_at)")},
           max(t.occurred_at), {LOCAL.format("max(t.occurred_at)")}
    FROM wallet_transactions t LEFT JOIN stg_lake__wallets w USING (wallet_id)
    GROUP BY ALL"""


# The summary a full rebuild would give, but for wallet_name (as in wallet_transactions, a
# day keeps the name current when it was built): every wallet-day from the wallet's first
# transaction day through the latest day of the mart, the closing balance a running sum.
TYPES = ("CREDIT", "DEBIT", "EXPIRED", "PROMISED", "REVERSE", "REFUND")
SUMS = ", ".join(f"sum(points) FILTER (WHERE transaction_type = '{t}') AS {t}" for t in TYPES)
REBUILT_SUMMARY = f"""
    WITH days AS (
        SELECT wallet_id, unnest(generate_series(
            min(local_date), (SELECT max(local_date) FROM wallet_transactions), INTERVAL 1 DAY
        ))::DATE AS local_date
        FROM wallet_transactions GROUP BY wallet_id),
    totals AS (
        SELECT wallet_id, local_date, {SUMS}, sum(balance_effect) AS net,
               count(DISTINCT user_id) AS users
        FROM wallet_transactions GROUP BY ALL)
    SELECT wallet_id, local_date, {", ".join(f"coalesce({t}, 0)" for t in TYPES)},
           coalesce(net, 0),
           sum(coalesce(net, 0)) OVER (PARTITION BY wallet_id ORDER BY local_date),
           coalesce(users, 0)
    FROM days LEFT JOIN totals USING (wallet_id, local_date)"""
SUMMARY = """
    SELECT wallet_id, local_date, points_credited, points_debited, points_expired,
           points_promised, points_reversed, points_refunded, net_change, closing_balance,
           transacting_users
    FROM wallet_daily_summary"""


def folders(landing: Path, day: str) -> list[Path]:
    return sorted(landing.glob(f"events/*/date={day}"))


def build(settings: Settings, first: str, last: str) -> None:
    """Ingestion and dbt (no publishing) for local days first..last, as one run."""
    graph = build_definitions(settings).resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if k.path[0] in ("lake", "warehouse")]
    result = run_daily(settings, first, last, selection=keys)
    failed = [c.asset_check_key.name for c in result.get_asset_check_evaluations() if not c.passed]
    assert result.success and not failed, failed


def ledger_rows(settings: Settings, query: str) -> list[tuple]:
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return sorted(con.sql(query).fetchall())
    finally:
        con.close()


def assert_ledger_is_a_rebuild(settings: Settings) -> list[tuple]:
    """The ledger, and the daily summary beside it, are what a full rebuild gives."""
    summary = ledger_rows(settings, SUMMARY)
    rebuilt_summary = ledger_rows(settings, REBUILT_SUMMARY)
    assert summary, "an empty summary proves nothing"
    assert summary == rebuilt_summary, (
        f"summary: unexpected {[r for r in summary if r not in rebuilt_summary][:3]}, "
        f"missing {[r for r in rebuilt_summary if r not in summary][:3]}"
    )
    ledger = ledger_rows(settings, "SELECT * FROM user_ledger")
    assert ledger, "an empty ledger proves nothing"
    rebuilt = ledger_rows(settings, REBUILT_LEDGER)
    missing = [r for r in rebuilt if r not in ledger]
    extra = [r for r in ledger if r not in rebuilt]
    assert ledger == rebuilt, f"missing {missing[:3]}, unexpected {extra[:3]}"
    return ledger


def last_invocation(settings: Settings) -> list[dict]:
    """The events of the last dbt invocation, from dbt's log in the warehouse's target
    folder (one folder for every run: assets/dbt.py; the log rotates at 10 MB)."""
    folder = settings.warehouse_path.parent / "dbt_target"
    logs = [folder / "dbt.log.1", folder / "dbt.log"]
    lines = [line for log in logs if log.exists() for line in log.read_text().splitlines()]
    events = [json.loads(line) for line in lines if line.startswith("{")]
    last = events[-1]["info"]["invocation_id"]
    return [e for e in events if e["info"]["invocation_id"] == last]


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("daily")
    settings = Settings.from_env(make_env(root, PROMO_ACCOUNT_TIMEZONE=TZ))
    landing = Path(settings.landing_uri)
    generate(LocalStorage(landing), FIRST, DAYS, seed=17, scale=150,
             bad_rate=0.0, redelivery_rate=0.0)  # fmt: skip
    later = root / "later"
    for day in LATER:
        for folder in folders(landing, day):
            target = later / folder.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(target)
    assert run_dimensions(settings).success
    build(settings, "2026-10-22", "2026-10-25")  # the first build: all of the lake
    return settings, landing, later


def test_runs_day_by_day_keep_the_ledger_equal_to_a_rebuild(home):
    settings, landing, later = home
    first = assert_ledger_is_a_rebuild(settings)
    users_before = {(r[0], r[1]) for r in first}

    # New days arrive; each run is one window (10-27 is the last local day of folder 10-26).
    for folder in sorted(later.glob("events/*/date=*")):
        (landing / folder.relative_to(later)).parent.mkdir(parents=True, exist_ok=True)
        folder.rename(landing / folder.relative_to(later))
    build(settings, "2026-10-25", "2026-10-25")
    ran = (settings.warehouse_path.parent / "dbt_target" / "run").rglob("user_ledger.sql")
    # What dbt executed for the ledger: the incremental replacement of the users and
    # wallets it updated from the rows wallet_transactions replaced.
    executed = next(ran).read_text()
    assert "where (wallet_id, user_id) in (select wallet_id, user_id from" in executed
    assert "wallet_transactions__replaced" in executed
    assert_ledger_is_a_rebuild(settings)
    build(settings, "2026-10-26", "2026-10-27")
    grown = assert_ledger_is_a_rebuild(settings)
    assert {(r[0], r[1]) for r in grown} > users_before

    # dbt reused its saved parse: the window changed, the vars and the profile did not.
    events = {e["info"]["name"] for e in last_invocation(settings)}
    assert "PartialParsingEnabled" in events and "UnableToPartialParse" not in events


def test_a_late_file_rerun_in_an_earlier_window_updates_the_ledger(home):
    settings, landing, _ = home
    for stream, records in LATE_RECORDS.items():
        path = landing / "events" / stream / "date=2026-10-23" / "late-0001.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
    build(settings, "2026-10-23", "2026-10-24")
    ledger = assert_ledger_is_a_rebuild(settings)
    late = [r for r in ledger if r[0] == "usr_late"]
    assert [(r[1], r[9]) for r in late] == [("wlt_main", Decimal("800.25"))]  # available


def test_an_emptied_folder_and_a_renamed_wallet_leave_a_rebuilt_ledger(home):
    settings, landing, _ = home
    only_last = ledger_rows(
        settings,
        "SELECT DISTINCT user_id FROM wallet_transactions GROUP BY user_id "
        "HAVING min(occurred_at) >= TIMESTAMPTZ '2026-10-26 00:00:00+00'",
    )
    assert only_last, "the emptied days must have users of their own"
    for folder in folders(landing, "2026-10-26"):
        shutil.rmtree(folder)
    # The snapshot renames a wallet: every ledger row of it must follow, touched or not.
    wallets = landing / "dimensions" / "wallets.jsonl"
    wallets.write_text(wallets.read_text().replace("Travel Miles Wallet", "Travel Wallet"))
    assert run_dimensions(settings).success
    build(settings, "2026-10-26", "2026-10-27")
    ledger = assert_ledger_is_a_rebuild(settings)
    assert not {r[0] for r in ledger} & {u for (u,) in only_last}
    assert "Travel Wallet" in {r[2] for r in ledger}

    # And the whole ledger against the raw files (all of them are in the lake now).
    con = duckdb.connect()
    raw_views(con, landing)
    con.execute(f"CREATE MACRO local_day(ts) AS timezone('{TZ}', ts)::DATE")
    expected = sorted(con.sql(EXPECTED["user_ledger"]).fetchall())
    con.close()
    assert expected == ledger
