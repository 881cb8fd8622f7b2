"""Report failures: the reason goes on the run (tag `promo/failure_reason`, which the
report list shows) and, when `PROMO_NOTIFY_WEBHOOK_URL` is set, to that URL as JSON."""

import json
import logging
import urllib.request

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from promo import names

log = logging.getLogger("promo.notifications")


def failure_reason(context: RunFailureSensorContext) -> str:
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        if data and data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        if data and data.error:
            return data.error.message.strip()
    return context.failure_event.message or "the run failed"


def notify(url: str | None, payload: dict) -> None:
    if not url:
        log.warning("report failed (no PROMO_NOTIFY_WEBHOOK_URL set): %s", json.dumps(payload))
        return
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (http(s) only)
        response.read()


def build_failure_sensor(jobs: list, webhook_url: str | None):
    @run_failure_sensor(
        name="report_failure_sensor",
        monitored_jobs=jobs,
        # On from the start: run-status sensors are off by default, and a report failure
        # nobody hears about is the failure this sensor exists for.
        default_status=DefaultSensorStatus.RUNNING,
        description="Records why a report run failed and posts it to the webhook.",
    )
    def report_failure_sensor(context: RunFailureSensorContext):
        run = context.dagster_run
        reason = failure_reason(context)
        context.instance.add_run_tags(run.run_id, {names.FAILURE_REASON_TAG: reason[:2000]})
        notify(
            webhook_url,
            {
                "event": "report_failed",
                "status": "Creation Failed",
                "report": run.tags.get(names.REPORT_NAME_TAG) or run.job_name,
                "job": run.job_name,
                "run_id": run.run_id,
                "partition": run.tags.get(names.PARTITION_TAG),
                "reason": reason,
            },
        )

    return report_failure_sensor
