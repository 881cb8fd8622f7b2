"""dbt run on a thread of the Dagster step's own process instead of a child process.

A one-day run spends ~3 s of its ~10 s on dbt's process alone (issue 17): starting a
Python that imports dbt (~1.8 s before dbt's first line) and tearing it down (~0.9 s).
The step has already imported most of dbt through dagster-dbt (the rest, `dbt.cli.main`,
costs ~0.5 s), so dbt's programmatic entry point (`dbtRunner`) does the same build for
less.

dagster-dbt still does everything else: the selection, and turning dbt's events into
Dagster's. `InProcessDbt` stands in for the `subprocess.Popen` that dagster-dbt starts;
its `stdout` gives the JSON lines the dbt command would have printed (the same events at
the same levels), so dagster-dbt's reading of them is unchanged. resources/dbt.py decides
when it is used (the DuckDB engine; Spark keeps its own process, whose JVM must end
with it).
"""

from __future__ import annotations

import ctypes
import json
import queue
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster_dbt.core.dbt_cli_invocation as dagster_dbt_invocation

from resources.environ import differing, restore_environ, set_environ

# dbt's exit codes: 1 when a node failed (a test, a model), 2 when dbt itself failed.
FAILED, CRASHED = 1, 2
# dbt's stdout shows events at `info` and above; the callback sees every level.
SHOWN_LEVELS = frozenset({"info", "warn", "error"})


class _Lines:
    """The JSON lines of dbt's events, as bytes, until dbt ends: the part of a pipe that
    dagster-dbt reads (iteration, `closed`, a `with` block)."""

    def __init__(self) -> None:
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self.closed = False

    def put(self, line: bytes | None) -> None:
        self._queue.put(line)

    def __iter__(self) -> Iterator[bytes]:
        while (line := self._queue.get()) is not None:
            yield line
        self.closed = True

    def __enter__(self) -> _Lines:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.closed = True


class InProcessDbt:
    """What dagster-dbt uses of `subprocess.Popen(args, stdout=..., stderr=..., env=...,
    cwd=...)`: `args`, `stdout`, `returncode`, `poll()`, `wait()`, `send_signal()` and
    `kill()`. `args` is the dbt command line (the executable first, then dbt's arguments);
    `env` the environment dbt runs with, plus `extra_env`.

    The environment is this process's, shared by every thread, and dbt reads it all along
    (it scans every variable for secrets to hide whenever it reports an error), so it
    must not change while dbt runs: a variable removed mid-scan fails dbt with a KeyError.
    It is set here, before dbt starts, and put back by dbt's thread once dbt has ended;
    callers pass their variables in `extra_env` instead of setting them around the call."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str] | None = None,
        extra_env: Mapping[str, str] | None = None,
        **_: Any,
    ) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        self.stdout = _Lines()
        wanted = {**(env or {}), **(extra_env or {})}
        self._file_level = wanted.get("DBT_LOG_LEVEL_FILE", "debug")
        self._saved_environ = set_environ(differing(wanted))
        self._thread = threading.Thread(target=self._run, name="dbt", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from dbt.cli.main import dbtRunner
        from dbt_common.events.functions import msg_to_json

        def forward(msg) -> None:
            if msg.info.level in SHOWN_LEVELS:
                self.stdout.put(msg_to_json(msg).encode())

        try:
            # dbt's own console output is off: dagster-dbt prints each event it reads.
            # Turning it off would turn off dbt's log file too (its level follows the
            # console's when set), which keeps its default: every event.
            quiet = ["--log-level", "none", "--log-level-file", self._file_level]
            result = dbtRunner(callbacks=[forward]).invoke([*self.args[1:], *quiet])
            self.returncode = 0 if result.success else CRASHED if result.exception else FAILED
            if result.exception is not None:
                self.stdout.put(_error_line(result.exception))
        except BaseException as exc:  # a KeyboardInterrupt from send_signal included
            self.returncode = CRASHED
            self.stdout.put(_error_line(exc))
        finally:
            _close_duckdb()
            restore_environ(self._saved_environ)
            self.stdout.put(None)

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode if self.returncode is not None else CRASHED

    def send_signal(self, sig: int) -> None:
        """SIGINT is what dagster-dbt sends when a run is interrupted: dbt's thread gets
        the KeyboardInterrupt its own process would get, which makes dbt stop and cancel
        its queries. The thread sees it only when it next runs Python, and it waits for
        the running queries: they are cancelled here first, as dbt itself would."""
        if sig != signal.SIGINT or self._thread.ident is None or self.poll() is not None:
            return
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self._thread.ident), ctypes.py_object(KeyboardInterrupt)
        )
        from dbt.adapters.factory import FACTORY

        for adapter in list(FACTORY.adapters.values()):
            adapter.cancel_open_connections()

    def kill(self) -> None:
        """Nothing to kill: a thread cannot be; it ends with this process (a daemon)."""


def _close_duckdb() -> None:
    """dbt-duckdb keeps its database open in the process after dbt ends (its `keep_open`
    default, for the next invocation), and DuckDB then refuses this process any other
    connection to the file (the step's read-only one counts rows next). dbt's own process
    released it by exiting; this closes it the same way. Private members of dbt-duckdb:
    tests/unit/test_dbt_resource.py fails if an upgrade renames them."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()


def _error_line(exc: BaseException) -> bytes:
    """An error event in dbt's JSON layout, which dagster-dbt lists in the error it
    raises (the child process would have printed the same before exiting)."""
    info = {"level": "error", "msg": f"{type(exc).__name__}: {exc}", "name": "InProcessError"}
    return json.dumps({"info": info, "data": {}}).encode()


@contextmanager
def dbt_in_this_process(extra_env: Mapping[str, str]) -> Iterator[None]:
    """dagster-dbt starts `InProcessDbt` (with `extra_env`) instead of a child process, for
    the block. The module attribute it reads is private: tests/unit/test_dbt_resource.py
    fails if an upgrade moves it."""
    saved = dagster_dbt_invocation.subprocess
    dagster_dbt_invocation.subprocess = _Subprocess(extra_env)
    try:
        yield
    finally:
        dagster_dbt_invocation.subprocess = saved


class _Subprocess:
    """The `subprocess` module as dagster-dbt's invocation module sees it in the block."""

    PIPE = subprocess.PIPE
    STDOUT = subprocess.STDOUT
    TimeoutExpired = subprocess.TimeoutExpired

    def __init__(self, extra_env: Mapping[str, str]) -> None:
        self.extra_env = dict(extra_env)

    def Popen(self, args: Sequence[str], **kwargs: Any) -> InProcessDbt:  # noqa: N802
        return InProcessDbt(args, extra_env=self.extra_env, **kwargs)
