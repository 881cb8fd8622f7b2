"""Cloud storage emulators as processes the tests start, stop and start again: Azurite
(Azure Blob Storage, installed from npm into .tools/ by scripts/install_emulators.sh) and
gcp-storage-emulator (Google Cloud Storage, from the package index). Each runs on a free
port of 127.0.0.1; with a data folder, what it stores survives a restart, like a real
outage."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AZURITE_BLOB = REPO / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-blob"
GCS_EMULATOR = Path(sys.executable).parent / "gcp-storage-emulator"

# Azurite's published development account (the same in every Azurite; not a secret).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One emulator process on a fixed port; `up()` waits until it accepts connections."""

    def __init__(self, name: str, data_dir: Path | None):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data_dir = data_dir
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def up(self) -> Emulator:
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.data_dir or REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within 60 s")

    def down(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        with contextlib.suppress(Exception):
            self.process.stderr.close()


class Azurite(Emulator):
    def __init__(self, data_dir: Path):
        super().__init__("azurite", data_dir)
        if not AZURITE_BLOB.exists():
            raise RuntimeError(
                f"{AZURITE_BLOB} is missing: run `make emulators` (scripts/install_emulators.sh)"
            )

    def command(self) -> list[str]:
        return [
            str(AZURITE_BLOB),
            *("--blobHost", "127.0.0.1", "--blobPort", str(self.port)),
            *("--location", str(self.data_dir)),
            "--silent",
            "--skipApiVersionCheck",  # the Python client speaks a newer API version
            "--disableTelemetry",  # Azurite reports usage to Microsoft unless told not to
        ]

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
            f"AccountKey={AZURITE_KEY};BlobEndpoint={self.url}/{AZURITE_ACCOUNT};"
        )


class GCSEmulator(Emulator):
    """In memory without a data folder; on disk (under the data folder) with one."""

    def __init__(self, data_dir: Path | None = None):
        super().__init__("gcp-storage-emulator", data_dir)

    def command(self) -> list[str]:
        memory = [] if self.data_dir else ["--in-memory"]
        return [str(GCS_EMULATOR), "start", "--host", "127.0.0.1", "--port", str(self.port)] + [
            "--quiet",
            *memory,
        ]
