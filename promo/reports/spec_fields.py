"""The field types of a report spec: what one value may be, checked where it is parsed.

Names and ids are stripped, non-empty text without control characters (names end up in
file names and listings); S3 bucket names follow AWS's naming rules so a typo fails at
creation rather than at upload; key prefixes are relative and cannot climb out of their
bucket.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo

from promo.timeutil import TIMESTAMP_MAX, TIMESTAMP_MIN
from promo.vocabulary import TransactionSource, TransactionType, Vocabulary

NAME_MAX = 200
ID_MAX = 200
PREFIX_MAX = 512


class Destination(Vocabulary):
    DOWNLOAD = "download"
    CLOUD = "cloud"  # a destination the operator configured, by name
    S3 = "s3"  # the older form: a bucket, accepted when it is a configured S3 destination


class Interval(Vocabulary):
    ONE_TIME = "one_time"
    DAILY = "daily"
    WEEKLY = "weekly"


# How problems name what a filter holds: "exactly one wallet expected".
NOUNS = {
    "wallet_id": "wallet",
    "campaign_id": "campaign",
    "partner_id": "partner",
    "list_tag": "list tag",
    "transaction_sources": "transaction source",
    "transaction_types": "transaction type",
}

_BREAKS = ("Cc", "Zl", "Zp")  # control characters, line and paragraph separators
# Invisible format characters (bidirectional overrides, zero-width spaces) make a name
# print as something it is not in a listing or a file name.
_INVISIBLE = ("Cf",)
# A lone surrogate (JSON's "\ud800") is not a character: no file name or database can
# store it.
_SURROGATES = ("Cs",)


def text(value: Any, max_len: int) -> str:
    """Stripped, non-empty text without control or invisible formatting characters."""
    if not isinstance(value, str):
        # YAML turns unquoted 0123 into 83 and yes into True: never guess an id from that.
        raise ValueError(f"expected text, got {type(value).__name__} (quote it in YAML)")
    value = value.strip()
    problems = []
    if not value:
        problems.append("must not be empty")
    if len(value) > max_len:
        problems.append(f"at most {max_len} characters (got {len(value)})")
    categories = {unicodedata.category(c) for c in value}
    if categories.intersection(_BREAKS):
        problems.append("must not contain control characters or line breaks")
    if categories.intersection(_INVISIBLE):
        problems.append(
            "must not contain invisible formatting characters (bidirectional overrides, "
            "zero-width spaces)"
        )
    if categories.intersection(_SURROGATES):
        problems.append("must be valid Unicode (it holds a lone surrogate code point)")
    if problems:
        raise ValueError("; ".join(problems))
    return value


def _one_id(value: Any, info: ValidationInfo) -> str:
    if isinstance(value, list | tuple | set | dict):
        raise ValueError(f"exactly one {NOUNS.get(info.field_name or '', 'value')} expected")
    return text(value, ID_MAX)


def _at_least_one(values: tuple[StrEnum, ...], info: ValidationInfo) -> tuple[StrEnum, ...]:
    """Deduplicated, in vocabulary order, so equal selections make equal specs."""
    if not values:
        noun = NOUNS[info.field_name or ""]
        raise ValueError(f"at least one {noun} is required (leave the key out for all)")
    return tuple(sorted(set(values), key=list(type(values[0])).index))


def _date_only(value: Any) -> Any:
    # pydantic would read a number as a Unix time and a datetime at midnight as its date.
    if isinstance(value, datetime) or not isinstance(value, date | str):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


# The days a report can cover: those the raw contract's timestamps can fall on.
DAY_MIN = TIMESTAMP_MIN.date()
DAY_MAX = TIMESTAMP_MAX.date() - timedelta(days=1)


def _in_data_range(value: date) -> date:
    if not DAY_MIN <= value <= DAY_MAX:
        raise ValueError(f"must be between {DAY_MIN} and {DAY_MAX} (got {value})")
    return value


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name(value: Any) -> str:
    """AWS's bucket naming rules, so a typo fails here rather than at upload time."""
    name = text(value, 63)
    if not _BUCKET.fullmatch(name) or ".." in name:
        raise ValueError(
            f"{name!r} is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, "
            "dots and hyphens, starting and ending with a letter or digit"
        )
    if _IP_LIKE.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid S3 bucket name: it looks like an IP address")
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        raise ValueError(f"{name!r} uses a prefix or suffix that S3 reserves")
    return name


def key_prefix(value: Any) -> str | None:
    """A relative key prefix ending in '/', so `prefix + file name` is always a clean key."""
    if value is None or value == "":
        return None
    prefix = text(value, PREFIX_MAX)
    if prefix.startswith("/"):
        raise ValueError("must be relative (no leading /)")
    if ".." in prefix or "\\" in prefix or "//" in prefix:
        raise ValueError("must not contain '..', '\\' or '//'")
    # Azure drops a folder name's trailing dot (and URLs resolve "./"), so the object
    # would land at another name than the one the report shows.
    if any(part.endswith(".") for part in prefix.split("/")):
        raise ValueError("must not have a folder name that is '.' or ends with '.'")
    return prefix if prefix.endswith("/") else prefix + "/"


Name = Annotated[str, BeforeValidator(lambda v: text(v, NAME_MAX))]
OneId = Annotated[str, BeforeValidator(_one_id)]
Day = Annotated[date, BeforeValidator(_date_only), AfterValidator(_in_data_range)]
Sources = Annotated[tuple[TransactionSource, ...], AfterValidator(_at_least_one)]
Types = Annotated[tuple[TransactionType, ...], AfterValidator(_at_least_one)]
Bucket = Annotated[str, BeforeValidator(bucket_name)]
DestinationName = Annotated[str, BeforeValidator(lambda v: text(v, NAME_MAX))]
KeyPrefix = Annotated[str | None, BeforeValidator(key_prefix)]
