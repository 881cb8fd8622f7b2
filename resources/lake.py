"""The lake: accepted records and quarantine as Parquet, one folder per UTC date.

Layout (mirrors the landing zone's UTC date folders, see docs/architecture.md):
```
<lake>/accepted/<stream>/utc_date=YYYY-MM-DD/part-0.parquet
<lake>/quarantine/<stream>/utc_date=YYYY-MM-DD/part-0.parquet
<lake>/manifests/<stream>/utc_date=YYYY-MM-DD.json
<lake>/dimensions/<dimension>.parquet   (+ quarantine/dimensions/<dimension>.parquet)
```
Every file is written beside its target and renamed into place, so a reader (dbt) sees
the old file or the new one, never half of one. Re-writing a folder from the same input
gives byte-identical Parquet (no timestamps inside; rows in file/line order).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from promo.contract import Stream
from promo.ingest import FolderResult
from promo.storage import temporary_name
from resources.storage import sweep_stale_temporaries


def write_parquet_atomic(frame: pl.DataFrame, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temporaries(target.parent)
    tmp = target.parent / temporary_name(target.name)
    try:
        frame.write_parquet(tmp, compression="zstd", statistics=True)
        with tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_json_atomic(payload: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / temporary_name(target.name)
    try:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class Lake:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def accepted_path(self, stream: str, folder: date) -> Path:
        return self.root / "accepted" / stream / f"utc_date={folder.isoformat()}" / "part-0.parquet"

    def quarantine_path(self, stream: str, folder: date) -> Path:
        return (
            self.root / "quarantine" / stream / f"utc_date={folder.isoformat()}" / "part-0.parquet"
        )

    def manifest_path(self, stream: str, folder: date) -> Path:
        return self.root / "manifests" / stream / f"utc_date={folder.isoformat()}.json"

    def dimension_path(self, name: str) -> Path:
        return self.root / "dimensions" / f"{name}.parquet"

    def dimension_quarantine_path(self, name: str) -> Path:
        return self.root / "quarantine" / "dimensions" / f"{name}.parquet"

    def accepted_folders(self, stream: str) -> dict[date, Path]:
        base = self.root / "accepted" / stream
        out = {}
        for path in sorted(base.glob("utc_date=*/part-0.parquet")):
            out[date.fromisoformat(path.parent.name.split("=", 1)[1])] = path
        return out

    def write_folder(self, result: FolderResult, inputs: list[dict[str, Any]]) -> dict[str, Any]:
        """Publish one classified folder: accepted, quarantine, then the manifest."""
        write_parquet_atomic(result.accepted, self.accepted_path(result.stream, result.folder))
        write_parquet_atomic(result.quarantine, self.quarantine_path(result.stream, result.folder))
        manifest = {
            "stream": result.stream,
            "utc_date": result.folder.isoformat(),
            "inputs": inputs,
            "lines": result.lines,
            "accepted": result.accepted.height,
            "duplicates": result.duplicates,
            "quarantined": result.quarantine.height,
            "quarantined_by_reason": result.quarantined_by_reason,
            "later_folders_holding_its_ids": [d.isoformat() for d in result.later_folders],
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        write_json_atomic(manifest, self.manifest_path(result.stream, result.folder))
        return manifest

    def manifests(self) -> list[dict[str, Any]]:
        """Every event folder's manifest (what was ingested from which landing files)."""
        paths = sorted((self.root / "manifests").glob("*/utc_date=*.json"))
        return [json.loads(p.read_text()) for p in paths]

    def read_manifest(self, stream: str, folder: date) -> dict[str, Any] | None:
        path = self.manifest_path(stream, folder)
        return json.loads(path.read_text()) if path.exists() else None

    def id_lookup(self, stream: Stream, folder: date):
        """Ids held by the accepted data of every other folder of the stream.

        Same-content redeliveries always sit in one folder (the folder is the UTC date of
        the event), so a hit in another folder is always a conflict.
        """
        others = [p for d, p in self.accepted_folders(stream.name).items() if d != folder]

        def lookup(ids: pl.Series) -> pl.DataFrame:
            if not others:
                return pl.DataFrame(schema={"id": pl.String, "folder": pl.Date})
            wanted = ids.unique().implode()
            return (
                pl.scan_parquet(others, include_file_paths="_path")
                .select(pl.col(stream.id_field).alias("id"), "_path")
                .filter(pl.col("id").is_in(wanted))
                .with_columns(
                    pl.col("_path")
                    .str.extract(r"utc_date=(\d{4}-\d{2}-\d{2})")
                    .str.to_date()
                    .alias("folder")
                )
                .select("id", "folder")
                .collect()
            )

        return lookup
