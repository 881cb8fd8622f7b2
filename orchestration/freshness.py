"""Freshness of the published marts: when they are expected, and who is told when not.

The policy (Dagster 1.13's `FreshnessPolicy.cron`, on every `marts/<mart>` asset, set in
assets/publish.py from `marts_policy`) says: day D-1's marts are published between local
midnight of day D and `PROMO_MARTS_DUE_HOUR` (default 05:00) in the account timezone. The
daemon's freshness loop evaluates it every 30 s, shows the state on the asset in the UI
(Fresh / Degraded... as PASS or FAIL) and records each change; `freshness_alert_sensor`
posts every change to FAIL (and the recovery to PASS) to the webhook.

A day whose marts never arrive is therefore a missed freshness deadline (an alert and a
red asset), not a failed run: recurring reports wait for their data (reports_sensors.py).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dagster import (
    AssetKey,
    DefaultSensorStatus,
    FreshnessPolicy,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from orchestration.notifications import send
from orchestration.settings import AlertSettings, Settings

FAIL, PASS = "FAIL", "PASS"


def marts_policy(settings: Settings) -> FreshnessPolicy:
    """Published since local midnight, by `PROMO_MARTS_DUE_HOUR` local, every day. Day
    D-1's partition exists only once D-1 has ended, so a publish in [00:00, due hour) of day
    D is that day's run (or a re-run of older days, which also counts: the marts moved).
    Dagster evaluates it against the asset's latest materialization, whatever partition."""
    return FreshnessPolicy.cron(
        deadline_cron=f"0 {settings.marts_due_hour} * * *",
        lower_bound_delta=timedelta(hours=settings.marts_due_hour) + dst_margin(settings.tz),
        timezone=settings.account_timezone,
    )


def dst_margin(tz: ZoneInfo) -> timedelta:
    """Dagster starts the window `lower_bound_delta` of real time before the deadline, not
    at a wall-clock hour. On the night the clocks go back (25 hours) the due hour less N
    hours is an hour after local midnight, and marts published just after midnight would
    count as missing. Where the zone shifts its clocks, the window is widened by the largest
    shift of the year (an hour, mostly), so it always starts at or before local midnight; a
    publish in the last hour before midnight (a re-run by hand) then counts too."""
    year = datetime.now(tz).year
    offsets = {datetime(year, month, 1, 12, tzinfo=tz).utcoffset() for month in range(1, 13)}
    return max(offsets) - min(offsets)


def state_changes(
    previous: dict[str, str], current: dict[str, str]
) -> list[tuple[str, str | None, str]]:
    """(asset, before, now) for each asset that entered FAIL, or left it for PASS. Pure.
    The first sight of an asset that is already failing counts as entering FAIL."""
    changes = []
    for key, state in sorted(current.items()):
        before = previous.get(key)
        if state == before:
            continue
        if state == FAIL or (state == PASS and before == FAIL):
            changes.append((key, before, state))
    return changes


def freshness_payload(key: str, before: str | None, now: str, alerts: AlertSettings, due: str):
    stale = now == FAIL
    return {
        "event": "marts_stale" if stale else "marts_fresh_again",
        "asset": key,
        "state": now,
        "previous_state": before,
        "expected": due,
        "reason": (
            f"{key} was not published since local midnight by {due}"
            if stale
            else f"{key} was published again"
        ),
        "url": f"{alerts.ui_url}/assets/{key}" if alerts.ui_url else None,
    }


def build_freshness_sensor(keys: list[AssetKey], alerts: AlertSettings, due_hour: int, tz: str):
    due = f"{due_hour:02d}:00 {tz}"

    @sensor(
        name="freshness_alert_sensor",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description=f"Posts to the webhook when a published mart misses its freshness "
        f"deadline (published since local midnight by {due}), and when it recovers.",
    )
    def freshness_alert_sensor(context: SensorEvaluationContext):
        records = context.instance.get_freshness_state_records(keys)
        current = {k.to_user_string(): r.freshness_state.value for k, r in records.items()}
        previous = json.loads(context.cursor) if context.cursor else {}
        changes = state_changes(previous, current)
        for key, before, now in changes:
            send(alerts, freshness_payload(key, before, now, alerts, due), context.log)
        context.update_cursor(json.dumps({**previous, **current}, sort_keys=True))
        if not changes:
            return SkipReason(f"no freshness change ({len(current)} marts evaluated)")
        return None

    return freshness_alert_sensor
