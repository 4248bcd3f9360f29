"""OAuth 2.0 access tokens as an `httpx.Auth`: fetched with the marketplace's token request,
reused until shortly before `expires_in` runs out, and refreshed once when the API refuses a
token it should have accepted (expired early, revoked), after which the request is replayed once.

Subclasses say how to ask for a token (`token_request`) and, when the marketplace does not take
a bearer token, where it goes (`authorize`). Token answers and errors follow RFC 6749 §5:
`{"access_token", "expires_in"}` or `{"error", "error_description"}`; the description names
parameters, never their values, so it is safe in messages.
"""

from __future__ import annotations

import abc
import asyncio
import json
from collections.abc import AsyncGenerator, Collection
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from odop_sync.adapter_sdk._clock import Clock, SystemClock
from odop_sync.adapter_sdk._errors import (
    AdapterError,
    AuthenticationError,
    MarketplaceUnavailableError,
    RateLimitedError,
)
from odop_sync.adapter_sdk._ratelimit import parse_retry_after

__all__ = ["OAuth2TokenAuth"]


class _Token(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: str
    expires_in: float = 3600.0


class _TokenError(BaseModel):
    model_config = ConfigDict(extra="ignore")

    error: str
    error_description: str | None = None


class OAuth2TokenAuth(httpx.Auth, abc.ABC):
    requires_response_body = True

    def __init__(
        self,
        *,
        issuer: str,
        adapter: str,
        operation: str,
        clock: Clock | None = None,
        refresh_on: Collection[int] = (401,),
        refresh_margin_s: float = 60.0,
        refused: str = "the credentials",
    ) -> None:
        """`issuer` names the token service in messages ("Login with Amazon"); `refresh_on` are
        the API statuses that mean "this token is no good"; a token is renewed
        `refresh_margin_s` before it expires, so it never dies in flight."""
        self.issuer = issuer
        self.adapter = adapter
        self.operation = operation
        self.clock = clock or SystemClock()
        self.refresh_on = frozenset(refresh_on)
        self.refresh_margin_s = refresh_margin_s
        self.refused = refused
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refresh_count = 0

    def __repr__(self) -> str:
        cached = self._access_token is not None
        return f"<{type(self).__name__} issuer={self.issuer!r} token_cached={cached}>"

    @abc.abstractmethod
    def token_request(self) -> httpx.Request:
        """The request that returns a fresh access token."""

    def authorize(self, request: httpx.Request, token: str) -> None:
        request.headers["Authorization"] = f"Bearer {token}"

    def _fresh(self) -> bool:
        return self._access_token is not None and self.clock.monotonic() < self._expires_at

    def invalidate(self) -> None:
        self._access_token = None

    def _error(self, cls: type[AdapterError], message: str, status: int, **kw: Any) -> AdapterError:
        return cls(
            message, adapter=self.adapter, operation=self.operation, status_code=status, **kw
        )

    def _store(self, response: httpx.Response) -> None:
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self.clock)
            raise self._error(
                RateLimitedError,
                f"{self.issuer} throttled the token request",
                status,
                retry_after=retry_after,
            )
        if status >= 500 or status == 499:
            raise self._error(MarketplaceUnavailableError, f"{self.issuer} is unavailable", status)
        if status != 200:
            try:
                error = _TokenError.model_validate_json(response.content)
                code, detail = error.error, error.error_description or ""
            except (ValidationError, json.JSONDecodeError):
                code, detail = "unknown", ""
            raise self._error(
                AuthenticationError,
                f"{self.issuer} refused {self.refused}: {detail or code}",
                status,
                code=code,
            )
        try:
            token = _Token.model_validate_json(response.content)
        except ValidationError:
            raise self._error(
                MarketplaceUnavailableError,
                f"{self.issuer} answered without an access token",
                status,
            ) from None
        self._access_token = token.access_token
        self._expires_at = self.clock.monotonic() + max(
            0.0, token.expires_in - self.refresh_margin_s
        )
        self.refresh_count += 1

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        refreshed = False
        if not self._fresh():
            async with self._lock:  # one refresh for many concurrent requests
                if not self._fresh():
                    answer = yield self.token_request()
                    await answer.aread()
                    self._store(answer)
                    refreshed = True
        used = self._access_token or ""
        self.authorize(request, used)
        response = yield request
        if response.status_code in self.refresh_on and not refreshed:
            await response.aread()
            async with self._lock:
                if self._access_token == used:  # nobody refreshed meanwhile
                    answer = yield self.token_request()
                    await answer.aread()
                    self._store(answer)
            self.authorize(request, self._access_token or "")
            yield request

    def sync_auth_flow(self, request: httpx.Request) -> httpx.Request:  # type: ignore[override]
        raise RuntimeError(f"{type(self).__name__} works with httpx.AsyncClient only")
