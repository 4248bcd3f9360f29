"""Login with Amazon (LWA) as an httpx.Auth: a refresh_token grant for an access token, cached
until shortly before it expires and sent as `x-amz-access-token`.

SP-API answers 403 (sometimes 401) "The access token you provided has expired" when a cached
token died early (clock skew, revocation): the flow refreshes once and replays the request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator

import httpx
from pydantic import SecretStr, ValidationError

from adapters.amazon import wire
from odop_sync.adapter_sdk import (
    AuthenticationError,
    Clock,
    MarketplaceUnavailableError,
    RateLimitedError,
    SystemClock,
    parse_retry_after,
)

ACCESS_TOKEN_HEADER = "x-amz-access-token"  # noqa: S105 - a header name
# Refresh this long before `expires_in` runs out, so a token never dies in flight.
REFRESH_MARGIN_S = 60.0


class LwaAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        clock: Clock | None = None,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.clock = clock or SystemClock()
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refresh_count = 0

    def __repr__(self) -> str:
        return (
            f"<LwaAuth client_id={self.client_id!r} token_cached={self._access_token is not None}>"
        )

    def _fresh(self) -> bool:
        return self._access_token is not None and self.clock.monotonic() < self._expires_at

    def invalidate(self) -> None:
        self._access_token = None

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data={
                "grant_type": "refresh_token",
                "refresh_token": self._refresh_token.get_secret_value(),
                "client_id": self.client_id,
                "client_secret": self._client_secret.get_secret_value(),
            },
            headers={"Accept": "application/json"},
        )

    async def _refresh(self, response: httpx.Response) -> None:
        await response.aread()
        self._store(response)

    def _store(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429:
            raise RateLimitedError(
                "Login with Amazon throttled the token request",
                retry_after=parse_retry_after(response.headers.get("Retry-After"), self.clock),
                adapter="amazon",
                operation="lwa.token",
                status_code=status,
            )
        if status >= 500:
            raise MarketplaceUnavailableError(
                "Login with Amazon is unavailable",
                adapter="amazon",
                operation="lwa.token",
                status_code=status,
            )
        if status != 200:
            try:
                error = wire.LwaError.model_validate_json(response.content)
                code, detail = error.error, error.error_description or ""
            except (ValidationError, json.JSONDecodeError):
                code, detail = "unknown", ""
            # error_description quotes parameter names, never their values.
            raise AuthenticationError(
                f"Login with Amazon refused the refresh token: {detail or code}",
                adapter="amazon",
                operation="lwa.token",
                status_code=status,
                code=code,
            )
        try:
            token = wire.LwaToken.model_validate_json(response.content)
        except ValidationError:
            raise MarketplaceUnavailableError(
                "Login with Amazon answered without an access token",
                adapter="amazon",
                operation="lwa.token",
                status_code=status,
            ) from None
        self._access_token = token.access_token
        self._expires_at = self.clock.monotonic() + max(0.0, token.expires_in - REFRESH_MARGIN_S)
        self.refresh_count += 1

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        refreshed = False
        if not self._fresh():
            async with self._lock:  # one refresh for many concurrent requests
                if not self._fresh():
                    await self._refresh((yield self._token_request()))
                    refreshed = True
        request.headers[ACCESS_TOKEN_HEADER] = self._access_token or ""
        response = yield request
        if response.status_code in (401, 403) and not refreshed:
            await response.aread()
            used = request.headers[ACCESS_TOKEN_HEADER]
            async with self._lock:
                if self._access_token == used:  # nobody refreshed meanwhile
                    await self._refresh((yield self._token_request()))
            request.headers[ACCESS_TOKEN_HEADER] = self._access_token or ""
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> httpx.Request:  # type: ignore[override]
        raise RuntimeError("LwaAuth works with httpx.AsyncClient only")
