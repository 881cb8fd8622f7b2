"""The lake: accepted records, quarantine and manifests as files in a `Storage`, laid out
by `promo.layout` (one folder per UTC landing date, mirroring the landing zone).

Ingestion of one landing folder (`ingest_folder`) classifies its lines (`promo.ingest`),
writes accepted rows, quarantined lines and a manifest, and tells which later folders
must be classified again (see docs/architecture.md). Every file goes through the
storage's atomic `put_file`, so a reader (dbt) sees the old file or the new one. Writing a
folder again from the same input gives byte-identical Parquet (no timestamps inside;
rows in file/line order).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow.parquet as pq

from promo import layout
from promo.contract import Stream
from promo.idindex import IdIndex
from promo.ingest import FolderFiles, FolderResult, classify_folder, classify_folders
from promo.storage import Storage, StorageError, StoredObject

DIMENSION_FOLDER = date(1970, 1, 1)  # dimension snapshots are not dated
ZSTD_LEVEL = 1


class Lake:
    def __init__(self, storage: Storage):
        self.storage = storage

    # -- files --------------------------------------------------------------------------
    def write_parquet(self, frame: pl.DataFrame, key: str) -> None:
        with tempfile.TemporaryDirectory(prefix="promo-lake-") as tmp:
            local = Path(tmp) / "part.parquet"
            # zstd level 1: the same file sizes as polars' default level on lake data,
            # for about a fifth less CPU (an ingestion writes two files per folder).
            frame.write_parquet(
                local, compression="zstd", compression_level=ZSTD_LEVEL, statistics=True
            )
            self.storage.put_file(local, key)

    def write_json(self, payload: Any, key: str) -> None:
        text = json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n"
        self.storage.put_bytes(text.encode(), key)

    @contextmanager
    def local(self, key: str) -> Iterator[Path]:
        """A local path of a lake file: in place for a local lake, else a temporary copy."""
        path = self.storage.local_path(key)
        if path is not None:
            yield path
            return
        with tempfile.TemporaryDirectory(prefix="promo-lake-") as tmp:
            copy = Path(tmp) / key.rpartition("/")[2]
            copy.write_bytes(self.storage.read_bytes(key))
            yield copy

    def _open(self, key: str):
        """A random-access file of a lake object (read in place, even on S3)."""
        filesystem, root = self.storage.arrow()
        return filesystem.open_input_file(f"{root}/{key}")

    def row_count(self, key: str) -> int:
        """Rows of a Parquet file, from its footer alone."""
        with self._open(key) as f:
            return pq.ParquetFile(f).metadata.num_rows

    def exists(self, key: str) -> bool:
        return self.storage.exists(key)

    # -- what the lake holds --------------------------------------------------------------
    def accepted_folders(self, stream: str) -> dict[date, str]:
        """UTC date -> key of the accepted file, for every folder of a stream."""
        out = {}
        for obj in self.storage.list(f"{layout.ACCEPTED}/{stream}/"):
            folder = layout.utc_folder_of(obj.key)
            if folder is not None and obj.key == layout.lake_accepted(stream, folder):
                out[folder] = obj.key
        return dict(sorted(out.items()))

    def manifests(self) -> list[dict[str, Any]]:
        """Every event folder's manifest (what was ingested from which landing files)."""
        keys = [o.key for o in self.storage.list(f"{layout.MANIFESTS}/") if o.key.endswith(".json")]
        return [json.loads(self.storage.read_bytes(k)) for k in sorted(keys)]

    def read_manifest(self, stream: str, folder: date) -> dict[str, Any] | None:
        key = layout.lake_manifest(stream, folder)
        return json.loads(self.storage.read_bytes(key)) if self.storage.exists(key) else None

    def column(self, key: str, name: str) -> pl.Series:
        """One column of a lake file, read in place (on S3: its footer and that column's
        byte ranges, not the whole object)."""
        with self._open(key) as f:
            return pl.read_parquet(f, columns=[name]).to_series()

    # -- writing one classified folder ------------------------------------------------------
    def write_folder(self, result: FolderResult, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """Publish one classified folder: accepted, quarantine, then the manifest."""
        stream, folder = result.stream, result.folder
        self.write_parquet(result.accepted, layout.lake_accepted(stream, folder))
        self.write_parquet(result.quarantine, layout.lake_quarantine(stream, folder))
        manifest = {
            "stream": stream,
            "utc_date": folder.isoformat(),
            "inputs": inputs,
            "lines": result.lines,
            "accepted": result.accepted.height,
            "duplicates": result.duplicates,
            "quarantined": result.quarantine.height,
            "quarantined_by_reason": result.quarantined_by_reason,
            "superseded": result.superseded,
            "corrections": result.corrections,
            "later_folders_holding_its_ids": [d.isoformat() for d in result.later_folders],
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.write_json(manifest, layout.lake_manifest(stream, folder))
        return manifest


def local_day_counts(times: pl.Series, tz: ZoneInfo) -> dict[date, int]:
    """Records per account-timezone day of their event times (UTC instants); a local
    day's records sit in the two UTC folders it overlaps (`sum_counts` adds them up)."""
    local = times.dt.convert_time_zone(str(tz)).dt.date().value_counts()
    return dict(local.iter_rows())


def sum_counts(parts: list[dict[date, int]]) -> dict[date, int]:
    counts: dict[date, int] = {}
    for part in parts:
        for day, n in part.items():
            counts[day] = counts.get(day, 0) + n
    return dict(sorted(counts.items()))


# -- ingestion ------------------------------------------------------------------------------
def list_landing_folder(landing: Storage, stream: str, folder: date):
    """Contract files of a landing folder, and other files found there (reported, not
    read): only `*.jsonl` / `*.jsonl.gz` directly in the folder."""
    prefix = layout.landing_folder(stream, folder)
    objects = landing.list(prefix)
    events = [o for o in objects if "/" not in o.key[len(prefix) :] and layout.is_event_file(o.key)]
    ignored = [o.key for o in objects if o not in events]
    return events, ignored


def ingest_folder(landing: Storage, lake: Lake, stream: Stream, folder: date) -> dict[str, Any]:
    """Classify one landing folder and write it to the lake; returns its manifest (with
    the files found there but not read, under `ignored_files`)."""
    return ingest_folders(landing, lake, stream, [folder])[0]


def ingest_folders(
    landing: Storage, lake: Lake, stream: Stream, folders: list[date], tz: ZoneInfo | None = None
) -> list[dict[str, Any]]:
    """`ingest_folder` for each of `folders` in order, their lines classified together
    (cheaper than one folder at a time); each folder is written before the next one's ids
    are resolved, so it sees them. With `tz`, each manifest also holds, in memory only,
    `rows_by_local_day`: the folder's accepted records per day in `tz`, counted from the
    rows just written (the file is not read back for it)."""
    listed, sources = {}, []
    for folder in folders:
        prefix = layout.landing_folder(stream.name, folder)
        try:
            listed[folder] = list_landing_folder(landing, stream.name, folder)
        except StorageError as exc:
            # A folder that cannot be listed (a link leaving the landing zone): one
            # unreadable line, named after the folder, and the other folders go on.
            listed[folder] = ([], [])
            sources.append(FolderFiles(folder, [UNLISTED], _refuse(exc)))
            continue
        names = [o.key[len(prefix) :] for o in listed[folder][0]]
        sources.append(FolderFiles(folder, names, _opener(landing, prefix)))
    manifests = []
    index = IdIndex(lake, stream)
    for result in classify_folders(stream, sources, index.lookup_for, corrections=True):
        events, ignored = listed[result.folder]
        result.ignored_files = ignored
        manifest = lake.write_folder(result, [_input(o) for o in events])
        index.replace(result.folder, result.accepted[stream.id_field])
        manifest["ignored_files"] = ignored
        if tz is not None:
            manifest["rows_by_local_day"] = local_day_counts(result.accepted[stream.time_field], tz)
        manifests.append(manifest)
    return manifests


UNLISTED = "."  # the file name of the line that stands for a folder that cannot be listed


def _opener(landing: Storage, prefix: str):
    return lambda name: landing.open(prefix + name)


def _refuse(exc: StorageError):
    def refuse(_name: str):
        raise StorageError(f"the folder cannot be listed ({exc})")

    return refuse


def _input(obj: StoredObject) -> dict[str, Any]:
    return {"file": obj.key, "size": obj.size, "version": obj.version}


def accounting_problems(stream: Stream, lake: Lake, manifests: list[dict[str, Any]]) -> list[str]:
    """Folders where lines != accepted + duplicates + quarantined + superseded (records
    replaced by a correction, `promo.corrections`), with accepted and quarantined counted
    again from the Parquet files as written (not from memory)."""
    problems = []
    for m in manifests:
        folder = date.fromisoformat(m["utc_date"])
        accepted = lake.row_count(layout.lake_accepted(stream.name, folder))
        quarantined = lake.row_count(layout.lake_quarantine(stream.name, folder))
        superseded = m.get("superseded", 0)
        total = accepted + m["duplicates"] + quarantined + superseded
        if total != m["lines"]:
            problems.append(
                f"{folder}: {m['lines']} lines but {accepted} accepted + "
                f"{m['duplicates']} duplicates + {quarantined} quarantined + "
                f"{superseded} superseded = {total}"
            )
    return problems


# -- dimensions -----------------------------------------------------------------------------
def newest_dimension_file(landing: Storage, name: str) -> str | None:
    """`dimensions/<name>.jsonl[.gz]` or any file under `dimensions/<name>/`: the last by
    name order wins (snapshots named by date sort by date)."""
    keys = [
        o.key
        for o in landing.list(f"{layout.DIMENSIONS}/")
        if layout.is_dimension_snapshot(o.key, name)
    ]
    return max(keys) if keys else None


def load_dimension(landing: Storage, lake: Lake, stream: Stream) -> tuple[str | None, FolderResult]:
    """Classify the newest snapshot of a dimension and write it (rows, quarantine)."""
    key = newest_dimension_file(landing, stream.name)
    folder, _, name = (key or "/").rpartition("/")
    result = classify_folder(
        stream, DIMENSION_FOLDER, [name] if key else [], lambda n: landing.open(f"{folder}/{n}")
    )
    lake.write_parquet(result.accepted.drop("_file", "_line"), layout.lake_dimension(stream.name))
    lake.write_parquet(result.quarantine, layout.lake_dimension_quarantine(stream.name))
    return key, result


def dimension_accounting_problem(
    stream: Stream, lake: Lake, lines: int, duplicates: int
) -> str | None:
    """The snapshot's lines = rows + duplicates + quarantined, counted again from the files."""
    rows = lake.row_count(layout.lake_dimension(stream.name))
    quarantined = lake.row_count(layout.lake_dimension_quarantine(stream.name))
    total = rows + duplicates + quarantined
    if total == lines:
        return None
    return (
        f"{lines} lines but {rows} rows + {duplicates} duplicates + {quarantined} quarantined"
        f" = {total}"
    )
