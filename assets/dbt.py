"""The dbt project as Dagster assets: one `dbt build` per run over its day range.

All models are one partitioned multi-asset, so a run (or a single-run backfill over a
custom range) is ONE dbt invocation: views and the `user_ledger` snapshot are cheap to
rebuild, and tests that span models (the ledger-vs-summary reconciliation) run after all
their parents, which two separate invocations would not guarantee. dbt tests become
asset checks; `severity: error` ones are blocking.
"""

import json
import signal
import subprocess
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Output,
    PartitionsDefinition,
)
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    dbt_assets,
)

from promo.dbt_vars import dbt_vars, dbt_window_env
from promo.marts import MARTS, Mart
from promo.names import WAREHOUSE_POOL
from promo.timeutil import window_days
from resources.dagster_resources import LakeResource
from resources.dbt import DBT_PROJECT, PromoDbtCliResource
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
        dagster_dbt_translator=PromoDbtTranslator(
            settings=DagsterDbtTranslatorSettings(enable_code_references=True)
        ),
        pool=WAREHOUSE_POOL,
    )
    def warehouse_models(
        context: AssetExecutionContext,
        dbt: PromoDbtCliResource,
        warehouse: WarehouseResource,
        lake: LakeResource,
    ):
        """dbt build for the run's account-timezone days (min_date..max_date)."""
        # The vars are the same on every run of a deployment and the window comes in
        # the environment, so dbt reuses its saved parse (promo/dbt_vars.py).
        variables = {**dbt_vars(timezone, lake.uri, lake.s3_endpoint_url), **warehouse.dbt_vars()}
        window = dbt_window_env(*context.partition_time_window)
        warehouse.ensure_folder()
        context.log.info(f"dbt build with vars {variables}, window {window}")
        invocation = dbt.cli_with_env(
            # dbt's unit tests check the SQL, not the data: they run in CI
            # (tests/integration/test_marts.py), not in every run (~0.5 s each here).
            # No JSON artifacts: nothing reads them (the assets come from the code
            # location's manifest, the results from dbt's event stream), and dbt would
            # write the whole manifest twice a run (~1 s); its saved parse and its log
            # (per-node timings) are still written.
            [
                "build",
                "--vars",
                json.dumps(variables),
                "--exclude-resource-type",
                "unit_test",
                "--no-write-json",
            ],
            window,
            context=context,
            target_path=warehouse.dbt_target_dir(),
        )
        # The events are held until the build ends: each mart's per-day row counts are
        # read from the warehouse, which dbt holds locked while it builds, and must be
        # attached before the materializations are recorded. dbt's own lines stream live.
        events, error = [], None
        try:
            for event in invocation.stream():
                events.append(event)
        except Exception as exc:  # the models that were built are still recorded
            error = exc
            stop_dbt(invocation)
        keys = {
            context.asset_key_for_output(e.output_name) for e in events if isinstance(e, Output)
        }
        built = [m for m in MARTS.values() if AssetKey(["warehouse", m.name]) in keys]
        record_mart_row_counts(context, warehouse, built)
        yield from events
        if error is not None:
            raise error

    return warehouse_models


def stop_dbt(invocation, timeout_s: float = 120) -> None:
    """Ends dbt if it still runs (its process, or on DuckDB its thread in this process:
    resources/dbt_in_process.py, where SIGINT interrupts it and `kill` has nothing to kill,
    so the wait lasts until dbt has stopped). Reading its events can fail before dbt ends
    (e.g. an event about a node the code location's manifest does not know, when the
    manifest is older than the project: run `make dbt-parse`); dbt would then keep building
    and hold the warehouse's lock, and the row counts below would fail on that lock
    instead of the step failing with the real reason. SIGINT first, like dagster-dbt on an
    interrupted run."""
    process = invocation.process
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def record_mart_row_counts(context: AssetExecutionContext, warehouse, marts: list[Mart]) -> None:
    """Each day partition of the run gets that day's row count (`dagster/row_count`) on
    each mart built; the snapshot mart (`user_ledger`) its whole count on every day. The
    staging and intermediate models are views: they hold no rows to count."""
    if not marts:
        return
    first, last = window_days(*context.partition_time_window)
    with warehouse.connect({m.name: m.daily for m in marts}) as con:
        for mart in marts:
            key = AssetKey(["warehouse", mart.name])
            if mart.daily:
                rows = con.sql(
                    f"SELECT local_date, count(*) FROM {mart.name} "
                    "WHERE local_date BETWEEN $first AND $last GROUP BY ALL",
                    params={"first": first, "last": last},
                ).fetchall()
                counts = {day.isoformat(): n for day, n in rows}
            else:
                total = con.sql(f"SELECT count(*) FROM {mart.name}").fetchall()[0][0]
                counts = dict.fromkeys(context.partition_keys, total)
            for partition in context.partition_keys:
                context.add_asset_metadata(
                    {"dagster/row_count": counts.get(partition, 0)},
                    asset_key=key,
                    partition_key=partition,
                )
