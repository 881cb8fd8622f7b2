"""Bearer tokens of the report service: issued per user, stored only as salted hashes.

A token reads `prt_<id>_<secret>`: the id (8 hex characters) names it in `token list` and
`token revoke`, the secret is 32 random bytes (256 bits). The store keeps, per token, the
user, a random salt, SHA-256(salt + secret), the creation time and the revocation time —
never the secret, which is printed once when the token is made. A fast hash is enough
here because the secret is random, not a password a person chose: there is no dictionary
to try, and a slow hash would cost every API call tens of milliseconds.

The store is one JSON file, readable and writable by its owner only (0600), replaced
atomically on every change, so a server reading it never sees half a file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

PREFIX = "prt"
_TOKEN = re.compile(rf"{PREFIX}_([0-9a-f]{{8}})_([A-Za-z0-9_-]{{43}})")
TOKEN_MAX = 64  # anything longer is not one of ours, whatever it holds


class TokenError(ValueError):
    """A token store that cannot be used, or a token id that does not exist."""


@dataclass(frozen=True)
class TokenRecord:
    id: str
    user: str
    salt: str
    hash: str
    created_at: str  # UTC, ISO 8601
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def public(self) -> dict[str, str | None]:
        """What `token list` shows: no salt, no hash."""
        return {
            "id": self.id,
            "user": self.user,
            "created_at": self.created_at,
            "revoked_at": self.revoked_at,
        }


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TokenStore:
    def __init__(self, path: Path):
        self.path = path

    def records(self) -> list[TokenRecord]:
        if not self.path.exists():
            return []
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return [TokenRecord(**entry) for entry in data["tokens"]]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise TokenError(f"the token store {self.path} cannot be read: {exc}") from None

    def _write(self, records: list[TokenRecord]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"tokens": [asdict(r) for r in records]}, out, indent=2)
        os.chmod(tmp, 0o600)  # whatever the umask made of it
        tmp.replace(self.path)

    def create(self, user: str) -> tuple[TokenRecord, str]:
        """A new token for `user`: its record and the token itself (shown once)."""
        records = self.records()
        used = {r.id for r in records}
        token_id = secrets.token_hex(4)
        while token_id in used:
            token_id = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        record = TokenRecord(token_id, user, salt, _digest(salt, secret), _now())
        self._write([*records, record])
        return record, f"{PREFIX}_{token_id}_{secret}"

    def revoke(self, token_id: str) -> TokenRecord:
        records = self.records()
        match = next((r for r in records if r.id == token_id), None)
        if match is None:
            raise TokenError(f"no token with id {token_id!r} (see `promo-reports token list`)")
        if match.active:
            revoked = TokenRecord(**{**asdict(match), "revoked_at": _now()})
            self._write([revoked if r.id == token_id else r for r in records])
            return revoked
        return match

    def verify(self, token: str | None) -> TokenRecord | None:
        """The active record this token belongs to, or None (unknown, malformed, revoked)."""
        if not token or len(token) > TOKEN_MAX:
            return None
        parsed = _TOKEN.fullmatch(token)
        if parsed is None:
            return None
        token_id, secret = parsed.groups()
        for record in self.records():
            digest = _digest(record.salt, secret)
            if record.id == token_id and record.active and hmac.compare_digest(record.hash, digest):
                return record
        return None
