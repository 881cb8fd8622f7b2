"""Reports delivered to the operator's cloud destinations (PROMO_DESTINATIONS_FILE) on real
emulators: moto's S3 server, gcp-storage-emulator and Azurite, all started by the tests.

The storage guarantees themselves (a 50 MB file through the chunked uploads, an emulator
stopped mid-upload leaving nothing at the final name, the retry) are pinned per
implementation in test_cloud_storage.py and reliability/test_cloud_faults.py; here the
report path is checked end to end: the same report to each cloud gives the same bytes."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from dagster import DagsterInstance

from orchestration.cli import main
from orchestration.definitions import build_definitions
from orchestration.settings import Settings
from promo.reports.recurring import load_catalog_file
from tests.conftest import make_env
from tests.helpers import destinations_file

pytestmark = pytest.mark.integration
WRITER, NOW = "ana@example.com", "2026-10-29T09:00:00+01:00"
SPEC = {
    "name": "October rewards",
    "promotion_type": "promo_campaigns",
    "report_type": "reward_assignment",
    "filters": {"campaign_id": "cmp_everyday_points"},
    "date_range": {"start": "2026-10-22", "end": "2026-10-28"},
    "frequency": "one_time",
}


@pytest.fixture
def clouds(berlin_pipeline, tmp_path, monkeypatch, s3_endpoint, s3_bucket, gcs_bucket, azurite):
    """The CLI's environment over the Berlin marts with one destination of each kind; the
    Azure container is created here (the fixture's name would collide with the GCS one)."""
    from azure.storage.blob import BlobServiceClient

    built, _, _ = berlin_pipeline
    container = f"box-{s3_bucket[-6:]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(container)
    configured = destinations_file(
        tmp_path / "destinations.yaml",
        **{
            "bi-s3": {"kind": "s3", "bucket": s3_bucket, "prefix": "exports/"},
            "bi-gcs": {"kind": "gcs", "bucket": gcs_bucket, "prefix": "exports/"},
            "bi-azure": {"kind": "azure", "container": container, "prefix": "exports/"},
        },
    )
    access = tmp_path / "access.yaml"
    access.write_text(yaml.safe_dump({"users": {WRITER: "write"}}))
    env = make_env(
        built.home,
        PROMO_ACCOUNT_TIMEZONE="Europe/Berlin",
        PROMO_PARTITION_START="2026-10-01",
        PROMO_ACCESS_FILE=str(access),
        PROMO_REPORT_CATALOG=str(tmp_path / "catalog.yaml"),
        PROMO_DESTINATIONS_FILE=str(configured),
        PROMO_S3_ENDPOINT_URL=s3_endpoint,
        AZURE_STORAGE_CONNECTION_STRING=azurite.connection_string,
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return Settings.from_env()


def cloud_object(settings: Settings, uri: str) -> bytes:
    """An object's bytes read with each cloud's own client, not our storage classes."""
    scheme, _, rest = uri.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme == "s3":
        client = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
        return client.get_object(Bucket=bucket, Key=key)["Body"].read()
    if scheme == "gs":
        from google.cloud import storage

        return storage.Client().bucket(bucket).blob(key).download_as_bytes()
    from azure.storage.blob import BlobServiceClient

    service = BlobServiceClient.from_connection_string(settings.azure_connection_string)
    return service.get_blob_client(bucket, key).download_blob().readall()


def create(tmp_path, capsys, delivery: dict, name: str = "spec") -> tuple[int, str, str]:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "delivery": delivery}))
    capsys.readouterr()
    code = main(["report", "--user", WRITER, "create", "--spec", str(path), "--now", NOW])
    out, err = capsys.readouterr()
    return code, out, err


def listed(capsys) -> list[dict]:
    assert main(["report", "--user", WRITER, "list", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_same_report_to_s3_gcs_and_azure_is_byte_identical(clouds, tmp_path, capsys):
    files, manifests = {}, {}
    for name in ("bi-s3", "bi-gcs", "bi-azure"):
        code, out, err = create(tmp_path, capsys, {"destination": "cloud", "name": name}, name)
        assert code == 0, err
        location = out.strip().splitlines()[-1]
        files[name] = cloud_object(clouds, location)
        manifests[name] = cloud_object(clouds, location + ".manifest.json")
    assert files["bi-gcs"] == files["bi-s3"] and files["bi-azure"] == files["bi-s3"]
    assert manifests["bi-gcs"] == manifests["bi-s3"] == manifests["bi-azure"]
    manifest = json.loads(manifests["bi-s3"])
    assert manifest["file"] == "reward-assignment_2026-10-22_2026-10-28.csv"
    assert files["bi-s3"].count(b"\n") - 1 == manifest["rows"] > 0

    entries = {e["destination"]: e for e in listed(capsys)}
    assert set(entries) == {"bi-s3", "bi-gcs", "bi-azure"}
    for name, scheme in (("bi-s3", "s3://"), ("bi-gcs", "gs://"), ("bi-azure", "az://")):
        entry = entries[name]
        assert entry["status"] == "Created", entry
        # base prefix, then the report's own folder (one per run for a one-time report)
        assert entry["location"].startswith(scheme) and "/exports/" in entry["location"]
        assert entry["location"].endswith("/reward-assignment_2026-10-22_2026-10-28.csv")
    assert main(["report", "--user", WRITER, "list"]) == 0
    text = capsys.readouterr().out
    assert "configured destinations: bi-s3 (Amazon S3: " in text
    assert "bi-azure (Azure Blob Storage: " in text


def test_an_unconfigured_bucket_or_name_is_refused_before_anything_runs(clouds, tmp_path, capsys):
    code, out, err = create(tmp_path, capsys, {"destination": "s3", "bucket": "someone-elses"})
    assert code == 2, err
    assert "delivery.bucket: 'someone-elses' is not a configured S3 destination bucket" in err
    assert "configured: " + clouds.destinations.get("bi-s3").bucket in err
    code, _, err = create(tmp_path, capsys, {"destination": "cloud", "name": "nowhere"}, "n")
    assert code == 2
    assert "delivery.name: 'nowhere' is not a configured destination; configured: " in err
    assert "bi-s3 (s3), bi-gcs (gcs), bi-azure (azure)" in err
    recurring = {"destination": "cloud", "name": "nowhere", "prefix": "w/"}
    path = tmp_path / "recurring.yaml"
    daily = {k: v for k, v in SPEC.items() if k != "date_range"}
    path.write_text(
        yaml.safe_dump({**daily, "frequency": {"interval": "daily"}, "delivery": recurring})
    )
    assert main(["report", "--user", WRITER, "create", "--spec", str(path)]) == 2
    assert "delivery.name: 'nowhere'" in capsys.readouterr().err
    assert listed(capsys) == [], "no run started, no catalog entry written"
    assert not clouds.report_catalog.exists()
    # The older S3 form is fine for a configured bucket (its base prefix applies).
    bucket = clouds.destinations.get("bi-s3").bucket
    code, out, err = create(tmp_path, capsys, {"destination": "s3", "bucket": bucket}, "old")
    assert code == 0, err
    assert out.strip().splitlines()[-1].startswith(f"s3://{bucket}/exports/")


@pytest.mark.parametrize("name", ["bi-gcs", "bi-azure"])
def test_a_recurring_report_is_delivered_to_a_cloud_destination(clouds, tmp_path, name):
    catalog_spec = {
        **{k: v for k, v in SPEC.items() if k != "date_range"},
        "name": f"Daily rewards to {name}",
        "delivery": {"destination": "cloud", "name": name, "prefix": "daily/"},
        "frequency": {"interval": "daily"},
    }
    clouds.report_catalog.write_text(yaml.safe_dump({"reports": [catalog_spec]}))
    (report,), invalid = load_catalog_file(clouds.report_catalog, destinations=clouds.destinations)
    assert not invalid
    job = build_definitions(clouds).resolve_job_def(report.job_name)
    assert job.tags["promo/destination"] == f"cloud {name}, prefix daily/"
    result = job.execute_in_process(
        partition_key="2026-10-25", instance=DagsterInstance.ephemeral()
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node(job.nodes[0].name)
    location = materialization.metadata["location"].value
    destination = clouds.destinations.get(name)
    # base prefix + the spec's prefix + the report's folder
    assert location.startswith(destination.uri("daily/") + "/")
    assert location.endswith("/reward-assignment_2026-10-25_2026-10-25.csv")
    body = cloud_object(clouds, location)
    manifest = json.loads(cloud_object(clouds, location + ".manifest.json"))
    assert body.count(b"\n") - 1 == manifest["rows"]


def test_a_catalog_entry_whose_destination_is_gone_is_listed_invalid(clouds, capsys):
    entry = {
        **{k: v for k, v in SPEC.items() if k != "date_range"},
        "delivery": {"destination": "cloud", "name": "retired"},
        "frequency": {"interval": "daily"},
    }
    clouds.report_catalog.write_text(yaml.safe_dump({"reports": [entry]}))
    (shown,) = listed(capsys)
    assert shown["status"] == "Invalid"
    assert "delivery.name: 'retired' is not a configured destination" in shown["reason"]
