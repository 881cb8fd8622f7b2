"""Runs whose process is gone, and the pool slots they hold.

A run executed by `promo-reports` (or by Dagster's run worker) records its state in the
instance as it goes. Killed outright (SIGKILL, a lost machine), it stays STARTED for good
and keeps its slot in the `duckdb_warehouse` pool, so every later step that needs the
warehouse waits for ever. Dagster's run monitoring does not cover this: it runs in the
daemon only, and its default run launcher cannot check a run worker's health (the only
check for a STARTED run is a maximum run time).

So the CLI checks before it runs anything, and again while one of its steps waits for a
pool: a run is *gone* when its process no longer exists on this machine — the pid is free,
or now belongs to a process that started after the run did — and none of its step
processes is still alive. A gone run is marked failed with that reason and its slots are
freed. A run that cannot be judged from here (started on another machine) is left alone
and named, with the command that releases it once its operator has checked.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

PROCESS_TAG = "promo/process"  # "<host> <boot id> <pid>" of the process that runs the run
UNFINISHED = [
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
    DagsterRunStatus.CANCELING,
]
ENGINE = DagsterEventType.ENGINE_EVENT
CLOCK_SLACK_SECONDS = 2.0  # a process's start time is known to 1/100 s; events are stamped after


def boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "-"


def process_tags() -> dict[str, str]:
    """Tags for a run executed by this process: where to look for it later."""
    return {PROCESS_TAG: f"{socket.gethostname()} {boot_id()} {os.getpid()}"}


def _started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), None if there is no such process. Where
    /proc is missing, an existing process counts as started at the epoch (never reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return 0.0
    ticks = int(stat.rsplit(")", 1)[1].split()[19])  # field 22: start time after boot
    boot = next(
        float(line.split()[1])
        for line in Path("/proc/stat").read_text().splitlines()
        if line.startswith("btime ")
    )
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _alive(pid: int, not_after: float) -> bool:
    """Process `pid` exists and is the one that existed at `not_after` (not a reuse)."""
    started = _started_at(pid)
    return started is not None and started <= not_after + CLOCK_SLACK_SECONDS


@dataclass(frozen=True)
class Verdict:
    gone: bool | None  # None: cannot be judged from this machine
    why: str


def _pids(instance: DagsterInstance, run_id: str, kind: DagsterEventType):
    """(pid, time stamp) of every event of `kind` that names a process."""
    for entry in instance.all_logs(run_id, of_type=kind):
        data = entry.dagster_event and entry.dagster_event.event_specific_data
        metadata = getattr(data, "metadata", None) or {}
        if "pid" in metadata:
            yield int(metadata["pid"].value), entry.timestamp, entry.step_key


def judge(instance: DagsterInstance, record, local_instance: bool) -> Verdict:
    """Is the process of this unfinished run gone? `local_instance`: the instance is SQLite
    on this machine, so a run without our tag ran here too."""
    run = record.dagster_run
    tag = run.tags.get(PROCESS_TAG, "").split()
    engine = [] if tag or not local_instance else list(_pids(instance, run.run_id, ENGINE))
    if len(tag) == 3:
        host, boot = tag[0], tag[1]
        if host != socket.gethostname():
            return Verdict(None, f"it runs on {host}")
        if boot != boot_id():
            return Verdict(True, f"{host} restarted since the run began")
        pid, since = int(tag[2]), record.create_timestamp.timestamp()
    elif engine:  # the run's own process: the first engine event that names one
        pid, since = engine[0][0], engine[0][1]
    else:
        return Verdict(None, "it was launched outside the CLI, maybe on another machine")
    if _alive(pid, since):
        return Verdict(False, f"its process {pid} is running")
    workers = _pids(instance, run.run_id, DagsterEventType.STEP_WORKER_STARTED)
    for worker, at, step in workers:
        if _alive(worker, at):
            return Verdict(False, f"its process {pid} is gone but step {step} (pid {worker}) runs")
    return Verdict(True, f"its process {pid} on {socket.gethostname()} is gone")


def mark_failed(instance: DagsterInstance, run, why: str) -> str:
    """Mark `run` failed with the reason and free every pool slot it holds or waits for."""
    reason = f"run {run.run_id} was left {run.status.value} by a process that is gone ({why})"
    instance.report_run_failed(run, f"{reason}; marked failed by promo-reports")
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
    return f"recovered: {reason}: marked failed, its pool slots freed"


def recover(instance: DagsterInstance, local_instance: bool) -> list[str]:
    """Mark every unfinished run whose process is gone as failed and free its slots, and
    free the slots still held by finished or deleted runs. Returns what it did."""
    lines = []
    for record in instance.get_run_records(RunsFilter(statuses=UNFINISHED)):
        verdict = judge(instance, record, local_instance)
        if verdict.gone:
            lines.append(mark_failed(instance, record.dagster_run, verdict.why))
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return lines
    for run_id in sorted(storage.get_concurrency_run_ids()):
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)
            state = "deleted" if run is None else run.status.value
            lines.append(f"recovered: pool slots of run {run_id} ({state}) freed")
    return lines


def pool_waits(instance: DagsterInstance, run_ids: set[str]) -> list[tuple[str, str, list]]:
    """(pool, waiting step, holders) for every step of `run_ids` waiting for a pool slot;
    a holder is (run id, step key)."""
    storage = instance.event_log_storage
    if not run_ids or not storage.supports_global_concurrency_limits:
        return []
    waits = []
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        holders = sorted((s.run_id, s.step_key) for s in info.claimed_slots)
        for pending in info.pending_steps:
            if pending.run_id in run_ids and pending.assigned_timestamp is None:
                waits.append((pool, pending.step_key, holders))
    return waits


class Watch:
    """A thread that looks at the instance every `interval` seconds, with its own
    connection, while this process executes runs (those carrying its process tag);
    `check(instance)` says what it sees, once more when the block ends. A failing look is
    reported, never raised: a watcher must not break the run it watches."""

    name = "watch"

    def __init__(self, open_instance, notify, interval: float, last_look: bool = False):
        self.open_instance, self.notify, self.interval = open_instance, notify, interval
        self.last_look = last_look
        self.mine = process_tags()[PROCESS_TAG]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name=self.name, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _loop(self) -> None:
        with self.open_instance() as instance:
            while True:
                stopping = self.stop.wait(self.interval)
                if stopping and not self.last_look:
                    return
                try:
                    self.check(instance)
                except Exception as exc:
                    self.notify(f"({self.name}: {type(exc).__name__}: {exc})")
                if stopping:
                    self.finish()
                    return

    def check(self, instance: DagsterInstance) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After the last look."""


class PoolWatch(Watch):
    """While this process executes runs: say when one of its steps waits for a pool slot,
    naming the run that holds it, and recover that run if its process is gone (so a run
    killed while we wait does not keep us waiting for ever)."""

    name = "pool watch"

    def __init__(self, open_instance, local_instance: bool, notify, interval: float = 3.0):
        super().__init__(open_instance, notify, interval)
        self.local_instance = local_instance
        self.told: set[tuple] = set()

    def check(self, instance: DagsterInstance) -> None:
        ours = {
            r.dagster_run.run_id
            for r in instance.get_run_records(
                RunsFilter(tags={PROCESS_TAG: self.mine}, statuses=UNFINISHED)
            )
        }
        waits = pool_waits(instance, ours)
        if not waits:
            return
        for line in recover(instance, self.local_instance):
            self.notify(line)
        for pool, step, holders in pool_waits(instance, ours):
            for holder_run, holder_step in holders:
                if (step, holder_run) in self.told:
                    continue
                self.told.add((step, holder_run))
                self.notify(
                    f"waiting: step {step} waits for the {pool!r} pool, whose slot is held by "
                    f"run {holder_run} (step {holder_step})"
                    + _unjudged_hint(instance, holder_run, self.local_instance)
                )


def _unjudged_hint(instance: DagsterInstance, run_id: str, local_instance: bool) -> str:
    record = next(iter(instance.get_run_records(RunsFilter(run_ids=[run_id]))), None)
    if record is None or record.dagster_run.is_finished:
        return ""
    verdict = judge(instance, record, local_instance)
    if verdict.gone is None:
        return (
            f"; {verdict.why}: if its process is gone, `promo-reports recover --run {run_id}` "
            "releases it"
        )
    return f"; {verdict.why}"


def recover_run(instance: DagsterInstance, run_id: str, local_instance: bool) -> str:
    """`promo-reports recover --run ID`: the operator says this run's process is gone.
    Refused when the run is finished, unknown, or its process is seen running here."""
    record = next(iter(instance.get_run_records(RunsFilter(run_ids=[run_id]))), None)
    if record is None:
        raise LookupError(f"no run {run_id} in the instance")
    run = record.dagster_run
    if run.is_finished:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        return f"run {run_id} is {run.status.value} already; any pool slots it held are freed"
    verdict = judge(instance, record, local_instance)
    if verdict.gone is False:
        raise LookupError(f"run {run_id} is not gone: {verdict.why}")
    why = verdict.why if verdict.gone else f"{verdict.why}; released by the operator"
    return mark_failed(instance, run, why)
