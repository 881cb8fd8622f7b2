"""The report service, started for real: `promo-reports serve` in a child process on a free
port, over the shared Berlin sample pipeline, with an access file (a writer and a reader)
and a token for each, issued by `promo-reports token create`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import make_env
from tests.helpers import destinations_file

REPO = Path(__file__).resolve().parents[2]
WRITER, READER = "ana@example.com", "bob@example.com"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Service:
    url: str
    env: dict[str, str]
    home: Path
    downloads: Path
    tokens: dict[str, str]
    process: subprocess.Popen | None = None

    def client(self, user: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        # stop and start go through dagster-graphql, which loads the whole code location:
        # a minute or more on a loaded 2-core machine
        return httpx.Client(base_url=self.url, headers=headers, timeout=600)

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "orchestration.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def start(self) -> None:
        log = open(self.home / "serve.log", "ab")  # noqa: SIM115 (kept open for the child)
        port = self.url.rsplit(":", 1)[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "serve", "--port", port],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/openapi.json", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.3)
        raise AssertionError("the service did not start within 3 minutes")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process = None


@pytest.fixture(scope="session")
def service(berlin_pipeline, tmp_path_factory):
    """A running service over the Berlin pipeline's marts, with its own instance."""
    built, _, _ = berlin_pipeline
    home = tmp_path_factory.mktemp("service")
    access = home / "access.yaml"
    access.write_text(f"users:\n  {WRITER}: write\n  {READER}: read\n")
    # the buckets the tests' specs name, and a GCS one the form offers by name
    gcs = {"kind": "gcs", "bucket": "promo-bi-gcs", "prefix": "exports/"}
    configured = destinations_file(
        home / "destinations.yaml", "reports-bucket", "bi-bucket", **{"bi-gcs": gcs}
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PROMO_")},
        **make_env(
            home,  # its own PROMO_HOME (tokens, logs, downloads); the pipeline's marts
            PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
            PROMO_LAKE_URI=built.lake_uri,
            PROMO_MARTS_URI=built.marts_uri,
            PROMO_ACCESS_FILE=str(access),
            PROMO_REPORT_CATALOG=str(home / "recurring.yaml"),
            PROMO_DESTINATIONS_FILE=str(configured),
        ),
        "PYTHONPATH": str(REPO),
    }
    svc = Service(f"http://127.0.0.1:{free_port()}", env, home, home / "downloads", {})
    svc.env["PROMO_DOWNLOADS_DIR"] = str(svc.downloads)
    for user in (WRITER, READER):
        done = svc.cli("token", "create", "--user", user)
        assert done.returncode == 0, done.stderr
        svc.tokens[user] = done.stdout.strip().splitlines()[-1]
    svc.start()
    yield svc
    svc.stop()


def wait_for(client: httpx.Client, report_id: str, timeout: float = 300) -> dict:
    """Poll a report until it is no longer Creating."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        report = client.get(f"/api/reports/{report_id}").json()
        if report["status"] != "Creating":
            return report
        time.sleep(0.5)
    raise AssertionError(f"{report_id} still Creating after {timeout} s")
