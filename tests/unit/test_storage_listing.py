"""The listing rule every cloud storage shares with a local folder (resources/storage_helpers)."""

import pytest

from promo.storage import StoredObject, temporary_name
from resources.storage import LocalStorage
from resources.storage_helpers import safe_reason, under_prefix

KEYS = ["dimensions/a.jsonl", "dimensions_old.jsonl", "r/a/x", "r/ab/y", f"r/{temporary_name('z')}"]


@pytest.mark.parametrize(
    ("prefix", "listed"),
    [
        ("", ["dimensions/a.jsonl", "dimensions_old.jsonl", "r/a/x", "r/ab/y"]),
        ("r/a", ["r/a/x"]),  # a folder's name: not its sibling r/ab
        ("r/a/", ["r/a/x"]),
        ("dimensions/", ["dimensions/a.jsonl"]),  # a trailing '/' names a folder only
        ("dim", ["dimensions/a.jsonl", "dimensions_old.jsonl"]),  # no such name: its start
        ("r/ab/y", ["r/ab/y"]),
        ("nothing/", []),
    ],
)
def test_a_prefix_lists_what_a_local_folder_would(prefix, listed):
    objects = [StoredObject(k, 1, "v") for k in KEYS]
    assert [o.key for o in under_prefix(prefix, objects)] == listed


def test_a_folder_not_created_yet_lists_nothing_not_its_siblings(tmp_path):
    (tmp_path / "lake-old" / "date=2026-01-01").mkdir(parents=True)
    (tmp_path / "lake-old" / "date=2026-01-01" / "part-0.parquet").write_bytes(b"x")
    assert LocalStorage(tmp_path / "lake").list() == []
    assert LocalStorage(tmp_path / "lake").list("date=") == []
    assert [o.key for o in LocalStorage(tmp_path / "lake-old").list("date=")] == [
        "date=2026-01-01/part-0.parquet"
    ]


def test_reasons_hide_signed_urls_and_keys_and_keep_one_line():
    exc = ValueError(
        "GET https://acc.blob.core.windows.net/c/b?sv=2024&sig=abcSECRET failed for "
        "AccountKey=SECRETKEY==;\n<Error>SECRET body</Error>"
    )
    reason = safe_reason(exc)
    assert "SECRET" not in reason and "\n" not in reason
    assert reason.startswith("ValueError: GET https://acc.blob.core.windows.net/c/b?…")
