"""Ingestion assets: landing zone (JSON Lines) -> lake (Parquet), one asset per stream and
one per dimension snapshot. The work is `promo.lake`'s; these assets run it per partition
and report it to Dagster.

Partitions are account-timezone days, like every asset downstream. The landing folders
are UTC dates, so a local day draws on the two UTC folders it overlaps (three on rare DST
days). A run over a partition range processes every overlapping UTC folder once and
rewrites that folder's lake files whole: re-running gives the same files, and late files
are picked up. See docs/architecture.md, "Partitions and time zones".
"""

from datetime import date
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from promo import contract
from promo.contract import Stream
from promo.lake import (
    accounting_problems,
    dimension_accounting_problem,
    ingest_folders,
    load_dimension,
    sum_counts,
)
from promo.timeutil import ONE_DAY, local_midnight_utc, utc_folders_of_window
from resources.dagster_resources import LakeResource, StorageResource

ACCOUNTED = "lines_accounted_for"


def _accounting_check(problems: list[str], **metadata: Any) -> AssetCheckResult:
    return AssetCheckResult(
        check_name=ACCOUNTED,
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={**metadata, "problems": MetadataValue.md("\n".join(problems) or "none")},
        description="; ".join(problems) or None,
    )


def _check_spec(key: AssetKey, description: str) -> AssetCheckSpec:
    # Blocking: marts are never built from a lake that lost a line.
    return AssetCheckSpec(ACCOUNTED, asset=key, description=description, blocking=True)


def build_stream_asset(stream: Stream, partitions: PartitionsDefinition) -> AssetsDefinition:
    key = AssetKey(["lake", stream.name])

    @asset(
        key=key,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="ingestion",
        kinds={"polars", "parquet"},
        check_specs=[
            _check_spec(
                key,
                "Every raw line is accepted, a duplicate, quarantined or superseded by a "
                "correction.",
            )
        ],
        description=(
            f"Accepted `{stream.name}` records in the lake: one row per distinct "
            f"`{stream.id_field}`, typed per the raw contract (v{contract.CONTRACT_VERSION}). "
            "Bad lines go to the quarantine with file, line number, raw line and reason; "
            "exact redeliveries are kept once and counted as duplicates. Partition = "
            "account-timezone day; it (re)processes every UTC landing folder the day overlaps."
        ),
    )
    def _ingest(context: AssetExecutionContext, landing: StorageResource, lake: LakeResource):
        window = context.partition_time_window
        store, the_lake = landing.storage(), lake.lake()
        manifests: dict[date, dict[str, Any]] = {}  # the last classification of each folder
        queue = utc_folders_of_window(window.start, window.end)
        while queue:
            batch, queue, lines = queue, [], []
            for manifest in ingest_folders(store, the_lake, stream, batch, window.start.tzinfo):
                folder = date.fromisoformat(manifest["utc_date"])
                # An id this folder holds first was accepted in a later folder ingested
                # before it: classify that folder again so the later copy becomes the
                # conflict (a later folder of this batch sees this one anyway).
                for later in map(date.fromisoformat, manifest["later_folders_holding_its_ids"]):
                    if later not in batch and later not in queue:
                        context.log.info(
                            f"{stream.name}: re-ingesting date={later} (id held earlier)"
                        )
                        queue.append(later)
                lines.append(
                    f"{stream.name} date={folder}: {manifest['lines']} lines -> "
                    f"{manifest['accepted']} accepted, {manifest['duplicates']} duplicates, "
                    f"{manifest['superseded']} superseded, {manifest['quarantined']} "
                    f"quarantined {manifest['quarantined_by_reason']}"
                )
                manifests[folder] = manifest
            # One log event per batch: each event is a write to the instance's event log.
            context.log.info("\n".join(lines))
            queue.sort()
        final = [manifests[d] for d in sorted(manifests)]
        # Counted from the rows each folder's last classification wrote, not read back.
        by_day = sum_counts([manifests[d]["rows_by_local_day"] for d in sorted(manifests)])
        for key in context.partition_keys:
            # Each day partition gets its own figures, not the run's: its accepted records
            # and the UTC folders it overlaps (a folder's counts are the folder's).
            day = date.fromisoformat(key)
            overlapping = [manifests[f] for f in utc_folders_of_day(day, window.start.tzinfo)]
            context.add_asset_metadata(
                {"dagster/row_count": by_day.get(day, 0), **ingestion_metadata(overlapping)},
                partition_key=key,
            )
        yield MaterializeResult(
            metadata={
                "reingested_later_folders": MetadataValue.json(
                    sorted({d for m in final for d in m["later_folders_holding_its_ids"]})
                )
            }
        )
        problems = accounting_problems(stream, the_lake, final)
        yield _accounting_check(problems, folders=len(final))

    return _ingest


def utc_folders_of_day(day: date, tz) -> list[date]:
    start = local_midnight_utc(day, tz)
    return utc_folders_of_window(start, local_midnight_utc(day + ONE_DAY, tz))


def ingestion_metadata(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """The UTC folders' figures (lines, accepted, duplicates, quarantined: `folder_*`),
    summed over the folders given: those one local day overlaps."""
    reasons: dict[str, int] = {}
    for m in manifests:
        for reason, n in m["quarantined_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    total = {
        k: sum(m.get(k, 0) for m in manifests)
        for k in ("lines", "accepted", "duplicates", "quarantined", "superseded")
    }
    ignored = [f for m in manifests for f in m.get("ignored_files", [])]
    return {
        "utc_folders": MetadataValue.text(", ".join(m["utc_date"] for m in manifests)),
        "files": sum(len(m["inputs"]) for m in manifests),
        **{f"folder_{k}": MetadataValue.int(v) for k, v in total.items()},
        "quarantined_by_reason": MetadataValue.json(dict(sorted(reasons.items()))),
        "ignored_files": MetadataValue.json(ignored[:50]),
    }


def build_dimension_asset(stream: Stream) -> AssetsDefinition:
    key = AssetKey(["lake", stream.name])

    @asset(
        key=key,
        group_name="dimensions",
        kinds={"polars", "parquet"},
        check_specs=[
            _check_spec(key, "Every line of the snapshot is a row, a duplicate or quarantined.")
        ],
        description=(
            f"The `{stream.name}` dimension: the newest full snapshot from the landing zone, "
            f"one row per {' + '.join(stream.key)}. Bad lines are quarantined."
        ),
    )
    def _dimension(context: AssetExecutionContext, landing: StorageResource, lake: LakeResource):
        store, the_lake = landing.storage(), lake.lake()
        snapshot, result = load_dimension(store, the_lake, stream)
        if snapshot is None:
            context.log.warning(f"no {stream.name} snapshot in {store.uri}/dimensions/")
        yield MaterializeResult(
            metadata={
                "snapshot": MetadataValue.text(snapshot or "none"),
                "lines": result.lines,
                "rows": result.accepted.height,
                "duplicates": result.duplicates,
                "quarantined": result.quarantine.height,
                "quarantined_by_reason": MetadataValue.json(result.quarantined_by_reason),
            }
        )
        problem = dimension_accounting_problem(stream, the_lake, result.lines, result.duplicates)
        yield _accounting_check([problem] if problem else [], lines=result.lines)

    return _dimension


def ingestion_assets(partitions: PartitionsDefinition) -> list[AssetsDefinition]:
    return [build_stream_asset(s, partitions) for s in contract.STREAMS.values()] + [
        build_dimension_asset(d) for d in contract.DIMENSIONS.values()
    ]
