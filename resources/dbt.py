"""The dbt project and the dbt command line, as Dagster sees them.

dagster-dbt does not install dbt: the `dbt` beside this interpreter is used, so tests and
CI work without an activated virtualenv. The manifest must exist before the code location
imports (`dbt parse`, which does not open the warehouse file: `make` targets run it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
    )
