"""The dbt project as Dagster assets: one `dbt build` per run over its day range.

All models are one partitioned multi-asset, so a run (or a single-run backfill over a
custom range) is ONE dbt invocation: views and the `user_ledger` snapshot are cheap to
rebuild, and tests that span models (the ledger-vs-summary reconciliation) run after all
their parents, which two separate invocations would not guarantee. dbt tests become
asset checks; `severity: error` ones are blocking.
"""

import json
from collections.abc import Mapping
from typing import Any

from dagster import AssetExecutionContext, AssetKey, BackfillPolicy, PartitionsDefinition
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from promo.dbt_vars import dbt_vars
from promo.names import WAREHOUSE_POOL
from resources.dagster_resources import LakeResource
from resources.dbt import DBT_PROJECT
from resources.warehouse import WarehouseResource


class PromoDbtTranslator(DagsterDbtTranslator):
    """Keys and groups follow the model's folder: `warehouse/<model>` in group
    `staging`, `intermediate` or `marts`. Sources keep their `meta.dagster.asset_key`
    (`lake/<stream>`), which links them to the ingestion assets."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        return AssetKey(["warehouse", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return f"warehouse_{fqn[1]}" if len(fqn) > 2 else "warehouse"


def build_dbt_assets(partitions: PartitionsDefinition, timezone: str):
    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        name="warehouse_models",
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        dagster_dbt_translator=PromoDbtTranslator(),
        pool=WAREHOUSE_POOL,
    )
    def warehouse_models(
        context: AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        lake: LakeResource,
    ):
        """dbt build for the run's account-timezone days (min_date..max_date)."""
        start, end = context.partition_time_window
        lake_vars = dbt_vars(start, end, timezone, lake.uri, lake.s3_endpoint_url)
        variables = {**lake_vars, **warehouse.dbt_vars()}
        context.log.info(f"dbt build with vars {variables}")
        invocation = dbt.cli(["build", "--vars", json.dumps(variables)], context=context)
        yield from invocation.stream()

    return warehouse_models
