"""The persistent Dagster instance under `DAGSTER_HOME` (project-local by default).

Without a persistent DAGSTER_HOME, `dagster dev` deletes run history, schedule state and
pool limits on exit, so every entry point (make dev, the CLI, tests) sets one up.
"""

from __future__ import annotations

import os
import shutil

from orchestration.settings import REPO_ROOT, Settings


def ensure_dagster_home(settings: Settings) -> str:
    home = settings.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        shutil.copyfile(REPO_ROOT / "deploy" / "dagster.yaml", config)
    os.environ["DAGSTER_HOME"] = str(home)
    return str(home)
