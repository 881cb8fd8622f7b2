"""The persistent Dagster instance under `DAGSTER_HOME` (project-local by default).

Without a persistent DAGSTER_HOME, `dagster dev` deletes run history, schedule state and
pool limits on exit, so every entry point (make dev, the CLI, tests) sets one up. The
instance is opened from the settings' folder, not from the process environment. Its
storage is SQLite files in DAGSTER_HOME, or PostgreSQL when PROMO_DAGSTER_PG_URL is set:
then dagster.yaml names that variable, and Dagster reads the URL from the environment of
each process that opens the instance (this one, its step processes, the webserver...).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from dagster import DagsterInstance

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


def open_instance(settings: Settings) -> DagsterInstance:
    """The instance of these settings (created on first use)."""
    return DagsterInstance.from_config(ensure_dagster_home(settings))


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


def check_postgres(url: str) -> None:
    """Connect once, so an unreachable or refusing server stops the command with one line
    naming the setting and the host instead of a traceback from deep inside Dagster."""
    import sqlalchemy
    from sqlalchemy.pool import NullPool

    engine = sqlalchemy.create_engine(
        url, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
    )
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as exc:
        where = f"{engine.url.host}:{engine.url.port or 5432}"
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["unknown"]
        text = reason[0].strip()
        if engine.url.password:
            text = text.replace(engine.url.password, "***")
        raise InstanceError(
            f"PROMO_DAGSTER_PG_URL: cannot open the Dagster instance in PostgreSQL at {where} "
            f"(database {engine.url.database!r}): {text}"
        ) from None
    finally:
        engine.dispose()
