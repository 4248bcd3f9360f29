"""One GOP call and what its answer means: the request goes through the SDK's `send` (the
account's rate limiter, timeouts as MarketplaceUnavailableError) with `GopAuth` signing it, and
a refusal becomes the SDK's error tree (adapters/alibaba/CONTRACT.md):

- IllegalAccessToken (after the one refresh the auth already made), InvalidAppKey,
  IncompleteSignature, IllegalRefreshToken, InvalidCode → AuthenticationError;
- ApiCallLimit (HTTP 200, no Retry-After documented) → RateLimitedError, retry after the
  Retry-After header when one comes, else 1 s (I);
- type ISP or SYSTEM, HTTP 5xx, timeouts → MarketplaceUnavailableError;
- any other code (MissingParameter, InvalidParameter, …) → PayloadRejectedError: the whole
  request was refused. Per-product refusals inside a success (biz_success false, fail_id_map)
  are the caller's to turn into results.
HTTP statuses other than 200 go through the SDK's `classify_response` (429 with Retry-After,
401/403, 404, 5xx), with the envelope's words when it has them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from adapters.alibaba import wire
from adapters.alibaba.auth import GOP_CALL, GopAuth, GopCall
from odop_sync.adapter_sdk import (
    AdapterError,
    AuthenticationError,
    MarketplaceUnavailableError,
    PayloadRejectedError,
    RateLimitedError,
    RateLimiter,
    classify_response,
    parse_retry_after,
    send,
)

MARKETPLACE = "Alibaba.com"
M = TypeVar("M", bound=BaseModel)


class Gop:
    """The account's way to the gateway: `call` one API path with its parameters."""

    def __init__(
        self, http: httpx.AsyncClient, limiter: RateLimiter, auth: GopAuth, adapter: str
    ) -> None:
        self.http = http
        self.limiter = limiter
        self.auth = auth
        self.adapter = adapter

    def __repr__(self) -> str:
        return f"<Gop adapter={self.adapter!r}>"

    async def call(
        self,
        api_path: str,
        params: Mapping[str, str | int | None] | None = None,
        answer: type[M] | None = None,
        *,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """The answer's JSON body (validated as `answer` when given), or the classified error."""
        operation = wire.OPERATIONS[api_path]
        text = {k: str(v) for k, v in (params or {}).items() if v is not None and v != ""}
        call = GopCall(api_path, text, files)
        # The gateway counts every call of the app and seller together (PROTOCOL §6 documents no
        # figure; the sandbox's default is 10 a second, contract note, I): each call also spends
        # a token of the one shared bucket, so the operations' own buckets cannot add up past it.
        await self.limiter.acquire(wire.GATEWAY)
        response = await send(
            self.http,
            self.limiter,
            operation,
            "POST",
            wire.ORIGIN + wire.BASE_PATH + api_path,
            marketplace=MARKETPLACE,
            adapter=self.adapter,
            auth=self.auth,
            extensions={GOP_CALL: call},
        )
        body = self._body(response, operation)
        if answer is None:
            return body
        try:
            return answer.model_validate(body)
        except ValidationError as exc:
            raise self.unreadable(operation) from exc

    def unreadable(self, operation: str) -> MarketplaceUnavailableError:
        return MarketplaceUnavailableError(
            f"{MARKETPLACE} answered with an unexpected body",
            adapter=self.adapter,
            operation=operation,
        )

    def _body(self, response: httpx.Response, operation: str) -> dict[str, Any]:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        envelope = _envelope(body)
        if response.status_code != 200:
            words = self._words(envelope) if envelope and envelope.failed else None
            raise classify_response(
                response,
                limiter=self.limiter,
                marketplace=MARKETPLACE,
                adapter=self.adapter,
                operation=operation,
                detail=words,
                code=envelope.code if envelope and envelope.failed else None,
            )
        if not isinstance(body, dict) or envelope is None:
            raise self.unreadable(operation)
        if envelope.failed:
            raise self.refusal(envelope, response, operation)
        return body

    def _words(self, envelope: wire.Envelope) -> str:
        text = envelope.message or envelope.code or "no reason given"
        if envelope.request_id:
            text += f" (request {envelope.request_id})"
        return self.auth.scrub(text)

    def refusal(
        self, envelope: wire.Envelope, response: httpx.Response, operation: str
    ) -> AdapterError:
        code = envelope.code or ""
        words = self._words(envelope)
        kw: dict[str, Any] = {
            "adapter": self.adapter,
            "operation": operation,
            "status_code": response.status_code,
            "code": code,
        }
        if code == wire.EXPIRED_TOKEN or code in wire.AUTH_CODES:
            return AuthenticationError(f"{MARKETPLACE} refused the credentials: {words}", **kw)
        if code == wire.THROTTLED:
            retry = parse_retry_after(response.headers.get("Retry-After"), self.limiter.clock)
            if retry is None:
                self.limiter.penalise(operation, None)
                self.limiter.penalise(wire.GATEWAY, None)
            return RateLimitedError(
                f"{MARKETPLACE} throttled the request: {words}", retry_after=retry or 1.0, **kw
            )
        if (envelope.type or "").upper() in ("ISP", "SYSTEM"):
            return MarketplaceUnavailableError(f"{MARKETPLACE} is unavailable: {words}", **kw)
        return PayloadRejectedError(f"{MARKETPLACE} refused the request: {words}", **kw)


def _envelope(body: Any) -> wire.Envelope | None:
    if not isinstance(body, dict):
        return None
    try:
        return wire.Envelope.model_validate(body)
    except ValidationError:
        return None


__all__ = ["MARKETPLACE", "Gop"]
