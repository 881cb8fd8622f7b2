"""Which data file a reader of the published marts reads in each partition folder: the one
the folder's `_manifest.json` names, whatever else a cut publish left beside it."""

import json
from datetime import date

import pytest

from promo import layout, published
from resources.storage import LocalStorage


def put(root, key: str, data: bytes = b"x") -> None:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def manifest(**fields) -> bytes:
    return json.dumps(fields).encode()


@pytest.mark.parametrize(
    "name, ok",
    [
        ("part-0.parquet", True),  # marts published before content names, synthetic marts
        ("part-0123456789abcdef.parquet", True),
        ("part-0123456789ABCDEF.parquet", False),
        ("part-0123.parquet", False),
        (".tmp-0123-part-0123456789abcdef.parquet.partial", False),
        ("_manifest.json", False),
    ],
)
def test_mart_data_file_names(name, ok):
    assert layout.is_mart_data_file(name) is ok


def test_mart_day_of_folder():
    assert layout.mart_day_of_folder("m/date=2026-10-23", "m") == date(2026, 10, 23)
    assert layout.mart_day_of_folder("other/date=2026-10-23", "m") is None
    assert layout.mart_day_of_folder("m/date=2026-13-45", "m") is None
    assert layout.mart_day_of_folder("m", "m") is None
    name = layout.mart_data_name("ab" * 32)
    assert name == "part-abababababababab.parquet" and layout.is_mart_data_file(name)


def test_readers_follow_the_manifest_not_the_listing(tmp_path):
    new, old = "part-1111111111111111.parquet", "part-2222222222222222.parquet"
    # A re-publish cut after its data file: the manifest still names the old file.
    put(tmp_path, f"m/date=2026-10-01/{old}")
    put(tmp_path, f"m/date=2026-10-01/{new}")
    put(tmp_path, "m/date=2026-10-01/_manifest.json", manifest(file=old))
    # A first publish cut before its manifest: its one (complete) file is read.
    put(tmp_path, f"m/date=2026-10-02/{new}")
    # A legacy folder: `part-0.parquet` and a manifest without "file".
    put(tmp_path, "m/date=2026-10-03/part-0.parquet")
    put(tmp_path, "m/date=2026-10-03/_manifest.json", manifest(rows=1))
    # A manifest alone (manifest-first publishing of old, cut): nothing published yet.
    put(tmp_path, "m/date=2026-10-04/_manifest.json", manifest(rows=1))
    put(tmp_path, "m/date=2026-10-05/notes.txt")
    storage = LocalStorage(tmp_path)
    assert published.daily_files(storage, "m") == {
        date(2026, 10, 1): f"m/date=2026-10-01/{old}",
        date(2026, 10, 2): f"m/date=2026-10-02/{new}",
        date(2026, 10, 3): "m/date=2026-10-03/part-0.parquet",
    }
    assert published.daily_files(storage, "m", [date(2026, 10, 2)]) == {
        date(2026, 10, 2): f"m/date=2026-10-02/{new}"
    }


def test_an_ambiguous_partition_is_refused_not_guessed(tmp_path):
    put(tmp_path, "m/date=2026-10-01/part-1111111111111111.parquet")
    put(tmp_path, "m/date=2026-10-01/part-2222222222222222.parquet")
    with pytest.raises(published.PublishedMartError, match="2 data files and no manifest"):
        published.daily_files(LocalStorage(tmp_path), "m")
    put(
        tmp_path, "m/date=2026-10-01/_manifest.json", manifest(file="part-3333333333333333.parquet")
    )
    with pytest.raises(published.PublishedMartError, match="names part-3333333333333333"):
        published.daily_files(LocalStorage(tmp_path), "m")


def test_snapshot_mart(tmp_path):
    storage = LocalStorage(tmp_path)
    assert published.snapshot_file(storage, "ledger") is None
    put(tmp_path, "ledger/part-1111111111111111.parquet")
    put(tmp_path, "ledger/part-2222222222222222.parquet")
    put(tmp_path, "ledger/_manifest.json", manifest(file="part-2222222222222222.parquet"))
    assert published.snapshot_file(storage, "ledger") == "ledger/part-2222222222222222.parquet"
