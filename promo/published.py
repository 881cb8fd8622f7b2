"""Reading the published marts the way every reader should: through each partition's
manifest.

A partition folder (`<mart>/date=YYYY-MM-DD/`, or `<mart>/` for a snapshot mart) holds a
data file named after its content (`part-<sha256 prefix>.parquet`) and `_manifest.json`,
which names that file. Publishing writes the new data file first, the manifest last, and
removes the previous data file after: whatever moment a reader looks, the manifest names
a complete file with the rows it counts. A folder without a manifest (a publish cut
before its manifest, or marts written by hand) is read when it holds exactly one data
file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from promo import layout
from promo.storage import Storage, StorageError


class PublishedMartError(StorageError):
    """A partition cannot be read unambiguously (several data files and no manifest, or
    a manifest naming a file that is not there)."""


def data_files(storage: Storage, mart: str) -> dict[str, list[str]]:
    """Partition folder -> the data files and manifest keys under it, from one listing."""
    found: dict[str, list[str]] = defaultdict(list)
    for obj in storage.list(f"{mart}/"):
        folder, _, name = obj.key.rpartition("/")
        if name == layout.MART_MANIFEST or layout.is_mart_data_file(name):
            found[folder].append(name)
    return found


def partition_file(storage: Storage, folder: str, names: list[str]) -> str | None:
    """The data file a reader reads in one partition folder, or None (not published)."""
    files = sorted(n for n in names if n != layout.MART_MANIFEST)
    if layout.MART_MANIFEST in names:
        manifest = json.loads(storage.read_bytes(f"{folder}/{layout.MART_MANIFEST}"))
        named = manifest.get("file", layout.DATA_FILE)
        if named not in files:
            raise PublishedMartError(
                f"{storage.uri_of(folder)}: the manifest names {named}, which is not there"
            )
        return f"{folder}/{named}"
    if len(files) > 1:
        raise PublishedMartError(
            f"{storage.uri_of(folder)}: {len(files)} data files and no manifest to say which"
        )
    return f"{folder}/{files[0]}" if files else None


def daily_files(storage: Storage, mart: str) -> dict[date, str]:
    """Every published day of a daily mart and the key of its data file."""
    out = {}
    for folder, names in data_files(storage, mart).items():
        day = layout.mart_day_of_folder(folder, mart)
        key = partition_file(storage, folder, names) if day else None
        if key is not None:
            out[day] = key
    return dict(sorted(out.items()))


def snapshot_file(storage: Storage, mart: str) -> str | None:
    """The data file of a snapshot mart (`<mart>/`), or None."""
    names = data_files(storage, mart).get(mart, [])
    return partition_file(storage, mart, names)
