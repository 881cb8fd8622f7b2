"""Issue 15, the parts without Dagster runs: the alert webhook's retries (against a real
HTTP server on 127.0.0.1), the alert and freshness settings, when a recurring report's
period is due, freshness state changes, and the marts' contract types."""

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from orchestration import notifications
from orchestration.freshness import state_changes
from orchestration.notifications import WebhookError, post_json, send
from orchestration.report_sensors import Period, plan
from orchestration.settings import AlertSettings, Settings, SettingsError
from promo.marts import ContractError, arrow_type, schema_drift


class Flaky(BaseHTTPRequestHandler):
    """Answers the first `failures` POSTs with `status`, then 204; records every body."""

    failures, status, bodies = 0, 503, []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Flaky.bodies.append(body)
        code = Flaky.status if len(Flaky.bodies) <= Flaky.failures else 204
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook():
    server = HTTPServer(("127.0.0.1", 0), Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Flaky.bodies = []
    yield f"http://127.0.0.1:{server.server_port}/hooks/T0KEN-in-path"
    server.shutdown()
    server.server_close()


def test_the_webhook_is_retried_with_back_off_until_it_answers(hook):
    Flaky.failures, Flaky.status = 2, 503
    started = time.monotonic()
    attempts = post_json(hook, {"event": "run_failed"}, wait_max=0.2)
    assert attempts == 3 and len(Flaky.bodies) == 3
    assert all(b == {"event": "run_failed"} for b in Flaky.bodies)
    assert time.monotonic() - started >= 0.35  # waited between attempts (2 x 0.2 s here)


def test_a_refusal_is_not_retried_and_the_token_is_not_shown(hook):
    Flaky.failures, Flaky.status = 99, 400
    with pytest.raises(WebhookError) as raised:
        post_json(hook, {"event": "run_failed"}, wait_max=0.2)
    assert len(Flaky.bodies) == 1  # the same request would be refused again
    assert "T0KEN" not in str(raised.value) and "127.0.0.1" in str(raised.value)


def test_an_unreachable_webhook_is_logged_after_every_attempt(caplog, monkeypatch, hook):
    monkeypatch.setattr(notifications, "_down_until", 0.0)
    server = HTTPServer(("127.0.0.1", 0), Flaky)
    port = server.server_port
    server.server_close()  # nothing listens there any more
    alerts = AlertSettings(webhook_url=f"http://127.0.0.1:{port}/hooks/T0KEN")
    with caplog.at_level("ERROR", logger="promo.notifications"):
        assert send(alerts, {"event": "run_failed", "job": "promo_daily"}) is False
        # The next alerts of this evaluation get one try each, not four: several alerts
        # in one tick stay within the 60 s a sensor evaluation may take.
        started = time.monotonic()
        assert send(alerts, {"event": "run_failed", "job": "stats"}) is False
        assert time.monotonic() - started < 1
    first, second = [r.getMessage() for r in caplog.records if r.name == "promo.notifications"]
    assert "after 4 attempt(s)" in first and "promo_daily" in first
    assert "after 1 attempt(s)" in second and "stats" in second
    assert "T0KEN" not in first + second
    # A webhook that answers again gets the next alert, and the full retries come back.
    Flaky.failures, Flaky.status = 0, 204
    assert send(AlertSettings(webhook_url=hook), {"event": "run_failed"}) is True
    assert notifications._down_until == 0.0


def test_alert_settings_are_read_and_secrets_never_shown():
    s = Settings.from_env(
        {
            "PROMO_NOTIFY_WEBHOOK_URL": "https://hooks.example.com/services/SECRET-PATH",
            "PROMO_UI_URL": "https://dagster.example.com/",
            "PROMO_SLACK_TOKEN": "xoxb-slack-SECRET",
            "PROMO_SLACK_CHANNEL": "#promo-alerts",
            "PROMO_SMTP_HOST": "smtp.example.com",
            "PROMO_SMTP_PORT": "2525",
            "PROMO_SMTP_SECURITY": "STARTTLS",
            "PROMO_SMTP_PASSWORD": "smtp-SECRET",
            "PROMO_ALERT_EMAIL_FROM": "promo@example.com",
            "PROMO_ALERT_EMAIL_TO": "a@example.com, b@example.com",
        }
    )
    a = s.alerts
    assert a.ui_url == "https://dagster.example.com" and a.slack and a.email
    assert (a.smtp_port, a.smtp_security, a.email_to) == (
        2525,
        "starttls",
        ("a@example.com", "b@example.com"),
    )
    shown = str(s.describe()) + repr(s)
    assert "SECRET" not in shown and "hooks.example.com" in shown
    assert s.alerts.webhook_url.endswith("SECRET-PATH")  # the value itself is kept
    quiet = Settings.from_env({})
    assert not quiet.alerts.slack and not quiet.alerts.email and quiet.alerts.webhook_url is None


@pytest.mark.parametrize(
    "env, name",
    [
        ({"PROMO_SMTP_PORT": "smtp"}, "PROMO_SMTP_PORT"),
        ({"PROMO_SMTP_SECURITY": "tls1.0"}, "PROMO_SMTP_SECURITY"),
        ({"PROMO_UI_URL": "dagster.local:3000"}, "PROMO_UI_URL"),
        ({"PROMO_MARTS_DUE_HOUR": "0"}, "PROMO_MARTS_DUE_HOUR"),
        ({"PROMO_MARTS_DUE_HOUR": "24"}, "PROMO_MARTS_DUE_HOUR"),
        ({"PROMO_ASSET_OWNER": "data people"}, "PROMO_ASSET_OWNER"),
        ({"PROMO_GIT_URL": "git@github.com:x/y"}, "PROMO_GIT_URL"),
    ],
)
def test_bad_operability_settings_name_the_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_operability_defaults():
    s = Settings.from_env({})
    assert (s.marts_due_hour, s.report_hour, s.asset_owner) == (5, 6, "team:promo-data")
    assert Settings.from_env({"PROMO_ASSET_OWNER": "ana@example.com"}).asset_owner


# ------------------------------------------------------------------ recurring reports
NOW = datetime(2026, 10, 27, 9, 0, tzinfo=UTC)


def period(day: str, due_hour: int) -> Period:
    d = date.fromisoformat(day)
    due = datetime(d.year, d.month, d.day, due_hour, tzinfo=UTC) + timedelta(days=1)
    return Period(day, d, d, due)


def test_a_period_runs_once_due_and_complete_and_waits_otherwise():
    periods = [period("2026-10-24", 6), period("2026-10-25", 6), period("2026-10-26", 6)]
    ready, waiting = plan(periods, {"2026-10-24", "2026-10-26"}, NOW, since=NOW - timedelta(30))
    assert [p.key for p in ready] == ["2026-10-24", "2026-10-26"]
    assert waiting == ["2026-10-25: waiting for 2026-10-25 to be published"]
    # before the report hour nothing is due, published or not
    ready, waiting = plan(
        [period("2026-10-26", 10)], {"2026-10-26"}, NOW, since=NOW - timedelta(30)
    )
    assert not ready and waiting == ["2026-10-26: not before 2026-10-27T10:00:00+00:00"]


def test_periods_due_before_the_switch_was_first_on_are_not_delivered():
    periods = [period("2026-10-25", 6), period("2026-10-26", 6)]
    since = datetime(2026, 10, 27, 7, 0, tzinfo=UTC)  # switched on after 10-26's due time
    ready, waiting = plan(periods, {"2026-10-25", "2026-10-26"}, NOW, since)
    assert ready == [] and waiting == []


def test_a_weekly_period_waits_for_all_its_days():
    week = Period(
        "2026-10-19",
        date(2026, 10, 19),
        date(2026, 10, 25),
        datetime(2026, 10, 26, 6, tzinfo=UTC),
    )
    published = {f"2026-10-{d}" for d in range(19, 25)}  # Sunday the 25th missing
    ready, waiting = plan([week], published, NOW, since=NOW - timedelta(30))
    assert not ready and waiting == ["2026-10-19: waiting for 2026-10-25 to be published"]
    ready, _ = plan([week], published | {"2026-10-25"}, NOW, since=NOW - timedelta(30))
    assert ready == [week]


# ------------------------------------------------------------------ freshness
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"])
def test_the_freshness_window_starts_by_local_midnight_every_day_of_the_year(zone):
    """Dagster's cron policy starts its window lower_bound_delta of real time before the
    deadline: on the 25-hour night of a DST change, publishing just after midnight must
    still count (and the window must never reach back more than the shift)."""
    from zoneinfo import ZoneInfo

    from orchestration.freshness import marts_policy

    settings = Settings.from_env({"PROMO_ACCOUNT_TIMEZONE": zone, "PROMO_MARTS_DUE_HOUR": "5"})
    delta = marts_policy(settings).lower_bound_delta
    tz = ZoneInfo(zone)
    shifts = zone != "UTC" and zone != "Asia/Kathmandu"
    day = date(2026, 1, 1)
    while day.year == 2026:
        midnight = datetime.combine(day, datetime.min.time(), tz)
        deadline = midnight.replace(hour=5)
        start = deadline.timestamp() - delta.total_seconds()
        assert start <= midnight.timestamp(), day  # 00:05's publish counts
        assert start >= midnight.timestamp() - (7200 if shifts else 0), day
        day += timedelta(days=1)


def test_freshness_alerts_on_entering_fail_and_on_recovery_only():
    assert state_changes({}, {"marts/a": "PASS", "marts/b": "FAIL", "marts/c": "UNKNOWN"}) == [
        ("marts/b", None, "FAIL")
    ]
    before = {"marts/a": "PASS", "marts/b": "FAIL"}
    assert state_changes(before, {"marts/a": "FAIL", "marts/b": "PASS"}) == [
        ("marts/a", "PASS", "FAIL"),
        ("marts/b", "FAIL", "PASS"),
    ]
    assert state_changes(before, before) == []


# ------------------------------------------------------------------ contracts
@pytest.mark.parametrize(
    "data_type, engine, arrow",
    [
        ("string", "duckdb", "string"),
        ("decimal(18,2)", "spark", "decimal128(18, 2)"),
        ("timestamptz", "duckdb", "timestamp[us, tz=UTC]"),
        ("timestamp", "spark", "timestamp[us, tz=UTC]"),
        ("timestamp", "duckdb", "timestamp[us]"),
        ("timestamp_ntz", "spark", "timestamp[us]"),
        ("bigint", "duckdb", "int64"),
        ("date", "spark", "date32[day]"),
    ],
)
def test_both_engines_contract_types_name_the_same_parquet_types(data_type, engine, arrow):
    assert arrow_type(data_type, engine) == arrow


def test_an_unknown_contract_type_is_refused():
    with pytest.raises(ContractError):
        arrow_type("map<string,int>", "spark")


def test_schema_drift_names_each_difference():
    contract = {"id": "string", "points": "decimal128(18, 2)", "day": "date32[day]"}
    assert schema_drift(contract, dict(contract)) == []
    drifted = {"id": "string", "points": "double", "extra": "int64"}
    assert schema_drift(contract, drifted) == [
        "day: missing (contract: date32[day])",
        "extra: not in the contract (int64)",
        "points: double, contract says decimal128(18, 2)",
    ]
    reordered = {"points": "decimal128(18, 2)", "id": "string", "day": "date32[day]"}
    assert schema_drift(contract, reordered)[0].startswith("column order")
