"""Who is calling: a bearer token (API clients) or the page's session cookie, which holds
the same token (HttpOnly, SameSite=Strict; Secure behind https).

A token names a user and nothing more: the user's right comes from the access file at
each request (`ReportService.authorize`), so taking write access away takes effect at
once, and a revoked token fails its next request.

A request authenticated by the cookie that changes something (POST, DELETE) must also carry
the page's CSRF token in `X-CSRF-Token` (the page's forms do): an HMAC of the stored
token's hash, which another site cannot read or compute. The sign-in form, before any
session exists, uses a double-submit cookie instead.

Every refusal is logged (`promo.access`, event `unauthenticated`) with the client and the
path, never with a token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from promo.tokens import TokenRecord, TokenStore

SESSION_COOKIE = "promo_session"
SIGNIN_COOKIE = "promo_signin"  # the sign-in form's double-submit CSRF value
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
log = logging.getLogger("promo.access")


@dataclass(frozen=True)
class Caller:
    user: str
    token_id: str
    csrf: str  # what the page sends back in X-CSRF-Token
    via: str  # "bearer" | "session"


def csrf_of(record: TokenRecord) -> str:
    return hmac.new(bytes.fromhex(record.hash), b"promo-csrf", hashlib.sha256).hexdigest()


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def refuse_unauthenticated(request: Request, reason: str) -> HTTPException:
    log.warning(
        f"refused: {reason} ({request.method} {request.url.path})",
        extra={
            "event": "unauthenticated",
            "client": _client(request),
            "method": request.method,
            "path": request.url.path,
        },
    )
    return HTTPException(
        status_code=401,
        detail=f"{reason}: send `Authorization: Bearer <token>` "
        "(`promo-reports token create --user EMAIL` issues one)",
        headers={"WWW-Authenticate": 'Bearer realm="promo-reports"'},
    )


def bearer_of(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def identify(request: Request, store: TokenStore) -> Caller | None:
    """The caller, or None when the request carries no token at all. A token that is
    malformed, unknown or revoked raises 401; so does a cookie-authenticated change without
    the page's CSRF token."""
    bearer = bearer_of(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    token, via = (bearer, "bearer") if bearer is not None else (cookie, "session")
    if token is None:
        return None
    record = store.verify(token)
    if record is None:
        raise refuse_unauthenticated(request, "unknown, malformed or revoked token")
    caller = Caller(record.user, record.id, csrf_of(record), via)
    if via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), caller.csrf.encode()):
            log.warning(
                f"refused: missing or wrong CSRF token ({request.method} {request.url.path})",
                extra={"event": "csrf", "user": caller.user, "client": _client(request)},
            )
            raise HTTPException(status_code=403, detail="missing or wrong CSRF token")
    return caller


def require_caller(request: Request, store: TokenStore) -> Caller:
    caller = identify(request, store)
    if caller is None:
        raise refuse_unauthenticated(request, "no token")
    return caller


def new_signin_value() -> str:
    return secrets.token_urlsafe(24)


def session_cookie_args(request: Request) -> dict:
    return {
        "httponly": True,
        "samesite": "strict",
        "secure": request.url.scheme == "https",
        "path": "/",
    }
