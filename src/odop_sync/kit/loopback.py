"""Outbound transports for marketplace clients: one that refuses every host but loopback (tests
and CI never reach a marketplace), and one that sends a marketplace's own hosts to the sandbox an
operator configured (settings: marketplace_hosts)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

import httpx

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class LoopbackOnlyTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not is_loopback(request.url.host):
            raise httpx.ConnectError(
                f"{request.url.host} is not a loopback host; this environment talks to "
                "loopback only (settings: loopback_only)",
                request=request,
            )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RedirectTransport(httpx.AsyncBaseTransport):
    """Requests for a marketplace's origin (scheme://host[:port]) go to the sandbox base URL
    that stands in for it; the path is kept below the base's path. Other requests pass."""

    def __init__(self, inner: httpx.AsyncBaseTransport, redirects: Mapping[str, str]) -> None:
        self.inner = inner
        self.redirects = {origin.rstrip("/"): httpx.URL(base) for origin, base in redirects.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        base = self.redirects.get(f"{url.scheme}://{url.netloc.decode('ascii')}")
        if base is not None:
            request.url = url.copy_with(
                scheme=base.scheme,
                netloc=base.netloc,
                path=base.path.rstrip("/") + url.path,
            )
            request.headers["Host"] = base.netloc.decode("ascii")
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def marketplace_redirects(
    overrides: Mapping[str, str], hosts: Mapping[str, Iterable[str]]
) -> dict[str, str]:
    """origin -> sandbox base for every host of every adapter the operator redirected
    (`overrides`: adapter slug -> base URL; `hosts`: adapter slug -> its origins)."""
    return {origin: base for slug, base in overrides.items() for origin in hosts.get(slug, ())}


def outbound_transport(
    injected: httpx.AsyncBaseTransport | None,
    loopback_only: bool,
    redirects: Mapping[str, str] | None = None,
) -> httpx.AsyncBaseTransport | None:
    """The transport marketplace clients use: one a test injected, else the network (guarded
    to loopback when the settings say so), with the operator's sandbox redirects in front."""
    inner = injected or (LoopbackOnlyTransport() if loopback_only else None)
    if not redirects:
        return inner
    return RedirectTransport(inner or httpx.AsyncHTTPTransport(), redirects)
