"""Reading the published marts the way every reader should: through each partition's
manifest.

A partition folder (`<mart>/date=YYYY-MM-DD/`, or `<mart>/` for a snapshot mart) holds a
data file named after its content (`part-<sha256 prefix>.parquet`) and `_manifest.json`,
which names that file. Publishing writes the new data file first, the manifest last, and
removes the previous data file after: whatever moment a reader looks, the manifest names
a complete file with the rows it counts. A folder without a manifest (a first publish cut
before its manifest, or marts written by hand) is read when it holds exactly one data
file: every data file is complete, since each one appears at once.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from promo import layout
from promo.storage import Storage, StorageError


class PublishedMartError(StorageError):
    """A partition cannot be read unambiguously (several data files and no manifest, or
    a manifest naming a file that is not there)."""


def data_files(storage: Storage, mart: str) -> dict[str, list[str]]:
    """Partition folder -> the names of the data files and manifest in it, from one
    listing of the mart."""
    found: dict[str, list[str]] = defaultdict(list)
    for obj in storage.list(f"{mart}/"):
        folder, _, name = obj.key.rpartition("/")
        if name == layout.MART_MANIFEST or layout.is_mart_data_file(name):
            found[folder].append(name)
    return dict(found)


def partition_file(storage: Storage, folder: str, names: list[str]) -> str | None:
    """The key of the data file a reader reads in one partition folder, or None when the
    folder has nothing published."""
    files = sorted(n for n in names if n != layout.MART_MANIFEST)
    if layout.MART_MANIFEST in names:
        manifest = json.loads(storage.read_bytes(f"{folder}/{layout.MART_MANIFEST}"))
        named = manifest.get("file", layout.DATA_FILE)  # manifests before content names
        key = f"{folder}/{named}"
        # Not in the listing: a re-publish may have replaced the pair since it was taken.
        if named in files or storage.exists(key):
            return key
        if not files:  # a manifest alone (left by the manifest-first publishing of old)
            return None
        raise PublishedMartError(
            f"{storage.uri_of(folder)}: the manifest names {named}, which is not there"
        )
    if len(files) > 1:
        raise PublishedMartError(
            f"{storage.uri_of(folder)}: {len(files)} data files and no manifest to say which"
        )
    return f"{folder}/{files[0]}" if files else None


def daily_files(storage: Storage, mart: str, only: Iterable[date] | None = None) -> dict[date, str]:
    """Published days of a daily mart -> the key of each day's data file, in day order;
    with `only`, just those days (one manifest read per day asked for, not per day
    published)."""
    wanted = None if only is None else set(only)
    out = {}
    for folder, names in data_files(storage, mart).items():
        day = layout.mart_day_of_folder(folder, mart)
        if day is None or (wanted is not None and day not in wanted):
            continue
        key = partition_file(storage, folder, names)
        if key is not None:
            out[day] = key
    return dict(sorted(out.items()))


def snapshot_file(storage: Storage, mart: str) -> str | None:
    """The key of a snapshot mart's data file (`<mart>/`), or None when not published."""
    names = data_files(storage, mart).get(mart, [])
    return partition_file(storage, mart, names)
