"""`promo-reports serve`: the app (API, page, static files, OpenAPI document and its
reference page) and the uvicorn server that runs it."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from orchestration.settings import Settings
from orchestration.web.app import add_error_handlers, build_api
from orchestration.web.page import build_pages
from promo.reports.spec import ReportSpec
from promo.tokens import TokenStore

STATIC = Path(__file__).parent / "static"
# Scripts and styles from this server only; nothing from the internet; no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
log = logging.getLogger("promo.service")


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="Promo Reports",
        version="1",
        description="Create, list, download and manage promo report files. Every call "
        "carries `Authorization: Bearer <token>` (`promo-reports token create`); the "
        "caller's right (read or write) comes from the access file at each call.",
        docs_url=None,  # the stock page loads its script from a CDN: ours is below
        redoc_url=None,
    )
    app.state.tokens = TokenStore(settings.token_file)
    add_error_handlers(app)
    app.include_router(build_api(settings))
    app.include_router(build_pages(settings))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    def openapi() -> dict:
        """FastAPI's document, plus the report spec's schema (the body of POST /api/reports,
        which the handler reads itself to bound its size)."""
        if app.openapi_schema is None:
            document = FastAPI.openapi(app)
            spec = ReportSpec.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            schemas.update({**spec.pop("$defs", {}), "ReportSpec": spec})
        return app.openapi_schema

    app.openapi = openapi

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(reference_html(app.openapi()))

    return app


def reference_html(document: dict) -> str:
    """The API reference, rendered from the OpenAPI document on the server."""
    sections = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            params = "".join(
                f"<li><code>{escape(p['name'])}</code> ({escape(p['in'])}"
                f"{', required' if p.get('required') else ''})"
                f"{' — ' + escape(p['description']) if p.get('description') else ''}</li>"
                for p in op.get("parameters", [])
            )
            responses = "".join(
                f"<li><code>{escape(code)}</code> {escape(r.get('description', ''))}</li>"
                for code, r in sorted(op.get("responses", {}).items())
            )
            body = op.get("requestBody", {}).get("content", {})
            bodies = "".join(
                f"<li><code>{escape(media)}</code>: "
                f"{escape(c.get('schema', {}).get('$ref', '').rsplit('/', 1)[-1])}</li>"
                for media, c in body.items()
            )
            sections.append(
                f'<section class="endpoint"><h2><span class="method">{method.upper()}</span> '
                f"<code>{escape(path)}</code></h2><p>{escape(op.get('summary', ''))}</p>"
                + (f"<h3>Parameters</h3><ul>{params}</ul>" if params else "")
                + (f"<h3>Body</h3><ul>{bodies}</ul>" if bodies else "")
                + f"<h3>Responses</h3><ul>{responses}</ul></section>"
            )
    info = document["info"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(info['title'])} API</title>"
        '<link rel="stylesheet" href="/static/style.css"></head><body><main class="docs">'
        f"<h1>{escape(info['title'])} API</h1><p>{escape(info.get('description', ''))}</p>"
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> '
        "(OpenAPI "
        + escape(document.get("openapi", ""))
        + ").</p>"
        + "".join(sections)
        + "</main></body></html>"
    )


def serve(settings: Settings, host: str, port: int) -> int:
    import uvicorn

    from orchestration.instance import open_instance
    from orchestration.report_runs import resume_orphans

    with open_instance(settings) as instance:
        resumed = resume_orphans(settings, instance)
    if resumed:
        log.info(f"resumed {len(resumed)} report run(s) left without a worker: {resumed}")
    print(f"promo-reports service on http://{host}:{port} (API reference: /docs)", flush=True)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    return 0
