"""The audit log, `$PROMO_HOME/logs/promo.log`: refusals, report failures and the service's
sign-ins, one JSON object per line.

A record's text fields (the message, a user name, a report name) are JSON strings, so a
newline or a forged `"level": ...` inside them stays inside its field: no input can start
a line of its own. Structured fields passed as `extra={...}` (event, user, action, right,
report, client) become keys of the record.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from orchestration.settings import Settings

# The keys a LogRecord has of its own; anything else came in through `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonLinesFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_audit_log(settings: Settings) -> None:
    """Send the `promo` loggers' records to the audit log of these settings."""
    logger = logging.getLogger("promo")
    path = settings.home / "logs" / "promo.log"
    for old in [h for h in logger.handlers if getattr(h, "_promo_audit", False)]:
        if old.baseFilename == str(path):
            return
        logger.removeHandler(old)  # another PROMO_HOME in the same process (tests)
        old.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(JsonLinesFormatter())
    handler._promo_audit = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
