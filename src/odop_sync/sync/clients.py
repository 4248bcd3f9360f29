"""One adapter per marketplace account for the whole process.

The sync engine, the order puller and the account connection check all reach a marketplace
through this factory, so every call to one account's marketplace goes through ONE rate limiter
(one token bucket per operation): two parts of the process cannot exceed a marketplace limit
together. The adapter and its httpx client are cached per account and rebuilt when the stored
credentials change (keyed by their fingerprint); the limiter outlives such a rebuild, since what
the marketplace counts against the account does too.

A credential the marketplace itself replaces (Alibaba.com rotates its refresh tokens) reaches the
factory through the adapter's `on_credentials_changed`: it is merged into the account's stored,
encrypted credentials in a transaction of its own, and the fingerprint of what the adapter wrote
is one it keeps, so the live adapter is not dropped mid-call for its own change. Credentials
entered meanwhile (a new fingerprint the adapter did not write) win: the rotated value is then
not stored, and the next use builds a new adapter from what was entered.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.accounts.construct import construct
from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.adapter_sdk import (
    Adapter,
    AdapterError,
    CredentialsChanged,
    ImageSource,
    RateLimiter,
    create_http_client,
)
from odop_sync.db import transaction
from odop_sync.models import MarketplaceAccount

log = logging.getLogger(__name__)

Transport = Callable[[], httpx.AsyncBaseTransport | None]


@dataclass
class AccountClient:
    fingerprint: str
    adapter: Adapter
    http: httpx.AsyncClient
    # The fingerprints of stored credentials this client stands for: the ones it was built
    # from and the ones its adapter wrote itself (a rotated token).
    known: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.known.add(self.fingerprint)


def fingerprint_of(credentials_encrypted: str) -> str:
    return hashlib.sha256(credentials_encrypted.encode()).hexdigest()


class AdapterFactory:
    def __init__(
        self,
        adapters: dict[str, type[Adapter]],
        cipher: CredentialCipher,
        *,
        transport: Transport | None = None,
        http_timeout_s: float | None = None,
        time_scale: float = 1.0,
        sessionmaker: async_sessionmaker[AsyncSession] | None = None,
        images: ImageSource | None = None,
    ) -> None:
        """`sessionmaker`: where credentials a marketplace replaced are stored (None: they
        live as long as the adapter); `images`: the image reader adapters get."""
        self.adapters = adapters
        self.cipher = cipher
        # A provider, read when an account's client is built (tests install sandboxes late).
        self.transport: Transport = transport or (lambda: None)
        self.http_timeout_s = http_timeout_s
        self.time_scale = time_scale
        self.sessionmaker = sessionmaker
        self.images = images
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
        fingerprint = fingerprint_of(account.credentials_encrypted)
        cached = self._clients.get(account.id)
        if cached is not None and fingerprint in cached.known:
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
        known = {fingerprint}
        try:
            adapter = construct(
                cls,
                config,
                http,
                self._limiter(account.id, cls),
                images=self.images,
                on_credentials_changed=self._storer(account.id, cls, known),
            )
        except AdapterError as exc:
            await http.aclose()
            return f"the adapter refused its configuration: {exc.message}"
        client = AccountClient(fingerprint, adapter, http, known)
        self._clients[account.id] = client
        return client

    def _storer(
        self, account_id: int, cls: type[Adapter], known: set[str]
    ) -> CredentialsChanged | None:
        if self.sessionmaker is None:
            return None

        async def changed(changes: Mapping[str, Any]) -> None:
            await self.store_credentials(account_id, cls, known, changes)

        return changed

    async def store_credentials(
        self, account_id: int, cls: type[Adapter], known: set[str], changes: Mapping[str, Any]
    ) -> bool:
        """Merge `changes` into the account's stored credentials, when those are still the ones
        the adapter stands for (`known`); True when stored. Raises when the database does (the
        adapter offers the changes again later)."""
        if self.sessionmaker is None:
            return False
        names = ", ".join(sorted(changes))
        async with transaction(self.sessionmaker) as session:
            account = await session.get(MarketplaceAccount, account_id, with_for_update=True)
            if account is None:
                return False
            if fingerprint_of(account.credentials_encrypted) not in known:
                log.warning(
                    "account %s: credentials were entered meanwhile; the marketplace's new %s "
                    "is not stored over them",
                    account_id,
                    names,
                )
                return False
            merged = {**self.cipher.decrypt(account.credentials_encrypted), **changes}
            cls.parse_config(merged)  # what is stored must stay a valid configuration
            account.credentials_encrypted = self.cipher.encrypt(merged)
            known.add(fingerprint_of(account.credentials_encrypted))
        log.info("account %s: stored the marketplace's new %s", account_id, names)
        return True

    async def aclose(self) -> None:
        """Close every cached client (they are built again on the next use); the limiters stay."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.http.aclose()


__all__ = ["AccountClient", "AdapterFactory", "fingerprint_of"]
