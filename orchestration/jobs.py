"""Jobs: the daily pipeline over partitions, and the dimension snapshots."""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from promo import contract, names

DIMENSION_KEYS = [["lake", name] for name in contract.DIMENSIONS]


def daily_job():
    """Every partitioned asset for a day or a range of days, in one run."""
    return define_asset_job(
        names.DAILY_JOB,
        # Report assets have their own (daily or weekly) partitions and schedules.
        selection=AssetSelection.all()
        - AssetSelection.assets(*DIMENSION_KEYS)
        - AssetSelection.groups("reports"),
        description="Ingest the landing zone for the selected account-timezone days "
        "(and everything downstream that exists), as one run over the whole range.",
    )


def dimensions_job():
    return define_asset_job(
        names.DIMENSIONS_JOB,
        selection=AssetSelection.assets(*DIMENSION_KEYS),
        description="Load the newest snapshot of every dimension (campaigns, wallets, ...).",
    )


def rebuild_job():
    """The warehouse, the published marts and the stats from the lake alone: no landing
    zone needed (the lake is the source of truth; the warehouse is its cache)."""
    return define_asset_job(
        names.REBUILD_JOB,
        selection=AssetSelection.all()
        - AssetSelection.groups("ingestion", "dimensions", "reports"),
        description="Rebuild the warehouse and republish every mart from the lake, for the "
        "selected account-timezone days (`promo-reports rebuild`: the lake's whole range).",
    )
