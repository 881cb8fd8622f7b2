"""The dbt project and the dbt command line, as Dagster sees them.

dagster-dbt does not install dbt: the `dbt` beside this interpreter is used, so tests and
CI work without an activated virtualenv. The manifest must exist before the code location
imports (`dbt parse`, which does not open the warehouse file: `make` targets run it).
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


# The profile's target of each engine (profiles.yml): DuckDB is `dev`, the default.
TARGETS = {"duckdb": "dev", "spark": "spark"}


def dbt_resource(engine: str = "duckdb") -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
        target=TARGETS[engine],
    )


@cache
def mart_columns() -> dict[str, list[str]]:
    """Each mart model's columns in the order its YAML declares them (the manifest keeps
    that order): what publishing selects, whichever engine built the table."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    return {
        node["name"]: list(node["columns"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    }
