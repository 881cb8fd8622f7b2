"""The code location's `Definitions`, built from `Settings`: every asset, check, job,
schedule, sensor and resource is listed here explicitly.

`orchestration/definitions.py` builds it once from the environment for Dagster's
tooling; the CLI and the runner build it here from the settings they hold. The job
functions at the bottom let `reconstructable` rebuild a job in another process.
"""

from __future__ import annotations

import logging
import warnings

from dagster import BetaWarning, Definitions

from assets.dbt import build_dbt_assets
from assets.ingestion import ingestion_assets
from assets.publish import build_publish_assets, published_key
from assets.reports import build_recurring_asset, one_time_report_job
from assets.stats import build_stats_assets
from orchestration.catalog import catalogued
from orchestration.freshness import build_freshness_sensor, marts_policy
from orchestration.jobs import daily_job, dimensions_job, rebuild_job
from orchestration.notifications import build_channel_sensors, build_failure_sensor
from orchestration.partitions import daily_partitions
from orchestration.report_runs import report_settings
from orchestration.report_sensors import build_report_job, build_report_sensor
from orchestration.sensors import build_landing_sensor
from orchestration.settings import Settings
from promo import names
from promo.marts import MARTS
from promo.reports.recurring import load_catalog_file
from resources.dagster_resources import LakeResource, StorageResource
from resources.dbt import dbt_resource
from resources.warehouse import WarehouseResource

log = logging.getLogger("promo.definitions")

# `backfill_policy` is a beta parameter that we use on purpose: a backfill over a custom
# range must be one run (one dbt build), not one run per day.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
# Code references (the file and line of each asset in the catalog) are beta too, and used on
# purpose (orchestration/catalog.py).
warnings.filterwarnings(
    "ignore", category=BetaWarning, message=".*(source_code_references|CodeReference).*"
)


def warehouse_resource(settings: Settings) -> WarehouseResource:
    """dbt's tables on the configured engine (a DuckDB file, or Spark's warehouse folder)."""
    return WarehouseResource(
        path=str(settings.warehouse_path),
        engine=settings.engine,
        spark_dir=str(settings.spark_warehouse_dir),
    )


def build_definitions(settings: Settings) -> Definitions:
    partitions = daily_partitions(settings)
    pipeline_jobs = [daily_job(), dimensions_job()]
    recurring, invalid = load_catalog_file(
        settings.report_catalog, destinations=settings.destinations
    )
    for entry in invalid:
        log.error(f"recurring report {entry.name!r} skipped: {'; '.join(entry.problems)}")
    report_assets, report_jobs, report_sensors = [], [], []
    for report in recurring:
        report_asset = build_recurring_asset(report, settings.partition_start, settings.tz)
        job = build_report_job(report, report_asset)
        report_assets.append(report_asset)
        report_jobs.append(job)
        report_sensors.append(build_report_sensor(report, report_asset, job, settings.report_hour))
    s3 = settings.s3_endpoint_url
    publish = build_publish_assets(partitions, marts_policy(settings))
    return Definitions(
        assets=catalogued(
            [
                *ingestion_assets(partitions),
                build_dbt_assets(partitions, settings.account_timezone),
                *publish,
                *build_stats_assets(partitions, settings.tz, settings.week_start),
                *report_assets,
            ],
            settings,
        ),
        jobs=[*pipeline_jobs, rebuild_job(), one_time_report_job, *report_jobs],
        sensors=[
            build_landing_sensor(partitions, settings.tz, pipeline_jobs),
            build_failure_sensor(settings.alerts),
            *build_channel_sensors(settings.alerts),
            build_freshness_sensor(
                [published_key(m) for m in MARTS],
                settings.alerts,
                settings.marts_due_hour,
                settings.account_timezone,
            ),
            *report_sensors,
        ],
        resources={
            "landing": StorageResource(uri=settings.landing_uri, s3_endpoint_url=s3),
            "lake": LakeResource(uri=settings.lake_uri, s3_endpoint_url=s3),
            "warehouse": warehouse_resource(settings),
            "dbt": dbt_resource(settings.engine),
            "marts": StorageResource(uri=settings.marts_uri, s3_endpoint_url=s3),
            "reports": report_settings(settings),
        },
    )


# Module-level accessors, so `reconstructable` can rebuild a job in another process. They
# build from the environment as it is NOW, so a caller that changed the environment since
# gets the jobs of its settings.
def _job(name: str):
    return build_definitions(Settings.from_env()).resolve_job_def(name)


def promo_daily_job():
    return _job(names.DAILY_JOB)


def promo_dimensions_job():
    return _job(names.DIMENSIONS_JOB)


def promo_rebuild_job():
    return _job(names.REBUILD_JOB)
