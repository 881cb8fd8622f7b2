"""The id index of an ingestion run (promo.idindex) against a plain scan of the lake's
folders: the same (id, folder) pairs, before and after folders are rewritten."""

import random
from datetime import date, timedelta

import polars as pl

from promo import contract, layout
from promo.idindex import IdIndex
from promo.lake import Lake
from resources.storage import LocalStorage

STREAM = contract.STREAMS["wallet_transactions"]
DAY0 = date(2026, 8, 1)


def write_folder(lake: Lake, folder: date, ids: list[str]) -> None:
    frame = pl.DataFrame({STREAM.id_field: ids}, schema={STREAM.id_field: pl.String})
    lake.write_parquet(frame, layout.lake_accepted(STREAM.name, folder))


def scanned(held: dict[date, list[str]], wanted: list[str], folder: date) -> set:
    """What a lookup must give: every (id, other folder) where that folder holds the id."""
    return {(i, f) for f, ids in held.items() if f != folder for i in set(ids) & set(wanted)}


def looked_up(index: IdIndex, wanted: list[str], folder: date) -> set:
    found = index.lookup_for(folder)(pl.Series(wanted, dtype=pl.String))
    assert found.schema == {"id": pl.String, "folder": pl.Date}
    return set(found.iter_rows())


def test_lookups_match_a_scan_of_the_folders_as_they_are_rewritten(tmp_path):
    rng = random.Random(7)
    lake = Lake(LocalStorage(tmp_path))
    held = {DAY0 + timedelta(days=d): [f"t{d}-{n}" for n in range(200)] for d in range(6)}
    # Ids shared between folders (conflicts), one of them by three folders.
    held[DAY0 + timedelta(days=3)] += ["t0-5", "t1-9"]
    held[DAY0 + timedelta(days=5)] += ["t0-5"]
    for folder, ids in held.items():
        write_folder(lake, folder, ids)
    index = IdIndex(lake, STREAM)

    everything = [i for ids in held.values() for i in ids]
    for folder in [*held, DAY0 + timedelta(days=40)]:  # a folder the index does not hold
        wanted = rng.sample(everything, 150) + ["t0-5", "t1-9", "never-seen"]
        assert looked_up(index, wanted, folder) == scanned(held, wanted, folder)
    assert looked_up(index, ["t0-5"], DAY0) == {
        ("t0-5", DAY0 + timedelta(days=3)),
        ("t0-5", DAY0 + timedelta(days=5)),
    }

    # A folder rewritten with other ids no longer holds its old ones; a new folder is added.
    rewritten, added = DAY0 + timedelta(days=3), DAY0 + timedelta(days=9)
    held[rewritten] = ["t0-5", "r-1", "r-2"]
    held[added] = ["t1-9", "a-1"]
    for folder in (rewritten, added):
        write_folder(lake, folder, held[folder])
        index.replace(folder, pl.Series(held[folder], dtype=pl.String))
    for folder in [*held, DAY0 + timedelta(days=40)]:
        wanted = ["t3-1", "t3-7", "t0-5", "t1-9", "r-2", "a-1", "t4-100"]
        assert looked_up(index, wanted, folder) == scanned(held, wanted, folder)
    assert looked_up(index, ["t3-1"], DAY0) == set()


def test_an_empty_lake_holds_nothing(tmp_path):
    lake = Lake(LocalStorage(tmp_path))
    index = IdIndex(lake, STREAM)
    assert looked_up(index, ["a", "b"], DAY0) == set()
    write_folder(lake, DAY0, ["a"])
    index.replace(DAY0, pl.Series(["a"], dtype=pl.String))
    assert looked_up(index, ["a", "b"], DAY0 + timedelta(days=1)) == {("a", DAY0)}
    assert looked_up(index, ["a"], DAY0) == set()
