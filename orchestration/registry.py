"""The report list, read from where the truth lives:

- one-time reports are runs of the `one_time_report` job in the Dagster instance (their
  status is the run's status; the file's location is the run's materialization);
- recurring reports are catalog entries, and their Active/Stopped status is the state of
  their sensor (`report_<id>_sensor`, which delivers each period once its data is
  published) in the instance — the same switch as in the Dagster UI. It is read from the
  instance's storage directly (milliseconds: `report list` and the API read it on every
  call; a sensor that was never switched has no stored state and runs, its default), and
  flipped through Dagster's GraphQL API (`dagster-graphql`, which loads the code location
  to find the sensor's origin: seconds, but only on stop and start).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from dagster import DagsterEventType, DagsterInstance, RunsFilter

from orchestration.instance import ensure_dagster_home
from orchestration.report_entries import (
    ReportEntry,
    RunFacts,
    destination_of,
    one_time_entry,
    recurring_reports,
)
from orchestration.report_index import FINAL, save_facts
from orchestration.settings import REPO_ROOT, Settings
from promo import names

__all__ = [
    "ReportEntry",
    "destination_of",
    "one_time_reports",
    "recurring_reports",
    "set_switch",
    "stored_switch_status",
]


def _failure_reason(instance: DagsterInstance, run_id: str) -> str | None:
    """The failed step's own description, else its error (a run's reason tag, which wins,
    is read with the other tags)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = record.dagster_event.step_failure_data
        if data.user_failure_data and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error:
            return data.error.message.strip()
    return None


def _delivered(instance: DagsterInstance, run_id: str) -> RunFacts:
    """Where the report's file was delivered, and its rows (the report's materialization)."""
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        meta = record.dagster_event.event_specific_data.materialization.metadata
        if "location" in meta:
            rows = meta.get("rows")
            return RunFacts(meta["location"].value, int(rows.value) if rows is not None else None)
    return RunFacts()


def _facts(instance: DagsterInstance, run) -> RunFacts:
    """What the event log adds to a run's line (nothing until it has finished)."""
    status = run.status.value
    if status == "SUCCESS":
        return _delivered(instance, run.run_id)
    if status in FINAL and not run.tags.get(names.FAILURE_REASON_TAG):
        return RunFacts(reason=_failure_reason(instance, run.run_id))
    return RunFacts()


def one_time_reports(
    instance: DagsterInstance, tz: ZoneInfo, run_ids: list[str] | None = None
) -> list[ReportEntry]:
    """One-time reports, newest first (or only those of `run_ids`), through Dagster's API.
    What the event logs of finished runs hold is recorded in DAGSTER_HOME, for
    `report list` to read without Dagster next time (`orchestration.report_index`)."""
    entries, found = [], {}
    runs = RunsFilter(job_name=names.ONE_TIME_REPORT_JOB, run_ids=run_ids)
    for record in instance.get_run_records(runs):
        run = record.dagster_run
        facts = found[run.run_id] = run.status.value, _facts(instance, run)
        entries.append(
            one_time_entry(
                run.run_id,
                run.status.value,
                run.tags,
                run.run_config,
                record.create_timestamp,
                tz,
                facts[1],
            )
        )
    if instance.root_directory:
        save_facts(Path(instance.root_directory), found, every_run=run_ids is None)
    return entries


# ------------------------------------------------------------------ switches (GraphQL)
SENSORS_QUERY = """{ repositoriesOrError { ... on RepositoryConnection { nodes {
  name location { name }
  sensors { name sensorState { id status } }
} } } }"""


def graphql(settings: Settings, query: str) -> dict:
    """Run a GraphQL query or mutation against the workspace (`dagster-graphql`, which
    loads the code location itself; no webserver needed)."""
    exe = str(Path(sys.executable).parent / "dagster-graphql")
    ensure_dagster_home(settings)
    proc = subprocess.run(
        [exe, "-w", str(REPO_ROOT / "workspace.yaml"), "-t", query],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=settings.child_environment(),
        timeout=300,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("{")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"dagster-graphql failed: {proc.stderr.strip()[-500:]}")
    return json.loads(line)


def switch_states(settings: Settings) -> dict[str, dict]:
    """Every sensor of the code location: name -> {id, status, location, repository}.
    A recurring report's switch is the sensor named `RecurringReport.switch_name`."""
    data = graphql(settings, SENSORS_QUERY)["data"]["repositoriesOrError"]
    out = {}
    for repo in data.get("nodes", []):
        for sensor in repo["sensors"]:
            out[sensor["name"]] = {
                "id": sensor["sensorState"]["id"],
                "status": sensor["sensorState"]["status"],
                "location": repo["location"]["name"],
                "repository": repo["name"],
            }
    return out


ERRORS = "{ __typename ... on PythonError { message } }"


def set_switch(settings: Settings, name: str, running: bool) -> str:
    """Turn a recurring report's sensor on (Active) or off (Stopped)."""
    state = switch_states(settings).get(name)
    if state is None:
        raise RuntimeError(f"no sensor {name!r} in the code location")
    if running:
        selector = (
            f'{{repositoryLocationName: "{state["location"]}", '
            f'repositoryName: "{state["repository"]}", sensorName: "{name}"}}'
        )
        query = f"mutation {{ startSensor(sensorSelector: {selector}) {ERRORS} }}"
    else:
        query = f'mutation {{ stopSensor(id: "{state["id"]}") {ERRORS} }}'
    result = graphql(settings, query)["data"]
    outcome = next(iter(result.values()))
    if outcome.get("__typename") == "PythonError":
        raise RuntimeError(outcome.get("message", "switch change failed"))
    return "RUNNING" if running else "STOPPED"


def stored_switch_status(instance: DagsterInstance) -> dict[str, str]:
    """sensor name -> RUNNING | STOPPED, for the report switches someone flipped (from the
    UI, the CLI or the API); the others follow their default in code, RUNNING."""
    out = {}
    for state in instance.all_instigator_state():
        if state.status.value in ("RUNNING", "STOPPED"):
            out[state.name] = state.status.value
    return out
