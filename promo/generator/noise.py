"""Bad lines and redeliveries: the imperfections ingestion has to survive.

A bad line is an extra line, never a valid record spoiled: a copy of the valid record that
follows it, broken in exactly one way and (except for `id_conflict`) given an id nothing
else uses, so the count per kind is exact and no valid record goes missing.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING, Any

import orjson

from promo import contract as c
from promo.generator.clock import DAY_MS, Clock
from promo.generator.streams import BAD_KINDS, StreamView
from promo.generator.values import EXTRA_FIELDS, num

if TYPE_CHECKING:
    from promo.generator.output import StreamState


class Noise:
    """The noise stream: which lines go wrong, how, and which are sent twice."""

    def __init__(self, seed: int, bad_rate: float, redelivery_rate: float, clock: Clock):
        self.rng = random.Random(f"noise-{seed}")
        self.bad_rate = bad_rate
        self.redelivery_rate = redelivery_rate
        self.clock = clock
        # Kinds are taken in turn (from a random start) rather than drawn, so that every
        # kind shows up as soon as there are a handful of bad lines.
        self._turn = int(self.rng.random() * len(BAD_KINDS))

    def gap(self, rate: float) -> int:
        """Lines until the next event of probability `rate` per line (geometric), so the
        hot path decrements a counter instead of drawing a number for every line."""
        if rate <= 0:
            return 1 << 62
        if rate >= 1:
            return 0
        return int(math.log(1.0 - self.rng.random()) / math.log(1.0 - rate))

    def bad_line(self, record: dict, ts: int, state: StreamState) -> tuple[str, bytes]:
        for step in range(len(BAD_KINDS)):
            kind = BAD_KINDS[(self._turn + step) % len(BAD_KINDS)]
            line = _BREAKERS[kind](self, record, ts, state)
            if line is not None:  # a kind can be impossible for this record: take the next
                self._turn = (self._turn + step + 1) % len(BAD_KINDS)
                return kind, line
        raise AssertionError("invalid_json applies to every record")

    def redelivery(self, record: dict, line: bytes) -> bytes:
        """The same record again: the same bytes, its fields in another order, or another
        unknown extra field (contract fields equal, so it is the same record)."""
        pick = self.rng.random()
        if pick < 0.5:
            return line
        if pick < 0.75:
            return orjson.dumps(dict(reversed(record.items())))
        copy = {k: v for k, v in record.items() if k not in EXTRA_FIELDS}
        copy["delivery_attempt"] = 2
        return orjson.dumps(copy)

    def pick(self, options: list | tuple) -> Any:
        return options[int(self.rng.random() * len(options))]


def _with_fresh_id(record: dict, state: StreamState) -> dict:
    copy = dict(record)
    copy[state.view.id_field] = state.new_id()
    return copy


def _break_json(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes:
    text = orjson.dumps(_with_fresh_id(record, state))
    way = int(noise.rng.random() * 4)
    if way == 0:  # the writer died mid-line: a proper prefix of an object never parses
        return text[: 1 + int(noise.rng.random() * (len(text) - 2))]
    if way == 1:  # valid JSON, but an array, not an object
        return b"[" + text + b"]"
    if way == 2:  # a proxy's error page ended up in the log
        return b"<html><body>502 Bad Gateway</body></html>"
    return text.replace(b'"', b"'")  # a Python repr instead of JSON


def _break_missing(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes:
    view = state.view
    rec = _with_fresh_id(record, state)
    options = [f for f in view.required if f in rec]
    options += [f for f, when, value in view.conditional if rec.get(when) == value and f in rec]
    del rec[noise.pick(options)]
    return orjson.dumps(rec)


def _break_type(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes:
    view = state.view
    rec = _with_fresh_id(record, state)
    options = ["user_id", view.time_field]
    options += [f for f in view.amount_fields if rec.get(f) is not None]
    name = noise.pick(options)
    if name == "user_id":
        rec[name] = int(rec[name].split("_")[1])  # "usr_0001234" -> 1234
    elif name == view.time_field:
        rec[name] = ts // 1000  # epoch seconds, a number
    else:
        rec[name] = str(rec[name])  # "12.5"
    return orjson.dumps(rec)


def _break_enum(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes | None:
    options = [(f, values) for f, values in state.view.wrong_values if f in record]
    if not options:
        return None
    name, values = noise.pick(options)
    rec = _with_fresh_id(record, state)
    rec[name] = noise.pick(values)
    return orjson.dumps(rec)


def _break_amount(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes | None:
    view = state.view
    options = [f for f in view.amount_fields if record.get(f) is not None]
    if not options:
        return None
    name = noise.pick(options)
    rec = _with_fresh_id(record, state)
    cents = round(abs(rec[name]) * 100) or 1
    wrong: list[int | float] = [0] if view.zero_is_wrong else []
    wrong.append(-num(cents))
    if view.three_decimals:
        wrong.append((cents * 10 + 5) / 1000)  # 12.345
    rec[name] = noise.pick(wrong) if len(wrong) > 1 else wrong[0]
    return orjson.dumps(rec)


def _break_timestamp(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes:
    day_text = noise.clock.date_text(ts // DAY_MS)
    year, month, mday = day_text.split("-")
    rec = _with_fresh_id(record, state)
    rec[state.view.time_field] = noise.pick(
        (
            f"{year}-13-45T00:00:00Z",
            "yesterday",
            f"{day_text}T10:00:00",  # no offset
            f"{day_text}T25:61:00+05:30",
            f"{mday}/{month}/{year} 10:00",
        )
    )
    return orjson.dumps(rec)


def _break_date(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes:
    rec = _with_fresh_id(record, state)
    days = 1 + int(noise.rng.random() * 3)
    # Only backwards when the record has another timestamp (an expiry), so that it never
    # happens after it expires.
    expires = any(rec.get(f) is not None for f in state.view.other_timestamps)
    forward = not expires and noise.rng.random() < 0.5
    shift = days * DAY_MS if forward else -days * DAY_MS
    rec[state.view.time_field] = noise.clock.stamp(ts + shift, noise.rng.random())
    return orjson.dumps(rec)


def _break_conflict(noise: Noise, record: dict, ts: int, state: StreamState) -> bytes | None:
    """This record's content under the id of an earlier valid record."""
    target = state.prev
    if state.older is not None and noise.rng.random() < 0.4:
        target = state.older
    if target is None or _same_contract_fields(record, target, state.view):
        return None
    rec = dict(record)
    rec[state.view.id_field] = target[state.view.id_field]
    return orjson.dumps(rec)


def _same_contract_fields(a: dict, b: dict, view: StreamView) -> bool:
    return all(a.get(f) == b.get(f) for f in view.fields if f != view.id_field)


_BREAKERS = {
    c.INVALID_JSON: _break_json,
    c.MISSING_FIELD: _break_missing,
    c.WRONG_TYPE: _break_type,
    c.BAD_ENUM: _break_enum,
    c.BAD_AMOUNT: _break_amount,
    c.BAD_TIMESTAMP: _break_timestamp,
    c.WRONG_DATE_FOLDER: _break_date,
    c.ID_CONFLICT: _break_conflict,
}
