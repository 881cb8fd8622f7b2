"""Who may do what with reports: the access file

    users:
      alice@example.com: write   # create, stop, start, delete (and everything a reader does)
      bob@example.com: read      # list, show, download

Anyone not listed is refused. Every refusal names the user and the missing right, and is
logged as one structured record (`promo.access`, fields `event`, `user`, `action`,
`right`, `reason`), never as text that a user name could break into two lines.

The file is the operator's: read through `promo.yamlfile` (no aliases, size cap), every
key must be an e-mail address (YAML reads `~` as null and `yes` as true: neither may grant
anything to a user called `none` or `true`), and `check_file` refuses a file that others
than its owner could have written (see README, "What the CLI trusts").
"""

from __future__ import annotations

import logging
import os
import re
import stat
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from promo import yamlfile

RIGHTS = ("read", "write")
ACCESS_MAX_BYTES = 256 * 1024  # thousands of users; a person writes far less
EMAIL_MAX = 254  # RFC 5321's limit on a forward path
# One local part, one @, a domain of dot-separated labels: the shape people mean by an
# e-mail address, not every form RFC 5322 allows (quoted local parts, IP literals).
_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
NO_USER = "no user given (set PROMO_USER or --user)"
log = logging.getLogger("promo.access")


class AccessDenied(PermissionError):
    """A refusal; the message names the user and the missing right (or what is wrong with
    the access file or the user name)."""


def email_problem(value: object) -> str | None:
    """Why `value` is not an acceptable user name (an e-mail address), or None."""
    if not isinstance(value, str):
        return f"{value!r} is not an e-mail address (a {type(value).__name__}; quote it?)"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        return f"{value!r} contains control or invisible characters"
    if len(value) > EMAIL_MAX:
        return f"an e-mail address has at most {EMAIL_MAX} characters (got {len(value)})"
    if not _EMAIL.fullmatch(value):
        return f"{value!r} is not an e-mail address"
    return None


def check_user(user: str | None) -> str:
    """The acting user, normalised (stripped, lower case); raises AccessDenied when it is
    missing or not an e-mail address."""
    if user is None or not str(user).strip():
        raise AccessDenied(f"refused: {NO_USER}")
    problem = email_problem(user.strip())
    if problem:
        raise AccessDenied(f"refused: the acting user {problem}")
    return user.strip().lower()


def check_file(path: Path, owners: Collection[int]) -> None:
    """Refuse an access file that someone other than the operator could have written: one
    writable by its group or by anyone, or owned by a user not in `owners` (the operator
    and root). A symbolic link is judged by the file it points to."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise AccessDenied(
            f"no access file at {path}: the operator creates it "
            "(users: {you@example.com: write}) and sets PROMO_ACCESS_FILE"
        ) from None
    except OSError as exc:
        raise AccessDenied(f"cannot read the access file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise AccessDenied(f"the access file {path} is not a regular file")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise AccessDenied(
            f"the access file {path} is writable by its group or by anyone "
            f"(mode {stat.filemode(info.st_mode)}): refused; run `chmod go-w {path}`"
        )
    if info.st_uid not in owners:
        raise AccessDenied(
            f"the access file {path} belongs to uid {info.st_uid}, not to the operator "
            f"(uid {', '.join(map(str, sorted(owners)))}): refused"
        )


@dataclass(frozen=True)
class Access:
    """The rights of each user, as read from the access file at one moment."""

    users: Mapping[str, str]  # normalised e-mail -> read | write

    def right_of(self, user: str) -> str | None:
        return self.users.get(user.strip().lower())

    def allows(self, user: str, right: str) -> bool:
        held = self.right_of(user)
        return held == "write" or held == right

    def require(self, user: str, right: str, action: str) -> None:
        """Raise AccessDenied (and log it) unless `user` holds `right` (write implies read)."""
        if self.allows(user, right):
            return
        held = self.right_of(user)
        why = "is not in the access file" if held is None else f"has only {held} access"
        refuse(f"refused: {user} {why}; '{action}' needs {right} access", user, action, right)


def parse_access(data: object, source: str) -> Access:
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, dict):
        raise AccessDenied(f"{source}: expected `users:` mapping each e-mail address to a right")
    problems = []
    for key, value in users.items():
        problem = email_problem(key)
        if problem:
            problems.append(f"key {problem}")
        if value not in RIGHTS:
            problems.append(f"{key!r}: the right must be read or write, not {value!r}")
    if problems:
        raise AccessDenied(f"{source}: " + "; ".join(problems))
    return Access({str(k).strip().lower(): v for k, v in users.items()})


def load_access(path: Path, owners: Collection[int] | None = None) -> Access:
    """The access file, checked (`check_file`, unless `owners` is None) and parsed."""
    if owners is not None:
        check_file(path, owners)
    elif not path.exists():
        check_file(path, ())  # the same message for a missing file
    try:
        data = yamlfile.read(path, ACCESS_MAX_BYTES)
    except yamlfile.YamlError as exc:
        raise AccessDenied(f"the access file cannot be used: {exc}") from None
    return parse_access(data, str(path))


def operator_uids(*paths: Path) -> set[int]:
    """root, and the owners of the operator's folders that exist (the instance's home)."""
    uids = {0}
    for path in paths:
        try:
            uids.add(path.stat().st_uid)
        except OSError:
            continue
    if not any(p.exists() for p in paths):
        uids.add(os.getuid())  # a first run: the instance does not exist yet
    return uids


def refuse(message: str, user: str | None, action: str, right: str | None = None) -> None:
    """Log a refusal as one structured record and raise AccessDenied."""
    log.warning(
        message,
        extra={"event": "refused", "user": user, "action": action, "right": right},
    )
    raise AccessDenied(message)


def require(
    path: Path, user: str | None, right: str, action: str, owners: Collection[int] | None = None
) -> str:
    """Check the acting user and their right at call time; returns the normalised user."""
    try:
        checked = check_user(user)
        access = load_access(path, owners)
    except AccessDenied as exc:
        refuse(str(exc) if str(exc).startswith("refused") else f"refused: {exc}", None, action)
    access.require(checked, right, action)
    return checked
