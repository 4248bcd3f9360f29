"""`orders.pull`: every account's new and changed orders, page by page.

Each page is ingested and its cursor stored in one transaction, so a kill -9 repeats at most the
page in flight, and a repeat is harmless (upsert by marketplace order id, stock moved once per
unit). A pass asks for orders changed after the last pass's watermark minus an overlap, since
marketplaces show changes late. Each account's pull holds that account's pull lease, so two
workers never pull one account at once; the sync engine's push lease is separate, so pulling
never waits for a long feed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.accounts import problems
from odop_sync.adapter_sdk import Adapter, AdapterError, AuthenticationError, Capability, OrderPage
from odop_sync.config import AccountSettings, OrderSettings
from odop_sync.db import reader_of, transaction
from odop_sync.events import CatalogEvents
from odop_sync.kit.time import as_utc, utcnow
from odop_sync.metrics import LEASES_HELD, ORDER_PULLS
from odop_sync.models import MarketplaceAccount, OrderCursor
from odop_sync.orders import repository as repo
from odop_sync.orders.service import ingest
from odop_sync.sync.repository import enabled_accounts
from odop_sync.sync.scheduler import PeriodicJob

log = logging.getLogger(__name__)

# The account's adapter, or the plain-words reason there is none (as the sync engine says it).
AdapterFor = Callable[[MarketplaceAccount], Awaitable[Adapter | str]]


class OrderPuller:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: OrderSettings,
        adapter_for: AdapterFor,
        *,
        owner: str,
        events: CatalogEvents | None = None,
        accounts: AccountSettings | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = reader_of(sessionmaker)
        self.settings = settings
        self.account_settings = accounts or AccountSettings()
        self.adapter_for = adapter_for
        self.owner = owner
        self.events = events
        self._gate = asyncio.Semaphore(max(1, settings.max_concurrent_accounts))

    def periodic_job(self) -> PeriodicJob:
        return PeriodicJob(
            "orders.pull",
            self.settings.pull_interval_s,
            self.pull_all,
            "pull every account's new and changed orders, move stock, and wake the other "
            "accounts selling what sold",
        )

    async def pull_all(self) -> None:
        async with self.read_sessionmaker() as session:
            accounts = await enabled_accounts(session, ready_at=utcnow())
        results = await asyncio.gather(
            *(self._gated(a.id) for a in accounts), return_exceptions=True
        )
        for account, result in zip(accounts, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("orders.pull for account %s failed: %r", account.id, result)

    async def _gated(self, account_id: int) -> int:
        async with self._gate:
            return await self.pull_account(account_id)

    async def pull_account(self, account_id: int) -> int:
        """Pull one account's changed orders; returns the pages ingested (0 when another
        worker holds the account's pull lease, the adapter cannot pull orders, or the account
        is disabled or waiting out a problem: then nothing is called)."""
        async with transaction(self.sessionmaker) as session:
            if not await self._lease(session, account_id):
                return 0
            account = await session.get(MarketplaceAccount, account_id)
        LEASES_HELD.labels("orders").inc()
        try:
            if account is None or not account.enabled or problems.waiting(account):
                return 0
            adapter = await self.adapter_for(account)
            if isinstance(adapter, str):
                log.info("orders.pull skips account %s: %s", account_id, adapter)
                return 0
            if not adapter.supports(Capability.PULL_ORDERS):
                return 0
            try:
                pages, ok = await self._pages(account, adapter)
            except Exception:
                self._count(account, "failed")
                raise
            if not ok:
                return pages
            self._count(account, "ok")
            if account.problem is not None:
                async with transaction(self.sessionmaker) as session:
                    await problems.clear(session, account.id)
            return pages
        finally:
            LEASES_HELD.labels("orders").dec()
            async with transaction(self.sessionmaker) as session:
                await repo.release_pull_lease(session, account_id, self.owner)

    @staticmethod
    def _count(account: MarketplaceAccount, result: str) -> None:
        ORDER_PULLS.labels(str(account.id), account.adapter, result).inc()

    async def _failed(self, account: MarketplaceAccount, exc: AdapterError) -> None:
        """A page could not be pulled: counted, and when the marketplace refused the
        credentials, stored on the account (which then waits, as for the sync engine)."""
        log.warning("orders.pull account %s: %s", account.id, exc)
        self._count(account, "failed")
        if isinstance(exc, AuthenticationError):
            reason = f"{exc.message}; update the account's credentials"
            async with transaction(self.sessionmaker) as session:
                await problems.record(session, account.id, reason, self.account_settings)

    async def _lease(self, session: AsyncSession, account_id: int) -> bool:
        ttl = self.settings.lease_ttl_s
        return await repo.take_pull_lease(session, account_id, self.owner, utcnow(), ttl)

    async def _pages(self, account: MarketplaceAccount, adapter: Adapter) -> tuple[int, bool]:
        """The pages ingested, and False when the marketplace failed (counted and logged)."""
        overlap = timedelta(seconds=self.settings.overlap_s)
        pages = 0
        while pages < self.settings.max_pages_per_pull:
            async with self.read_sessionmaker() as session:
                state = await repo.get_cursor(session, account.id)
            cursor = state.cursor if state else None
            watermark = state.updated_after if state else None
            since = None if watermark is None else as_utc(watermark) - overlap
            try:
                page = await adapter.pull_orders(cursor, updated_after=since)
            except AdapterError as exc:
                await self._failed(account, exc)
                return pages, False
            async with transaction(self.sessionmaker) as session:
                if not await self._lease(session, account.id):
                    return pages, True  # the lease expired and another worker took it over
                changed = await ingest(session, account, page)
                await repo.save_cursor(session, account.id, _next_cursor(page, state))
            pages += 1
            if changed and self.events is not None:
                self.events.catalog_changed(account.agency_id, changed)
            if page.cursor is None:
                break
        return pages, True


def _next_cursor(page: OrderPage, state: OrderCursor | None) -> dict[str, object]:
    pass_high = state.pass_high if state else None
    for order in page.orders:
        seen = as_utc(order.updated_at or order.purchased_at)
        if pass_high is None or seen > as_utc(pass_high):
            pass_high = seen
    if page.cursor is not None:
        return {"cursor": page.cursor, "pass_high": pass_high}
    # The pass is complete: the next one starts from here (minus the overlap).
    watermark = page.updated_before or pass_high or (state.updated_after if state else None)
    return {"cursor": None, "pass_high": None, "updated_after": watermark, "pulled_at": utcnow()}
