"""create_app(): the API, its lifespan (engine, sessions, job runner) and middleware."""

from __future__ import annotations

import importlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from odop_sync import __version__
from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.accounts.endpoints import router as accounts_router
from odop_sync.adapter_sdk import Adapter, Capability, discover_adapters
from odop_sync.auth.endpoints import router as auth_router
from odop_sync.batches.endpoints import router as batches_router
from odop_sync.batches.service import PROCESS_JOB
from odop_sync.batches.tasks import process_batch
from odop_sync.catalog.endpoints import router as catalog_router
from odop_sync.config import Settings, get_settings
from odop_sync.db import create_engine, create_sessionmaker, read_only
from odop_sync.demo.loader import IMAGES_DIR, IMAGES_ROUTE
from odop_sync.events import CatalogEvents
from odop_sync.fx.endpoints import router as fx_router
from odop_sync.jobs.runner import JobRunner
from odop_sync.kit.loopback import marketplace_redirects, outbound_transport
from odop_sync.kit.problems import FieldIssue, ValidationProblem, install_handlers, problem_response
from odop_sync.kit.time import utcnow
from odop_sync.listings.endpoints import router as listings_router
from odop_sync.logging import request_id_var
from odop_sync.metrics import HTTP_LATENCY, HTTP_REQUESTS, REGISTRY, refresh_lags
from odop_sync.orders.endpoints import router as orders_router
from odop_sync.orders.puller import OrderPuller
from odop_sync.pages import router as pages
from odop_sync.sales.endpoints import router as sales_router
from odop_sync.sync.clients import AdapterFactory
from odop_sync.sync.endpoints import router as sync_router
from odop_sync.sync.engine import SyncEngine
from odop_sync.sync.images import AllowedOriginImages
from odop_sync.sync.notify import PgNotifier
from odop_sync.sync.scheduler import PeriodicJob, Scheduler

log = logging.getLogger(__name__)

DESCRIPTION = """
odop-sync keeps one canonical catalog of artisan products (ODOP, khadi, handloom, handicrafts)
and syncs it to the marketplaces. Authenticate with `Authorization: Bearer <api key>`
(`odop-sync keys create --role admin|agency|partner`). Errors are RFC 9457
`application/problem+json`; validation errors list `{row, field, message}`.
"""


def create_app(settings: Settings | None = None, *, workers: bool = True) -> FastAPI:
    settings = settings or get_settings()
    # Entry points are scanned once: accounts and (in demo mode) the sandboxes share the result.
    adapters, broken = discover_adapters()
    for name, reason in broken.items():
        log.warning("adapter %s is broken and was skipped: %s", name, reason)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine, runner = _open_state(app, settings, adapters, workers)
        sync_engine, scheduler, notifier = _start_sync(app, settings, workers)
        if workers:
            runner.start()
        if notifier is not None:
            await notifier.start()
        if app.state.sync is not None:
            app.state.sync.start()
        if scheduler is not None:
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
            if sync_engine is not None:
                await sync_engine.stop()
            if notifier is not None:
                await notifier.stop()
            await runner.stop()
            await app.state.clients.aclose()
            await engine.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from the pinned fastapi-offline package, served
    # by this app: no asset from another host, so the docs work on a network with no internet.
    app = FastAPIOffline(
        swagger_ui_parameters={"validatorUrl": None},  # no call to the public validator
        title="odop-sync",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "batches", "description": "publish products as JSON, CSV or XLSX batches"},
            {"name": "products", "description": "the canonical catalog"},
            {"name": "producers", "description": "artisans, SHGs, khadi units, cooperatives"},
            {"name": "accounts", "description": "marketplace seller accounts"},
            {"name": "listings", "description": "per-account listing state, issues, derivations"},
            {"name": "sync", "description": "sync now, and what the runs did"},
            {"name": "fx", "description": "FX rates for prices and orders in other currencies"},
            {"name": "agencies", "description": "admin"},
            {"name": "ops", "description": "health, readiness, metrics"},
        ],
    )
    _routes(app)
    app.state.sandboxes = []
    if settings.demo_mode:
        if IMAGES_DIR.is_dir():
            app.mount(IMAGES_ROUTE, StaticFiles(directory=IMAGES_DIR), name="demo-images")
        app.state.sandboxes = mount_sandboxes(app, adapters, time_scale=settings.sandbox_time_scale)
    return app


def _open_state(
    app: FastAPI, settings: Settings, adapters: dict[str, type[Adapter]], workers: bool
) -> tuple[AsyncEngine, JobRunner]:
    """What the app's requests and workers share, on app.state: the database, the job runner,
    catalog events, the credential cipher and the one adapter factory of the process."""
    engine = create_engine(settings)
    sessionmaker = create_sessionmaker(engine)
    events = CatalogEvents()
    runner = JobRunner(
        sessionmaker, settings.jobs, services={"settings": settings, "events": events}
    )
    runner.register(PROCESS_JOB, process_batch)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = sessionmaker
    app.state.read_sessionmaker = create_sessionmaker(read_only(engine))
    app.state.events = events
    app.state.runner = runner
    app.state.workers_enabled = workers
    app.state.adapters = adapters
    app.state.cipher = CredentialCipher(settings.encryption_key)
    # Tests route adapter traffic to in-process sandboxes by setting this; None = network.
    app.state.adapter_transport = None
    app.state.marketplace_redirects = _redirects(settings, adapters, app.state.sandboxes)
    app.state.outbound_transport = lambda: outbound_transport(
        app.state.adapter_transport, settings.loopback_only, app.state.marketplace_redirects
    )
    # Every marketplace call of this process goes through these adapters: one per account,
    # one rate limiter per (account, operation), for the engine, the puller and the check.
    app.state.clients = AdapterFactory(
        adapters,
        app.state.cipher,
        transport=app.state.outbound_transport,
        http_timeout_s=settings.sync.http_timeout_s,
        time_scale=settings.sync.rate_limit_scale,
        sessionmaker=sessionmaker,
        # Image URLs are tenant input: fetched only from the operator's origins, through the
        # same guarded transport as marketplace calls.
        images=AllowedOriginImages(
            settings.allowed_image_origins, transport=app.state.outbound_transport
        ),
    )
    return engine, runner


def _routes(app: FastAPI) -> None:
    install_handlers(app)
    app.middleware("http")(_request_context)
    for router in (
        catalog_router,
        batches_router,
        accounts_router,
        listings_router,
        sync_router,
        orders_router,
        sales_router,
        fx_router,
        auth_router,
    ):
        app.include_router(router)
    pages.install(app)
    _ops_routes(app)


def _redirects(
    settings: Settings, adapters: dict[str, type[Adapter]], mounted: list[str]
) -> dict[str, str]:
    """Which marketplace origins go to a sandbox instead: the operator's marketplace_hosts, and
    in demo mode the sandboxes this app mounts (at public_base_url) for the rest."""
    overrides = dict(settings.marketplace_hosts)
    base = settings.public_base_url.rstrip("/")
    for slug in mounted:
        overrides.setdefault(slug, f"{base}/sandbox/{slug}")
    return marketplace_redirects(overrides, {slug: cls.hosts for slug, cls in adapters.items()})


def _start_sync(
    app: FastAPI, settings: Settings, workers: bool
) -> tuple[SyncEngine | None, Scheduler | None, PgNotifier | None]:
    """The sync engine and its schedule run wherever workers run; on PostgreSQL every process
    publishes its changes (NOTIFY) and worker processes listen for the others'."""
    events: CatalogEvents = app.state.events
    owner = app.state.runner.owner
    notifier = None if settings.is_sqlite else PgNotifier(settings.database_url, owner)
    if notifier is not None:
        events.subscribe(notifier.catalog_changed)
        events.subscribe_runs(notifier.sync_requested)
    sync_engine = scheduler = None
    # Order pulling reaches the process's adapters (app.state.clients) through the engine, so it
    # needs the engine even where syncing is switched off.
    if workers and (settings.sync.enabled or settings.orders.enabled):
        sync_engine = SyncEngine(
            app.state.sessionmaker,
            settings.sync,
            app.state.adapters,
            app.state.cipher,
            owner=owner,
            accounts=settings.accounts,
            clients=app.state.clients,
            fx=settings.fx,
        )
        if settings.sync.enabled:
            events.subscribe(sync_engine.catalog_changed)
            events.subscribe_runs(sync_engine.run_requested)
            if notifier is not None:
                notifier.on_catalog = sync_engine.catalog_changed
                notifier.on_run = sync_engine.run_requested
        jobs, app.state.order_puller = periodic_work(
            app.state.sessionmaker, settings, sync_engine, events, owner
        )
        scheduler = Scheduler(app.state.sessionmaker, owner, jobs)
    app.state.sync = sync_engine if settings.sync.enabled else None
    app.state.scheduler = scheduler
    return sync_engine, scheduler, notifier


def periodic_work(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    engine: SyncEngine,
    events: CatalogEvents,
    owner: str,
) -> tuple[list[PeriodicJob], OrderPuller | None]:
    """Every periodic job of a worker process (`odop-sync jobs` lists and runs the same ones).
    Orders are pulled through the engine's adapter factory (one adapter per account, one rate
    limiter per account and operation, shared with the sync and the connection check);
    the puller's wake-ups reach every account selling what sold."""
    jobs = engine.periodic_jobs() if settings.sync.enabled else []
    if not settings.orders.enabled:
        return jobs, None
    puller = OrderPuller(
        sessionmaker,
        settings.orders,
        engine.clients.adapter_for,
        owner=owner,
        events=events,
        accounts=settings.accounts,
    )
    return [*jobs, puller.periodic_job()], puller


def mount_sandboxes(
    app: FastAPI, adapters: dict[str, type[Adapter]], *, time_scale: float = 1.0
) -> list[str]:
    """Demo mode: every installed adapter's marketplace simulator under /sandbox/<slug>/."""
    mounted = []
    for slug, cls in sorted(adapters.items()):
        package = cls.__module__.rsplit(".", 1)[0]
        try:
            factory = importlib.import_module(f"{package}.sandbox").create_sandbox_app
        except (ImportError, AttributeError) as exc:
            log.warning("adapter %s has no sandbox: %s", slug, exc)
            continue
        app.mount(f"/sandbox/{slug}", factory(time_scale=time_scale), name=f"sandbox-{slug}")
        mounted.append(slug)
    return mounted


async def _request_context(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    incoming = request.headers.get("x-request-id", "")
    request_id = (
        incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else uuid.uuid4().hex
    )
    token = request_id_var.set(request_id)
    started = time.perf_counter()
    response: Response
    try:
        if "\x00" in unquote(request.url.path) or "\x00" in unquote(request.url.query):
            response = problem_response(
                ValidationProblem(
                    "the URL contains a NUL character", errors=[FieldIssue(message="remove it")]
                ).to_problem(request.url.path)
            )
        else:
            response = await call_next(request)
    finally:
        request_id_var.reset(token)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    HTTP_REQUESTS.labels(request.method, path, str(response.status_code)).inc()
    HTTP_LATENCY.labels(request.method, path).observe(time.perf_counter() - started)
    response.headers["X-Request-ID"] = request_id
    return response


def _ops_routes(app: FastAPI) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["ops"], responses={503: {"description": "not ready"}})
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers and, when this process runs workers, they are alive."""
        checks: dict[str, Any] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        if request.app.state.workers_enabled:
            checks["workers"] = "ok" if request.app.state.runner.running else "stopped"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        """Prometheus text exposition (the README's "Metrics" lists the series)."""
        state = request.app.state
        adapters: dict[str, type[Adapter]] = state.adapters

        def pulls_orders(slug: str) -> bool:
            cls = adapters.get(slug)
            return (
                state.settings.orders.enabled
                and cls is not None
                and Capability.PULL_ORDERS in cls.capabilities
            )

        try:
            async with state.read_sessionmaker() as session:
                await refresh_lags(session, utcnow(), pulls_orders)
        except Exception as exc:  # the process's own counters still answer
            log.warning("metrics: the lag gauges could not be read: %s", type(exc).__name__)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
