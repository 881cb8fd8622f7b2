"""Secrets and access, through the real CLI in child processes (one process per command,
as a user runs it):

- every write command of `promo-reports report` (create, stop, start, delete) refuses a
  reader and an unknown user with exit 4, a message naming the user and the missing
  right, a line in `$PROMO_HOME/logs/promo.log`, and no change to the catalog;
- a recognisable fake AWS secret and key id, present in every process's environment,
  appear nowhere: not in the CLI's output, not anywhere in DAGSTER_HOME (compute logs,
  the SQLite event log and run storage with every run's tags and metadata), not in
  PROMO_HOME, not in any object on S3 (published marts and their manifests, the report
  file and its manifest), and not in the error of a publish that failed on S3."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import boto3
import pytest
import yaml

from orchestration.settings import Settings
from promo.generator import generate
from resources.storage import LocalStorage
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.helpers import destinations_file, run_daily

pytestmark = pytest.mark.reliability
REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "orchestration.cli"]
CANARY = "canary-4b1d"  # put in a report name on purpose: proves the scan can see run tags
WRITE_COMMANDS = [
    ("report create", ["create", "--spec", "{spec}"]),
    ("report stop", ["stop", "Daily errors"]),
    ("report start", ["start", "Daily errors"]),
    ("report delete", ["delete", "Daily errors"]),
]


def cli(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [*CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def access(promo_env, tmp_path):
    access_file = tmp_path / "access.yaml"
    access_file.write_text("users:\n  ana@example.com: write\n  bob@example.com: read\n")
    catalog = tmp_path / "recurring.yaml"
    settings = promo_env(PROMO_ACCESS_FILE=str(access_file), PROMO_REPORT_CATALOG=str(catalog))
    return settings, catalog


@pytest.mark.parametrize(
    ("user", "why"),
    [("bob@example.com", "has only read access"), ("eve@example.com", "is not in the access file")],
)
def test_every_write_command_refuses_readers_and_strangers(
    access, tmp_path, user, why, record_fault
):
    settings, catalog = access
    catalog.write_text(
        yaml.safe_dump(
            {
                "reports": [
                    {
                        "name": "Daily errors",
                        "promotion_type": "promo_campaigns",
                        "report_type": "user_errors",
                        "filters": {"campaign_id": "cmp_welcome10"},
                        "delivery": {"destination": "s3", "bucket": "b-reports", "prefix": "r/"},
                        "frequency": {"interval": "daily"},
                    }
                ]
            }
        )
    )
    before = catalog.read_bytes()
    spec = tmp_path / "spec.yaml"
    spec.write_text(catalog.read_text().replace("Daily errors", "Another"))
    log = settings.home / "logs" / "promo.log"
    for action, args in WRITE_COMMANDS:
        done = cli(["report", "--user", user, *[a.format(spec=spec) for a in args]])
        assert done.returncode == 4, (action, done.stderr[-1000:])
        message = f"refused: {user} {why}; '{action}' needs write access"
        assert message in done.stderr, (action, done.stderr[-1000:])
        assert message in log.read_text(), f"{action}: the refusal is logged"
    assert catalog.read_bytes() == before, "nothing was changed by a refused command"
    assert not settings.downloads_dir.exists() or not any(settings.downloads_dir.iterdir())
    record_fault(
        f"every report write command run by a user who {why}: refused and logged",
        tried=len(WRITE_COMMANDS),
        survived=True,
    )


def dead_endpoint() -> str:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def scan(root: Path) -> dict[str, list[str]]:
    """Which files under `root` hold which needle, read as bytes (SQLite included)."""
    needles = {n: n.encode() for n in (FAKE_SECRET, FAKE_KEY_ID, CANARY)}
    found: dict[str, list[str]] = {n: [] for n in needles}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle, raw in needles.items():
                if raw in data:
                    found[needle].append(str(path.relative_to(root)))
    return found


def test_no_secret_in_dagster_home_s3_objects_or_a_failed_publish(
    promo_env, s3_bucket, s3_endpoint, tmp_path, record_fault
):
    access_file = tmp_path / "access.yaml"
    access_file.write_text("users:\n  ana@example.com: write\n")
    settings = promo_env(
        PROMO_MARTS_URI=f"s3://{s3_bucket}/marts",
        PROMO_S3_ENDPOINT_URL=s3_endpoint,
        PROMO_ACCESS_FILE=str(access_file),
        PROMO_USER="ana@example.com",
        PROMO_REPORT_CATALOG=str(tmp_path / "recurring.yaml"),
        PROMO_DESTINATIONS_FILE=str(destinations_file(tmp_path / "d.yaml", s3_bucket)),
    )
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == FAKE_SECRET  # every child inherits it
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 23), 2, seed=5, scale=100)
    outputs = []
    done = cli(["materialize", "--start", "2026-10-23", "--end", "2026-10-24"])
    outputs.append(done.stdout + done.stderr)
    assert done.returncode == 0, outputs[-1][-3000:]

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": f"Welcome errors {CANARY}",
                "promotion_type": "promo_campaigns",
                "report_type": "user_errors",
                "filters": {"campaign_id": "cmp_welcome10"},
                "date_range": {"start": "2026-10-23", "end": "2026-10-24"},
                "delivery": {"destination": "s3", "bucket": s3_bucket, "prefix": "reports/"},
                "frequency": "one_time",
            }
        )
    )
    done = cli(["report", "create", "--spec", str(spec)])
    outputs.append(done.stdout + done.stderr)
    assert done.returncode == 0, outputs[-1][-3000:]

    # A publish that fails on S3: the endpoint is a port nothing listens on.
    os.environ["PROMO_S3_ENDPOINT_URL"] = dead_endpoint()  # promo_env's monkeypatch restores it
    # The CLI's preflight refuses it with one line naming the endpoint, not the secret ...
    done = cli(["materialize", "--start", "2026-10-24", "--end", "2026-10-24"])
    refused = done.stdout + done.stderr
    assert done.returncode == 1 and "cannot reach the S3 endpoint" in refused, refused[-3000:]
    outputs.append(refused)
    # ... and a run that starts anyway (no preflight: a launch from the UI) fails in the
    # publish step, its error stored in DAGSTER_HOME's event log.
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        run = run_daily(Settings.from_env(), "2026-10-24", "2026-10-24", instance=instance)
    assert not run.success
    failures = [e for e in run.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["publish_marts"], failures
    outputs.append(str(failures[0].event_specific_data.error))

    for text in outputs:
        assert FAKE_SECRET not in text and FAKE_KEY_ID not in text
    home_hits = scan(settings.dagster_home)
    assert home_hits[CANARY], "the scan reads run tags in the instance's SQLite storage"
    assert any(
        "cannot write s3://"
        in Path(settings.dagster_home, p).read_bytes().decode("utf-8", "replace")
        for p in _files(settings.dagster_home)
    ), "the publish error is stored"
    assert home_hits[FAKE_SECRET] == [] and home_hits[FAKE_KEY_ID] == [], home_hits
    promo_hits = scan(settings.home)
    assert promo_hits[FAKE_SECRET] == [] and promo_hits[FAKE_KEY_ID] == [], promo_hits

    client = boto3.client("s3", endpoint_url=s3_endpoint)
    listed = client.list_objects_v2(Bucket=s3_bucket)["Contents"]
    keys = [o["Key"] for o in listed]
    assert any(k.startswith("reports/") and k.endswith(".manifest.json") for k in keys)
    assert any(k.endswith("/_manifest.json") for k in keys)
    for key in keys:
        body = client.get_object(Bucket=s3_bucket, Key=key)["Body"].read()
        assert FAKE_SECRET.encode() not in body and FAKE_KEY_ID.encode() not in body, key
    record_fault(
        "fake AWS secret and key id in every process's environment: absent from CLI output, "
        "DAGSTER_HOME (compute logs, event log, run tags), PROMO_HOME, S3 objects and "
        "a failed publish's error",
        survived=True,
        files_scanned=len(_files(settings.dagster_home)) + len(_files(settings.home)),
        s3_objects_scanned=len(keys),
    )


def _files(root: Path) -> list[Path]:
    return [p.relative_to(root) for p in root.rglob("*") if p.is_file()]
