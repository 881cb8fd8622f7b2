"""Ingestion assets: landing zone (JSON Lines) -> lake (Parquet), one asset per stream.

Partitions are account-timezone days, like every asset downstream. The landing folders
are UTC dates, so a local day draws on the two UTC folders it overlaps (three on rare DST
days). A run over a partition range processes every overlapping UTC folder once and
rewrites that folder's lake files whole: re-running gives the same files, and late files
are picked up. See docs/architecture.md, "Partitions and time zones".
"""

from datetime import UTC, date, timedelta
from typing import Any

import polars as pl
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
from promo.ingest import FolderResult, classify_folder
from promo.storage import Storage
from resources import LakeResource, StorageResource
from resources.lake import write_parquet_atomic

EVENT_SUFFIXES = (".jsonl", ".jsonl.gz")
ACCOUNTED = "lines_accounted_for"


def folders_of_window(start, end) -> list[date]:
    """UTC date folders overlapping the UTC-aware half-open window [start, end)."""
    first = start.astimezone(UTC).date()
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def folder_prefix(stream: str, folder: date) -> str:
    return f"events/{stream}/date={folder.isoformat()}/"


def list_folder(landing: Storage, stream: str, folder: date) -> tuple[list[Any], list[str]]:
    """Contract files of a folder, and other files found there (reported, not read)."""
    objects = landing.list(folder_prefix(stream, folder))
    files = [o for o in objects if "/" not in o.key[len(folder_prefix(stream, folder)) :]]
    events = [o for o in files if o.key.endswith(EVENT_SUFFIXES)]
    ignored = [o.key for o in objects if o not in events]
    return events, ignored


def ingest_folder(landing: Storage, lake, stream: Stream, folder: date) -> dict[str, Any]:
    events, ignored = list_folder(landing, stream.name, folder)
    prefix = folder_prefix(stream.name, folder)
    names = [o.key[len(prefix) :] for o in events]
    result: FolderResult = classify_folder(
        stream,
        folder,
        names,
        lambda name: landing.open(prefix + name),
        others=lake.id_lookup(stream, folder),
    )
    result.ignored_files = ignored
    inputs = [{"file": o.key, "size": o.size, "version": o.version} for o in events]
    manifest = lake.write_folder(result, inputs)
    manifest["ignored_files"] = ignored
    return manifest


def accounting_check(stream: Stream, lake, manifests: list[dict[str, Any]]) -> AssetCheckResult:
    """lines = accepted + duplicates + quarantined, with accepted and quarantined counted
    again from the Parquet files as written (not from the in-memory result)."""
    problems = []
    for m in manifests:
        folder = date.fromisoformat(m["utc_date"])
        on_disk_accepted = (
            pl.scan_parquet(lake.accepted_path(stream.name, folder))
            .select(pl.len())
            .collect()
            .item()
        )
        on_disk_quarantined = (
            pl.scan_parquet(lake.quarantine_path(stream.name, folder))
            .select(pl.len())
            .collect()
            .item()
        )
        total = on_disk_accepted + m["duplicates"] + on_disk_quarantined
        if total != m["lines"]:
            problems.append(
                f"{folder}: {m['lines']} lines but {on_disk_accepted} accepted + "
                f"{m['duplicates']} duplicates + {on_disk_quarantined} quarantined = {total}"
            )
    return AssetCheckResult(
        check_name=ACCOUNTED,
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "folders": len(manifests),
            "problems": MetadataValue.md("\n".join(problems) or "none"),
        },
        description="; ".join(problems) or None,
    )


def build_stream_asset(stream: Stream, partitions: PartitionsDefinition) -> AssetsDefinition:
    key = AssetKey(["lake", stream.name])

    @asset(
        key=key,
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        group_name="ingestion",
        kinds={"polars", "parquet"},
        check_specs=[
            AssetCheckSpec(
                ACCOUNTED,
                asset=key,
                description="Every raw line is accepted, a duplicate or quarantined.",
                # Blocking: marts are never built from a lake that lost a line.
                blocking=True,
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
        queue = folders_of_window(window.start, window.end)
        while queue:
            folder = queue.pop(0)
            manifest = ingest_folder(store, the_lake, stream, folder)
            # An id this folder holds first was accepted in a later folder ingested before
            # it: classify those folders again so the later copy becomes the conflict.
            for later in manifest["later_folders_holding_its_ids"]:
                if date.fromisoformat(later) not in queue:
                    context.log.info(f"{stream.name}: re-ingesting date={later} (id held earlier)")
                    queue = sorted({*queue, date.fromisoformat(later)})
            context.log.info(
                f"{stream.name} date={folder}: {manifest['lines']} lines -> "
                f"{manifest['accepted']} accepted, {manifest['duplicates']} duplicates, "
                f"{manifest['quarantined']} quarantined {manifest['quarantined_by_reason']}"
            )
            manifests[folder] = manifest
        final = [manifests[d] for d in sorted(manifests)]
        yield MaterializeResult(metadata=ingestion_metadata(final))
        yield accounting_check(stream, the_lake, final)

    return _ingest


def ingestion_metadata(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    reasons: dict[str, int] = {}
    for m in manifests:
        for reason, n in m["quarantined_by_reason"].items():
            reasons[reason] = reasons.get(reason, 0) + n
    total = {
        k: sum(m[k] for m in manifests) for k in ("lines", "accepted", "duplicates", "quarantined")
    }
    ignored = [f for m in manifests for f in m.get("ignored_files", [])]
    return {
        "utc_folders": MetadataValue.text(", ".join(m["utc_date"] for m in manifests)),
        "files": sum(len(m["inputs"]) for m in manifests),
        **{k: MetadataValue.int(v) for k, v in total.items()},
        "quarantined_by_reason": MetadataValue.json(dict(sorted(reasons.items()))),
        "reingested_later_folders": MetadataValue.json(
            sorted({d for m in manifests for d in m["later_folders_holding_its_ids"]})
        ),
        "ignored_files": MetadataValue.json(ignored[:50]),
    }


# ----------------------------------------------------------------------------- dimensions
def newest_dimension_file(landing: Storage, name: str) -> str | None:
    """`dimensions/<name>.jsonl[.gz]` or any file under `dimensions/<name>/`: the last by
    name order wins (snapshots named by date sort by date)."""
    candidates = [
        o.key
        for o in landing.list("dimensions/")
        if o.key.endswith(EVENT_SUFFIXES)
        and (
            o.key.split("/")[-1] in (f"{name}.jsonl", f"{name}.jsonl.gz")
            or o.key.startswith(f"dimensions/{name}/")
        )
    ]
    return max(candidates) if candidates else None


def dimension_accounting_check(stream: Stream, lake, lines: int, duplicates: int):
    """The dimension's lines = rows + duplicates + quarantined, rows and quarantined
    counted again from the Parquet files as written (like `accounting_check`)."""
    rows = pl.scan_parquet(lake.dimension_path(stream.name)).select(pl.len()).collect().item()
    quarantined = (
        pl.scan_parquet(lake.dimension_quarantine_path(stream.name))
        .select(pl.len())
        .collect()
        .item()
    )
    total = rows + duplicates + quarantined
    problem = (
        f"{lines} lines but {rows} rows + {duplicates} duplicates + {quarantined} quarantined"
        f" = {total}"
        if total != lines
        else None
    )
    return AssetCheckResult(
        check_name=ACCOUNTED,
        passed=problem is None,
        severity=AssetCheckSeverity.ERROR,
        metadata={"lines": lines, "problems": MetadataValue.md(problem or "none")},
        description=problem,
    )


def build_dimension_asset(stream: Stream) -> AssetsDefinition:
    asset_key = AssetKey(["lake", stream.name])

    @asset(
        key=asset_key,
        group_name="dimensions",
        kinds={"polars", "parquet"},
        check_specs=[
            AssetCheckSpec(
                ACCOUNTED,
                asset=asset_key,
                description="Every line of the snapshot is a row, a duplicate or quarantined.",
                blocking=True,
            )
        ],
        description=(
            f"The `{stream.name}` dimension: the newest full snapshot from the landing zone, "
            f"one row per {' + '.join(stream.key)}. Bad lines are quarantined."
        ),
    )
    def _dimension(context: AssetExecutionContext, landing: StorageResource, lake: LakeResource):
        store, the_lake = landing.storage(), lake.lake()
        key = newest_dimension_file(store, stream.name)
        if key is None:
            context.log.warning(f"no {stream.name} snapshot in {store.uri}/dimensions/")
        folder, _, name = (key or "/").rpartition("/")
        result = classify_folder(
            stream, date(1970, 1, 1), [name] if key else [], lambda n: store.open(f"{folder}/{n}")
        )
        write_parquet_atomic(
            result.accepted.drop("_file", "_line"), the_lake.dimension_path(stream.name)
        )
        write_parquet_atomic(result.quarantine, the_lake.dimension_quarantine_path(stream.name))
        yield MaterializeResult(
            metadata={
                "snapshot": MetadataValue.text(key or "none"),
                "lines": result.lines,
                "rows": result.accepted.height,
                "duplicates": result.duplicates,
                "quarantined": result.quarantine.height,
                "quarantined_by_reason": MetadataValue.json(result.quarantined_by_reason),
            }
        )
        yield dimension_accounting_check(stream, the_lake, result.lines, result.duplicates)

    return _dimension


def ingestion_assets(partitions: PartitionsDefinition) -> list[AssetsDefinition]:
    return [build_stream_asset(s, partitions) for s in contract.STREAMS.values()] + [
        build_dimension_asset(d) for d in contract.DIMENSIONS.values()
    ]
