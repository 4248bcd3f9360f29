"""A transport that refuses every host but loopback: tests and CI never reach a marketplace."""

from __future__ import annotations

import ipaddress

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


def outbound_transport(
    injected: httpx.AsyncBaseTransport | None, loopback_only: bool
) -> httpx.AsyncBaseTransport | None:
    """The transport marketplace clients use: one a test injected, else the network (guarded
    to loopback when the settings say so)."""
    if injected is not None:
        return injected
    return LoopbackOnlyTransport() if loopback_only else None
