"""The dbt project and the dbt command line, as Dagster sees them.

dagster-dbt does not install dbt: the `dbt` beside this interpreter is used, so tests and
CI work without an activated virtualenv. The manifest must exist before the code location
imports (`dbt parse`, which does not open the warehouse file: `make` targets run it).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from promo.marts import arrow_type
from resources.dbt_in_process import dbt_in_this_process
from resources.environ import environ

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


# The profile's target of each engine (profiles.yml): DuckDB is `dev`, the default.
TARGETS = {"duckdb": "dev", "spark": "spark"}


class PromoDbtCliResource(DbtCliResource):
    """dagster-dbt's resource without two fixed costs that a daily run paid for nothing
    (measured on 2 cores, load ~4: 2.7 s and 1.9 s of a 25 s one-day run):

    - the version check: dagster-dbt runs `dbt --version` (a whole dbt start-up) once per
      run to learn whether it drives dbt Core or Fusion; the `dbt` it runs is the one
      installed beside this interpreter (DBT_EXECUTABLE), so the installed dbt-core's
      version is the answer;
    - the in-process dbt adapter: dagster-dbt loads the project, the profile and the
      adapter in the step's own process, only for `fetch_row_counts()` and
      `fetch_column_metadata()`, which this project does not use (assets/dbt.py counts
      each mart's rows by day itself, after dbt has released the warehouse).

    Both are private members of DbtCliResource: tests/unit/test_dbt_resource.py fails if
    an upgrade renames them (the overrides would then silently stop saving the time)."""

    # dbt on a thread of this process instead of a child process (resources/dbt_in_process.py):
    # the DuckDB engine. Spark's local session is a JVM that must end with its dbt process.
    in_process: bool = False

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None

    def cli_with_env(
        self, args: Sequence[str], env: Mapping[str, str], **kwargs: Any
    ) -> DbtCliInvocation:
        """`cli()` with `env` added to dbt's environment (the run window,
        promo/dbt_vars.py). dagster-dbt copies this process's environment when it starts
        a dbt process, inside `cli()`, so the variables are set only for that call; dbt in
        this process gets them from its stand-in for the process, which owns the
        environment while dbt runs (resources/dbt_in_process.py)."""
        if self.in_process:
            with dbt_in_this_process(env):
                return self.cli(args, **kwargs)
        with environ(env):
            return self.cli(args, **kwargs)


def dbt_resource(engine: str = "duckdb") -> PromoDbtCliResource:
    return PromoDbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=DBT_EXECUTABLE,
        target=TARGETS[engine],
        in_process=engine == "duckdb",
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
