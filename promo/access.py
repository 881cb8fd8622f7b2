"""Who may do what with reports through the CLI: an access file

    users:
      alice@example.com: write   # create, stop, start, delete (and everything a reader does)
      bob@example.com: read      # list, show, download

Anyone not listed is refused. Every refusal names the user and the missing right.
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

RIGHTS = ("read", "write")
log = logging.getLogger("promo.access")


class AccessDenied(PermissionError):
    pass


def load_access(path: Path) -> dict[str, str]:
    if not path.exists():
        raise AccessDenied(
            f"no access file at {path}: create it (users: {{you@example.com: write}}) "
            "or point PROMO_ACCESS_FILE at yours"
        )
    data = yaml.safe_load(path.read_text()) or {}
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict) or any(v not in RIGHTS for v in users.values()):
        raise AccessDenied(f"{path}: expected `users:` mapping each email to read or write")
    return {str(k).strip().lower(): v for k, v in users.items()}


def require(path: Path, user: str, right: str, action: str) -> None:
    """Raise AccessDenied (and log it) unless `user` holds `right` (write implies read)."""
    users = load_access(path)
    held = users.get(user.strip().lower())
    if held == "write" or held == right:
        return
    why = "is not in the access file" if held is None else f"has only {held} access"
    message = f"refused: {user} {why}; '{action}' needs {right} access"
    log.warning(message)
    raise AccessDenied(message)
