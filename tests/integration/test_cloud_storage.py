"""Every implementation of the storage interface behaves the same, against real servers:
a local folder, S3 (moto server), Google Cloud Storage (gcp-storage-emulator) and Azure
Blob Storage (Azurite). Round trip, a 50 MB file through the chunked upload path,
temporaries never listed, keys that would leave the root refused, and failures that name
the location and no credential."""

from __future__ import annotations

import hashlib
import os

import pytest

from promo.storage import StorageError, temporary_name
from resources.storage import S3Storage, open_storage
from resources.storage_azure import AzureBlobStorage
from resources.storage_gcs import GCSStorage
from tests.conftest import FAKE_SECRET
from tests.emulators import AZURITE_KEY

pytestmark = pytest.mark.integration
KINDS = ["local", "s3", "gcs", "azure"]


def storage_for(kind: str, request, prefix: str = "root/x"):
    """A fresh, empty storage of that kind under `prefix`."""
    if kind == "local":
        return open_storage(str(request.getfixturevalue("tmp_path") / prefix))
    if kind == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        return open_storage(f"s3://{bucket}/{prefix}", request.getfixturevalue("s3_endpoint"))
    if kind == "gcs":
        return open_storage(f"gs://{request.getfixturevalue('gcs_bucket')}/{prefix}")
    container = request.getfixturevalue("azure_container")
    connection = request.getfixturevalue("azurite").connection_string
    return open_storage(f"az://{container}/{prefix}", azure_connection_string=connection)


@pytest.fixture(params=KINDS)
def storage(request):
    return storage_for(request.param, request)


def test_put_list_open_delete_round_trip(storage, tmp_path):
    local = tmp_path / "upload.csv"
    local.write_bytes(b"id,name\n1,a\n2,b\n")
    uri = storage.put_file(local, "reports/daily/a.csv")
    assert uri == storage.uri_of("reports/daily/a.csv")
    storage.put_bytes(b"{}", "reports/daily/a.csv.manifest.json")
    storage.put_bytes(b"other", "reports/weekly/b.csv")

    listed = storage.list("reports")
    assert [o.key for o in listed] == [
        "reports/daily/a.csv",
        "reports/daily/a.csv.manifest.json",
        "reports/weekly/b.csv",
    ]
    assert [o.size for o in listed] == [16, 2, 5]
    # A key names that object only, not the others whose name starts with it.
    assert [o.key for o in storage.list("reports/daily/a.csv")] == ["reports/daily/a.csv"]
    with storage.open("reports/daily/a.csv") as stream:
        assert list(stream) == [b"id,name\n", b"1,a\n", b"2,b\n"]  # line iteration works
    assert storage.exists("reports/weekly/b.csv")

    version = storage.list("reports/weekly/b.csv")[0].version
    storage.put_bytes(b"changed", "reports/weekly/b.csv")  # replaced whole
    assert storage.read_bytes("reports/weekly/b.csv") == b"changed"
    assert storage.list("reports/weekly/b.csv")[0].version != version

    assert storage.delete_prefix("reports/daily") == 2
    assert [o.key for o in storage.list()] == ["reports/weekly/b.csv"]
    with pytest.raises(StorageError, match="cannot read .*reports/daily/a.csv"):
        storage.read_bytes("reports/daily/a.csv")


def test_a_prefix_naming_a_folder_does_not_reach_its_siblings(storage):
    storage.put_bytes(b"1", "r/a/x.csv")
    storage.put_bytes(b"2", "r/ab/y.csv")
    assert [o.key for o in storage.list("r/a")] == ["r/a/x.csv"]
    assert storage.delete_prefix("r/a") == 1
    assert [o.key for o in storage.list("r")] == ["r/ab/y.csv"]
    # A prefix that names nothing whole still matches the start of names, as locally.
    assert [o.key for o in storage.list("r/ab/y")] == ["r/ab/y.csv"]


def test_a_50_mb_file_arrives_byte_identical_through_chunked_upload(storage, tmp_path, monkeypatch):
    # Above each implementation's single-request size: S3 multipart (lowered from 64 MB
    # to keep the test quick), GCS resumable chunks, Azure staged blocks.
    monkeypatch.setattr(S3Storage, "MULTIPART_THRESHOLD", 8 * 1024 * 1024)
    big = tmp_path / "big.zip"
    big.write_bytes(os.urandom(50 * 1024 * 1024))
    assert big.stat().st_size > GCSStorage.CHUNK_SIZE
    assert big.stat().st_size > AzureBlobStorage.SINGLE_PUT_LIMIT
    storage.put_file(big, "exports/big.zip")

    (obj,) = storage.list("exports")
    assert (obj.key, obj.size) == ("exports/big.zip", big.stat().st_size)
    digest = hashlib.sha256()
    with storage.open("exports/big.zip") as stream:
        while chunk := stream.read(4 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == hashlib.sha256(big.read_bytes()).hexdigest()


def test_temporaries_are_never_listed(storage):
    storage.put_bytes(b"done", "out/report.csv")
    # What a writer killed between its upload and its rename leaves behind.
    storage.put_bytes(b"half", f"out/{temporary_name('report.csv')}")
    storage.put_bytes(b"half", f"{temporary_name('dir')}/inner.csv")
    assert [o.key for o in storage.list()] == ["out/report.csv"]
    assert [o.key for o in storage.list("out")] == ["out/report.csv"]


@pytest.mark.parametrize(
    "key", ["../escape.csv", "/etc/passwd", "a/../../b.csv", "a\\b.csv", "a\nb"]
)
@pytest.mark.parametrize("kind", KINDS)
def test_keys_that_escape_the_root_are_refused(kind, key, request):
    storage = storage_for(kind, request)
    sibling = storage_for(kind, request, prefix="root")  # the folder above the root
    with pytest.raises(StorageError, match="refused storage key"):
        storage.put_bytes(b"x", key)
    with pytest.raises(StorageError, match="refused storage key"):
        storage.read_bytes(key)
    with pytest.raises(StorageError, match="refused storage key"):
        storage.delete_prefix(key)
    assert sibling.list() == []  # nothing was written anywhere


def test_a_missing_container_or_bucket_names_the_location_not_the_key(request):
    connection = request.getfixturevalue("azurite").connection_string
    azure = open_storage("az://no-such-container/r", azure_connection_string=connection)
    request.getfixturevalue("gcs_emulator")
    gcs = open_storage("gs://no-such-bucket/r")
    s3 = open_storage("s3://no-such-bucket/r", request.getfixturevalue("s3_endpoint"))
    for storage, location in [
        (azure, "az://no-such-container/r/a.csv"),
        (gcs, "gs://no-such-bucket/r/a.csv"),
        (s3, "s3://no-such-bucket/r/a.csv"),
    ]:
        with pytest.raises(StorageError) as failure:
            storage.put_bytes(b"x", "a.csv")
        message = str(failure.value)
        assert message.startswith(f"cannot write {location}: "), message
        assert AZURITE_KEY not in message and FAKE_SECRET not in message
        assert "\n" not in message
    assert "AccountKey" not in repr(azure)


def test_an_azure_storage_without_an_account_says_what_to_set():
    with pytest.raises(StorageError, match="AZURE_STORAGE_CONNECTION_STRING"):
        open_storage("az://c/p").list()


@pytest.mark.parametrize("uri", ["gs://", "az://", "gs:///p", "ftp://host/x"])
def test_malformed_cloud_uris_are_refused(uri):
    with pytest.raises(StorageError, match="URI|scheme"):
        open_storage(uri)
