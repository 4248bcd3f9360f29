"""One adapter per marketplace account for the whole process.

The sync engine, the order puller and the account connection check all reach a marketplace
through this factory, so every call to one account's marketplace goes through ONE rate limiter
(one token bucket per operation): two parts of the process cannot exceed a marketplace limit
together. The adapter and its httpx client are cached per account and rebuilt when the stored
credentials change (keyed by their fingerprint); the limiter outlives such a rebuild, since what
the marketplace counts against the account does too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.adapter_sdk import Adapter, AdapterError, RateLimiter, create_http_client
from odop_sync.models import MarketplaceAccount

log = logging.getLogger(__name__)

Transport = Callable[[], httpx.AsyncBaseTransport | None]


@dataclass
class AccountClient:
    fingerprint: str
    adapter: Adapter
    http: httpx.AsyncClient


class AdapterFactory:
    def __init__(
        self,
        adapters: dict[str, type[Adapter]],
        cipher: CredentialCipher,
        *,
        transport: Transport | None = None,
        http_timeout_s: float | None = None,
        time_scale: float = 1.0,
    ) -> None:
        self.adapters = adapters
        self.cipher = cipher
        # A provider, read when an account's client is built (tests install sandboxes late).
        self.transport: Transport = transport or (lambda: None)
        self.http_timeout_s = http_timeout_s
        self.time_scale = time_scale
        self._clients: dict[int, AccountClient] = {}
        self._limiters: dict[tuple[int, str], RateLimiter] = {}

    def limiter_for(self, account: MarketplaceAccount) -> RateLimiter | None:
        """The account's rate limiter (None when its adapter is not installed)."""
        cls = self.adapters.get(account.adapter)
        if cls is None:
            return None
        return self._limiter(account.id, cls)

    def _limiter(self, account_id: int, cls: type[Adapter]) -> RateLimiter:
        key = (account_id, cls.slug)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = RateLimiter(
                cls.limits, account_key=str(account_id), time_scale=self.time_scale
            )
            self._limiters[key] = limiter
        return limiter

    async def adapter_for(self, account: MarketplaceAccount) -> Adapter | str:
        """The account's adapter, or the plain-words reason there is none."""
        client = await self.client_for(account)
        return client if isinstance(client, str) else client.adapter

    async def client_for(self, account: MarketplaceAccount) -> AccountClient | str:
        cls = self.adapters.get(account.adapter)
        if cls is None:
            return f"the {account.adapter!r} adapter is not installed"
        fingerprint = hashlib.sha256(account.credentials_encrypted.encode()).hexdigest()
        cached = self._clients.get(account.id)
        if cached is not None and cached.fingerprint == fingerprint:
            return cached
        if cached is not None:
            del self._clients[account.id]
            await cached.http.aclose()
        try:
            config = cls.parse_config(self.cipher.decrypt(account.credentials_encrypted))
        except Exception as exc:
            log.warning("account %s credentials unusable: %s", account.id, type(exc).__name__)
            return "the stored credentials cannot be read; enter them again"
        http = create_http_client(
            adapter_slug=cls.slug, transport=self.transport(), timeout=self.http_timeout_s
        )
        try:
            adapter = cls(config, http, self._limiter(account.id, cls))
        except AdapterError as exc:
            await http.aclose()
            return f"the adapter refused its configuration: {exc.message}"
        client = AccountClient(fingerprint, adapter, http)
        self._clients[account.id] = client
        return client

    async def aclose(self) -> None:
        """Close every cached client (they are built again on the next use); the limiters stay."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.http.aclose()


__all__ = ["AccountClient", "AdapterFactory"]
