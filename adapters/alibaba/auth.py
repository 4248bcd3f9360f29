"""GOP signing and seller tokens as one `httpx.Auth`.

Signature (PROTOCOL §4.1, `sign_method=sha256`): every text parameter that is sent, system and
business alike, except `sign` and file parts; names sorted by byte value; `name + value`
concatenated without separators; the API path prefixed; HMAC-SHA256 keyed with the app secret
over the UTF-8 bytes; upper-case hex. Empty values are never sent (§4.3: then the two signer
families agree), so they are never signed either.

Tokens (§2.2/2.3): an authorisation code is exchanged once at `/auth/token/create`, the refresh
token at `/auth/token/refresh`, both signed like every call but without an access token. The
access token is renewed when less than max(60 s, 10 % of its life) is left (contract, I: U-REF
suggests ~30 min for 10-day tokens) and once when a call comes back IllegalAccessToken, after
which the call is signed again (a new timestamp) and replayed once. A refresh token the platform
rotates, and a code used up, are handed to the core (`on_credentials_changed`), so a restart
starts from the newest one; when the core cannot take them now they are offered again after
the next call.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr, ValidationError

from adapters.alibaba import wire
from odop_sync.adapter_sdk import (
    AdapterError,
    AuthenticationError,
    Clock,
    MarketplaceUnavailableError,
    RateLimitedError,
    SystemClock,
    parse_retry_after,
)

log = logging.getLogger("adapters.alibaba.auth")

GOP_CALL = "odop_gop_call"  # the request extension that carries the call's parameters
MARKETPLACE = "Alibaba.com"

Listener = Callable[[Mapping[str, Any]], Awaitable[None]]


def string_to_sign(api_path: str, params: Mapping[str, str]) -> str:
    """§4.1 steps 1-4: the path (only for a path-style API name, as the official SDK does),
    then name+value of every non-empty parameter but `sign`, names in byte order."""
    prefix = api_path if "/" in api_path else ""
    body = "".join(
        name + value
        for name, value in sorted(params.items(), key=lambda kv: kv[0].encode())
        if name != "sign" and name and value != ""
    )
    return prefix + body


def sign(app_secret: str, api_path: str, params: Mapping[str, str]) -> str:
    """§4.1 steps 5-6: HMAC-SHA256 (key: the app secret), 64 upper-case hex digits."""
    message = string_to_sign(api_path, params).encode("utf-8")
    return hmac.new(app_secret.encode("utf-8"), message, hashlib.sha256).hexdigest().upper()


@dataclass(frozen=True, slots=True)
class GopCall:
    """One API call's own parameters (text, JSON already serialised) and file parts; the auth
    adds the system fields, the token and the signature."""

    api_path: str
    params: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    with_token: bool = True


@dataclass(frozen=True, slots=True)
class _Grant:
    api_path: str  # TOKEN_CREATE or TOKEN_REFRESH
    name: str  # code or refresh_token
    value: str


class GopAuth(httpx.Auth):
    requires_response_body = True

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: SecretStr,
        refresh_token: SecretStr | None,
        authorization_code: SecretStr | None,
        partner_id: str,
        clock: Clock | None = None,
        listener: Callable[[], Listener | None] = lambda: None,
        adapter: str = "alibaba",
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self._refresh_token = refresh_token.get_secret_value() if refresh_token else None
        self._code = authorization_code.get_secret_value() if authorization_code else None
        self.partner_id = partner_id
        self.clock = clock or SystemClock()
        self.listener = listener
        self.adapter = adapter
        self._access_token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.pending: dict[str, Any] = {}  # credential changes the core has not taken yet
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"<GopAuth app_key={self.app_key!r} token_cached={self._access_token is not None}>"

    # signing ------------------------------------------------------------------------------

    def timestamp(self) -> str:
        """Epoch milliseconds, 13 digits (§3.3)."""
        return str(int(self.clock.utcnow().timestamp() * 1000))

    def signed_fields(self, call: GopCall, token: str | None) -> dict[str, str]:
        fields: dict[str, str | None] = {
            "app_key": self.app_key,
            "timestamp": self.timestamp(),
            "sign_method": "sha256",
            **dict(call.params),
        }
        if call.with_token:
            # Business calls: the path in `method` too, JSON answers, our version (contract).
            fields.update(
                method=call.api_path, format="json", partner_id=self.partner_id, access_token=token
            )
        sent = {k: v for k, v in fields.items() if v is not None and v != ""}
        sent["sign"] = sign(self._secret.get_secret_value(), call.api_path, sent)
        return sent

    def _build(self, template: httpx.Request, call: GopCall, token: str | None) -> httpx.Request:
        headers = {
            k: v
            for k, v in template.headers.items()
            if k.lower() not in ("content-length", "content-type", "transfer-encoding")
        }
        return httpx.Request(
            "POST",
            template.url,
            data=self.signed_fields(call, token),
            files=dict(call.files) if call.files else None,
            headers=headers,
            extensions=template.extensions,
        )

    # tokens -------------------------------------------------------------------------------

    def _fresh(self) -> bool:
        return self._access_token is not None and self.clock.monotonic() < self._expires_at

    def _grants(self) -> list[_Grant]:
        grants = []
        if self._code:
            grants.append(_Grant(wire.TOKEN_CREATE, "code", self._code))
        if self._refresh_token:
            grants.append(_Grant(wire.TOKEN_REFRESH, "refresh_token", self._refresh_token))
        if not grants:
            raise self._error(
                AuthenticationError,
                "the account has neither a refresh token nor an authorisation code; authorise "
                "the app again",
                wire.TOKEN_REFRESH,
            )
        return grants

    def _token_request(self, template: httpx.Request, grant: _Grant) -> httpx.Request:
        call = GopCall(grant.api_path, {grant.name: grant.value}, with_token=False)
        url = template.url.copy_with(path=wire.BASE_PATH + grant.api_path, query=None)
        request = httpx.Request(
            "POST", url, extensions={"timeout": template.extensions.get("timeout")}
        )
        return self._build(request, call, None)

    def _error(
        self, cls: type[AdapterError], message: str, api_path: str, **kw: Any
    ) -> AdapterError:
        return cls(
            self.scrub(message), adapter=self.adapter, operation=wire.OPERATIONS[api_path], **kw
        )

    def scrub(self, text: str) -> str:
        """Words from the platform with any credential of ours masked (a gateway that echoes
        a parameter must not put a token into our messages)."""
        for secret in (self._secret.get_secret_value(), self._refresh_token, self._code):
            if secret:
                text = text.replace(secret, "***")
        if self._access_token:
            text = text.replace(self._access_token, "***")
        return text

    def _store(self, response: httpx.Response, grant: _Grant, last: bool) -> bool:
        """Keep the tokens of a token answer; False when the grant was refused and another may
        be tried (a used authorisation code, with a refresh token to fall back on)."""
        status = response.status_code
        envelope = _envelope(response)
        what = "authorisation code" if grant.name == "code" else "refresh token"
        if status == 429 or (envelope and envelope.code == wire.THROTTLED):
            retry = parse_retry_after(response.headers.get("Retry-After"), self.clock)
            raise self._error(
                RateLimitedError,
                f"{MARKETPLACE} throttled the token request",
                grant.api_path,
                retry_after=retry or 1.0,
                status_code=status,
            )
        if status >= 500 or (envelope and envelope.failed and envelope.type in ("ISP", "SYSTEM")):
            raise self._error(
                MarketplaceUnavailableError,
                f"{MARKETPLACE} could not issue a token now",
                grant.api_path,
                status_code=status,
            )
        if status != 200 or envelope is None or envelope.failed:
            code = envelope.code if envelope else None
            if code == wire.INVALID_CODE and not last:
                log.warning("the authorisation code was refused; using the refresh token")
                self._code = None
                self.pending["authorization_code"] = None
                return False
            words = (envelope.message if envelope else None) or response.reason_phrase
            raise self._error(
                AuthenticationError,
                f"{MARKETPLACE} refused the {what}: {words}; authorise the app again",
                grant.api_path,
                status_code=status,
                code=code,
            )
        try:
            token = wire.TokenAnswer.model_validate_json(response.content)
        except ValidationError:
            raise self._error(
                MarketplaceUnavailableError,
                f"{MARKETPLACE} answered the token request without a token",
                grant.api_path,
                status_code=status,
            ) from None
        self._keep(token, grant)
        return True

    def _keep(self, token: wire.TokenAnswer, grant: _Grant) -> None:
        life = max(0.0, token.expires_in)
        self._access_token = token.access_token
        self._expires_at = self.clock.monotonic() + life - max(60.0, 0.1 * life)
        self.refresh_count += 1
        if grant.name == "code":
            self._code = None
            self.pending["authorization_code"] = None
        if token.refresh_token and token.refresh_token != self._refresh_token:
            self._refresh_token = token.refresh_token
            self.pending["refresh_token"] = token.refresh_token
        if token.refresh_expires_in == 0:
            log.warning("the seller's refresh token cannot be refreshed again; re-authorise soon")

    async def offer_pending(self) -> None:
        """Hand the credential changes not yet stored to the core; keep them when it fails."""
        listener = self.listener()
        if not self.pending or listener is None:
            return
        changes = dict(self.pending)
        try:
            await listener(changes)
        except Exception as exc:  # the core's store failed: offered again after the next call
            log.warning("new credentials not stored yet: %s", type(exc).__name__)
            return
        for name, value in changes.items():
            if self.pending.get(name, object()) == value:
                del self.pending[name]

    # the flow -----------------------------------------------------------------------------

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        call = request.extensions.get(GOP_CALL)
        if not isinstance(call, GopCall):
            raise TypeError("GopAuth signs GopCall requests only")
        refreshed = False
        if call.with_token and not self._fresh():
            async with self._lock:  # one token request for many concurrent calls
                if not self._fresh():
                    grants = self._grants()
                    for n, grant in enumerate(grants):
                        answer = yield self._token_request(request, grant)
                        await answer.aread()
                        if self._store(answer, grant, last=n == len(grants) - 1):
                            break
                    refreshed = True
            await self.offer_pending()
        used = self._access_token
        response = yield self._build(request, call, used)
        await response.aread()
        if call.with_token and not refreshed and _is_expired_token(response):
            async with self._lock:
                if self._access_token == used:  # nobody renewed it meanwhile
                    self._access_token = None
                    grants = self._grants()
                    for n, grant in enumerate(grants):
                        answer = yield self._token_request(request, grant)
                        await answer.aread()
                        if self._store(answer, grant, last=n == len(grants) - 1):
                            break
            await self.offer_pending()
            yield self._build(request, call, self._access_token)
        elif self.pending:
            await self.offer_pending()

    def sync_auth_flow(self, request: httpx.Request) -> Any:
        raise RuntimeError("GopAuth works with httpx.AsyncClient only")


def _envelope(response: httpx.Response) -> wire.Envelope | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    try:
        return wire.Envelope.model_validate(body)
    except ValidationError:
        return None


def _is_expired_token(response: httpx.Response) -> bool:
    envelope = _envelope(response)
    return envelope is not None and envelope.code == wire.EXPIRED_TOKEN


__all__ = ["GOP_CALL", "GopAuth", "GopCall", "sign", "string_to_sign"]
