"""What `promo-reports materialize` shows a person while it runs.

Dagster's and dbt's own log lines (hundreds per run) go to a log file whose path is
printed first; the terminal gets one line per finished step with what it did (records
ingested per stream, dbt models and tests, partitions published), and, on a terminal, a
progress bar that also counts dbt's models and tests as they finish. `--verbose` keeps the
raw lines on the terminal instead.

The steps are read from the instance's event log (every run this process executes carries
its process tag), so what is shown is what Dagster recorded. dbt's progress is read from
its own `N of M OK|PASS|…` lines in the log file: the dbt step records its
materializations only when the build ends (it attaches each day's row counts first).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, RunsFilter

from orchestration.recovery import PROCESS_TAG, Watch

EVENTS = {
    DagsterEventType.STEP_START,
    DagsterEventType.STEP_SUCCESS,
    DagsterEventType.STEP_FAILURE,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_CHECK_EVALUATION,
}
DBT_LINE = re.compile(rb"^\S*\s*(\d+) of (\d+) (OK|PASS|FAIL|ERROR|WARN|SKIP|NO-OP)\b", re.M)


@dataclass
class StepFigures:
    started: float | None = None
    materializations: int = 0  # one per partition of each asset
    assets: set = field(default_factory=set)
    rows: int = 0
    checks: int = 0
    checks_failed: int = 0


@dataclass
class Tracker:
    """Folds a run's events into lines for people (pure: unit-tested)."""

    steps: dict[str, StepFigures] = field(default_factory=dict)
    done: int = 0

    def feed(self, entry) -> str | None:
        event, step = entry.dagster_event, entry.step_key
        if event is None or step is None:
            return None
        figures = self.steps.setdefault(step, StepFigures())
        kind = event.event_type
        if kind == DagsterEventType.STEP_START:
            figures.started = entry.timestamp
        elif kind == DagsterEventType.ASSET_MATERIALIZATION:
            materialization = event.step_materialization_data.materialization
            figures.materializations += 1
            figures.assets.add(materialization.asset_key)
            meta = materialization.metadata  # a snapshot (dimension) says `rows`
            count = meta.get("dagster/row_count") or meta.get("rows")
            figures.rows += int(count.value) if count is not None else 0
        elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
            figures.checks += 1
            figures.checks_failed += not event.event_specific_data.passed
        elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
            self.done += 1
            seconds = entry.timestamp - (figures.started or entry.timestamp)
            if kind == DagsterEventType.STEP_FAILURE:
                error = event.step_failure_data.error
                reason = error.message.strip().splitlines()[0] if error else "no reason"
                return f"FAILED {step} after {seconds:.0f} s: {reason}"
            return f"done   {step} ({seconds:.0f} s){describe(step, figures)}"
        return None


def describe(step: str, figures: StepFigures) -> str:
    """What a finished step did, from its materializations and checks."""
    if step.startswith("lake__"):
        return f": {figures.rows:,} records accepted"
    if step == "warehouse_models":
        failed = f", {figures.checks_failed} failed" if figures.checks_failed else ""
        return f": {len(figures.assets)} models built, {figures.checks} tests{failed}"
    if step == "publish_marts":
        return f": {figures.materializations} partitions published, {figures.rows:,} rows"
    return ""


def dbt_progress(text: bytes) -> tuple[int, int] | None:
    """(done, total) from dbt's `N of M STATUS` lines in `text`, None if there are none."""
    found = DBT_LINE.findall(text)
    if not found:
        return None
    return max(int(n) for n, _, _ in found), int(found[-1][1])


class RunProgress(Watch):
    """While this process executes runs: a line per finished step, and a bar on a TTY."""

    name = "progress"

    def __init__(
        self,
        open_instance: Callable,
        write: Callable[[str], None],
        tty: bool,
        log: Path | None,
        interval: float = 1.0,
    ):
        super().__init__(open_instance, lambda line: write(line + "\n"), interval, last_look=True)
        self.write, self.tty, self.log = write, tty, log
        self.trackers: dict[str, Tracker] = {}
        self.cursors: dict[str, str | None] = {}
        self.log_offset, self.dbt = 0, None  # how far the log was read; dbt's last figures

    def finish(self) -> None:
        if self.tty:
            self.write("\r\033[K")

    def check(self, instance: DagsterInstance) -> None:
        records = instance.get_run_records(RunsFilter(tags={PROCESS_TAG: self.mine}))
        for record in sorted(records, key=lambda r: r.create_timestamp):
            run_id = record.dagster_run.run_id
            tracker = self.trackers.setdefault(run_id, Tracker())
            connection = instance.get_records_for_run(
                run_id, cursor=self.cursors.get(run_id), of_type=EVENTS
            )
            self.cursors[run_id] = connection.cursor
            for event_record in connection.records:
                line = tracker.feed(event_record.event_log_entry)
                if line:
                    self.write(("\r\033[K" if self.tty else "") + line + "\n")
        if self.tty:
            self.write("\r\033[K" + self.bar())

    def bar(self) -> str:
        done = sum(t.done for t in self.trackers.values())
        if self.log and self.log.exists():
            with self.log.open("rb") as f:  # only what dbt wrote since the last look
                f.seek(self.log_offset)
                text = f.read()
            self.log_offset += len(text)
            self.dbt = dbt_progress(text) or self.dbt
        dbt = self.dbt
        width, filled = 20, min(20, done)
        text = f"[{'#' * filled}{'.' * (width - filled)}] {done} steps done"
        if dbt:
            text += f" · dbt {dbt[0]}/{dbt[1]} models and tests"
        return text


@contextmanager
def raw_logs_to(path: Path | None) -> Iterator[Callable[[str], None]]:
    """Send this process's and its children's stdout and stderr (Dagster's and dbt's raw
    lines) to `path` while the block runs; yields a writer to the real terminal. With None
    (`--verbose`), nothing is redirected."""
    if path is None:
        yield lambda text: print(text, end="", flush=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    terminal = os.dup(1)
    saved_err = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield lambda text: os.write(terminal, text.encode())
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(terminal, 1)
            os.dup2(saved_err, 2)
            os.close(terminal)
            os.close(saved_err)
