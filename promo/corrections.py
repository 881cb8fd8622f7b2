"""Corrections: how an operator replaces a record that was already accepted.

A file named `*.corrections.jsonl[.gz]` in an event date folder holds corrected records.
Its lines are classified like any other (a bad one is quarantined with its reason); each
valid one then replaces the record with the same id accepted from the folder's other
files. The folder's files are read in name order, regular files first, then correction
files, so a later correction of the same id replaces an earlier one. For each id:

- a correction with other content than the record it replaces makes that record
  **superseded** (counted in the manifest, and listed with both positions);
- a correction with the same content is a **duplicate** (an exact redelivery);
- a correction of an id no file of the folder holds adds the record (the original may
  have been quarantined);
- a correction of an id accepted in another folder is an `id_conflict`: a correction goes
  into the folder of the record it corrects (its event's UTC date, which it keeps).

So every line is still exactly one of accepted, duplicate, quarantined or superseded, and
`lines = accepted + duplicates + quarantined + superseded` per folder. The result depends
only on the folder's files (and the ids of other folders), so re-ingesting gives the same
lake files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from promo.contract import Stream

CONFLICT_SCHEMA = {"_file": pl.String, "_line": pl.Int64, "detail": pl.String}


@dataclass
class Corrected:
    accepted: pl.DataFrame
    duplicates: int = 0
    superseded: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # one entry per superseded record
    conflicts: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=CONFLICT_SCHEMA))
    later_folders: list[date] = field(default_factory=list)


def apply_corrections(
    stream: Stream, folder: date, accepted: pl.DataFrame, fixes: pl.DataFrame, others
) -> Corrected:
    """Apply the valid correction rows `fixes` to the folder's `accepted` rows (see the
    module docstring). `others(ids)` gives the (id, folder) rows of other folders."""
    if fixes.is_empty():
        return Corrected(accepted)
    idc, key = stream.id_field, stream.key
    fixes = fixes.sort("_file", "_line")
    out = Corrected(accepted)
    if others is not None:
        held = others(fixes[idc])
        earlier = held.filter(pl.col("folder") < folder).unique("id").sort("id")
        out.conflicts = fixes.join(earlier, left_on=idc, right_on="id").select(
            "_file",
            "_line",
            pl.format(
                "{} {} was accepted in folder date={}: a correction goes into that folder",
                pl.lit(idc),
                pl.col(idc),
                pl.col("folder"),
            ).alias("detail"),
        )
        fixes = fixes.join(earlier.select(pl.col("id").alias(idc)), on=idc, how="anti")
        later = held.filter(pl.col("folder") > folder)["folder"].unique()
        out.later_folders = sorted(later.to_list())
    ids = fixes.select(key).unique()
    chains: dict[tuple, list[dict[str, Any]]] = {}
    for row in accepted.join(ids, on=key, how="semi").iter_rows(named=True):
        chains[tuple(row[k] for k in key)] = [row]
    for row in fixes.iter_rows(named=True):
        chains.setdefault(tuple(row[k] for k in key), []).append(row)
    compared = [col for col in stream.columns if col not in key]
    final = []
    for ident, chain in chains.items():
        current = chain[0]
        for row in chain[1:]:
            if all(row[col] == current[col] for col in compared):
                out.duplicates += 1
                continue
            out.superseded += 1
            out.log.append(
                {
                    "id": "+".join(ident),
                    "file": current["_file"],
                    "line": current["_line"],
                    "by_file": row["_file"],
                    "by_line": row["_line"],
                }
            )
            current = row
        final.append(current)
    out.accepted = pl.concat(
        [accepted.join(ids, on=key, how="anti"), pl.DataFrame(final, schema=accepted.schema)]
    ).sort("_file", "_line")
    out.log.sort(key=lambda e: (e["by_file"], e["by_line"]))
    return out
