"""The landing sensor: new or late files in the landing zone -> runs for the affected days.

The cursor maps every `<stream>/date=YYYY-MM-DD` folder (and every dimension) to a
fingerprint of its file names and versions (mtime+size locally, ETag on S3). A folder
whose fingerprint changed asks for the local days it overlaps that have ended; a day whose
partition does not exist yet (today) keeps its folder out of the cursor, so it is asked
for once the day has ended (the days asked for meanwhile are kept as `<folder>@<day>`).
With no cursor yet, the sensor starts from what the lake's manifests say was ingested, so
a new instance does not re-run the days the lake already holds.
"""

import hashlib
import json
from collections import defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from dagster import (
    DefaultSensorStatus,
    PartitionsDefinition,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from promo import contract, layout, names
from promo.storage import StoredObject
from promo.timeutil import local_days_for_utc_folder
from resources.dagster_resources import LakeResource, StorageResource


def fingerprint(objects: list[StoredObject]) -> str:
    text = "\n".join(f"{o.key}\t{o.version}" for o in sorted(objects, key=lambda o: o.key))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def landing_fingerprints(objects: list[StoredObject]) -> dict[str, str]:
    """Fingerprint per event folder ('wallet_transactions/2026-11-20') and per dimension."""
    groups: dict[str, list[StoredObject]] = defaultdict(list)
    for o in objects:
        folder = layout.landing_folder_of(o.key)
        if folder is not None and folder[0] in contract.STREAMS:
            groups[f"{folder[0]}/{folder[1]}"].append(o)
        elif o.key.startswith(f"{layout.DIMENSIONS}/"):
            groups["dimensions"].append(o)
    return {k: fingerprint(v) for k, v in groups.items()}


def ingested_fingerprints(manifests: list[dict]) -> dict[str, str]:
    """Fingerprints of the landing folders as the lake last ingested them (from its
    manifests' inputs). A sensor with no cursor yet — a new instance, e.g. the first
    `make dev` after `make demo` — starts from these instead of from nothing, so it does
    not run again every day the lake already holds (28 runs of dbt after the demo)."""
    return {
        f"{m['stream']}/{m['utc_date']}": fingerprint(
            [StoredObject(i["file"], i.get("size", 0), i["version"]) for i in m["inputs"]]
        )
        for m in manifests
        if m.get("inputs")
    }


def plan_requests(
    previous: dict[str, str],
    current: dict[str, str],
    tz: ZoneInfo,
    existing_days: set[str],
) -> tuple[dict[str, list[str]], bool, dict[str, str]]:
    """Which days to run (day -> changed folders), whether dimensions changed, and the
    new cursor. Pure, so it is unit-tested without Dagster."""
    days: dict[str, list[str]] = defaultdict(list)
    cursor = dict(previous)
    dims_changed = (
        current.get("dimensions") != previous.get("dimensions") and "dimensions" in current
    )
    if dims_changed:
        cursor["dimensions"] = current["dimensions"]
    for key, fp in sorted(current.items()):
        if key == "dimensions" or previous.get(key) == fp:
            continue
        stream, day_text = key.split("/")
        try:
            folder = date.fromisoformat(day_text)
        except ValueError:
            continue  # a folder name outside the contract: ignored (listed in run metadata)
        local_days = [d.isoformat() for d in local_days_for_utc_folder(folder, tz)]
        # Each local day the folder overlaps is asked for once it has ended, as soon as the
        # folder changed: a file for a day that has ended is not held back while the
        # folder's other day is still open (outside UTC a folder spans two local days).
        # `<folder>@<day>` remembers the days asked for with this fingerprint meanwhile.
        for d in local_days:
            if d in existing_days and previous.get(f"{key}@{d}") != fp:
                days[d].append(key)
                cursor[f"{key}@{d}"] = fp
        if all(d in existing_days for d in local_days):
            cursor[key] = fp  # every day asked for: the folder is done until it changes
            for d in local_days:
                cursor.pop(f"{key}@{d}", None)
    return dict(days), dims_changed, cursor


def build_landing_sensor(partitions: PartitionsDefinition, tz: ZoneInfo, jobs: list):
    @sensor(
        name="landing_sensor",
        jobs=jobs,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Asks for the days whose landing folders gained or changed files "
        "(late files included), and reloads dimensions when a snapshot changes.",
    )
    def landing_sensor(
        context: SensorEvaluationContext, landing: StorageResource, lake: LakeResource
    ):
        store = landing.storage()
        current = landing_fingerprints(
            store.list(f"{layout.EVENTS}/") + store.list(f"{layout.DIMENSIONS}/")
        )
        if context.cursor:
            previous = json.loads(context.cursor)
        else:
            previous = ingested_fingerprints(lake.lake().manifests())
        existing = set(partitions.get_partition_keys(dynamic_partitions_store=None))
        days, dims_changed, cursor = plan_requests(previous, current, tz, existing)
        if dims_changed:
            yield RunRequest(
                run_key=f"dimensions:{current['dimensions']}", job_name=names.DIMENSIONS_JOB
            )
        for day, folders in sorted(days.items()):
            run_key = f"{day}:" + fingerprint_text(folders, current)
            yield RunRequest(
                run_key=run_key,
                partition_key=day,
                job_name=names.DAILY_JOB,
                tags={names.TRIGGER_TAG: "landing"},
            )
        if not days and not dims_changed:
            yield SkipReason("no new or changed landing files")
        context.update_cursor(json.dumps(cursor, sort_keys=True))

    return landing_sensor


def fingerprint_text(folders: list[str], current: dict[str, str]) -> str:
    return hashlib.sha256(
        "|".join(f"{f}={current[f]}" for f in sorted(folders)).encode()
    ).hexdigest()[:16]
