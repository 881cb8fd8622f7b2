"""The persistent Dagster instance under `DAGSTER_HOME` (project-local by default).

Without a persistent DAGSTER_HOME, `dagster dev` deletes run history, schedule state and
pool limits on exit, so every entry point (make dev, the CLI, tests) sets one up. The
instance is opened from the settings' folder, not from the process environment.
"""

from __future__ import annotations

import shutil

from dagster import DagsterInstance

from orchestration.settings import REPO_ROOT, Settings


def ensure_dagster_home(settings: Settings) -> str:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", config)
    return str(home)


def open_instance(settings: Settings) -> DagsterInstance:
    """The instance of these settings (created on first use)."""
    return DagsterInstance.from_config(ensure_dagster_home(settings))
