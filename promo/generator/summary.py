"""What a generation run reports about itself: per stream, what ingestion should find."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StreamSummary:
    lines: int = 0  # lines written (all kinds)
    records: int = 0  # distinct valid records (what ingestion should accept)
    redeliveries: int = 0  # exact re-sends of a valid record: duplicates for ingestion
    bad: dict[str, int] = field(default_factory=dict)  # bad lines by kind, only kinds > 0
    files: int = 0


@dataclass
class GenerationSummary:
    streams: dict[str, StreamSummary]
    dimensions: dict[str, int]  # rows per dimension snapshot

    def as_dict(self) -> dict:
        return {
            "streams": {
                name: {
                    "lines": s.lines,
                    "records": s.records,
                    "redeliveries": s.redeliveries,
                    "bad": dict(s.bad),
                    "files": s.files,
                }
                for name, s in self.streams.items()
            },
            "dimensions": dict(self.dimensions),
        }
