"""The dbt project and the dbt command line, as Dagster sees them.

dagster-dbt does not install dbt: the `dbt` beside this interpreter is used, so tests and
CI work without an activated virtualenv. The manifest must exist before the code location
imports (`dbt parse`, which does not open the warehouse file: `make` targets run it).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from promo.marts import arrow_type

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
def _manifest() -> dict:
    return json.loads(DBT_PROJECT.manifest_path.read_text())


def _mart_nodes() -> list[dict]:
    return [
        node
        for node in _manifest()["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]


def mart_columns() -> dict[str, list[str]]:
    """Each mart model's columns in the order its YAML declares them (the manifest keeps
    that order): what publishing selects, whichever engine built the table."""
    return {node["name"]: list(node["columns"]) for node in _mart_nodes()}


@dataclass(frozen=True)
class ContractColumn:
    name: str
    arrow_type: str  # what the published Parquet column must be
    description: str


def mart_contracts() -> dict[str, list[ContractColumn]]:
    """Each mart's contract as the published Parquet must follow it: the columns in
    order, each with the Arrow type of its dbt `data_type`. The manifest's types are in
    the words of the engine it was parsed for (its `adapter_type`)."""
    engine = _manifest()["metadata"].get("adapter_type", "duckdb")
    return {
        node["name"]: [
            ContractColumn(c["name"], arrow_type(c["data_type"], engine), c.get("description", ""))
            for c in node["columns"].values()
        ]
        for node in _mart_nodes()
    }
