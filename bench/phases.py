"""Time per phase of a run, by wrapping the code's own functions in the benchmark process
(one clock read per call or per item a generator yields: a few thousand in all, no
measurable overhead). The code measured is called, never changed. Used by the export
step (`bench.steps export`, wall time) and `bench.profile_ingest` (CPU time)."""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable


class Phases:
    def __init__(self, clock: Callable[[], float] = time.perf_counter, labels: Iterable[str] = ()):
        self.clock = clock
        self.seconds: dict[str, float] = dict.fromkeys(labels, 0.0)  # kept in this order

    def add(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + self.clock() - started

    def wrap(self, owner, attr: str, name: str) -> None:
        """`owner.attr` counted under `name`; for a generator function, the time spent
        producing each item (not the caller's time between items)."""
        original = getattr(owner, attr)
        if inspect.isgeneratorfunction(original):

            @functools.wraps(original)
            def timed_items(*a, **kw):
                items = original(*a, **kw)
                while True:
                    started = self.clock()
                    try:
                        item = next(items)
                    except StopIteration:
                        self.add(name, started)
                        return
                    self.add(name, started)
                    yield item

            setattr(owner, attr, timed_items)
            return

        @functools.wraps(original)
        def timed(*a, **kw):
            started = self.clock()
            try:
                return original(*a, **kw)
            finally:
                self.add(name, started)

        setattr(owner, attr, timed)
