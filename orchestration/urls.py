"""Checking and showing URLs that may carry credentials (a PostgreSQL password, a token
in a webhook path, a key in an endpoint's user part): settings listings, logs and error
messages show them through these functions only."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

PG_SCHEMES = ("postgresql", "postgresql+psycopg2")  # what dagster-postgres (psycopg2) takes


def postgres_problem(value: str) -> str | None:
    """Why a URL is not one dagster-postgres can use, or None."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number from 0 to 65535
    except ValueError:
        return "has a port that is not a number"
    if parts.scheme not in PG_SCHEMES:
        return "must start with postgresql://"
    if parts.netloc.count("@") > 1:
        return "has a raw '@' in its user or password (percent-encode it: %40)"
    if not parts.username:
        return "names no user"
    if not parts.hostname:
        return "names no host"
    if port == 0:
        return "has port 0"
    if not parts.path.strip("/") or "/" in parts.path.strip("/"):
        return "names no database (…/dbname at the end)"
    return None


def redact_postgres_url(url: str) -> str:
    """The URL with its password (in the user part or a `password=` parameter) replaced by
    `***`, for settings listings and error messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***"  # not a URL at all: nothing of it is safe to show
    netloc, slash, tail = rest.partition("/")
    user, at, host = netloc.rpartition("@")
    if at and ":" in user:
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    path, question, query = tail.partition("?")
    if question:
        params = [(k, "***" if k.lower() == "password" else v) for k, v in parse_qsl(query)]
        query = urlencode(params, safe="*")
    return f"{scheme}://{netloc}{slash}{path}{question}{query}"


def host_only(url: str) -> str:
    """scheme://host/… : a webhook's path or query may be its token, and a user part its
    key; only where it goes is shown."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.split("/")[0].split("@")[-1] + "/…"
    return f"{scheme}://{rest.split('/')[0].split('@')[-1]}/…"


def without_credentials(url: str) -> str:
    """The URL with any `user:password@` part removed (an endpoint URL may embed keys)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    return f"{scheme}://{netloc.rpartition('@')[2]}{slash}{tail}"
