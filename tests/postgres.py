"""A throwaway PostgreSQL server for the tests: Debian's PostgreSQL binaries (installed by
`scripts/install_postgres.sh`), `initdb` into a temporary folder and `pg_ctl start` on a
free port of 127.0.0.1. PostgreSQL refuses to run as root, so under root the server runs
as the `postgres` user the Debian package creates."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "promo"
# Recognisable, so the tests can grep every output and file for it.
PASSWORD = "pg-test-password-DO-NOT-LOG-4b1d"


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL's initdb is not installed: run `bash scripts/install_postgres.sh` "
        "(Debian's postgresql package; `make test` does it)"
    )


def _major_version(path: str) -> int:
    version = Path(path).parts[-3]
    return int(version) if version.isdigit() else 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    root: Path
    port: int
    as_user: list[str]  # the command prefix that runs PostgreSQL's programs

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str, password: str = PASSWORD) -> str:
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, *args], check=True, capture_output=True, text=True, cwd=self.root
        )

    def create_database(self) -> str:
        """A new empty database; returns its URL."""
        import psycopg2

        name = "promo_" + uuid.uuid4().hex[:12]
        con = psycopg2.connect(self.url("postgres"))
        try:
            con.autocommit = True
            con.cursor().execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        return self.url(name)

    def stop(self) -> None:
        self.run(str(postgres_bin() / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")


def start_postgres() -> PostgresServer:
    bin_dir = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="promo-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    (root / "pw").write_text(PASSWORD + "\n")
    if as_user:
        os.chown(root / "pw", owner.pw_uid, owner.pw_gid)
    server = PostgresServer(root, free_port(), as_user)
    server.run(
        str(bin_dir / "initdb"),
        "-D",
        str(server.data),
        "-U",
        SUPERUSER,
        f"--pwfile={root / 'pw'}",
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-sync",
    )
    (root / "pw").unlink()
    # Durability is not what these tests are about: no fsync makes every commit cheap.
    options = (
        f"-p {server.port} -k {root} -h 127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    server.run(
        str(bin_dir / "pg_ctl"),
        "-D",
        str(server.data),
        "-o",
        options,
        "-l",
        str(root / "server.log"),
        "-w",
        "start",
    )
    return server


def remove(server: PostgresServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
