"""The persistent Dagster instance under `DAGSTER_HOME` (project-local by default).

The instance is opened from the settings' folder, not from the process environment; its
home and dagster.yaml are set up by `orchestration.instance_config` (re-exported here).
"""

from __future__ import annotations

from dagster import DagsterInstance

from orchestration.instance_config import (
    CONNECT_TIMEOUT_SECONDS,
    POSTGRES_CONFIG,
    SQLITE_CONFIG,
    InstanceError,
    check_postgres,
    ensure_dagster_home,
)
from orchestration.settings import Settings

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "POSTGRES_CONFIG",
    "SQLITE_CONFIG",
    "InstanceError",
    "check_postgres",
    "ensure_dagster_home",
    "open_instance",
]


def open_instance(settings: Settings) -> DagsterInstance:
    """The instance of these settings (created on first use)."""
    return DagsterInstance.from_config(ensure_dagster_home(settings))
