"""The instance's home: DAGSTER_HOME and its dagster.yaml, and the PostgreSQL connection
check, without importing Dagster (`report list` reads the instance's tables directly and
must not pay for that import; `orchestration.instance` opens the instance itself).

Without a persistent DAGSTER_HOME, `dagster dev` deletes run history, schedule state and
pool limits on exit, so every entry point (make dev, the CLI, tests) sets one up. Its
storage is SQLite files in DAGSTER_HOME, or PostgreSQL when PROMO_DAGSTER_PG_URL is set:
then dagster.yaml names that variable, and Dagster reads the URL from the environment of
each process that opens the instance (this one, its step processes, the webserver...).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from orchestration.settings import REPO_ROOT, Settings

SQLITE_CONFIG = REPO_ROOT / "deploy" / "dagster.yaml"
POSTGRES_CONFIG = REPO_ROOT / "deploy" / "dagster-postgres.yaml"
CONNECT_TIMEOUT_SECONDS = 5  # start-up fails fast on an unreachable server


class InstanceError(RuntimeError):
    """The instance cannot be opened (its storage is unreachable, or its dagster.yaml
    disagrees with the settings); the message is one line naming what to fix."""


def ensure_dagster_home(settings: Settings) -> str:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    _write_config(home / "dagster.yaml", settings)
    if settings.dagster_pg_url:
        check_postgres(settings.dagster_pg_url)
    return str(home)


def shipped_storage(settings: Settings) -> str | None:
    """Write DAGSTER_HOME's config as `ensure_dagster_home` does (without connecting) and
    say which shipped config is in place: `sqlite`, `postgres`, or None for one edited by
    hand (whose storage only Dagster knows how to open)."""
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    _write_config(config, settings)
    current = config.read_text()
    if current == SQLITE_CONFIG.read_text():
        return "sqlite"
    return "postgres" if current == POSTGRES_CONFIG.read_text() else None


def _write_config(config: Path, settings: Settings) -> None:
    """Write the shipped config for the chosen storage. A config we shipped (either one)
    is replaced when the storage setting changes; a hand-edited one is kept, but must use
    the storage the settings ask for."""
    wanted = POSTGRES_CONFIG if settings.dagster_pg_url else SQLITE_CONFIG
    if not config.exists():
        shutil.copyfile(wanted, config)
        return
    current = config.read_text()
    if current in (SQLITE_CONFIG.read_text(), POSTGRES_CONFIG.read_text()):
        if current != wanted.read_text():
            shutil.copyfile(wanted, config)
        return
    storage = (yaml.safe_load(current) or {}).get("storage") or {}
    on_postgres = "postgres" in storage
    if settings.dagster_pg_url and not on_postgres:
        raise InstanceError(
            f"PROMO_DAGSTER_PG_URL is set but {config} (edited by hand) has no PostgreSQL "
            f"storage: add the `storage:` section of {POSTGRES_CONFIG.relative_to(REPO_ROOT)}"
        )
    if on_postgres and not settings.dagster_pg_url:
        raise InstanceError(
            f"{config} stores the instance in PostgreSQL but PROMO_DAGSTER_PG_URL is not set"
        )


def connect_postgres(url: str):
    """A psycopg2 connection (the driver dagster-postgres uses) to the instance's database;
    an unreachable or refusing server stops the command with one line naming the setting
    and the host instead of a traceback from deep inside Dagster."""
    import psycopg2

    scheme, sep, rest = url.partition("://")
    dsn = f"{scheme.split('+')[0]}{sep}{rest}"  # postgresql+psycopg2:// is SQLAlchemy's
    try:
        return psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    except psycopg2.Error as exc:
        parts = urlsplit(url)
        where = f"{parts.hostname}:{parts.port or 5432}"
        lines = str(exc).strip().splitlines() or ["unknown"]
        text = lines[0].strip()
        if parts.password:
            for secret in {parts.password, unquote(parts.password)}:
                text = text.replace(secret, "***")
        raise InstanceError(
            f"PROMO_DAGSTER_PG_URL: cannot open the Dagster instance in PostgreSQL at {where} "
            f"(database {unquote(parts.path.lstrip('/'))!r}): {text}"
        ) from None


def check_postgres(url: str) -> None:
    """Connect once (see `connect_postgres`)."""
    connect_postgres(url).close()
