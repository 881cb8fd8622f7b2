"""Google Cloud Storage and Azure Blob Storage faults, produced for real: the emulator
process stopped in the middle of a chunked upload (nothing may appear at the final name,
and the same upload succeeds once the emulator is back), and a connection reset then a
503 answered by a proxy in front of the emulator (both must be retried)."""

from __future__ import annotations

import contextlib
import os
import socket
import threading

import pytest
from azure.storage.blob import BlobServiceClient
from google.cloud import storage as gcs

from promo.storage import StorageError
from resources.storage import open_storage
from resources.storage_azure import AzureBlobStorage
from resources.storage_gcs import GCSStorage
from tests.emulators import AZURITE_KEY, Azurite, GCSEmulator

pytestmark = pytest.mark.reliability
SIZE = 50 * 1024 * 1024


@pytest.fixture
def big_file(tmp_path):
    path = tmp_path / "big.zip"
    path.write_bytes(os.urandom(SIZE))
    return path


@pytest.fixture
def gcs_outage(tmp_path, monkeypatch):
    """A GCS emulator of its own that keeps its data on disk across a restart."""
    emulator = GCSEmulator(tmp_path / "gcs").up()
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    gcs.Client().create_bucket("fault-bucket")
    yield emulator
    emulator.down()


@pytest.fixture
def azurite_outage(tmp_path):
    emulator = Azurite(tmp_path / "azurite").up()
    BlobServiceClient.from_connection_string(emulator.connection_string).create_container(
        "fault-container"
    )
    yield emulator
    emulator.down()


def test_gcs_emulator_stops_mid_resumable_upload_then_a_retry_delivers(
    gcs_outage, big_file, monkeypatch, record_fault
):
    monkeypatch.setattr(GCSStorage, "RETRY_TIMEOUT_S", 3.0)  # fail fast while it is down
    storage = open_storage("gs://fault-bucket/reports")
    chunks = {"n": 0}

    def stop_after_second_chunk(response, *args, **kwargs):
        if response.request.method == "PUT" and "upload_id=" in response.request.url:
            chunks["n"] += 1
            if chunks["n"] == 2:
                gcs_outage.down()  # the server goes away between two chunks

    storage.client._http.hooks["response"].append(stop_after_second_chunk)
    with pytest.raises(StorageError) as failure:
        storage.put_file(big_file, "daily/big.zip")
    assert str(failure.value).startswith("cannot write gs://fault-bucket/reports/daily/big.zip:")

    gcs_outage.up()
    assert chunks["n"] == 2, "the emulator stopped in the middle of the upload"
    names = [b.name for b in gcs.Client().list_blobs("fault-bucket")]
    assert names == [], "nothing is visible at the final name, nor anywhere else"
    storage.client._http.hooks["response"].remove(stop_after_second_chunk)
    storage.put_file(big_file, "daily/big.zip")
    assert storage.read_bytes("daily/big.zip") == big_file.read_bytes()
    record_fault(
        "GCS emulator stopped mid resumable upload (after 2 of 4 chunks); retry after restart",
        survived=True,
    )


def test_azurite_stops_mid_block_upload_then_a_retry_delivers(
    azurite_outage, big_file, monkeypatch, record_fault
):
    monkeypatch.setattr(AzureBlobStorage, "RETRY_TOTAL", 1)  # fail fast while it is down
    monkeypatch.setattr(AzureBlobStorage, "RETRY_BACKOFF_S", 0)
    blocks = {"n": 0}

    def stop_at_third_block(request):
        if "comp=block" in request.http_request.url and "comp=blocklist" not in (
            request.http_request.url
        ):
            blocks["n"] += 1
            if blocks["n"] == 3:
                azurite_outage.down()  # the server goes away in the middle of the upload

    storage = AzureBlobStorage(
        "az://fault-container/reports",
        azurite_outage.connection_string,
        raw_request_hook=stop_at_third_block,
    )
    storage.put_bytes(b"old", "daily/big.zip")  # an earlier version stays readable
    with pytest.raises(StorageError) as failure:
        storage.put_file(big_file, "daily/big.zip")
    message = str(failure.value)
    assert message.startswith("cannot write az://fault-container/reports/daily/big.zip:")
    assert AZURITE_KEY not in message

    azurite_outage.up()
    assert blocks["n"] >= 3, "the emulator stopped in the middle of the upload"
    container = BlobServiceClient.from_connection_string(
        azurite_outage.connection_string
    ).get_container_client("fault-container")
    blob = container.download_blob("reports/daily/big.zip").readall()
    assert blob == b"old", "the final name still holds the earlier version, whole"
    assert [o.key for o in storage.list()] == ["daily/big.zip"]

    blocks["n"] = -1_000  # no more stops
    storage.put_file(big_file, "daily/big.zip")
    assert storage.read_bytes("daily/big.zip") == big_file.read_bytes()
    record_fault(
        "Azurite stopped mid block upload (third of 7 blocks); retry after restart",
        survived=True,
    )


class FlakyProxy:
    """A TCP proxy in front of an emulator whose first connections fail: each entry of
    `faults` is one connection, "reset" (closed without an answer) or "503" (Service
    Unavailable); later connections reach the emulator."""

    def __init__(self, target_port: int, faults: list[str]):
        self.faults = list(faults)
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            fault = self.faults.pop(0) if self.faults else None
            threading.Thread(target=self._handle, args=(client, fault), daemon=True).start()

    def _handle(self, client: socket.socket, fault: str | None):
        if fault is not None:
            client.recv(65536)  # the request's start
            if fault == "503":
                client.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    b"Connection: close\r\n\r\n"
                )
            client.close()
            return
        upstream = socket.create_connection(("127.0.0.1", self.target_port))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self):
        self.listener.close()


def _pipe(source: socket.socket, sink: socket.socket):
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def test_gcs_reset_connection_and_503_are_retried(
    gcs_emulator, gcs_bucket, monkeypatch, record_fault
):
    proxy = FlakyProxy(gcs_emulator.port, ["reset", "503"])
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", proxy.url)
    storage = open_storage(f"gs://{gcs_bucket}/x")
    storage.put_bytes(b"hello", "a.txt")
    assert proxy.faults == [], "both faults were met, and retried"
    assert storage.read_bytes("a.txt") == b"hello"
    proxy.close()
    record_fault("GCS reset connection and 503, retried", tried=2, survived=True)


def test_azure_reset_connection_and_503_are_retried(
    azurite, azure_container, monkeypatch, record_fault
):
    monkeypatch.setattr(AzureBlobStorage, "RETRY_BACKOFF_S", 0)
    proxy = FlakyProxy(azurite.port, ["reset", "503"])
    connection = azurite.connection_string.replace(azurite.url, proxy.url)
    storage = open_storage(f"az://{azure_container}/x", azure_connection_string=connection)
    storage.put_bytes(b"hello", "a.txt")
    assert proxy.faults == [], "both faults were met, and retried"
    assert storage.read_bytes("a.txt") == b"hello"
    proxy.close()
    record_fault("Azure reset connection and 503, retried", tried=2, survived=True)
