"""The one way adapters get an HTTP client: sane timeouts, an honest User-Agent, and request logs
that carry method, host, path, status and timing, never headers, query strings or bodies (those
are where tokens, signatures and secrets travel)."""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

import odop_sync
from odop_sync.adapter_sdk._errors import (
    AdapterError,
    AuthenticationError,
    MarketplaceUnavailableError,
    PayloadRejectedError,
    RateLimitedError,
    RemoteNotFoundError,
)
from odop_sync.adapter_sdk._ratelimit import RateLimiter, parse_retry_after

__all__ = ["DEFAULT_TIMEOUT", "classify_response", "create_http_client", "safe_url", "send"]

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


async def send(
    http: httpx.AsyncClient,
    limiter: RateLimiter,
    operation: str,
    method: str,
    url: str,
    *,
    marketplace: str,
    adapter: str,
    **request: Any,
) -> httpx.Response:
    """One marketplace call paced by `limiter`: wait for a token of `operation`, send, and let
    the limiter learn from the rate-limit headers of the answer. A timeout or a broken
    connection becomes MarketplaceUnavailableError; every status is returned as it came
    (`classify_response` turns a refusal into the error tree)."""
    await limiter.acquire(operation)
    try:
        response = await http.request(method, url, **request)
    except httpx.TimeoutException as exc:
        raise MarketplaceUnavailableError(
            f"{marketplace} did not answer in time", adapter=adapter, operation=operation
        ) from exc
    except httpx.TransportError as exc:
        raise MarketplaceUnavailableError(
            f"connection to {marketplace} failed ({type(exc).__name__})",
            adapter=adapter,
            operation=operation,
        ) from exc
    limiter.update_from_headers(operation, response.headers)
    return response


def classify_response(
    response: httpx.Response,
    *,
    limiter: RateLimiter,
    marketplace: str,
    adapter: str,
    operation: str,
    detail: str | None = None,
    code: str | None = None,
) -> AdapterError:
    """The error for a refused call: 429 throttled (with Retry-After when sent), 401/403
    credentials, 404 not found, 5xx and 499 (the connection timed out on the marketplace's side)
    unavailable, any other 4xx a refused request. `detail` and `code` are the marketplace's own
    words from the error body; never pass header values or request bodies here."""
    status = response.status_code
    text = detail or response.reason_phrase
    kw: dict[str, Any] = {
        "adapter": adapter,
        "operation": operation,
        "status_code": status,
        "code": code,
    }
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), limiter.clock)
        if retry_after is None:
            limiter.penalise(operation, None)
        return RateLimitedError(
            f"{marketplace} throttled the request: {text}", retry_after=retry_after, **kw
        )
    if status in (401, 403):
        return AuthenticationError(f"{marketplace} refused the credentials: {text}", **kw)
    if status == 404:
        return RemoteNotFoundError(f"not found on {marketplace}: {text}", **kw)
    if status >= 500 or status == 499:
        return MarketplaceUnavailableError(f"{marketplace} is unavailable: {text}", **kw)
    return PayloadRejectedError(f"{marketplace} rejected the request: {text}", **kw)
