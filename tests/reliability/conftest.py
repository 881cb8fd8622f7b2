"""Figures of the reliability suite. Tests call `record_fault(...)` once their checks
have passed; a test that fails is a fault tried and not survived, in
`reliability_<module>_failures.json`. At the end of the session every module's faults go
to `tests/artifacts/reliability_<module>.json`, and `reliability_summary.json` adds up
every `reliability_*.json` there (the figures quoted in docs/operations.md come from it,
not from memory)."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FAULTS: dict[str, list[dict]] = defaultdict(list)
# Per module: its tests that failed this session (`reliability_<module>_failures.json`).
FAILED: dict[str, list[dict]] = {}


@pytest.fixture
def record_fault(request):
    """record_fault(fault=..., tried=1, survived=True, records_lost=0, **details)."""
    area = Path(request.module.__file__).stem.removeprefix("test_")

    def record(fault: str, *, survived: bool, tried: int = 1, records_lost: int = 0, **details):
        FAULTS[area].append(
            {
                "fault": fault,
                "tried": tried,
                "survived": tried if survived is True else int(survived),
                "records_lost": records_lost,
                **details,
            }
        )

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test of this folder that fails counts as a fault tried and NOT survived. Tests
    record their faults once their checks have passed, and the figures are written
    whatever the session's outcome: without this row a failure would simply be missing
    from them, and the totals would still read "all survived"."""
    outcome = yield
    report = outcome.get_result()
    failed = FAILED.setdefault(Path(item.module.__file__).stem.removeprefix("test_"), [])
    if report.failed and report.when in ("setup", "call"):
        failed.append(
            {
                "fault": f"{item.name}: the test failed ({report.when})",
                "tried": 1,
                "survived": 0,
                "records_lost": 0,
            }
        )


def pytest_sessionfinish(session, exitstatus):
    if not FAULTS and not FAILED:
        return
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # Apart from the module's own figures (some modules write theirs themselves); a module
    # that ran and passed drops the failures of its earlier runs.
    for area, failures in FAILED.items():
        path = ARTIFACTS / f"reliability_{area}_failures.json"
        if failures:
            path.write_text(
                json.dumps(
                    {
                        "faults_injected": len(failures),
                        "faults_survived": 0,
                        "records_lost": 0,
                        "tests_failed": len(failures),
                        "faults": failures,
                    },
                    indent=2,
                )
                + "\n"
            )
        else:
            path.unlink(missing_ok=True)
    for area, faults in FAULTS.items():
        (ARTIFACTS / f"reliability_{area}.json").write_text(
            json.dumps(
                {
                    "faults_injected": sum(f["tried"] for f in faults),
                    "faults_survived": sum(f["survived"] for f in faults),
                    "records_lost": sum(f["records_lost"] for f in faults),
                    "faults": faults,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )
    write_summary()


def write_summary() -> None:
    """Add up every module's artifact. Each keeps its own time stamp: a module that did not
    run this session shows the figures of its last run."""
    totals = {"faults_injected": 0, "faults_survived": 0, "records_lost": 0, "tests_failed": 0}
    modules = {}
    for path in sorted(ARTIFACTS.glob("reliability_*.json")):
        if path.name == "reliability_summary.json":
            continue
        data = json.loads(path.read_text())
        written = datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat(timespec="seconds")
        figures = {k: data[k] for k in ("faults_injected", "faults_survived") if k in data}
        figures["records_lost"] = data.get("records_lost", 0)
        figures["tests_failed"] = data.get("tests_failed", 0)
        if "bad_lines_tried" in data:  # the bad raw input module counts lines, not faults
            figures["bad_lines_tried"] = data["bad_lines_tried"]
        modules[path.stem.removeprefix("reliability_")] = {"written": written, **figures}
        for key in totals:
            totals[key] += figures.get(key, 0)
    (ARTIFACTS / "reliability_summary.json").write_text(
        json.dumps({"totals": totals, "modules": modules}, indent=2) + "\n"
    )
    (ARTIFACTS / "reliability_figures.md").write_text(figures_table())


def figures_table() -> str:
    """The fault table of docs/operations.md, from the artifacts (one row per fault)."""
    lines = ["| fault | tried | survived | records lost |", "|---|---:|---:|---:|"]
    for path in sorted(ARTIFACTS.glob("reliability_*.json")):
        if path.name == "reliability_summary.json":
            continue
        for fault in json.loads(path.read_text()).get("faults", []):
            tried = fault.get("tried", 1)
            survived = int(fault["survived"])  # a count, or True/False for one fault
            lost = fault.get("records_lost", 0)
            lines.append(f"| {fault['fault']} | {tried} | {survived} | {lost} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ an S3 outage
class Outage:
    """A moto server on a fixed port that can be stopped and started again; moto keeps
    its in-memory state across restarts in the same process, like a real outage."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = None
        self.bucket = ""  # set by the fixture

    def up(self):
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def down(self):
        self.server.stop()


@pytest.fixture
def outage(s3_endpoint):  # s3_endpoint sets the fake credentials
    server = Outage()
    server.up()
    # moto's state is one per process, shared by every server it starts: a bucket of its
    # own per test, or one test would find another's objects.
    server.bucket = f"fault-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=server.url).create_bucket(Bucket=server.bucket)
    yield server
    with contextlib.suppress(Exception):  # a test may have left it down
        server.down()
