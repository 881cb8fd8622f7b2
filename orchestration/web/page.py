"""The Reports page (`/`) and the sign-in page, rendered on the server; `static/reports.js`
keeps the list's statuses fresh and drives the two-step Create Report form through the
API. Every value from a report or a user goes through `html.escape` (or into a JSON island
with `<` escaped), and the Content-Security-Policy allows scripts from this server only.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from orchestration.report_service import ReportError, ReportService
from orchestration.settings import Settings
from orchestration.web.app import read_capped_body, report_json
from orchestration.web.auth import (
    SESSION_COOKIE,
    SIGNIN_COOKIE,
    Caller,
    csrf_of,
    identify,
    new_signin_value,
    refuse_unauthenticated,
    session_cookie_args,
)
from promo.tokens import TokenStore

ONE_TIME_COLUMNS = ("Name", "Promotion Type", "Report Type", "Status", "Created By", "Created On")
RECURRING_COLUMNS = (*ONE_TIME_COLUMNS, "Frequency", "Next Run")
LABELS = {  # codes in the list, words on the page
    "loyalty_wallet": "Loyalty Wallet",
    "partner_vouchers": "Partner Vouchers",
    "promo_campaigns": "Promo Campaigns",
}


def _layout(title: str, body: str, csrf: str = "", right: str = "") -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{escape(csrf)}">
<title>{escape(title)}</title>
<link rel="stylesheet" href="/static/style.css"><link rel="icon" href="data:,">
</head><body data-right="{escape(right)}">{body}</body></html>"""


def signin_html(message: str = "", csrf: str = "") -> str:
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return _layout(
        "Sign in · Promo Reports",
        f"""<main class="signin"><h1>Promo Reports</h1>
<form method="post" action="/signin">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="off" required
 placeholder="prt_…">
<input type="hidden" name="csrf" value="{escape(csrf)}">
{error}
<button type="submit">Sign in</button>
<p class="hint">Ask your operator for a token (<code>promo-reports token create --user
you@example.com</code>).</p>
</form></main>""",
    )


def _row(report: dict, columns: tuple[str, ...]) -> str:
    keys = {
        "Name": "name",
        "Promotion Type": "promotion_type",
        "Report Type": "report_type",
        "Status": "status",
        "Created By": "created_by",
        "Created On": "created_on",
        "Frequency": "frequency",
        "Next Run": "next_run",
    }
    cells = []
    for column in columns:
        value = report.get(keys[column]) or ""
        if column == "Promotion Type":
            value = LABELS.get(value, value)
        elif column in ("Created On", "Next Run"):
            value = when(value)
        elif column == "Report Type":
            value = value.replace("_", " ").title()
        cells.append(f'<td data-col="{keys[column]}">{escape(str(value))}</td>')
    return (
        f'<tr data-id="{escape(report["id"] or "")}" data-status="{escape(report["status"])}">'
        + "".join(cells)
        + '<td class="actions"></td></tr>'
    )


def when(value: str) -> str:
    """An ISO timestamp for people: 2026-12-02 00:46 +01:00 (the account timezone's offset)."""
    return re.sub(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d", r"\1 \2 ", value)


def _table(kind: str, reports: list[dict], columns: tuple[str, ...], hidden: bool) -> str:
    head = "".join(f"<th>{c}</th>" for c in columns) + '<th><span class="sr">Actions</span></th>'
    rows = "".join(_row(r, columns) for r in reports if r["kind"] == kind)
    return (
        f'<section id="tab-{kind}" role="tabpanel"{" hidden" if hidden else ""}>'
        f'<table class="reports" data-kind="{kind}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f'<p class="empty"{" hidden" if rows else ""}>No reports yet.</p></section>'
    )


def reports_html(caller: Caller, right: str, reports: list[dict]) -> str:
    create = (
        '<button id="create-report" class="primary">Create Report</button>'
        if right == "write"
        else ""
    )
    body = f"""<header><span class="brand">Promo Reports</span>
<span class="who">{escape(caller.user)} · {escape(right)} access</span>
<form method="post" action="/signout"><input type="hidden" name="csrf"
 value="{escape(caller.csrf)}"><button class="link">Sign out</button></form></header>
<main><div class="title"><h1>Reports</h1>{create}</div>
<p id="notice" role="status" hidden></p>
<nav class="tabs" role="tablist">
<button role="tab" data-tab="one_time" aria-selected="true">One Time</button>
<button role="tab" data-tab="recurring" aria-selected="false">Recurring</button></nav>
{_table("one_time", reports, ONE_TIME_COLUMNS, hidden=False)}
{_table("recurring", reports, RECURRING_COLUMNS, hidden=True)}
</main>
{DIALOGS if right == "write" else ""}{DETAILS}
<script src="/static/reports.js"></script>"""
    return _layout("Reports · Promo Reports", body, caller.csrf, right)


DETAILS = """<dialog id="details"><h2 id="details-title">Report</h2>
<dl id="details-body"></dl><form method="dialog"><button>Close</button></form></dialog>"""

DIALOGS = """<dialog id="create-dialog"><form id="create-form" novalidate>
<h2>Create Report</h2><ol class="steps"><li data-step="1" class="current">Setup</li>
<li data-step="2">Delivery</li></ol>
<fieldset data-step="1">
 <div class="field" data-field="name"><label for="f-name">Name</label>
  <input id="f-name" name="name" maxlength="200" required><p class="error"></p></div>
 <div class="field" data-field="promotion_type"><label for="f-promotion">Promotion Type</label>
  <select id="f-promotion" name="promotion_type"></select><p class="error"></p></div>
 <div class="field" data-field="report_type"><label for="f-report">Report Type</label>
  <select id="f-report" name="report_type"></select><p class="error"></p></div>
 <div id="filters"></div>
</fieldset>
<fieldset data-step="2" hidden>
 <div class="field" data-field="delivery.destination"><label for="f-destination">Delivery
  destination</label><select id="f-destination" name="destination"></select>
  <p class="error"></p></div>
 <div class="field cloud" data-field="delivery.prefix"><label for="f-prefix">Prefix
  (optional)</label><input id="f-prefix" name="prefix"><p class="error"></p></div>
 <div class="field" data-field="frequency"><label for="f-frequency">Export Frequency</label>
  <select id="f-frequency" name="frequency"></select><p class="error"></p></div>
 <div class="field" data-field="frequency.delivery_day"><label for="f-day">Delivery day</label>
  <select id="f-day" name="delivery_day"></select><p class="error"></p></div>
 <div class="field" data-field="date_range"><label for="f-preset">Date range</label>
  <select id="f-preset" name="preset"></select>
  <span class="custom"><label for="f-start">From</label><input id="f-start" type="date"
  name="start"><label for="f-end">to</label><input id="f-end" type="date" name="end"></span>
  <p class="error"></p></div>
</fieldset>
<p class="error" id="form-error" data-field="spec"></p>
<div class="buttons"><button type="button" id="cancel">Cancel</button>
<button type="button" id="back" hidden>Back</button>
<button type="button" id="next" class="primary">Next</button>
<button type="submit" id="export" class="primary" hidden>Export</button></div>
</form></dialog>
<dialog id="confirm"><p id="confirm-text"></p><div class="buttons">
<button id="confirm-no">Cancel</button><button id="confirm-yes" class="danger">Delete</button>
</div></dialog>"""


def build_pages(settings: Settings) -> APIRouter:
    service = ReportService(settings)
    store = TokenStore(settings.token_file)
    router = APIRouter(include_in_schema=False)

    def signin_page(request: Request, message: str = "", status: int = 200) -> Response:
        value = new_signin_value()
        page = HTMLResponse(signin_html(message, value), status)
        page.set_cookie(SIGNIN_COOKIE, value, **session_cookie_args(request))
        return page

    @router.get("/signin")
    def signin_form(request: Request):
        return signin_page(request)

    @router.post("/signin")
    async def signin(request: Request):
        body = await read_capped_body(request)
        if body is None:
            return signin_page(request, "The form is too large.", 413)
        form = parse_qs(body.decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        sent = (form.get("csrf") or [""])[0]
        expected = request.cookies.get(SIGNIN_COOKIE)
        if not expected or sent != expected:
            return signin_page(request, "The form expired: please sign in again.", 403)
        record = store.verify(token)
        if record is None:
            refuse_unauthenticated(request, "unknown, malformed or revoked token (sign-in)")
            return signin_page(request, "Unknown or revoked token.", 401)
        page = RedirectResponse("/", 303)
        page.set_cookie(SESSION_COOKIE, token, **session_cookie_args(request))
        page.delete_cookie(SIGNIN_COOKIE, path="/")
        return page

    @router.post("/signout")
    async def signout(request: Request):
        body = await read_capped_body(request)
        if body is None:
            return Response("the form is too large", 413)
        form = parse_qs(body.decode("utf-8", "replace"))
        record = store.verify(request.cookies.get(SESSION_COOKIE))
        # a revoked session may always sign out; a live one only from its own page
        if record is not None and (form.get("csrf") or [""])[0] != csrf_of(record):
            return Response("missing or wrong CSRF token", 403)
        page = RedirectResponse("/signin", 303)
        page.delete_cookie(SESSION_COOKIE, path="/")
        return page

    @router.get("/")
    def reports_page(request: Request):
        try:
            caller = identify(request, store)
        except Exception:
            caller = None
        if caller is None:
            return RedirectResponse("/signin", 303)
        try:
            entries = service.list(caller.user)
        except ReportError as exc:
            return HTMLResponse(
                _layout("Refused", f"<main><p>{escape(exc.message)}</p></main>"), 403
            )
        from promo.access import load_access

        right = load_access(settings.access_file).right_of(caller.user) or "read"
        html = reports_html(caller, right, [report_json(e) for e in entries])
        return HTMLResponse(html)

    return router
