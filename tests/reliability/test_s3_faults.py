"""S3 faults, produced for real where possible: a moto server stopped in the middle of a
multipart report upload and of a mart publish (no multipart upload may be left open);
throttling and reset connections injected into the client (faults a local server cannot
be made to produce), which must be retried; and no credential ever shows in outputs, logs,
metadata or errors."""

import contextlib
import json
import os
import re
import threading
import time
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import boto3
import botocore.awsrequest
import botocore.config
import polars as pl
import pytest
from botocore.exceptions import ConnectionClosedError
from dagster import DagsterInstance

from assets.publish import published_key
from orchestration.cli import main
from orchestration.registry import one_time_reports
from promo.generator import generate
from promo.marts import MARTS
from promo.reports.engine import ReportRequest
from promo.reports.windows import custom_window
from resources.storage import LocalStorage, S3Storage, StorageError, open_storage
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, make_env
from tests.helpers import INGESTION_KEYS, destinations_file, run_daily, run_dimensions
from tests.integration.test_report_engine import (
    ALL_SOURCES,
    ALL_TYPES,
    export_synthetic,
    synthetic_wallet_mart,
)
from tests.reliability.conftest import Outage

pytestmark = pytest.mark.reliability
PUBLISHED_KEYS = [published_key(m) for m in MARTS]
DATA_FILE = re.compile(r"part-[0-9a-f]{16}\.parquet")  # a published mart's data file


def keys(url: str, bucket: str) -> list[str]:
    listed = boto3.client("s3", endpoint_url=url).list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def wallet_request(day: str = "2026-10-01") -> ReportRequest:
    from zoneinfo import ZoneInfo

    d = date.fromisoformat(day)
    return ReportRequest(
        "fault",
        "wallet_transactions",
        {"wallet_id": "W1", "sources": ALL_SOURCES, "types": ALL_TYPES},
        custom_window(d, d, ZoneInfo("UTC")),
    )


def test_server_stops_mid_report_upload_then_a_retry_delivers(
    outage, tmp_path, monkeypatch, record_fault
):
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 400_000})  # ~45 MB of CSV
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 8 * 1024 * 1024)
    destination = open_storage(f"s3://{outage.bucket}/reports", outage.url)
    parts = {"n": 0}

    def stop_server_at_third_part(**kwargs):
        parts["n"] += 1
        if parts["n"] == 3:
            outage.down()  # the server goes away in the middle of the upload

    destination.client.meta.events.register("before-send.s3.UploadPart", stop_server_at_third_part)
    started = time.monotonic()
    with pytest.raises(StorageError) as failure:
        export_synthetic(wallet_request(), tmp_path, "daily", destination=destination)
    assert time.monotonic() - started < 120, "retries are bounded"
    assert f"cannot write s3://{outage.bucket}/reports/daily/" in str(failure.value)
    assert FAKE_SECRET not in str(failure.value)

    outage.up()
    assert [
        k for k in keys(outage.url, outage.bucket) if not k.startswith("reports/daily/.tmp-")
    ] == []
    destination.client.meta.events.unregister(
        "before-send.s3.UploadPart", stop_server_at_third_part
    )
    delivered = export_synthetic(wallet_request(), tmp_path, "daily", destination=destination)
    body = (
        boto3.client("s3", endpoint_url=outage.url)
        .get_object(
            Bucket=outage.bucket, Key="reports/daily/wallet-transactions_2026-10-01_2026-10-01.csv"
        )["Body"]
        .read()
    )
    assert body.count(b"\n") == 400_001 and delivered.rows == 400_000
    record_fault(
        "S3 server stopped mid multipart report upload (third part); retry after restart",
        survived=True,
    )


def open_uploads(url: str, bucket: str, prefix: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=url)
    listed = client.list_multipart_uploads(Bucket=bucket, Prefix=prefix)
    return sorted(u["Key"] for u in listed.get("Uploads", []))


def test_failed_multipart_upload_is_aborted_not_left_incomplete(
    outage, tmp_path, monkeypatch, record_fault
):
    """Issue 12, item 9: a cut upload left an incomplete multipart upload on the bucket
    (invisible, but billed and never cleaned). boto3's own abort needs the server that just
    went away; the next write, once it answers, aborts it."""
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 5 * 1024 * 1024)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024))
    storage = open_storage(f"s3://{outage.bucket}/aborted", outage.url)  # moto's state is shared
    parts = {"n": 0}

    def stop_server_at_third_part(**kwargs):
        parts["n"] += 1
        if parts["n"] == 3:
            outage.down()

    storage.client.meta.events.register("before-send.s3.UploadPart", stop_server_at_third_part)
    with pytest.raises(StorageError, match=f"cannot write s3://{outage.bucket}/aborted/daily/big"):
        storage.put_file(big, "daily/big.bin")
    outage.up()
    left_by_cut = open_uploads(outage.url, outage.bucket, "aborted/")
    storage.client.meta.events.unregister("before-send.s3.UploadPart", stop_server_at_third_part)

    storage.put_bytes(b"next", "daily/other.csv")  # the next write cleans up first
    assert open_uploads(outage.url, outage.bucket, "aborted/") == []
    assert [k for k in keys(outage.url, outage.bucket) if k.startswith("aborted/")] == [
        "aborted/daily/other.csv"
    ]
    storage.put_file(big, "daily/big.bin")
    assert storage.read_bytes("daily/big.bin") == big.read_bytes()
    record_fault(
        "S3 server stopped mid multipart upload: the open upload is aborted by the next write",
        survived=True,
        uploads_left_open_by_cut=len(left_by_cut),
    )


def test_an_upload_left_open_by_a_killed_writer_is_aborted_by_the_next_write(
    outage, monkeypatch, record_fault
):
    client = boto3.client("s3", endpoint_url=outage.url)
    dead = "killed/daily/.tmp-0123-a.csv.partial"  # what a SIGKILLed writer leaves
    client.create_multipart_upload(Bucket=outage.bucket, Key=dead)
    client.create_multipart_upload(Bucket=outage.bucket, Key="killed/someone-elses.bin")

    # Only uploads older than STALE_UPLOAD_S are aborted (a fresh one may belong to a live
    # writer); moto dates every upload 2010-11-10, so the age rule cannot be seen here.
    monkeypatch.setattr(S3Storage, "STALE_UPLOAD_S", 0)
    open_storage(f"s3://{outage.bucket}/killed", outage.url).put_bytes(b"x", "daily/b.csv")
    assert open_uploads(outage.url, outage.bucket, "killed/") == ["killed/someone-elses.bin"]
    record_fault("multipart upload left open by a killed writer, aborted later", survived=True)


def refused(request, **kwargs):
    """The server's answer to a request the credentials may not make (not retried)."""
    body = b"<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
    return botocore.awsrequest.AWSResponse(request.url, 403, {}, _Raw(body))


def test_a_failed_copy_leaves_no_temporary_even_when_uploads_cannot_be_listed(
    outage, tmp_path, record_fault
):
    """The upload completed, the copy to the final name was refused, and so was listing the
    open uploads (a role without s3:ListBucketMultipartUploads): the whole temporary object
    must still go, since readers of the prefix would list it."""
    storage = open_storage(f"s3://{outage.bucket}/refused", outage.url)
    report = tmp_path / "r.csv"
    report.write_bytes(b"a,b\n1,2\n")
    storage.client.meta.events.register("before-send.s3.CopyObject", refused)
    storage.client.meta.events.register("before-send.s3.ListMultipartUploads", refused)
    with pytest.raises(StorageError, match=f"cannot write s3://{outage.bucket}/refused/d/r.csv"):
        storage.put_file(report, "d/r.csv")
    assert [k for k in keys(outage.url, outage.bucket) if k.startswith("refused/")] == []
    record_fault("S3 copy refused after a complete upload: no temporary left", survived=True)


def test_a_temporary_left_by_a_killed_writer_is_deleted_by_the_next_write_there(
    outage, monkeypatch, record_fault
):
    """A writer killed between its upload and its copy leaves a whole `.tmp-` object that
    no process remembers. The next write into that folder deletes it once it is old enough
    (a fresh one may be a live writer's, about to be copied)."""
    client = boto3.client("s3", endpoint_url=outage.url)
    dead = "swept/daily/.tmp-0123-a.csv.partial"
    elsewhere = "swept/other/.tmp-4567-b.csv.partial"
    for key in (dead, elsewhere):
        client.put_object(Bucket=outage.bucket, Key=key, Body=b"half a report")

    open_storage(f"s3://{outage.bucket}/swept", outage.url).put_bytes(b"x", "daily/b.csv")
    assert dead in keys(outage.url, outage.bucket), "a fresh temporary is left to its writer"

    monkeypatch.setattr(S3Storage, "STALE_TEMPORARY_S", 0)  # moto dates objects now
    open_storage(f"s3://{outage.bucket}/swept", outage.url).put_bytes(b"y", "daily/c.csv")
    assert [k for k in keys(outage.url, outage.bucket) if k.startswith("swept/")] == [
        "swept/daily/b.csv",
        "swept/daily/c.csv",
        elsewhere,  # only the folder written to is swept
    ]
    record_fault("whole temporary object left by a killed writer, deleted later", survived=True)


def test_a_refused_manifest_takes_the_report_back_and_the_old_manifest_too(
    outage, tmp_path, record_fault
):
    """A re-run replaces the file, then its manifest is refused: the run fails and leaves
    neither the new file nor the manifest of the run before, which described a file that
    is gone. Nothing under the folder looks delivered."""
    marts = tmp_path / "marts"
    synthetic_wallet_mart(marts, {"2026-10-01": 1_000})
    destination = open_storage(f"s3://{outage.bucket}/taken", outage.url)

    first = export_synthetic(wallet_request(), tmp_path, "daily", destination=destination)
    assert first.rows == 1_000
    name = "taken/daily/wallet-transactions_2026-10-01_2026-10-01.csv"
    assert keys(outage.url, outage.bucket) == [name, name + ".manifest.json"]

    def refuse_manifest(request, **kwargs):
        return refused(request) if request.url.endswith(".manifest.json") else None

    destination.client.meta.events.register("before-send.s3.CopyObject", refuse_manifest)
    with pytest.raises(StorageError, match="manifest.json"):
        export_synthetic(wallet_request(), tmp_path, "daily", destination=destination)
    assert [k for k in keys(outage.url, outage.bucket) if k.startswith("taken/")] == []
    record_fault("S3 refused a re-run's manifest: file and old manifest taken back", survived=True)


def test_throttling_and_reset_connections_are_retried(outage, record_fault):
    storage = open_storage(f"s3://{outage.bucket}/x", outage.url)
    seen = {"n": 0}

    def flaky(request, **kwargs):
        seen["n"] += 1
        if seen["n"] == 1:
            raise ConnectionClosedError(endpoint_url=request.url)
        if seen["n"] == 2:
            return botocore.awsrequest.AWSResponse(
                request.url,
                503,
                {},
                _Raw(b"<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>"),
            )
        return None  # the real server answers

    storage.client.meta.events.register("before-send.s3.PutObject", flaky)
    storage.put_bytes(b"hello", "a.txt")
    assert seen["n"] >= 3, "one reset and one throttle were retried"
    assert storage.read_bytes("a.txt") == b"hello"
    record_fault(
        "S3 throttling (503 SlowDown) and a reset connection, retried", tried=2, survived=True
    )


class _Raw:
    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **kwargs):
        yield self._data

    def read(self, *args, **kwargs):
        data, self._data = self._data, b""
        return data


def stop_when_published(server: Outage, bucket: str, prefix: str, n: int) -> threading.Thread:
    """From a thread: watch the server's listing and stop the server as soon as `n`
    data files (`part-<hash>.parquet` at their final keys) are visible: mid-publish."""
    client = boto3.client(
        "s3",
        endpoint_url=server.url,
        config=botocore.config.Config(retries={"max_attempts": 1}, read_timeout=2),
    )

    def watch():
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix)
                final = [
                    o["Key"]
                    for o in listed.get("Contents", [])
                    if DATA_FILE.fullmatch(o["Key"].rpartition("/")[2])
                ]
                if len(final) >= n:
                    server.down()
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def visible_partitions(url: str, bucket: str, prefix: str) -> dict[str, dict]:
    """What a reader sees under `prefix`: per partition folder, its data files (rows, by
    name) and manifest, temporaries left out."""
    client = boto3.client("s3", endpoint_url=url)
    found: dict[str, dict] = {}
    for key in keys(url, bucket):
        if not key.startswith(prefix) or "/.tmp-" in key:
            continue
        folder, _, name = key.rpartition("/")
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        if DATA_FILE.fullmatch(name):
            found.setdefault(folder, {}).setdefault("parts", {})[name] = pl.read_parquet(body)
        elif name == "_manifest.json":
            found.setdefault(folder, {})["manifest"] = json.loads(body)
    return found


def test_server_stops_mid_publish_then_a_rerun_completes(outage, promo_env, record_fault):
    settings = promo_env(
        PROMO_MARTS_URI=f"s3://{outage.bucket}/marts", PROMO_S3_ENDPOINT_URL=outage.url
    )
    generate(LocalStorage(settings.landing_uri), date(2026, 10, 23), 2, seed=8, scale=150)
    assert run_dimensions(settings).success
    # The lake first; the fault run then builds the warehouse and publishes.
    assert run_daily(settings, "2026-10-23", "2026-10-24", selection=INGESTION_KEYS).success
    watcher = stop_when_published(outage, outage.bucket, "marts/", 3)
    failed = run_daily(settings, "2026-10-23", "2026-10-24")
    watcher.join(5)
    assert not failed.success
    failures = [e for e in failed.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["publish_marts"]
    error, message = failures[0].step_failure_data.error, ""
    while error is not None:  # the step error wraps the storage error that says why
        message += error.message
        error = error.cause
    assert f"cannot write s3://{outage.bucket}/marts/" in message, message[-2000:]
    assert FAKE_SECRET not in message and FAKE_KEY_ID not in message

    outage.up()  # moto's state lives in this process: the bucket is as the outage left it
    left_by_cut = {k for k in keys(outage.url, outage.bucket) if "/.tmp-" in k}
    cut = visible_partitions(outage.url, outage.bucket, "marts/")
    with_part = {f: p for f, p in cut.items() if "parts" in p}
    assert len(with_part) >= 3, "the server stopped after partitions became visible"
    # Data first, manifest last: a cut leaves data files without a manifest, never a
    # manifest without the data file it names.
    assert with_part == cut, "a manifest without its data file"

    # The reference: the same warehouse published without a fault, to another prefix.
    reference = promo_env(
        PROMO_MARTS_URI=f"s3://{outage.bucket}/reference", PROMO_S3_ENDPOINT_URL=outage.url
    )
    assert run_daily(reference, "2026-10-23", "2026-10-24", selection=PUBLISHED_KEYS).success
    expected = visible_partitions(outage.url, outage.bucket, "reference/")
    for folder, seen in with_part.items():  # no partial data file is visible
        want = expected[folder.replace("marts/", "reference/", 1)]
        assert seen["parts"].keys() == want["parts"].keys(), f"{folder}: other content"
        for name, frame in seen["parts"].items():
            assert frame.equals(want["parts"][name]), f"{folder}: incomplete or different"
        if "manifest" in seen:
            assert seen["manifest"]["file"] in seen["parts"], folder
            assert seen["manifest"]["rows"] == want["manifest"]["rows"], folder

    assert run_daily(settings, "2026-10-23", "2026-10-24").success
    final = visible_partitions(outage.url, outage.bucket, "marts/")
    assert {f.replace("marts/", "reference/", 1) for f in final} == set(expected)
    for folder, seen in final.items():
        want = expected[folder.replace("marts/", "reference/", 1)]
        ((name, frame),) = seen["parts"].items()  # one data file, the one its manifest names
        assert name == seen["manifest"]["file"] and frame.equals(want["parts"][name]), folder
        assert seen["manifest"]["rows"] == want["manifest"]["rows"] == frame.height
    # The cut may strand a temporary (deleting it needs the server); readers skip it, and
    # the re-run leaves none of its own.
    assert {k for k in keys(outage.url, outage.bucket) if "/.tmp-" in k} <= left_by_cut
    record_fault(
        "S3 server stopped mid mart publish (after 3 partitions); re-run after restart",
        survived=True,
        partitions_visible_at_cut=len(with_part),
        data_files_without_manifest_at_cut=sum("manifest" not in p for p in cut.values()),
        partitions_after_rerun=len(final),
        temporaries_stranded_by_cut=len(left_by_cut),
    )


def test_a_report_failing_on_s3_is_creation_failed_and_no_secret_leaks(
    berlin_pipeline, outage, tmp_path, monkeypatch, capsys, record_fault
):
    built, _, _ = berlin_pipeline
    access = tmp_path / "access.yaml"
    access.write_text("users:\n  ana@example.com: write\n")
    env = make_env(
        built.home,
        PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
        PROMO_PARTITION_START="2026-10-01",
        PROMO_ACCESS_FILE=str(access),
        PROMO_S3_ENDPOINT_URL=outage.url,
        DAGSTER_HOME=str(tmp_path / "dh"),
        PROMO_REPORT_CATALOG=str(tmp_path / "none.yaml"),
        PROMO_DESTINATIONS_FILE=str(destinations_file(tmp_path / "d.yaml", outage.bucket)),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = tmp_path / "s3.yaml"
    spec.write_text(
        json.dumps(
            {
                "name": "To a dead bucket",
                "promotion_type": "promo_campaigns",
                "report_type": "user_errors",
                "filters": {"campaign_id": "cmp_everyday_points"},
                "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
                "delivery": {"destination": "s3", "bucket": outage.bucket, "prefix": "r/"},
                "frequency": "one_time",
            }
        )
    )
    outage.down()
    assert main(["report", "--user", "ana@example.com", "create", "--spec", str(spec)]) == 1
    out = capsys.readouterr()
    assert "Creation Failed: cannot" in out.err
    with DagsterInstance.get() as instance:
        (entry,) = one_time_reports(instance, ZoneInfo("Europe/Berlin"))
        assert entry.status == "Creation Failed" and outage.bucket in entry.reason
        logs = "\n".join(
            str(r.dagster_event or r.user_message) for r in instance.all_logs(entry.run_id)
        )
        tags = json.dumps(instance.get_run_by_id(entry.run_id).tags)
    outage.up()
    assert main(["report", "--user", "ana@example.com", "create", "--spec", str(spec)]) == 0
    out2 = capsys.readouterr()
    texts = [out.out, out.err, out2.out, out2.err, logs, tags]
    texts += [p.read_text() for p in Path(built.home).rglob("*.json")]
    texts += [p.read_text() for p in Path(built.home).rglob("*.log")]
    for text in texts:
        assert FAKE_SECRET not in text
        assert FAKE_KEY_ID not in text
    record_fault(
        "report to an unreachable S3: Creation Failed with the reason, delivered after restart",
        survived=True,
    )
