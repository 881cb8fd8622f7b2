"""An S3 outage in the middle of an ingestion into an `s3://` lake (issue 14): the run fails
with a reason naming the location; after the restart the re-run completes, and the lake
and the marts equal a clean local run's: nothing lost, nothing doubled."""

from __future__ import annotations

import contextlib
import threading
import time

import boto3
import pytest

from orchestration.settings import Settings
from resources.storage import LocalStorage, open_storage
from tests.helpers import INGESTION_KEYS, run_daily, run_dimensions
from tests.integration.test_production_storage import (
    LOCAL_FIRST,
    LOCAL_LAST,
    files,
    local_reference,
    make_landing,
    s3_env,
    upload,
)
from tests.reliability.conftest import Outage

pytestmark = pytest.mark.reliability


def stop_when_lake_has(server: Outage, bucket: str, n: int) -> threading.Thread:
    """Stop the server as soon as `n` accepted lake files are visible: mid-ingestion."""
    client = boto3.client("s3", endpoint_url=server.url)

    def watch():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                listed = client.list_objects_v2(Bucket=bucket, Prefix="lake/accepted/")
                parts = [o for o in listed.get("Contents", []) if "/.tmp-" not in o["Key"]]
                if len(parts) >= n:
                    server.down()
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_s3_outage_during_ingestion_then_a_rerun_equals_a_clean_run(outage, tmp_path, record_fault):
    landing = make_landing(tmp_path / "landing")
    local_run = local_reference(landing, tmp_path / "local")
    env = s3_env(tmp_path / "home", outage.url, outage.bucket)
    settings = Settings.from_env(env)
    upload(landing, settings.landing_uri, outage.url)
    assert run_dimensions(settings).success
    watcher = stop_when_lake_has(outage, outage.bucket, 2)
    failed = run_daily(settings, LOCAL_FIRST, LOCAL_LAST, selection=INGESTION_KEYS)
    watcher.join(5)
    assert not failed.success
    messages = []
    for event in (e for e in failed.all_events if e.is_step_failure):
        error = event.step_failure_data.error
        while error is not None:
            messages.append(error.message)
            error = error.cause
    assert any(f"s3://{outage.bucket}/" in m for m in messages), messages[-3:]

    outage.up()  # moto keeps its state in this process: the bucket as the outage left it
    assert run_daily(settings, LOCAL_FIRST, LOCAL_LAST).success
    lake = open_storage(settings.lake_uri, outage.url)
    assert files(lake) == files(LocalStorage(local_run.lake_uri)), "nothing lost or doubled"
    marts = open_storage(settings.marts_uri, outage.url)
    assert files(marts) == files(LocalStorage(local_run.marts_uri))
    record_fault(
        "S3 server stopped mid ingestion into an s3:// lake; re-run after restart",
        survived=True,
        lake_files_after_rerun=len(files(lake)),
    )
