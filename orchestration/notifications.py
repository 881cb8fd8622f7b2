"""Alerts: every failed run of the code location, and marts that miss their freshness
deadline, are announced where an operator will see them.

- Every failed run (the daily pipeline, dimensions, rebuild, one-time and recurring
  reports) gets the reason as a run tag (`promo/failure_reason`, which `report list`
  shows) and is POSTed as JSON to `PROMO_NOTIFY_WEBHOOK_URL`, retried with back-off and
  logged when it finally fails. A failed blocking asset check (a lake that lost a line, a
  failed reconciliation) fails its step in Dagster 1.13, so it fails the run and is
  alerted the same way; the payload names the failed checks.
- Slack and email, through Dagster's own sensors, when their settings are given.
- `freshness_alert_sensor` (orchestration/freshness.py) posts freshness state changes.

The payloads are documented in docs/operations.md ("Alerts").
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import Any

from dagster import (
    DagsterEventType,
    DefaultSensorStatus,
    RunFailureSensorContext,
    make_email_on_run_failure_sensor,
    run_failure_sensor,
)
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from orchestration.settings import AlertSettings
from orchestration.urls import host_only
from promo import names

log = logging.getLogger("promo.notifications")

# Four attempts, waiting about 1, 2 and 4 s between them, each with a 5 s timeout: at
# most ~30 s, inside the 60 s a sensor evaluation may take.
ATTEMPTS = 4
TIMEOUT_S = 5
# One evaluation may have several alerts (every mart stale at once, up to five failed runs
# per tick). Full retries for each would overrun the 60 s; the tick would then fail without
# saving its cursor, and post the alerts it had delivered again at the next one. So once
# the webhook failed every attempt, the alerts of the next DOWN_FOR_S get one short try
# each (a live webhook takes them; a dead one costs 2 s each), until one gets through.
DOWN_FOR_S = 60
DOWN_TIMEOUT_S = 2
_down_until = 0.0  # time.monotonic() until which the webhook counts as down
REPORT_JOBS_KIND = {"one_time_report", "recurring_report"}


class WebhookError(RuntimeError):
    """The webhook did not take the alert after every attempt."""


def _retryable(exc: BaseException) -> bool:
    """Network trouble, timeouts, 5xx and 429 are worth another try; other 4xx are not
    (the same request would be refused again)."""
    if isinstance(exc, urllib.error.HTTPError):
        return exc.code >= 500 or exc.code == 429
    return isinstance(exc, (urllib.error.URLError, TimeoutError, ConnectionError))


def post_json(
    url: str,
    payload: dict[str, Any],
    attempts: int = ATTEMPTS,
    wait_max=4.0,
    timeout: float = TIMEOUT_S,
) -> int:
    """POST `payload`; returns how many attempts it took. Raises WebhookError (naming the
    host only: the path may be a token) when every attempt failed."""
    body = json.dumps(payload, default=str).encode()
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(initial=1, max=wait_max, jitter=0.5),
        retry=retry_if_exception(_retryable),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                request = urllib.request.Request(
                    url, data=body, headers={"Content-Type": "application/json"}, method="POST"
                )
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                    response.read()
        return retrying.statistics.get("attempt_number", 1)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WebhookError(
            f"the alert to {host_only(url)} failed after "
            f"{retrying.statistics.get('attempt_number', attempts)} attempt(s): {reason}"
        ) from None


def send(alerts: AlertSettings, payload: dict[str, Any], logger=None) -> bool:
    """Deliver one alert to the webhook (if set); a failure is logged, never raised, so
    one unreachable webhook does not stop the sensor from handling the next run."""
    logger = logger or log
    if not alerts.webhook_url:
        logger.warning(f"alert (no PROMO_NOTIFY_WEBHOOK_URL set): {json.dumps(payload)}")
        return False
    global _down_until
    down = time.monotonic() < _down_until
    try:
        post_json(
            alerts.webhook_url,
            payload,
            attempts=1 if down else ATTEMPTS,
            timeout=DOWN_TIMEOUT_S if down else TIMEOUT_S,
        )
    except WebhookError as exc:
        _down_until = time.monotonic() + DOWN_FOR_S
        logger.error(f"{exc}; alert was: {json.dumps(payload)}")
        if logger is not log:  # the sensor's log is in the UI; promo.log keeps it too
            log.error("%s; alert was: %s", exc, json.dumps(payload))
        return False
    _down_until = 0.0
    return True


def run_url(alerts: AlertSettings, run_id: str) -> str | None:
    return f"{alerts.ui_url}/runs/{run_id}" if alerts.ui_url else None


def failure_reason(context: RunFailureSensorContext) -> str:
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        if data and data.error:
            return data.error.message.strip()
    return context.failure_event.message or "the run failed"


def partition_of(tags: dict[str, str]) -> str | None:
    """A run's partition (`2026-10-25`) or range (`2026-10-20...2026-10-26`)."""
    if tags.get(names.PARTITION_TAG):
        return tags[names.PARTITION_TAG]
    start, end = tags.get(names.RANGE_START_TAG), tags.get(names.RANGE_END_TAG)
    return f"{start}...{end}" if start and end else None


def failed_checks(instance, run_id: str) -> list[str]:
    """`asset:check` of every check that failed in the run (blocking ones fail it)."""
    out = []
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.dagster_event.event_specific_data
        if not evaluation.passed:
            out.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    return out


def failure_payload(context: RunFailureSensorContext, alerts: AlertSettings) -> dict[str, Any]:
    run = context.dagster_run
    report = run.tags.get(names.KIND_TAG) in REPORT_JOBS_KIND
    payload = {
        "event": "report_failed" if report else "run_failed",
        "job": run.job_name,
        "run_id": run.run_id,
        "partition": partition_of(run.tags),
        "failed_steps": [e.step_key for e in context.get_step_failure_events()],
        "failed_checks": failed_checks(context.instance, run.run_id),
        "reason": failure_reason(context),
        "url": run_url(alerts, run.run_id),
    }
    if report:
        payload["status"] = "Creation Failed"
        payload["report"] = run.tags.get(names.REPORT_NAME_TAG) or run.job_name
        # Where it was going: a failed delivery is often the destination's fault (its
        # bucket gone, its credentials revoked), and the operator looks there first.
        payload["destination"] = run.tags.get(names.DESTINATION_TAG)
    return payload


def build_failure_sensor(alerts: AlertSettings):
    @run_failure_sensor(
        name="run_failure_alert_sensor",
        # No job list: every job, present and future (a recurring report added to the
        # catalog is watched without touching this sensor). All code locations: runs the
        # CLI executes in its own process (`materialize`, `report create`) carry no code
        # location of their own, and a sensor limited to its location skips them.
        monitor_all_code_locations=True,
        # On from the start: run-status sensors are off by default, and a failure nobody
        # hears about is the failure this sensor exists for.
        default_status=DefaultSensorStatus.RUNNING,
        description="Every failed run: records why on the run (the report list reads it) "
        "and posts it to PROMO_NOTIFY_WEBHOOK_URL, retried with back-off.",
    )
    def run_failure_alert_sensor(context: RunFailureSensorContext):
        payload = failure_payload(context, alerts)
        context.instance.add_run_tags(
            payload["run_id"], {names.FAILURE_REASON_TAG: payload["reason"][:2000]}
        )
        send(alerts, payload, context.log)

    return run_failure_alert_sensor


def _message(context: RunFailureSensorContext) -> str:
    run = context.dagster_run
    where = partition_of(run.tags)
    destination = run.tags.get(names.DESTINATION_TAG)
    return (
        f"{run.job_name} failed"
        + (f" for {where}" if where else "")
        + (f" (delivery: {destination})" if destination else "")
        + f" (run {run.run_id}): {failure_reason(context)[:1500]}"
    )


def build_channel_sensors(alerts: AlertSettings) -> list:
    """Slack and email failure sensors, each only when its settings are all given."""
    sensors = []
    if alerts.slack:
        # Imported only when configured: the CLI and the code location load faster.
        from dagster_slack import make_slack_on_run_failure_sensor

        sensors.append(
            make_slack_on_run_failure_sensor(
                channel=alerts.slack_channel,
                slack_token=alerts.slack_token,
                text_fn=_message,
                name="slack_on_run_failure",
                webserver_base_url=alerts.ui_url,
                monitor_all_code_locations=True,  # as run_failure_alert_sensor: CLI runs too
                default_status=DefaultSensorStatus.RUNNING,
            )
        )
    if alerts.email:
        sensors.append(
            make_email_on_run_failure_sensor(
                email_from=alerts.email_from,
                email_password=alerts.smtp_password or "",
                email_to=list(alerts.email_to),
                email_body_fn=_message,
                email_subject_fn=lambda c: f"[promo] {c.dagster_run.job_name} failed",
                smtp_host=alerts.smtp_host,
                smtp_type="SSL" if alerts.smtp_security == "ssl" else "STARTTLS",
                smtp_port=alerts.smtp_port,
                smtp_user=alerts.smtp_user,
                name="email_on_run_failure",
                webserver_base_url=alerts.ui_url,
                monitor_all_code_locations=True,  # as run_failure_alert_sensor: CLI runs too
                default_status=DefaultSensorStatus.RUNNING,
            )
        )
    return sensors
