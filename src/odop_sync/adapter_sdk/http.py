"""The one way adapters get an HTTP client: sane timeouts, an honest User-Agent, and request logs
that carry method, host, path, status and timing, never headers, query strings or bodies (those
are where tokens, signatures and secrets travel)."""

from __future__ import annotations

import logging
import time

import httpx

import odop_sync

__all__ = ["DEFAULT_TIMEOUT", "create_http_client", "safe_url"]

log = logging.getLogger("odop_sync.adapter_sdk.http")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=10.0)


def safe_url(url: httpx.URL) -> str:
    """Scheme, host and path only: presigned URLs carry their signature in the query string."""
    return str(url.copy_with(query=None, fragment=None, username=None, password=None))


def create_http_client(
    *,
    base_url: str = "",
    timeout: httpx.Timeout | float | None = None,
    user_agent: str | None = None,
    adapter_slug: str | None = None,
    max_connections: int = 10,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    agent = user_agent or f"odop-sync/{odop_sync.__version__}" + (
        f" (+{adapter_slug})" if adapter_slug else ""
    )

    async def on_request(request: httpx.Request) -> None:
        request.extensions["odop_started"] = time.perf_counter()

    async def on_response(response: httpx.Response) -> None:
        request = response.request
        started = request.extensions.get("odop_started")
        elapsed_ms = (time.perf_counter() - started) * 1000 if isinstance(started, float) else -1
        log.debug(
            "%s %s -> %s in %.1fms",
            request.method,
            safe_url(request.url),
            response.status_code,
            elapsed_ms,
            extra={"marketplace": adapter_slug},
        )

    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        headers={"User-Agent": agent},
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        transport=transport,
        event_hooks={"request": [on_request], "response": [on_response]},
        follow_redirects=False,
    )
