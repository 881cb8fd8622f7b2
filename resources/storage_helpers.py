"""What the cloud implementations of `promo.storage.Storage` (S3, GCS, Azure) share: the
same listing semantics as a local folder, a buffered reader over a client's download
stream, and failure reasons that are safe to show."""

from __future__ import annotations

import io
import re
from typing import Any

from promo.storage import StoredObject, clean_key, is_temporary

# A URL's query may carry a signature (an Azure SAS `sig=`, a presigned S3 URL), and a
# connection string carries the account key: both are cut from any reason we show.
_URL_QUERY = re.compile(r"(https?://[^\s'\"?]+)\?[^\s'\"]*")
_SECRET_FIELD = re.compile(
    r"\b(AccountKey|SharedAccessSignature|sig|signature|token|password|secret)=[^;&\s'\"]+",
    re.IGNORECASE,
)
MAX_REASON_CHARS = 300


def safe_reason(exc: BaseException) -> str:
    """One line saying why a cloud call failed, fit for a StorageError, a log or a run tag.
    Client messages name the request, not the credential; signed URLs and key fields that
    may still appear are redacted, and only the first line is kept (Azure appends the whole
    XML error body)."""
    status = getattr(exc, "status_code", None)
    code = getattr(exc, "error_code", None)
    lines = str(exc).strip().splitlines() or [""]
    text = lines[0]
    if status is not None and code:  # an Azure HttpResponseError: status and code say it
        text = f"{status} {code}: {text}"
    text = _SECRET_FIELD.sub(r"\1=…", _URL_QUERY.sub(r"\1?…", text))
    if len(text) > MAX_REASON_CHARS:
        text = text[:MAX_REASON_CHARS] + "…"
    return f"{type(exc).__name__}: {text}"


def under_prefix(prefix: str, objects: list[StoredObject]) -> list[StoredObject]:
    """A cloud listing narrowed to what a local folder lists for the same prefix.

    Object stores match prefixes character by character, so `reports/a` also finds
    `reports/ab/x.csv`. A local folder lists the file or folder that the prefix names, and
    only when nothing has that name, the names that start with it. Doing the same here
    keeps `delete_prefix("reports/a")` from deleting a sibling folder in the cloud. A
    prefix ending in '/' names a folder only. Temporaries are skipped; sorted by key."""
    kept = [o for o in objects if not is_temporary(o.key)]
    if prefix:
        key = clean_key(prefix)
        named = [o for o in kept if o.key == key or o.key.startswith(key + "/")]
        if prefix.endswith("/"):
            named = [o for o in named if o.key != key]
        kept = named or ([] if prefix.endswith("/") else [o for o in kept if o.key.startswith(key)])
    return sorted(kept, key=lambda o: o.key)


class _RawStream(io.RawIOBase):
    """A raw, readable stream over a client download object that has `read(n)` (a botocore
    body, an Azure downloader, a GCS blob reader)."""

    def __init__(self, source: Any):
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._source.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def buffered(source: Any) -> io.BufferedReader:
    """A real buffered file over a download stream, so line iteration and gzip behave as
    they do on local files (client streams hand out fixed-size chunks, not lines)."""
    return io.BufferedReader(_RawStream(source), buffer_size=1024 * 1024)
