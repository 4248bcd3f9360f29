"""The sync engine: converge every marketplace account on the canonical catalog.

One asyncio task per account with work, holding the account's lease row while it runs, so two
workers (in this process or any other sharing the database) never push to one account at once.
A pass of that task:

1. re-projects what changed (the variants named by a wake-up, or everything changed since the
   account's watermark) into desired hashes;
2. polls the account's open async submissions (feeds) and applies their reports;
3. reads dirty listings that are due, chooses the route — one bulk feed when the set is at least
   the adapter's bulk threshold, else item calls at the marketplace's batch size — and pushes
   them with fresh payloads, retrying retryable errors in-process (tenacity) and deferring what
   still fails with persistent backoff (`next_attempt_at`);
4. records every marketplace call in `sync_attempts` and confirms only what was accepted.

The task keeps passing while there is work, waits for a wake-up or the next feed poll while a
submission is open, then releases the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.accounts import problems
from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.adapter_sdk import (
    Adapter,
    AuthenticationError,
    PermanentAdapterError,
)
from odop_sync.config import AccountSettings, FxSettings, SyncSettings
from odop_sync.db import reader_of, transaction
from odop_sync.kit.time import utcnow
from odop_sync.metrics import LEASES_HELD
from odop_sync.models import ListingStatus, MarketplaceAccount, SyncRun
from odop_sync.sync import repository as repo
from odop_sync.sync import routing
from odop_sync.sync.calls import AccountState
from odop_sync.sync.clients import AdapterFactory
from odop_sync.sync.push import Pusher
from odop_sync.sync.reconcile import Reconciler
from odop_sync.sync.runs import RunProcessor, listing_counts
from odop_sync.sync.scheduler import PeriodicJob
from odop_sync.sync.wholesale import sells_b2b

log = logging.getLogger(__name__)

# Variants re-projected per transaction while the item route pushes what is recorded already:
# small, so the first window goes out soon and no chunk holds the event loop (or SQLite's write
# lock) for long between two calls.
PROJECT_WHILE_PUSHING_CHUNK = 250


def _owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class PassReport:
    pushed: int = 0
    pending_submissions: int = 0
    drifted: int = 0  # confirmed listings the marketplace showed otherwise (reconcile pages)
    reconciling: bool = False  # a remote reconcile has pages left
    halted: str | None = None  # the account cannot be synced now (credentials, adapter)
    gone: bool = False  # halted because the account is deleted or disabled: no retry


class SyncEngine(Pusher, Reconciler, RunProcessor):
    """Lifecycle, wake-ups, and each account's task and pass; pushing (`push`), reading back
    (`reconcile`), runs (`runs`) and calls (`calls`) are the bases'."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: SyncSettings,
        adapters: dict[str, type[Adapter]],
        cipher: CredentialCipher,
        *,
        transport: Callable[[], httpx.AsyncBaseTransport | None] | None = None,
        owner: str | None = None,
        accounts: AccountSettings | None = None,
        clients: AdapterFactory | None = None,
        fx: FxSettings | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = reader_of(sessionmaker)
        self.settings = settings
        self.account_settings = accounts or AccountSettings()
        self.fx_settings = fx or FxSettings()
        self.adapters = adapters
        self.cipher = cipher
        # The process's adapters (one per account, one rate limiter per account and operation);
        # an engine of its own builds them with `transport` (read when a client is built).
        self.clients = clients or AdapterFactory(
            adapters,
            cipher,
            transport=transport,
            http_timeout_s=settings.http_timeout_s,
            time_scale=settings.rate_limit_scale,
            sessionmaker=sessionmaker,
        )
        self.owner = owner or _owner_name()
        self._accounts: dict[int, AccountState] = {}
        self._gate = asyncio.Semaphore(max(1, settings.max_concurrent_accounts))
        self._background: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self.started = False
        # Observers (tests, benches): called with (event, account_id) on "lease", "release" and
        # "busy" (another worker holds the lease).
        self.observers: list[Callable[[str, int], None]] = []

    @property
    def time_scale(self) -> float:
        """How much faster than the wall clock the marketplace's time runs (a sandbox's); the
        rate limiters built from here on use it."""
        return self.clients.time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        self.clients.time_scale = value

    # lifecycle ------------------------------------------------------------------------------

    def start(self, *, sweep: bool = True) -> None:
        """Accept wake-ups; with `sweep`, look at every account at once (a worker starting)."""
        self._stopping = False
        self.started = True
        if sweep:
            self._spawn(self.sweep(full=True, runs=True))

    async def stop(self, grace_s: float = 5.0) -> None:
        """Let every account task finish the pass it is in (up to `grace_s`), then cancel what
        is left: a pass cut mid-transaction would only be rolled back, but a clean end releases
        the lease at once instead of letting it expire."""
        self._stopping = True
        for state in self._accounts.values():
            if state.timer is not None:
                state.timer.cancel()
            state.event.set()
        tasks = [
            s.task for s in self._accounts.values() if s.task is not None and not s.task.done()
        ]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        tasks += list(self._background)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.clients.aclose()
        self.started = False

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    def periodic_jobs(self) -> list[PeriodicJob]:
        s = self.settings
        return [
            PeriodicJob(
                "sync.sweep",
                s.sweep_interval_s,
                lambda: self.sweep(runs=True),
                "wake every account with due work and pick up queued sync runs",
            ),
            PeriodicJob(
                "sync.reconcile",
                s.reconcile_interval_s,
                lambda: self.sweep(full=True),
                "re-project every account's catalog, compare the marketplace's copy of each "
                "confirmed listing, and push whatever drifted",
            ),
        ]

    # wake-ups ---------------------------------------------------------------------------------

    def catalog_changed(self, agency_id: int, variant_ids: Sequence[int]) -> None:
        """CatalogEvents listener (this process) and NOTIFY handler (other processes)."""
        if self._stopping or not self.started:
            return
        self._spawn(self._wake_agency(agency_id, list(variant_ids)))

    def run_requested(self, run_id: int) -> None:
        if self._stopping or not self.started:
            return
        self._spawn(self.process_run(run_id))

    async def _wake_agency(self, agency_id: int, variant_ids: list[int]) -> None:
        async with self.read_sessionmaker() as session:
            accounts = await repo.enabled_accounts(session, agency_id, ready_at=utcnow())
        for account in accounts:
            self.wake(account.id, variant_ids=variant_ids or None)

    def wake(
        self, account_id: int, *, variant_ids: Sequence[int] | None = None, full: bool = False
    ) -> None:
        """Make sure a task for the account runs (or passes again) soon."""
        if self._stopping:
            return
        state = self._accounts.setdefault(account_id, AccountState())
        if full:
            state.full = True
        elif variant_ids:
            state.variant_ids.update(variant_ids)
        else:
            state.scan = True
        state.event.set()
        if state.task is None or state.task.done():
            state.idle.clear()
            state.task = asyncio.ensure_future(self._account_task(account_id, state))

    def _wake_later(self, account_id: int, delay: float) -> None:
        state = self._accounts.setdefault(account_id, AccountState())
        if state.timer is not None:
            state.timer.cancel()
        loop = asyncio.get_running_loop()
        state.timer = loop.call_later(max(0.0, delay), lambda: self.wake(account_id))

    async def sweep(self, *, full: bool = False, runs: bool = False) -> None:
        """Wake every enabled account not waiting out a problem (the scheduler's safety net) and
        pick up queued runs."""
        async with self.read_sessionmaker() as session:
            accounts = await repo.enabled_accounts(session, ready_at=utcnow())
            queued = (
                list(await session.scalars(select(SyncRun.id).where(SyncRun.status == "queued")))
                if runs
                else []
            )
        for account in accounts:
            self.wake(account.id, full=full)
        for run_id in queued:
            self._spawn(self.process_run(run_id))

    async def wait_all_idle(self) -> None:
        """Until every account task started so far has nothing left to do."""
        for account_id in list(self._accounts):
            await self.wait_idle(account_id)

    async def wait_idle(self, account_id: int) -> None:
        """Until the account's task has nothing left to do (wrap in asyncio.timeout)."""
        state = self._accounts.get(account_id)
        if state is None or state.task is None:
            return
        await state.idle.wait()

    # the account task -----------------------------------------------------------------------

    async def _account_task(self, account_id: int, state: AccountState) -> None:
        try:
            if await self._workable(account_id, state):
                async with self._gate:
                    await self._hold_and_sync(account_id, state)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("sync of account %s failed", account_id)
            state.last_result = f"error: {type(exc).__name__}"
            self._wake_later(account_id, self.settings.backoff_base_s)
        finally:
            state.idle.set()
            if state.event.is_set() and not self._stopping:
                # Woken after the last pass looked: go again.
                asyncio.get_running_loop().call_soon(self.wake, account_id)

    async def _workable(self, account_id: int, state: AccountState) -> bool:
        """Whether the account may call its marketplace now. A deleted or disabled account is
        left alone until it changes (the change wakes it); one waiting out a problem is woken
        when its wait ends. Wake-ups meanwhile are dropped: nothing is called for them."""
        state.event.clear()  # a wake-up from here on (an account change) looks again
        async with self.read_sessionmaker() as session:
            account = await session.get(MarketplaceAccount, account_id)
        if account is None or not account.enabled:
            state.last_result = "halted: the account is gone or disabled"
            return False
        now = utcnow()
        if problems.waiting(account, now):
            retry_at = account.problem_retry_at
            when = (
                "when the account changes"
                if retry_at is None
                else f"at {retry_at.isoformat(timespec='seconds')}"
            )
            state.last_result = f"halted: {account.problem} (next attempt {when})"
            if retry_at is not None:
                self._wake_later(account_id, (retry_at - now).total_seconds() + 0.05)
            return False
        state.problem, state.calls_ok = account.problem is not None, 0
        return True

    async def _hold_and_sync(self, account_id: int, state: AccountState) -> None:
        ttl = self.settings.lease_ttl_s
        async with transaction(self.sessionmaker) as session:
            held = await repo.acquire_lease(session, account_id, self.owner, ttl)
        if not held:
            for observer in self.observers:
                observer("busy", account_id)
            state.event.clear()
            state.last_result = "busy: another worker holds the lease"
            # The holder was woken too (NOTIFY); look again once its lease could have lapsed.
            self._wake_later(account_id, ttl)
            return
        for observer in self.observers:
            observer("lease", account_id)
        LEASES_HELD.labels("sync").inc()
        work = asyncio.current_task()
        renewer = asyncio.ensure_future(self._renew(account_id, work))
        try:
            await self._sync_account(account_id, state)
        finally:
            LEASES_HELD.labels("sync").dec()
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            for observer in self.observers:
                observer("release", account_id)
            with contextlib.suppress(Exception):
                async with transaction(self.sessionmaker) as session:
                    await repo.release_lease(session, account_id, self.owner)

    async def _renew(self, account_id: int, work: asyncio.Task[Any] | None) -> None:
        ttl = self.settings.lease_ttl_s
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                async with transaction(self.sessionmaker) as session:
                    held = await repo.acquire_lease(session, account_id, self.owner, ttl)
            except Exception:
                log.exception("could not renew the lease of account %s", account_id)
                continue
            if not held and work is not None:
                log.warning("lost the lease of account %s; stopping its sync", account_id)
                work.cancel()
                return

    async def _sync_account(self, account_id: int, state: AccountState) -> None:
        while not self._stopping:
            state.event.clear()
            report = await self._pass(account_id, state)
            if report.halted:
                state.last_result = f"halted: {report.halted}"
                if not report.gone:
                    await self._record_account_problem(account_id, state, report.halted)
                return
            if state.problem and state.calls_ok:
                async with transaction(self.sessionmaker) as session:
                    await problems.clear(session, account_id)
                state.problem = False
            if report.pushed or report.drifted or report.reconciling:
                continue
            if report.pending_submissions:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.event.wait(), self.settings.feed_poll_s)
                continue
            if state.event.is_set():
                continue
            state.last_result = "ok"
            async with self.read_sessionmaker() as session:
                due = await repo.next_due_at(session, account_id)
            if due is not None:
                self._wake_later(account_id, (due - utcnow()).total_seconds() + 0.05)
            return

    async def _pass(self, account_id: int, state: AccountState) -> PassReport:
        report = PassReport()
        account: MarketplaceAccount | None = None
        plan: repo.RefreshPlan | None = None  # recorded chunk by chunk while pushing
        max_age = self.fx_settings.max_age_days
        if not (state.full or state.variant_ids):
            # Nothing named to re-project (the item route, window after window; a sweep): read
            # the account without queueing for SQLite's write lock behind every other writer.
            async with self.read_sessionmaker() as session:
                account = await session.get(MarketplaceAccount, account_id)
                fx_moved = account is not None and repo.fx_moved(
                    account, await repo.fx_quote(session, account, max_age)
                )
                if account is not None and state.scan and account.projected_at is not None:
                    lag = timedelta(seconds=self.settings.projection_overlap_s)
                    since = account.projected_at - lag
                    changed = await repo.catalog_ids(
                        session, account.agency_id, since=since, account_id=account.id
                    )
                    if not changed:
                        # Nothing changed since the watermark; it stays where it is.
                        state.scan = False
            if account is not None and (account.projected_at is None or state.scan or fx_moved):
                account = None  # the write path below re-projects
        if account is None:
            async with transaction(self.sessionmaker) as session:
                account = await session.get(MarketplaceAccount, account_id)
                if account is None or not account.enabled:
                    report.halted, report.gone = "the account is gone or disabled", True
                    return report
                plan = await self._reproject(session, account, state)
        elif not account.enabled:
            report.halted, report.gone = "the account is gone or disabled", True
            return report
        client = await self.clients.client_for(account)
        if isinstance(client, str):
            report.halted = client
            return report
        try:
            report.pending_submissions = await self._poll(account, client.adapter)
            if state.reconcile_after is not None:
                # Before the push, and before a re-projection recorded while pushing starts (its
                # chunks and the drift marks write the same rows).
                report.drifted = await self._reconcile_page(account, client.adapter, state)
                report.reconciling = state.reconcile_after is not None
            if plan is None:
                report.pushed = await self._push_due(account, client.adapter)
            else:
                report.pushed = await self._project_and_push(
                    account, client.adapter, plan, PROJECT_WHILE_PUSHING_CHUNK
                )
        except PermanentAdapterError as exc:
            if isinstance(exc, AuthenticationError):
                report.halted = f"{exc.message}; update the account's credentials"
            else:
                raise
        return report

    async def _reproject(
        self, session: AsyncSession, account: MarketplaceAccount, state: AccountState
    ) -> repo.RefreshPlan | None:
        """Re-project what the account's state asks for (named variants, a scan, everything),
        in the caller's transaction; returns a plan still to be recorded while pushing."""
        full, ids, scan = state.full, sorted(state.variant_ids), state.scan
        state.full, state.scan = False, False
        state.variant_ids.clear()
        if full and state.reconcile_after is None:
            state.reconcile_after = 0  # read every confirmed listing back, page by page
        overlap = self.settings.projection_overlap_s
        # The plan converts at this quote throughout and the account remembers it: a rate set
        # meanwhile differs from it, so the next pass re-projects again.
        fx = await repo.fx_quote(session, account, self.fx_settings.max_age_days)
        b2b = sells_b2b(self.adapters, account.adapter)
        plan = None
        if full or repo.fx_moved(account, fx):
            # Another FX quote in force changes every converted price: all of them.
            plan = await repo.plan_refresh(session, account, full=True, overlap_s=overlap, fx=fx)
        else:
            if ids:
                await repo.refresh_desired(session, account, variant_ids=ids, fx=fx, sells_b2b=b2b)
            if scan or account.projected_at is None:
                plan = await repo.plan_refresh(session, account, overlap_s=overlap, fx=fx)
        if plan is not None and not self._project_while_pushing(account, plan):
            for chunk in plan.chunks():
                await repo.refresh_chunk(session, account, plan, chunk, sells_b2b=b2b)
            await repo.finish_refresh(session, account, plan)
            plan = None
        return plan

    def _project_while_pushing(self, account: MarketplaceAccount, plan: repo.RefreshPlan) -> bool:
        """Whether to record this re-projection chunk by chunk while the item route pushes what
        is recorded already, instead of all of it before the first call (a full pass over
        20,000 variants took 4-5 s with the marketplace's rate idle). Only for more than one
        chunk, and only where no bulk feed can follow: the feed route is chosen by the size of
        the whole dirty set, which a re-projection half recorded would understate."""
        if len(plan.todo) <= PROJECT_WHILE_PUSHING_CHUNK:
            return False
        cls = self.adapters.get(account.adapter)
        return cls is not None and not routing.feeds_possible(cls, self.settings)

    async def adapter_for(self, account: MarketplaceAccount) -> Adapter | str:
        """The account's adapter (one per account, shared rate limits), or why there is none."""
        return await self.clients.adapter_for(account)

    async def _record_account_problem(
        self, account_id: int, state: AccountState, reason: str
    ) -> None:
        """The account cannot work: store why, and look again when its backoff ends."""
        async with transaction(self.sessionmaker) as session:
            retry_at = await problems.record(session, account_id, reason, self.account_settings)
        state.problem, state.calls_ok = True, 0
        if retry_at is not None:
            self._wake_later(account_id, (retry_at - utcnow()).total_seconds() + 0.05)


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sync background task failed", exc_info=task.exception())


__all__ = ["ListingStatus", "PassReport", "SyncEngine", "listing_counts"]
