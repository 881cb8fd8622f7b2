"""Reading the YAML files people write (report specs, the recurring catalog, the access
file, the destinations file) without letting a small file become a large object.

A YAML alias bomb (a few hundred bytes of nested `&a [*a, *a, ...]`) expands to billions of
nodes. Our files have no use for anchors or aliases, so they are refused before anything is
built, and a file larger than its cap is refused before it is parsed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024  # far above any spec, catalog or access file a person writes


class YamlError(ValueError):
    """The text is not YAML we accept; the message says why, naming the source."""


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):  # noqa: ANN001 (PyYAML's signature)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise YamlError(
                f"YAML aliases (*{event.anchor}) are not accepted "
                f"(line {event.start_mark.line + 1})"
            )
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlError(
                f"YAML anchors (&{anchor}) are not accepted (line {event.start_mark.line + 1})"
            )
        return super().compose_node(parent, index)


# Dates stay text: the schema that reads the file parses them, so an impossible date
# (2026-02-30) is reported against its field instead of as a YAML error.
_NoAliasLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse(text: str | bytes, source: str = "input", max_bytes: int = MAX_BYTES) -> Any:
    """Parse YAML text; raises YamlError naming `source` on anything we do not accept."""
    size = len(text.encode() if isinstance(text, str) else text)
    if size > max_bytes:
        raise YamlError(f"{source}: {size} bytes, more than the {max_bytes} accepted")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)
    except YamlError as exc:
        raise YamlError(f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(f"{source}: not valid YAML ({exc})") from None


def read(path: Path, max_bytes: int = MAX_BYTES) -> Any:
    """Parse a YAML file; raises YamlError (missing, unreadable, too large, not YAML)."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise YamlError(f"{path}: {size} bytes, more than the {max_bytes} accepted")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(f"cannot read {path}: {exc}") from None
    return parse(text, str(path), max_bytes)
