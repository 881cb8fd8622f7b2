"""The report service's HTTP API (`/api/...`), on `orchestration.report_service`.

The paths, shapes and statuses are a public interface (README, "The report service"):
a one-time report created is a Dagster run started in the background (202, Creating); a
recurring one joins the catalog (201, Active); an invalid spec is 422 with every problem
as {"field", "message"}; a reader changing something is 403 naming the user and the right;
no token, or an unknown or revoked one, is 401. Handlers are plain functions: FastAPI runs
them in its thread pool, so a slow call (a schedule switched through dagster-graphql)
never holds up the others.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Annotated, Any, Literal, NoReturn

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse

from orchestration.report_service import (
    CONFLICT,
    FAILED,
    INVALID,
    NOT_DOWNLOADABLE,
    NOT_FOUND,
    REFUSED,
    ReportError,
    ReportService,
)
from orchestration.settings import Settings
from orchestration.web.auth import Caller, require_caller
from promo.reports.spec_io import SPEC_MAX_BYTES

STATUSES = {
    REFUSED: 403,
    INVALID: 422,
    NOT_FOUND: 404,
    NOT_DOWNLOADABLE: 409,
    CONFLICT: 409,
    FAILED: 500,
}
BODY_MAX = SPEC_MAX_BYTES  # a spec is a few hundred bytes; 64 KiB is plenty
# Run ids are UUIDs, report ids letters, digits and underscores: anything else names nothing.
_ID = re.compile(r"[A-Za-z0-9_-]{1,120}")
MEDIA_TYPES = {".csv": "text/csv; charset=utf-8", ".zip": "application/zip"}


class Problem(Exception):
    """An answer other than 2xx with a JSON body."""

    def __init__(self, status: int, body: dict[str, Any]):
        self.status, self.body = status, body


def report_json(entry, detail: bool = False) -> dict[str, Any]:
    out = {
        "id": entry.id,
        "kind": entry.kind,
        "name": entry.name,
        "promotion_type": entry.promotion_type,
        "report_type": entry.report_type,
        "status": entry.status,
        "created_by": entry.created_by,
        "created_on": entry.created_on,
        "frequency": entry.frequency or "One Time",
        "next_run": entry.next_run,
        "location": entry.location,
        "rows": entry.rows,
        "reason": entry.reason,
        "downloadable": entry.kind == "one_time"
        and entry.status == "Created"
        and entry.delivered_for_download,
    }
    if detail:
        out["configuration"] = entry.configuration
    return out


def _raise(exc: ReportError) -> NoReturn:
    if exc.kind == INVALID and exc.errors:
        raise Problem(422, {"errors": exc.errors})
    body: dict[str, Any] = {"detail": exc.message}
    if exc.location:
        body["location"] = exc.location
    raise Problem(STATUSES[exc.kind], body)


def _checked_id(report_id: str) -> str:
    if not _ID.fullmatch(report_id):
        raise Problem(404, {"detail": "no report with that id"})
    return report_id


async def read_capped_body(request: Request) -> bytes | None:
    """The body, or None as soon as it is larger than BODY_MAX: no more of it is read, so a
    caller (signed in or not) cannot fill the server's memory with one request."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > BODY_MAX:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > BODY_MAX:
            return None
    return bytes(body)


async def read_json_body(request: Request) -> Any:
    """The body as JSON, refusing more than BODY_MAX bytes (413) and other media types."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media.lower() != "application/json":
        raise Problem(415, {"detail": f"send the spec as application/json, not {media!r}"})
    body = await read_capped_body(request)
    if body is None:
        raise Problem(413, {"detail": f"the body is larger than {BODY_MAX} bytes"})
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        reason = "too deeply nested" if isinstance(exc, RecursionError) else str(exc)
        raise Problem(400, {"detail": f"the body is not JSON: {reason}"}) from None


def _now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        message = f"{text[:60]!r} is not an ISO 8601 timestamp with a UTC offset"
        raise Problem(422, {"errors": [{"field": "now", "message": message}]})
    return value


def caller(request: Request) -> Caller:
    """The authenticated caller (401 otherwise), from the app's token store."""
    return require_caller(request, request.app.state.tokens)


Who = Annotated[Caller, Depends(caller)]


def build_api(settings: Settings) -> APIRouter:
    service = ReportService(settings)
    router = APIRouter(prefix="/api")

    @router.post(
        "/reports",
        status_code=202,
        summary="Create a report from a spec (the YAML spec's keys, as JSON)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ReportSpec"}}
                },
            }
        },
        responses={
            201: {"description": "A recurring report, added to the catalog (Active)"},
            202: {"description": "A one-time report, started (Creating)"},
            400: {"description": "The body is not JSON"},
            401: {"description": "No token, or an unknown or revoked one"},
            403: {"description": "The user has no write access"},
            413: {"description": "The body is larger than 64 KiB"},
            415: {"description": "The body is not application/json"},
            422: {"description": "An invalid spec: every problem, each naming its field"},
        },
    )
    async def create_report(
        request: Request,
        who: Who,
        now: Annotated[str | None, Query(description="fix the clock for presets")] = None,
    ):
        clock = _now(now)
        spec = await read_json_body(request)
        if not isinstance(spec, dict):
            message = f"expected a JSON object (the spec), got {type(spec).__name__}"
            raise Problem(422, {"errors": [{"field": "spec", "message": message}]})
        try:
            created = await run_in_threadpool(service.create, who.user, spec, clock, True)
        except ReportError as exc:
            _raise(exc)
        entry = created.entry
        body = report_json(entry, detail=True)
        if created.warning:
            body["warning"] = created.warning
        status = 201 if entry.kind == "recurring" else 202
        return JSONResponse(body, status, headers={"Location": f"/api/reports/{entry.id}"})

    @router.get("/reports", summary="List reports (one-time, recurring, or both)")
    def list_reports(
        who: Who, kind: Annotated[Literal["one_time", "recurring"] | None, Query()] = None
    ):
        try:
            entries = service.list(who.user, kind != "recurring", kind != "one_time")
        except ReportError as exc:
            _raise(exc)
        return {"reports": [report_json(e) for e in entries]}

    @router.get("/reports/{report_id}", summary="One report, with its configuration")
    def get_report(who: Who, report_id: str):
        try:
            return report_json(service.get(who.user, _checked_id(report_id)), detail=True)
        except ReportError as exc:
            _raise(exc)

    @router.get(
        "/reports/{report_id}/file",
        summary="The delivered file of a Created report delivered for download",
        responses={409: {"description": "Not Created, or delivered to a bucket (says where)"}},
    )
    def report_file(who: Who, report_id: str):
        try:
            path = service.file(who.user, _checked_id(report_id))
        except ReportError as exc:
            _raise(exc)
        # Our file names are ASCII slugs, dates and offsets ('+0100'): plain `filename=`
        # (Starlette would send only the RFC 5987 form for a '+').
        disposition = f'attachment; filename="{path.name}"'
        return FileResponse(
            path,
            media_type=MEDIA_TYPES.get(path.suffix),
            headers={"Content-Disposition": disposition},
        )

    def _recurring_only(who: Caller, report_id: str, exc: ReportError, verb: str) -> None:
        """A one-time report's id given to stop/start/delete: 409, not 404."""
        if exc.kind == NOT_FOUND:
            try:
                found = service.get(who.user, report_id)
            except ReportError:
                _raise(exc)
            raise Problem(
                409, {"detail": f"{found.name!r} is a one-time report: only recurring ones {verb}"}
            )
        _raise(exc)

    def _switch(who: Caller, report_id: str, running: bool):
        try:
            entry = service.switch(who.user, running, report_id=_checked_id(report_id))
        except ReportError as exc:
            _recurring_only(who, report_id, exc, "can be stopped and started")
        return report_json(entry, detail=True)

    @router.post("/reports/{report_id}/stop", summary="Stop a recurring report (Stopped)")
    def stop_report(who: Who, report_id: str):
        return _switch(who, report_id, False)

    @router.post("/reports/{report_id}/start", summary="Start a recurring report (Active)")
    def start_report(who: Who, report_id: str):
        return _switch(who, report_id, True)

    @router.delete(
        "/reports/{report_id}",
        summary="Delete a recurring report: its schedule stops now; its files stay",
    )
    def delete_report(who: Who, report_id: str):
        try:
            report = service.delete(who.user, report_id=_checked_id(report_id))
        except ReportError as exc:
            _recurring_only(who, report_id, exc, "can be deleted")
        return {"deleted": report.report_id, "name": report.spec.name}

    @router.get("/options", summary="What the Create Report form offers")
    def get_options(who: Who):
        from orchestration.web.options import options
        from resources.storage import open_storage

        try:
            service.authorize(who.user, "read", "report options")
        except ReportError as exc:
            _raise(exc)
        return options(settings, open_storage(settings.lake_uri, settings.s3_endpoint_url))

    @router.get("/me", summary="Who the token belongs to, and their right now")
    def me(who: Who):
        try:
            right = service.role(who.user)
        except ReportError as exc:
            _raise(exc)
        return {"user": who.user, "right": right, "token_id": who.token_id}

    return router


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem):
        return JSONResponse(exc.body, exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]
        return JSONResponse({"errors": errors}, 422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)
