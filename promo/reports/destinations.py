"""Cloud destinations the operator configured (PROMO_DESTINATIONS_FILE): the only buckets
and containers a report may be delivered to.

A spec names one (`delivery: {destination: cloud, name: bi-bucket, prefix: wallet/}`), so a
writer can no longer send a wallet's transactions wherever the service's credentials
reach. The file's shape is a public interface:

```yaml
destinations:
  bi-bucket: {kind: s3, bucket: promo-bi, prefix: exports/}   # prefix optional
  gcs-bi: {kind: gcs, bucket: promo-bi-gcs}
  azure-bi: {kind: azure, container: promo-bi}
```

Credentials are never in it: each cloud's client finds its own (see docs/deployment.md).
A file is checked whole and every problem is reported at once, each naming the file and
the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from promo import yamlfile
from promo.reports.spec_fields import bucket_name, key_prefix

KINDS = {"s3": "bucket", "gcs": "bucket", "azure": "container"}  # kind -> its location key
SCHEMES = {"s3": "s3://", "gcs": "gs://", "azure": "az://"}
KIND_LABELS = {"s3": "Amazon S3", "gcs": "Google Cloud Storage", "azure": "Azure Blob Storage"}
FILE_MAX_BYTES = 256 * 1024  # a few dozen destinations are a few kilobytes

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
# Google's rules without dotted names' 222-character form: 3-63 lowercase letters, digits,
# hyphens, underscores and dots, starting and ending with a letter or digit.
_GCS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
# Azure's container rules: 3-63 lowercase letters, digits and single hyphens.
_CONTAINER = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}")


class DestinationsError(ValueError):
    """The destinations file is unusable; `problems` lists every one, each naming its entry."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        lines = "".join(f"\n  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):{lines}")


@dataclass(frozen=True)
class CloudDestination:
    """One configured destination: where its reports go, below `prefix` ('' or 'a/b/')."""

    name: str
    kind: str  # s3 | gcs | azure
    bucket: str  # the bucket, or the Azure container
    prefix: str = ""

    def uri(self, spec_prefix: str | None = None) -> str:
        """The storage root of a report delivered here: base prefix, then the spec's."""
        path = (self.prefix + (spec_prefix or "")).strip("/")
        return f"{SCHEMES[self.kind]}{self.bucket}" + (f"/{path}" if path else "")

    @property
    def label(self) -> str:
        """For lists and the page: `bi-bucket (Amazon S3: promo-bi/exports/)`."""
        return f"{self.name} ({KIND_LABELS[self.kind]}: {self.bucket}/{self.prefix})"

    def to_dict(self) -> dict[str, str]:
        return {
            "name": self.name,
            "kind": self.kind,
            KINDS[self.kind]: self.bucket,
            "prefix": self.prefix,
            "location": self.uri(),
        }


@dataclass(frozen=True)
class Destinations:
    """Every configured destination by name, in the file's order (empty: none configured,
    so only downloads are possible)."""

    by_name: Mapping[str, CloudDestination] = None  # type: ignore[assignment]
    source: str = "(no PROMO_DESTINATIONS_FILE)"

    def __post_init__(self) -> None:
        if self.by_name is None:
            object.__setattr__(self, "by_name", {})

    def __iter__(self) -> Iterator[CloudDestination]:
        return iter(self.by_name.values())

    def __len__(self) -> int:
        return len(self.by_name)

    def get(self, name: str | None) -> CloudDestination | None:
        return self.by_name.get(name or "")

    def s3_bucket(self, bucket: str | None) -> CloudDestination | None:
        """The configured S3 destination of a legacy `{destination: s3, bucket: ...}` spec:
        the first one declared on that bucket (its base prefix applies)."""
        return next((d for d in self if d.kind == "s3" and d.bucket == bucket), None)

    def choices(self) -> str:
        """The configured names, for messages: `bi-bucket (s3), gcs-bi (gcs)` or `none`."""
        return ", ".join(f"{d.name} ({d.kind})" for d in self) or "none are configured"

    def s3_choices(self) -> str:
        buckets = dict.fromkeys(d.bucket for d in self if d.kind == "s3")
        return ", ".join(buckets) or "no S3 destination is configured"


def _entry(name: Any, value: Any) -> tuple[CloudDestination | None, list[str]]:
    where = f"destinations.{name}"
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return None, [
            f"{where}: a name is 1 to 63 lowercase letters, digits, '-' and '_', starting "
            "with a letter or digit"
        ]
    if not isinstance(value, Mapping):
        return None, [f"{where}: expected a mapping ({{kind: ..., bucket: ...}})"]
    kind = value.get("kind")
    if kind not in KINDS:
        return None, [f"{where}.kind: {kind!r} is not one of: {', '.join(KINDS)}"]
    place = KINDS[kind]
    allowed = ("kind", place, "prefix")
    problems = [
        f"{where}.{key}: unknown key for kind {kind} (allowed: {', '.join(allowed)})"
        for key in value
        if key not in allowed
    ]
    bucket, prefix = value.get(place), ""
    if bucket is None:
        problems.append(f"{where}.{place}: required for kind {kind}")
    else:
        try:
            bucket = _location(kind, bucket)
        except ValueError as exc:
            problems.append(f"{where}.{place}: {exc}")
    try:
        prefix = key_prefix(value.get("prefix")) or ""
    except ValueError as exc:
        problems.append(f"{where}.prefix: {exc}")
    if problems:
        return None, problems
    return CloudDestination(name, kind, bucket, prefix), []


def _location(kind: str, value: Any) -> str:
    if kind == "s3":
        return bucket_name(value)
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {type(value).__name__}")
    if kind == "gcs" and not (_GCS_BUCKET.fullmatch(value) and ".." not in value):
        raise ValueError(
            f"{value!r} is not a valid GCS bucket name: 3 to 63 lowercase letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit"
        )
    if kind == "azure" and not _CONTAINER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a valid Azure container name: 3 to 63 lowercase letters, "
            "digits and single hyphens, starting and ending with a letter or digit"
        )
    return value


def parse_destinations(data: Any, source: str) -> Destinations:
    """The destinations of a parsed file; DestinationsError lists every problem."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping) or set(data) - {"destinations"}:
        raise DestinationsError(source, ["expected one key, `destinations:`, holding a mapping"])
    entries = data.get("destinations") or {}
    if not isinstance(entries, Mapping):
        raise DestinationsError(source, ["destinations: expected a mapping of name -> entry"])
    found, problems = {}, []
    for name, value in entries.items():
        destination, wrong = _entry(name, value)
        problems += wrong
        if destination is not None:
            found[destination.name] = destination
    if problems:
        raise DestinationsError(source, problems)
    return Destinations(found, source)


def load_destinations(path: Path | None) -> Destinations:
    """The destinations file at `path` (None: no cloud destination configured)."""
    if path is None:
        return Destinations()
    try:
        data = yamlfile.read(path, FILE_MAX_BYTES)
    except yamlfile.YamlError as exc:
        raise DestinationsError(str(path), [str(exc)]) from None
    return parse_destinations(data, str(path))


def unconfigured(delivery: Any, destinations: Destinations) -> list[tuple[str, str]]:
    """(field, message) when a spec's delivery (`promo.reports.spec.Delivery`) names a
    destination or bucket the operator did not configure; the message lists the choices."""
    destination = str(delivery.destination)
    if destination == "cloud" and destinations.get(delivery.name) is None:
        return [
            (
                "name",
                f"{delivery.name!r} is not a configured destination; configured: "
                f"{destinations.choices()}",
            )
        ]
    if destination == "s3" and destinations.s3_bucket(delivery.bucket) is None:
        return [
            (
                "bucket",
                f"{delivery.bucket!r} is not a configured S3 destination bucket; configured: "
                f"{destinations.s3_choices()} (or name a destination: "
                "{destination: cloud, name: ...})",
            )
        ]
    return []


def resolve(delivery: Any, destinations: Destinations) -> CloudDestination | None:
    """The configured destination a spec's delivery goes to (None: a download). Raises
    ValueError naming the field when it is not configured (any more): a run checks again,
    since the file may have changed since the report was created."""
    problems = unconfigured(delivery, destinations)
    if problems:
        field, message = problems[0]
        raise ValueError(f"delivery.{field}: {message}")
    destination = str(delivery.destination)
    if destination == "cloud":
        return destinations.get(delivery.name)
    if destination == "s3":
        return destinations.s3_bucket(delivery.bucket)
    return None


def delivery_label(delivery: Mapping[str, Any] | None) -> str:
    """How run tags, alerts and asset descriptions name where a report goes, from a spec's
    `delivery` mapping: `download`, `cloud bi-bucket, prefix wallet/`, or the older
    `s3 bucket promo-bi, prefix wallet/`."""
    delivery = delivery or {}
    kind = str(delivery.get("destination") or "download")
    where = {"cloud": f" {delivery.get('name')}", "s3": f" bucket {delivery.get('bucket')}"}
    prefix = f", prefix {delivery['prefix']}" if delivery.get("prefix") else ""
    return f"{kind}{where.get(kind, '')}{prefix}"
