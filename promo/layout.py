"""Every storage path of the pipeline, in one place.

Keys are relative to the root of their storage (the landing zone, the lake, the marts
location, a report destination); the layouts below are public: operators, BI and
partners read them.

```
landing:  events/<stream>/date=YYYY-MM-DD/<file>.jsonl[.gz]      (UTC dates)
          dimensions/<dimension>.jsonl[.gz] | dimensions/<dimension>/<file>
lake:     accepted/<stream>/utc_date=YYYY-MM-DD/part-0.parquet
          quarantine/<stream>/utc_date=YYYY-MM-DD/part-0.parquet
          manifests/<stream>/utc_date=YYYY-MM-DD.json
          dimensions/<dimension>.parquet, quarantine/dimensions/<dimension>.parquet
marts:    <mart>/date=YYYY-MM-DD/part-<sha256[:16]>.parquet + _manifest.json  (local days)
          <snapshot mart>/part-<sha256[:16]>.parquet + _manifest.json
          (the manifest's "file" names the data file; read marts through promo.published)
          stats/index.{html,json}, stats/<campaign>.{html,json}, stats/images/<campaign>.png
reports:  <name-slug>-<fingerprint>/<run>/<file>  (one-time; recurring: without <run>)
          <file>.manifest.json beside every file
```
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

EVENT_SUFFIXES = (".jsonl", ".jsonl.gz")
# The lake's one file per folder (the marts name theirs after their content, see below).
DATA_FILE = "part-0.parquet"
MART_MANIFEST = "_manifest.json"
REPORT_MANIFEST_SUFFIX = ".manifest.json"
STATS = "stats"

# -- landing zone -------------------------------------------------------------------------
EVENTS = "events"
DIMENSIONS = "dimensions"


def landing_folder(stream: str, folder: date) -> str:
    """The landing folder of one stream and UTC date, with a trailing slash."""
    return f"{EVENTS}/{stream}/date={folder.isoformat()}/"


_LANDING_FOLDER = re.compile(rf"{EVENTS}/([^/]+)/date=([^/]+)/[^/]+")


def landing_folder_of(key: str) -> tuple[str, str] | None:
    """(stream, date text) of a file directly in an event folder, else None."""
    match = _LANDING_FOLDER.fullmatch(key)
    return (match.group(1), match.group(2)) if match else None


def is_event_file(name: str) -> bool:
    """A `*.jsonl` / `*.jsonl.gz` file that is not hidden: a name starting with a dot is
    an editor's, rsync's or a producer's temporary (`.x.jsonl.swp`, `.x.jsonl.AbC123`,
    `.x.jsonl`), never a delivery, so it is not read (it is listed as ignored)."""
    return name.endswith(EVENT_SUFFIXES) and not name.rpartition("/")[2].startswith(".")


def is_dimension_snapshot(key: str, dimension: str) -> bool:
    """`dimensions/<dimension>.jsonl[.gz]`, or any event file under `dimensions/<dimension>/`."""
    if not is_event_file(key):
        return False
    return key in (f"{DIMENSIONS}/{dimension}{s}" for s in EVENT_SUFFIXES) or key.startswith(
        f"{DIMENSIONS}/{dimension}/"
    )


# -- lake ---------------------------------------------------------------------------------
ACCEPTED, QUARANTINE, MANIFESTS = "accepted", "quarantine", "manifests"


def _utc_folder(folder: date) -> str:
    return f"utc_date={folder.isoformat()}"


def lake_accepted(stream: str, folder: date) -> str:
    return f"{ACCEPTED}/{stream}/{_utc_folder(folder)}/{DATA_FILE}"


def lake_quarantine(stream: str, folder: date) -> str:
    return f"{QUARANTINE}/{stream}/{_utc_folder(folder)}/{DATA_FILE}"


def lake_manifest(stream: str, folder: date) -> str:
    return f"{MANIFESTS}/{stream}/{_utc_folder(folder)}.json"


def lake_dimension(dimension: str) -> str:
    return f"{DIMENSIONS}/{dimension}.parquet"


def lake_dimension_quarantine(dimension: str) -> str:
    return f"{QUARANTINE}/{DIMENSIONS}/{dimension}.parquet"


_UTC_DATE = re.compile(r"utc_date=(\d{4}-\d{2}-\d{2})")


def utc_folder_of(key: str) -> date | None:
    """The UTC date of a lake key (`.../utc_date=YYYY-MM-DD/...`), else None."""
    match = _UTC_DATE.search(key)
    return date.fromisoformat(match.group(1)) if match else None


# -- published marts ----------------------------------------------------------------------
def mart_partition(mart: str, day: date | None) -> str:
    """The folder of one day of a daily mart, or of a snapshot mart (day None)."""
    return f"{mart}/date={day.isoformat()}" if day else mart


def mart_data_name(sha256_hex: str) -> str:
    """A published data file is named after its content: a re-publish with other content
    writes a new name beside the old file instead of overwriting it (see assets/publish.py)."""
    return f"part-{sha256_hex[:16]}.parquet"


def mart_manifest(mart: str, day: date | None) -> str:
    return f"{mart_partition(mart, day)}/{MART_MANIFEST}"


# `part-<16 hex>.parquet`, or the `part-0.parquet` of marts published before content
# names (and of synthetic marts written by tests and benches).
_MART_DATA = re.compile(r"part-(?:0|[0-9a-f]{16})\.parquet")
_MART_FOLDER = re.compile(r"([^/]+)/date=(\d{4}-\d{2}-\d{2})")


def is_mart_data_file(name: str) -> bool:
    """A published data file's name (the last part of its key)."""
    return _MART_DATA.fullmatch(name) is not None


def mart_day_of_folder(folder: str, mart: str) -> date | None:
    """The day of a daily partition folder (`<mart>/date=YYYY-MM-DD`) of `mart`, else None."""
    match = _MART_FOLDER.fullmatch(folder)
    if not match or match.group(1) != mart:
        return None
    try:
        return date.fromisoformat(match.group(2))
    except ValueError:  # date=2026-13-45: not a partition
        return None


def stats_key(name: str) -> str:
    return f"{STATS}/{name}"


# -- report destinations ------------------------------------------------------------------
def report_folder(name_slug: str, fingerprint: str, run_id: str | None = None) -> str:
    """A report's own folder: its name as a slug plus a fingerprint of its whole spec, so
    two reports with one name but other settings never share a folder. Each one-time
    report is a report of its own, so it gets a sub-folder named after its run (creating
    the same spec twice keeps both files); a recurring report's partitions share the
    folder, so re-running a day writes the same names again."""
    folder = f"{name_slug}-{fingerprint[:8]}"
    return f"{folder}/{run_id[:8]}" if run_id else folder


def report_manifest(file_key: str) -> str:
    return file_key + REPORT_MANIFEST_SUFFIX


def slugify(text: str, limit: int = 60) -> str:
    """A name as a safe path segment: ASCII letters, digits and dashes only. Look-alike
    Unicode letters fold to ASCII; anything else (slashes, dots, control characters)
    becomes a dash, so no slug can climb out of its folder."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:limit].strip("-")
    return slug or "report"
