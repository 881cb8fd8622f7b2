"""Which other folders of the lake hold an id: the index one ingestion run keeps.

Resolving a folder's ids needs the ids of every other folder of the stream (the first
holder wins, see `promo.ingest`). Scanning every other folder's Parquet for each folder
makes a 90-day run read 90 x 89 files; this index reads each folder's ids once, keeps
their 64-bit hashes in memory (16 bytes per id) and is told when a folder is rewritten.
A hash hit is only a candidate: it is confirmed against the candidate folders' files.
Ids are almost never shared between folders (a shared one is an `id_conflict`), so the
confirmation reads few files, usually none.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from promo import layout
from promo.contract import Stream

SCHEMA = {"hash": pl.UInt64, "folder": pl.Date}


class IdIndex:
    """The ids of the accepted folders of one stream of `lake` (a `promo.lake.Lake`)."""

    def __init__(self, lake, stream: Stream):
        self.lake, self.stream = lake, stream
        keys = lake.accepted_folders(stream.name)
        parts = [pl.DataFrame(schema=SCHEMA)]
        for folder, key in keys.items():
            parts.append(self._entries(lake.column(key, stream.id_field), folder))
        self.entries = pl.concat(parts)

    @staticmethod
    def _entries(ids: pl.Series, folder: date) -> pl.DataFrame:
        return ids.hash().to_frame("hash").with_columns(pl.lit(folder).alias("folder"))

    def replace(self, folder: date, ids: pl.Series) -> None:
        """`folder` now holds exactly `ids` (it was just written)."""
        kept = self.entries.filter(pl.col("folder") != folder)
        self.entries = pl.concat([kept, self._entries(ids, folder)])

    def lookup_for(self, folder: date):
        """An `IdLookup` for `folder`: (id, folder) of every other folder holding an id."""

        def lookup(ids: pl.Series) -> pl.DataFrame:
            if self.entries.is_empty():
                return pl.DataFrame(schema={"id": pl.String, "folder": pl.Date})
            wanted = ids.unique()
            hits = self.entries.filter(
                pl.col("hash").is_in(wanted.hash().implode()) & (pl.col("folder") != folder)
            )
            out = [pl.DataFrame(schema={"id": pl.String, "folder": pl.Date})]
            for (candidate,) in hits.select("folder").unique().sort("folder").iter_rows():
                key = layout.lake_accepted(self.stream.name, candidate)
                held = self.lake.column(key, self.stream.id_field)
                found = held.filter(held.is_in(wanted.implode())).rename("id")
                out.append(found.to_frame().with_columns(pl.lit(candidate).alias("folder")))
            return pl.concat(out)

        return lookup
