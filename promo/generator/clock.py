"""Time in the generator: epoch milliseconds inside, RFC 3339 text on the way out."""

from __future__ import annotations

from datetime import date

DAY_MS = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

# (minutes east of UTC, suffix). "Z" dominates as it does in real producer logs; the others
# are what services in India, Nepal, Japan, Europe and the Americas write.
_OFFSETS = ((0, "Z"),) * 5 + (
    (0, "+00:00"),
    (330, "+05:30"),
    (330, "+05:30"),
    (345, "+05:45"),
    (540, "+09:00"),
    (60, "+01:00"),
    (-480, "-08:00"),
    (-300, "-05:00"),
    (-210, "-03:30"),
)
_STAMP_CHOICES = 2 * len(_OFFSETS)  # each offset with and without milliseconds


def day_start_ms(day: date) -> int:
    """Epoch milliseconds of the UTC midnight that starts `day`."""
    return (day.toordinal() - _EPOCH_ORDINAL) * DAY_MS


class Clock:
    """RFC 3339 text for epoch milliseconds, in any offset.

    datetime objects cost ~2 us per timestamp; integer arithmetic with the date part cached
    per day and the time of day looked up in a table of its 86,400 seconds costs a third of
    that, which matters at millions of records.
    """

    def __init__(self) -> None:
        self._prefixes: dict[int, str] = {}  # epoch day -> "YYYY-MM-DDT"
        self._seconds = [
            f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY_MS // 1000)
        ]
        # Every choice: (offset in ms, suffix, with milliseconds).
        self._choices = [
            (minutes * 60_000, suffix, millis) for minutes, suffix in _OFFSETS for millis in (0, 1)
        ]

    def date_text(self, epoch_day: int) -> str:
        return self._prefix(epoch_day)[:-1]

    def _prefix(self, epoch_day: int) -> str:
        prefix = self._prefixes.get(epoch_day)
        if prefix is None:
            prefix = date.fromordinal(_EPOCH_ORDINAL + epoch_day).isoformat() + "T"
            self._prefixes[epoch_day] = prefix
        return prefix

    def stamp(self, ts: int, pick: float) -> str:
        """`pick` in [0, 1) chooses the offset and whether milliseconds are written.

        Without milliseconds the instant is truncated to its second, which never moves it
        across a UTC midnight (midnight is a whole second), so the folder date holds.
        """
        offset, suffix, with_millis = self._choices[int(pick * _STAMP_CHOICES)]
        epoch_day, rem = divmod(ts + offset, DAY_MS)
        second, millis = divmod(rem, 1000)
        prefix = self._prefixes.get(epoch_day) or self._prefix(epoch_day)
        if with_millis:
            return f"{prefix}{self._seconds[second]}.{millis:03d}{suffix}"
        return f"{prefix}{self._seconds[second]}{suffix}"
