"""The one Definitions of the code location: every asset, check, job, schedule, sensor and
resource is listed here explicitly."""

from __future__ import annotations

import warnings

from dagster import BetaWarning, Definitions

from assets.dbt import build_dbt_assets, dbt_resource
from assets.ingestion import ingestion_assets
from assets.publish import build_publish_assets
from orchestration.jobs import daily_job, dimensions_job
from orchestration.partitions import daily_partitions
from orchestration.sensors import build_landing_sensor
from orchestration.settings import Settings
from resources import LakeResource, StorageResource
from resources.warehouse import WarehouseResource

# `backfill_policy` is a beta parameter that we use on purpose: a backfill over a custom
# range must be one run (one dbt build), not one run per day.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")


def build_definitions(settings: Settings) -> Definitions:
    partitions = daily_partitions(settings)
    jobs = [daily_job(), dimensions_job()]
    return Definitions(
        assets=[
            *ingestion_assets(partitions),
            build_dbt_assets(partitions, settings.account_timezone),
            *build_publish_assets(partitions),
        ],
        jobs=jobs,
        sensors=[build_landing_sensor(partitions, settings.account_timezone, jobs)],
        resources={
            "landing": StorageResource(
                uri=settings.landing_uri, s3_endpoint_url=settings.s3_endpoint_url
            ),
            "lake": LakeResource(path=str(settings.lake_dir)),
            "warehouse": WarehouseResource(path=str(settings.warehouse_path)),
            "dbt": dbt_resource(),
            "marts": StorageResource(
                uri=settings.marts_uri, s3_endpoint_url=settings.s3_endpoint_url
            ),
        },
    )


# The code location's entry point: the only place settings are read at import.
defs = build_definitions(Settings.from_env())


def promo_daily_job():
    """Module-level accessor so `reconstructable` can rebuild the job in step processes."""
    return defs.resolve_job_def("promo_daily")


def promo_dimensions_job():
    return defs.resolve_job_def("promo_dimensions")
