"""`promo-reports serve` (the report service: HTTP API and web page) and `promo-reports
token ...` (the bearer tokens it accepts).

Tokens are made on the machine by the operator, for users of the access file, and
printed once: the store keeps only salted hashes (`promo.tokens`).
"""

from __future__ import annotations

import json
import sys

from orchestration.settings import Settings


def add_service_parsers(sub) -> None:
    serve = sub.add_parser(
        "serve",
        help="the report service: HTTP API (OpenAPI at /docs) and the Reports page at /",
        description="Serve the report API and the Reports page on the same settings, Dagster "
        "instance and storage as the CLI. Requests carry `Authorization: Bearer <token>` "
        "(see `promo-reports token create`); the page signs in with a token.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port (8080)")
    serve.set_defaults(func=cmd_serve)

    token = sub.add_parser("token", help="bearer tokens of the report service")
    actions = token.add_subparsers(dest="token_command", required=True)
    create = actions.add_parser(
        "create",
        help="issue a token for a user of the access file (printed once, on the last line)",
    )
    create.add_argument("--user", required=True, help="the user's e-mail address")
    create.set_defaults(func=cmd_token_create)
    lst = actions.add_parser("list", help="tokens issued: id, user, created, revoked (no secrets)")
    lst.add_argument("--json", action="store_true", help="JSON for scripts")
    lst.set_defaults(func=cmd_token_list)
    revoke = actions.add_parser("revoke", help="revoke a token by its id (at once)")
    revoke.add_argument("id", help="the token's id (`token list`)")
    revoke.set_defaults(func=cmd_token_revoke)


def cmd_serve(args, settings: Settings) -> int:
    from orchestration.web.server import serve

    return serve(settings, args.host, args.port)


def _store(settings: Settings):
    from promo.tokens import TokenStore

    return TokenStore(settings.token_file)


def cmd_token_create(args, settings: Settings) -> int:
    from promo.access import AccessDenied, check_user, load_access, operator_uids

    try:
        user = check_user(args.user)
        access = load_access(settings.access_file, operator_uids(settings.dagster_home))
    except AccessDenied as exc:
        print(str(exc).removeprefix("refused: "), file=sys.stderr)
        return 2
    if access.right_of(user) is None:
        print(
            f"{user} is not in the access file {settings.access_file}: add them first "
            "(tokens carry no rights of their own; the access file gives them)",
            file=sys.stderr,
        )
        return 2
    record, token = _store(settings).create(user)
    print(
        f"token {record.id} for {user} ({access.right_of(user)} access), created "
        f"{record.created_at}; shown once, store it now:"
    )
    print(token)
    return 0


def cmd_token_list(args, settings: Settings) -> int:
    records = [r.public() for r in _store(settings).records()]
    if args.json:
        print(json.dumps(records, indent=2))
        return 0
    print(f"{'id':8}  {'user':30}  {'created_at':25}  revoked_at")
    for r in records:
        print(f"{r['id']:8}  {r['user']:30}  {r['created_at']:25}  {r['revoked_at'] or ''}")
    return 0


def cmd_token_revoke(args, settings: Settings) -> int:
    from promo.tokens import TokenError

    try:
        record = _store(settings).revoke(args.id)
    except TokenError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"revoked: token {record.id} of {record.user} (at {record.revoked_at})")
    return 0
