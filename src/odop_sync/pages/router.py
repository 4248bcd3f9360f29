"""`GET /dashboard` and `GET /console`: HTML shells rendered on the server in the asked language,
whose scripts then read the figures from the public API with the key the user pasted (kept in
the browser's sessionStorage, sent as a Bearer header: never in a URL, a cookie or a log).

Every asset is served from this app (`/pages/static`); the Content-Security-Policy forbids the
browser from fetching anything, or running any script, from another origin."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from odop_sync.pages import i18n

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
STATIC_ROUTE = "/pages/static"

# Nothing but this origin: scripts, styles, fonts, images and API calls. No inline script runs
# (the messages travel as a JSON data block, which is not executed).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; font-src 'self'; "
    "img-src 'self' data: blob:; connect-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(("html",)),
    trim_blocks=True,
    lstrip_blocks=True,
)


@cache
def asset_version() -> str:
    """A digest of the static files: asset URLs change when any of them does, so a browser
    never runs yesterday's script against today's page."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


Lang = Annotated[str | None, Query(max_length=8)]


def _render(request: Request, template: str, lang: str | None) -> HTMLResponse:
    chosen = i18n.choose(lang)
    others = [code for code in i18n.LANGUAGES if code != chosen]
    html = _templates.get_template(template).render(
        lang=chosen,
        other_langs=others,
        t=i18n.messages(chosen),
        messages=i18n.messages(chosen),
        static=STATIC_ROUTE,
        version=asset_version(),
        path=request.url.path,
    )
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(request: Request, lang: Lang = None) -> HTMLResponse:
    """The partner dashboard: sales by period, district, craft, marketplace and producer."""
    return _render(request, "dashboard.html", lang)


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request, lang: Lang = None) -> HTMLResponse:
    """The agency console: sheets, catalog, listing health, sync status and orders."""
    return _render(request, "console.html", lang)


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount(STATIC_ROUTE, StaticFiles(directory=STATIC_DIR), name="pages-static")
