"""Pushing due listings: the item route window after window, or one bulk feed, the route chosen
by `routing`; what a re-projection in progress has recorded (the frontier) is all that goes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from odop_sync.adapter_sdk import (
    Adapter,
    AuthenticationError,
    Capability,
    ItemResult,
    ItemStatus,
    ListingPayload,
    OfferUpdate,
    PermanentAdapterError,
    RetryableAdapterError,
)
from odop_sync.db import transaction
from odop_sync.listings.results import Pushed, ResultWriter, backoff
from odop_sync.metrics import SYNC_ITEMS
from odop_sync.models import Listing, MarketplaceAccount
from odop_sync.sync import repository as repo
from odop_sync.sync import routing
from odop_sync.sync.calls import EngineCore
from odop_sync.sync.desired import Desired, Held

_P = TypeVar("_P", ListingPayload, OfferUpdate)

log = logging.getLogger(__name__)

# Item-route windows pushed back to back in one pass before it polls and re-projects again.
WINDOWS_PER_PASS = 25


class Frontier:
    """A re-projection recorded chunk by chunk (ascending variant ids, each chunk committed on
    its own) while the account pushes: the listings of variants up to `upto` carry their new
    desired state and may go; the others wait until their chunk is recorded, so no listing is
    re-projected and pushed at the same time."""

    def __init__(self) -> None:
        self.upto = 0
        self.done = False
        self.version = 0
        self._moved = asyncio.Event()

    def advance(self, upto: int) -> None:
        self.upto = max(self.upto, upto)
        self._bump()

    def close(self) -> None:
        self.done = True
        self._bump()

    def _bump(self) -> None:
        self.version += 1
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()

    async def moved_since(self, version: int) -> None:
        moved = self._moved
        if self.version == version:
            await moved.wait()


class Pusher(EngineCore):
    async def _project_and_push(
        self,
        account: MarketplaceAccount,
        adapter: Adapter,
        plan: repo.RefreshPlan,
        chunk_size: int,
    ) -> int:
        """Record the plan's chunks, each in a transaction of its own, and push the due
        listings of the chunks recorded so far meanwhile. The watermark moves in the last
        chunk's transaction: a crash half way leaves it, and the next pass covers the same
        ground again (every chunk recorded stays, desired against confirmed). `chunk_size`:
        variants per transaction."""
        frontier = Frontier()

        async def project() -> None:
            try:
                chunks = plan.chunks(chunk_size)
                for n, chunk in enumerate(chunks):
                    async with transaction(self.sessionmaker) as session:
                        await repo.refresh_chunk(
                            session, account, plan, chunk, sells_b2b=adapter.sells_b2b
                        )
                        if n == len(chunks) - 1:
                            await repo.finish_refresh(session, account, plan)
                    frontier.advance(chunk[-1])
            finally:
                frontier.close()

        projecting = asyncio.ensure_future(project())
        try:
            pushed = await self._push_due(account, adapter, frontier)
        except asyncio.CancelledError:
            # Stopping, or the lease is lost: as after a crash, the watermark has not moved.
            projecting.cancel()
            with contextlib.suppress(BaseException):
                await projecting
            raise
        except Exception:
            # A failed push must not cut the re-projection short (a full pass after a rule
            # change would leave part of the catalog projected the old way behind a watermark
            # that no longer covers it): record it to the end, then fail.
            with contextlib.suppress(Exception):
                await projecting
            raise
        await projecting  # its failure is the pass's
        return pushed

    async def _push_due(
        self, account: MarketplaceAccount, adapter: Adapter, frontier: Frontier | None = None
    ) -> int:
        """Push one round of due dirty listings: content first, then offer-only changes.
        `frontier`: a re-projection in progress; only what it has recorded goes."""
        pushed = 0
        for route in routing.routes(adapter, self.settings):
            bulk = route.bulk_threshold is not None
            if bulk:
                # Counting scans every dirty listing: only worth it when a feed may follow.
                async with self.read_sessionmaker() as session:
                    due = await repo.count_due(session, account.id, content=route.content)
                if not due:
                    continue
                bulk = route.bulk(due)
            if not bulk:
                pushed += await self._push_windows(account, adapter, route, frontier=frontier)
                continue
            upto = None if frontier is None or frontier.done else frontier.upto
            async with self.read_sessionmaker() as session:
                listings = await repo.due_listings(
                    session,
                    account.id,
                    content=route.content,
                    limit=self.settings.feed_max_items,
                    variants_upto=upto,
                )
                fx = await repo.fx_quote(session, account, self.fx_settings.max_age_days)
                desired = await repo.project_listings(
                    session, account, listings, fx, sells_b2b=adapter.sells_b2b
                )
            if listings:
                pushed += await self._push(
                    account, adapter, route, listings, desired, route.bulk(len(listings))
                )
        return pushed

    async def _push_windows(
        self,
        account: MarketplaceAccount,
        adapter: Adapter,
        route: routing.Route,
        *,
        frontier: Frontier | None = None,
    ) -> int:
        """The item route: window after window of due listings, each committed on its own, the
        next one read and projected while the current one is on the wire and saved while the
        next one is, so the marketplace's rate goes to calls instead of waiting on the database.
        Returns after WINDOWS_PER_PASS windows, or at once on a wake-up (the pass then
        re-projects and polls), but not before a re-projection in progress (`frontier`) is
        recorded: the pass waits for it anyway."""
        state = self._accounts.get(account.id)
        in_flight: set[int] = set()  # pushed, results not saved yet: not due again
        tasks: list[asyncio.Task[int]] = []

        async def fetch() -> tuple[list[Listing], dict[int, Any]]:
            while True:
                version = frontier.version if frontier is not None else 0
                upto = None if frontier is None or frontier.done else frontier.upto
                async with self.read_sessionmaker() as session:
                    rows = await repo.due_listings(
                        session,
                        account.id,
                        content=route.content,
                        limit=self.settings.window_items,
                        exclude=in_flight,
                        variants_upto=upto,
                    )
                    if rows or frontier is None or upto is None:
                        fx = await repo.fx_quote(session, account, self.fx_settings.max_age_days)
                        return rows, await repo.project_listings(
                            session, account, rows, fx, sells_b2b=adapter.sells_b2b
                        )
                # Nothing due among what the re-projection has recorded yet: its next chunk.
                await frontier.moved_since(version)

        async def window(rows: list[Listing], desired: dict[int, Any], sent: asyncio.Event) -> int:
            try:
                return await self._push(account, adapter, route, rows, desired, False, sent)
            finally:
                sent.set()
                in_flight.difference_update(row.id for row in rows)

        try:
            rows, desired = await fetch()
            while rows and not any(t.done() and t.exception() for t in tasks):
                in_flight.update(row.id for row in rows)
                sent = asyncio.Event()
                tasks.append(asyncio.ensure_future(window(rows, desired, sent)))
                # While a re-projection is being recorded the pass cannot end before it does:
                # stopping at a wake-up or at the window count would only idle the rate.
                projecting = frontier is not None and not frontier.done
                woken = state is not None and state.event.is_set()
                if not projecting and (len(tasks) >= WINDOWS_PER_PASS or woken):
                    break
                rows, desired = await fetch()
                await sent.wait()
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        done = await asyncio.gather(*tasks, return_exceptions=True)
        for outcome in done:
            if isinstance(outcome, BaseException):
                raise outcome
        return sum(n for n in done if isinstance(n, int))

    async def _push(
        self,
        account: MarketplaceAccount,
        adapter: Adapter,
        route: routing.Route,
        listings: list[Listing],
        desired: dict[int, Any],
        bulk: bool,
        sent: asyncio.Event | None = None,
    ) -> int:
        """Push these listings and save the results; `sent` is set once the calls are done
        (before the save). A listing whose fresh projection is held (no usable FX rate) is not
        sent: it waits, saying why."""
        work = [row for row in listings if isinstance(desired.get(row.id), Desired)]
        held = [row for row in listings if isinstance(desired.get(row.id), Held)]
        if not work and not held:
            return 0
        # What is pushed now is the listing's desired state from here on (the projection may be
        # newer than the stored hashes when a change has not been refreshed yet).
        for row in work:
            want = desired[row.id]
            row.desired_content_hash, row.desired_offer_hash = want.content_hash, want.offer_hash
        push = _Push(account, adapter, route, desired, bulk, self._writer(adapter, source="push"))
        for row in held:
            push.writer.hold(row, desired[row.id].hold.code, desired[row.id].hold.reason)
        gate = asyncio.Semaphore(1 if bulk else max(1, self.settings.item_concurrency))

        async def send(chunk: list[Listing]) -> None:
            async with gate:
                if push.halt is None:
                    await self._send(push, chunk)

        calls = ([work] if bulk else route.chunks(work)) if work else []  # all held: no call
        await asyncio.gather(*(send(c) for c in calls))
        if sent is not None:
            sent.set()
        if push.deferred:
            failures = self._account_failures(account.id, increment=True)
            delay = backoff(failures, self.settings.retry_max_s, self.settings.backoff_max_s)
            push.writer.defer(push.deferred, delay, "retryable")
        else:
            self._account_failures(account.id, reset=True)
        await self._save(push.attempts, push.writer, desired_rows=work, desired=desired)
        if push.halt is not None:
            raise push.halt
        return len(work) - len(push.deferred)

    async def _send(self, push: _Push, chunk: list[Listing]) -> None:
        """One call with a chunk of the push; its results go to the push's writer."""
        adapter, desired = push.adapter, push.desired
        # The offer route falls back to full listings where the adapter cannot push offers.
        content = push.route.capability is Capability.PUSH_LISTINGS
        pushed = {
            row.id: Pushed(
                row.id,
                desired[row.id].content_hash if content else None,
                desired[row.id].offer_hash,
                desired[row.id].fx,
            )
            for row in chunk
        }
        # Every attempt of an account in another currency records the rate its prices carry.
        rates = {desired[row.id].fx for row in chunk} - {None}
        detail = {"fx": rates.pop().detail()} if len(rates) == 1 else None
        # The marketplace's id as last confirmed rides along (outside the hashed desired state)
        # for marketplaces whose calls name their own product id (Alibaba.com).
        payloads = [_with_remote_id(desired[row.id].content, row.remote_id) for row in chunk]
        offers = [_with_remote_id(desired[row.id].offer, row.remote_id) for row in chunk]

        def call() -> Awaitable[list[ItemResult]]:
            if content:
                return adapter.push_listings(payloads)
            return adapter.push_offers(offers)

        route = "bulk" if push.bulk else "items"
        try:
            results = await self._call(
                push.account.id,
                adapter,
                push.route.operation,
                len(chunk),
                call,
                push.attempts,
                route,
                detail,
            )
        except RetryableAdapterError:
            push.deferred.extend(chunk)
            return
        except AuthenticationError as exc:
            push.halt = exc
            return
        except PermanentAdapterError as exc:
            # The whole request was refused (not one item): each item carries it.
            results = [
                ItemResult(sku=row.sku, status=ItemStatus.REJECTED, issues=()) for row in chunk
            ]
            for row in chunk:
                push.writer.note(row.id, str(exc), severity="error", code="REQUEST_REJECTED")
        if len(results) != len(chunk):
            log.error(
                "%s returned %d results for %d items; deferring the chunk",
                adapter.slug,
                len(results),
                len(chunk),
            )
            push.deferred.extend(chunk)
            return
        for row, result in zip(chunk, results, strict=True):
            push.writer.apply(row, pushed[row.id], result)
            SYNC_ITEMS.labels(adapter.slug, str(result.status)).inc()


def _with_remote_id(payload: _P, remote_id: str | None) -> _P:
    return payload if remote_id is None else payload.model_copy(update={"remote_id": remote_id})


@dataclass
class _Push:
    """One push of due listings, its chunks sent concurrently."""

    account: MarketplaceAccount
    adapter: Adapter
    route: routing.Route
    desired: dict[int, Any]
    bulk: bool
    writer: ResultWriter
    attempts: list[dict[str, Any]] = field(default_factory=list)
    deferred: list[Listing] = field(default_factory=list)
    halt: PermanentAdapterError | None = None
