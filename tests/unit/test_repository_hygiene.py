"""The repository as a clone gets it: no merge leftovers, nothing generated committed."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MARKERS = ("<<<<<<< ", ">>>>>>> ")


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout
    return [REPO / name for name in out.decode().split("\0") if name]


def test_no_merge_conflict_markers_are_committed():
    found = []
    for path in tracked_files():
        if not path.is_file() or path.suffix in (".png", ".json") and path.stat().st_size > 1e6:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if line.startswith(MARKERS) or line == "=======" and path.suffix != ".md":
                found.append(f"{path.relative_to(REPO)}:{number}")
    assert found == []


def test_no_virtualenv_or_tool_folder_is_tracked():
    names = [p.relative_to(REPO).parts[0] for p in tracked_files()]
    assert not {".venv", ".tools", ".promo"} & set(names)
