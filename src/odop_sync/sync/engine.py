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
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from odop_sync.accounts import problems
from odop_sync.accounts.crypto import CredentialCipher
from odop_sync.adapter_sdk import (
    Adapter,
    AdapterError,
    AuthenticationError,
    Capability,
    ItemResult,
    ItemStatus,
    OperationLimit,
    PermanentAdapterError,
    RateLimitedError,
    RetryableAdapterError,
    SubmissionState,
)
from odop_sync.config import AccountSettings, SyncSettings
from odop_sync.db import reader_of, transaction
from odop_sync.kit.time import utcnow
from odop_sync.metrics import LEASES_HELD, SYNC_CALLS, SYNC_ITEMS
from odop_sync.models import Listing, ListingStatus, MarketplaceAccount, SyncAttempt, SyncRun
from odop_sync.sync import repository as repo
from odop_sync.sync.clients import AdapterFactory
from odop_sync.sync.repository import Pushed, ResultWriter
from odop_sync.sync.scheduler import PeriodicJob

log = logging.getLogger(__name__)

T = TypeVar("T")

# Item-route windows pushed back to back in one pass before it polls and re-projects again.
WINDOWS_PER_PASS = 25
# Variants re-projected per transaction while the item route pushes what is recorded already:
# small, so the first window goes out soon and no chunk holds the event loop (or SQLite's write
# lock) for long between two calls.
PROJECT_WHILE_PUSHING_CHUNK = 250


def _owner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class _AccountState:
    event: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    variant_ids: set[int] = field(default_factory=set)
    scan: bool = True  # re-project what changed since the watermark
    full: bool = False  # re-project everything
    timer: asyncio.TimerHandle | None = None
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    last_result: str = ""
    failures: int = 0  # consecutive passes whose calls outlasted the in-process retries
    # A remote reconcile in progress: the id of the last listing it read back (0: none yet).
    # One page a pass, so what the catalog changes meanwhile goes out between two pages.
    reconcile_after: int | None = None
    problem: bool = False  # the account has a problem stored: a successful call clears it
    calls_ok: int = 0  # successful marketplace calls since the task looked at the account


class _Frontier:
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


@dataclass
class PassReport:
    pushed: int = 0
    pending_submissions: int = 0
    drifted: int = 0  # confirmed listings the marketplace showed otherwise (reconcile pages)
    reconciling: bool = False  # a remote reconcile has pages left
    halted: str | None = None  # the account cannot be synced now (credentials, adapter)
    gone: bool = False  # halted because the account is deleted or disabled: no retry


class SyncEngine:
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
    ) -> None:
        self.sessionmaker = sessionmaker
        self.read_sessionmaker = reader_of(sessionmaker)
        self.settings = settings
        self.account_settings = accounts or AccountSettings()
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
        )
        self.owner = owner or _owner_name()
        self._accounts: dict[int, _AccountState] = {}
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
        state = self._accounts.setdefault(account_id, _AccountState())
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
        state = self._accounts.setdefault(account_id, _AccountState())
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

    # runs ---------------------------------------------------------------------------------------

    async def process_run(self, run_id: int) -> None:
        """A queued "sync now": claim it, sync its accounts to the end, record the outcome."""
        async with transaction(self.sessionmaker) as session:
            claimed = await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.status == "queued")
                .values(status="running", updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return
            run = await session.get(SyncRun, run_id)
            if run is None:
                return
            if run.account_id is not None:
                account = await session.get(MarketplaceAccount, run.account_id)
                accounts = [account] if account is not None and account.enabled else []
            else:
                accounts = await repo.enabled_accounts(session, run.agency_id)
            account_ids = [a.id for a in accounts]
        status = "done"
        summary: dict[str, Any] = {"accounts": []}
        try:
            for account_id in account_ids:
                self.wake(account_id, full=True)
            async with asyncio.timeout(self.settings.run_timeout_s):
                await asyncio.gather(*(self.wait_idle(a) for a in account_ids))
        except TimeoutError:
            status = "failed"
            summary["error"] = f"not finished within {self.settings.run_timeout_s:g} s"
        except asyncio.CancelledError:
            # Shutting down: leave it queued for the next worker.
            async with transaction(self.sessionmaker) as session:
                await session.execute(
                    update(SyncRun)
                    .where(SyncRun.id == run_id)
                    .values(status="queued")
                    .execution_options(synchronize_session=False)
                )
            raise
        async with transaction(self.sessionmaker) as session:
            for account_id in account_ids:
                state = self._accounts.get(account_id)
                counts = await listing_counts(session, account_id)
                summary["accounts"].append(
                    {
                        "account_id": account_id,
                        "listings": counts,
                        "result": state.last_result if state else "",
                    }
                )
            if any(a["result"].startswith("halted") for a in summary["accounts"]):
                status = "failed"
            await session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id)
                .values(status=status, summary=summary, finished_at=utcnow(), updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    # the account task -----------------------------------------------------------------------

    async def _account_task(self, account_id: int, state: _AccountState) -> None:
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

    async def _workable(self, account_id: int, state: _AccountState) -> bool:
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

    async def _hold_and_sync(self, account_id: int, state: _AccountState) -> None:
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

    async def _sync_account(self, account_id: int, state: _AccountState) -> None:
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

    async def _pass(self, account_id: int, state: _AccountState) -> PassReport:
        report = PassReport()
        full = False
        account: MarketplaceAccount | None = None
        plan: repo.RefreshPlan | None = None  # recorded chunk by chunk while pushing
        if not (state.full or state.variant_ids):
            # Nothing named to re-project (the item route, window after window; a sweep): read
            # the account without queueing for SQLite's write lock behind every other writer.
            async with self.read_sessionmaker() as session:
                account = await session.get(MarketplaceAccount, account_id)
                if account is not None and state.scan and account.projected_at is not None:
                    lag = timedelta(seconds=self.settings.projection_overlap_s)
                    since = account.projected_at - lag
                    changed = await repo.catalog_ids(
                        session, account.agency_id, since=since, account_id=account.id
                    )
                    if not changed:
                        # Nothing changed since the watermark; it stays where it is.
                        state.scan = False
            if account is not None and (account.projected_at is None or state.scan):
                account = None  # the write path below re-projects
        if account is None:
            async with transaction(self.sessionmaker) as session:
                account = await session.get(MarketplaceAccount, account_id)
                if account is None or not account.enabled:
                    report.halted, report.gone = "the account is gone or disabled", True
                    return report
                full, ids, scan = state.full, sorted(state.variant_ids), state.scan
                state.full, state.scan = False, False
                state.variant_ids.clear()
                if full and state.reconcile_after is None:
                    state.reconcile_after = 0  # read every confirmed listing back, page by page
                overlap = self.settings.projection_overlap_s
                if full:
                    plan = await repo.plan_refresh(session, account, full=True, overlap_s=overlap)
                else:
                    if ids:
                        await repo.refresh_desired(session, account, variant_ids=ids)
                    if scan or account.projected_at is None:
                        plan = await repo.plan_refresh(session, account, overlap_s=overlap)
                if plan is not None and not self._project_while_pushing(account, plan):
                    for chunk in plan.chunks():
                        await repo.refresh_chunk(session, account, plan, chunk)
                    await repo.finish_refresh(session, account, plan)
                    plan = None
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
                report.pushed = await self._project_and_push(account, client.adapter, plan)
        except PermanentAdapterError as exc:
            if isinstance(exc, AuthenticationError):
                report.halted = f"{exc.message}; update the account's credentials"
            else:
                raise
        return report

    def _project_while_pushing(self, account: MarketplaceAccount, plan: repo.RefreshPlan) -> bool:
        """Whether to record this re-projection chunk by chunk while the item route pushes what
        is recorded already, instead of all of it before the first call (a full pass over
        20,000 variants took 4-5 s with the marketplace's rate idle). Only for more than one
        chunk, and only where no bulk feed can follow: the feed route is chosen by the size of
        the whole dirty set, which a re-projection half recorded would understate."""
        if len(plan.todo) <= PROJECT_WHILE_PUSHING_CHUNK:
            return False
        cls = self.adapters.get(account.adapter)
        if cls is None:
            return False
        feeds = self.settings.bulk_feeds and Capability.BULK_FEED in cls.capabilities
        return not (feeds and any(x.bulk_threshold is not None for x in cls.limits.values()))

    async def _project_and_push(
        self, account: MarketplaceAccount, adapter: Adapter, plan: repo.RefreshPlan
    ) -> int:
        """Record the plan's chunks, each in a transaction of its own, and push the due
        listings of the chunks recorded so far meanwhile. The watermark moves in the last
        chunk's transaction: a crash half way leaves it, and the next pass covers the same
        ground again (every chunk recorded stays, desired against confirmed)."""
        frontier = _Frontier()

        async def project() -> None:
            try:
                chunks = plan.chunks(PROJECT_WHILE_PUSHING_CHUNK)
                for n, chunk in enumerate(chunks):
                    async with transaction(self.sessionmaker) as session:
                        await repo.refresh_chunk(session, account, plan, chunk)
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

    async def adapter_for(self, account: MarketplaceAccount) -> Adapter | str:
        """The account's adapter (one per account, shared rate limits), or why there is none."""
        return await self.clients.adapter_for(account)

    async def _record_account_problem(
        self, account_id: int, state: _AccountState, reason: str
    ) -> None:
        """The account cannot work: store why, and look again when its backoff ends."""
        async with transaction(self.sessionmaker) as session:
            retry_at = await problems.record(session, account_id, reason, self.account_settings)
        state.problem, state.calls_ok = True, 0
        if retry_at is not None:
            self._wake_later(account_id, (retry_at - utcnow()).total_seconds() + 0.05)

    # calls ----------------------------------------------------------------------------------------

    async def _call(
        self,
        account_id: int,
        adapter: Adapter,
        operation: str,
        items: int,
        call: Callable[[], Awaitable[T]],
        attempts: list[dict[str, Any]],
        route: str = "",
    ) -> T:
        """One marketplace call with in-process retries; every try goes to the attempt log."""
        settings = self.settings

        def wait(retry_state: RetryCallState) -> float:
            exc = retry_state.outcome.exception() if retry_state.outcome else None
            if isinstance(exc, RateLimitedError):
                if exc.retry_after is not None:
                    return min(exc.retry_after / self.time_scale, settings.retry_max_s * 4)
                # No Retry-After (SP-API sends none): the adapter told its rate limiter, which
                # paces the retry; backing off on top of that only idles the other calls' slots.
                return settings.retry_base_s / self.time_scale
            n = retry_state.attempt_number
            return float(min(settings.retry_max_s, settings.retry_base_s * 2 ** (n - 1)))

        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RetryableAdapterError),
            stop=stop_after_attempt(max(1, settings.call_attempts)),
            wait=wait,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                started = utcnow()
                clock = time.perf_counter()
                try:
                    value = await call()
                except AdapterError as exc:
                    outcome = "retryable" if exc.retryable else "permanent"
                    attempts.append(
                        _attempt(account_id, operation, items, outcome, started, clock, exc, route)
                    )
                    SYNC_CALLS.labels(adapter.slug, operation, outcome).inc()
                    raise
                attempts.append(
                    _attempt(account_id, operation, items, "ok", started, clock, None, route)
                )
                SYNC_CALLS.labels(adapter.slug, operation, "ok").inc()
                self._accounts.setdefault(account_id, _AccountState()).calls_ok += 1
                return value
        raise AssertionError("unreachable")  # pragma: no cover

    async def _poll(self, account: MarketplaceAccount, adapter: Adapter) -> int:
        """Resolve open submissions; returns how many are still open."""
        async with self.read_sessionmaker() as session:
            open_ = await repo.open_submissions(session, account.id)
        if not open_:
            return 0
        still_open = 0
        operation = adapter.operations.get(Capability.POLL_SUBMISSIONS, "poll_submissions")
        timeout = timedelta(seconds=self.settings.feed_timeout_s)
        for submission_id, sent_at in open_.items():
            attempts: list[dict[str, Any]] = []
            writer = self._writer(adapter, source="feed")
            try:
                (status,) = await self._call(
                    account.id,
                    adapter,
                    operation,
                    1,
                    lambda s=submission_id: adapter.poll_submissions([s]),  # type: ignore[misc]
                    attempts,
                )
            except RetryableAdapterError:
                still_open += 1
                await self._save(attempts, writer)
                continue
            async with transaction(self.sessionmaker) as session:
                listings = await repo.listings_in_submission(session, account.id, submission_id)
                if status.state is SubmissionState.PENDING:
                    if sent_at is not None and utcnow() - sent_at > timeout:
                        for listing in listings:
                            writer.resolve(listing, None, failed=True)
                    else:
                        still_open += 1
                else:
                    by_sku = {r.sku: r for r in status.results}
                    failed = status.state is SubmissionState.FAILED
                    for listing in listings:
                        writer.resolve(listing, by_sku.get(listing.sku), failed=failed)
                    SYNC_ITEMS.labels(adapter.slug, "feed_resolved").inc(len(listings))
                await writer.flush(session)
                await _insert_attempts(session, attempts)
        return still_open

    async def _reconcile_page(
        self, account: MarketplaceAccount, adapter: Adapter, state: _AccountState
    ) -> int:
        """Compare the marketplace's copy of the next page of confirmed listings with what it
        confirmed, and mark what drifted (removed there, price or stock edited there) for the
        push. Returns how many drifted; `state.reconcile_after` moves on, to None after the last
        page. One page a pass: a reconcile of 20,000 listings takes minutes at the marketplace's
        rate, and the catalog's own changes must not wait for it. A marketplace that cannot
        report states is left alone."""
        after = state.reconcile_after
        if after is None or not adapter.supports(Capability.FETCH_LISTING_STATES):
            state.reconcile_after = None
            return 0
        operation = adapter.operations.get(Capability.FETCH_LISTING_STATES, "fetch_listing_states")
        async with self.read_sessionmaker() as session:
            page = await repo.live_listings(
                session, account.id, after=after, limit=self.settings.window_items
            )
        if not page:
            state.reconcile_after = None
            return 0
        attempts: list[dict[str, Any]] = []
        try:
            states = await self._call(
                account.id,
                adapter,
                operation,
                len(page),
                lambda: adapter.fetch_listing_states([x.sku for x in page]),
                attempts,
                route="reconcile",
            )
        except RetryableAdapterError:
            states = []  # this page waits for the next reconcile
        by_sku = {remote.sku: remote for remote in states}
        drifts = [
            drift
            for listing in page
            if (remote := by_sku.get(listing.sku)) is not None
            and (
                drift := repo.drift_of(
                    listing, remote, adapter.display_name, adapter.price_step_paise
                )
            )
            is not None
        ]
        async with transaction(self.sessionmaker) as session:
            await repo.mark_drifted(session, drifts)
            await _insert_attempts(session, attempts)
        state.reconcile_after = page[-1].id
        SYNC_ITEMS.labels(adapter.slug, "drifted").inc(len(drifts))
        return len(drifts)

    async def _push_due(
        self, account: MarketplaceAccount, adapter: Adapter, frontier: _Frontier | None = None
    ) -> int:
        """Push one round of due dirty listings: content first, then offer-only changes.
        `frontier`: a re-projection in progress; only what it has recorded goes."""
        pushed = 0
        for content in (True, False):
            capability = Capability.PUSH_LISTINGS if content else Capability.PUSH_OFFERS
            if not adapter.supports(capability):
                if content or not adapter.supports(Capability.PUSH_LISTINGS):
                    continue
                capability = Capability.PUSH_LISTINGS  # full content carries the offer too
            operation = adapter.operations.get(capability, capability.value)
            limit = adapter.limits.get(operation) or OperationLimit(rate=1, burst=1)
            bulk = (
                self.settings.bulk_feeds
                and adapter.supports(Capability.BULK_FEED)
                and limit.bulk_threshold is not None
            )
            if bulk:
                # Counting scans every dirty listing: only worth it when a feed may follow.
                async with self.read_sessionmaker() as session:
                    due = await repo.count_due(session, account.id, content=content)
                if not due:
                    continue
                bulk = due >= (limit.bulk_threshold or 0)
            if not bulk:
                pushed += await self._push_windows(
                    account,
                    adapter,
                    capability,
                    operation,
                    limit,
                    content=content,
                    frontier=frontier,
                )
                continue
            size = self.settings.feed_max_items
            upto = None if frontier is None or frontier.done else frontier.upto
            async with self.read_sessionmaker() as session:
                listings = await repo.due_listings(
                    session, account.id, content=content, limit=size, variants_upto=upto
                )
                desired = await repo.project_listings(session, account, listings)
            if not listings:
                continue
            if bulk and len(listings) < (limit.bulk_threshold or 0):
                bulk = False
            pushed += await self._push(
                account, adapter, capability, operation, limit, listings, desired, bulk
            )
        return pushed

    async def _push_windows(
        self,
        account: MarketplaceAccount,
        adapter: Adapter,
        capability: Capability,
        operation: str,
        limit: OperationLimit,
        *,
        content: bool,
        frontier: _Frontier | None = None,
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
                        content=content,
                        limit=self.settings.window_items,
                        exclude=in_flight,
                        variants_upto=upto,
                    )
                    if rows or frontier is None or upto is None:
                        return rows, await repo.project_listings(session, account, rows)
                # Nothing due among what the re-projection has recorded yet: its next chunk.
                await frontier.moved_since(version)

        async def window(rows: list[Listing], desired: dict[int, Any], sent: asyncio.Event) -> int:
            try:
                return await self._push(
                    account, adapter, capability, operation, limit, rows, desired, False, sent
                )
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
        capability: Capability,
        operation: str,
        limit: OperationLimit,
        listings: list[Listing],
        desired: dict[int, Any],
        bulk: bool,
        sent: asyncio.Event | None = None,
    ) -> int:
        """Push these listings and save the results; `sent` is set once the calls are done
        (before the save)."""
        content = capability is Capability.PUSH_LISTINGS
        work = [row for row in listings if row.id in desired]
        if not work:
            return 0
        # What is pushed now is the listing's desired state from here on (the projection may be
        # newer than the stored hashes when a change has not been refreshed yet).
        for row in work:
            want = desired[row.id]
            row.desired_content_hash, row.desired_offer_hash = want.content_hash, want.offer_hash
        route = "bulk" if bulk else "items"
        if bulk:
            chunks = [work]
        else:
            size = max(1, limit.max_batch_size)
            # A chunk must stay under the bulk threshold, or the adapter would make it a feed.
            if limit.bulk_threshold is not None:
                size = min(size, max(1, limit.bulk_threshold - 1))
            chunks = [work[i : i + size] for i in range(0, len(work), size)]
        attempts: list[dict[str, Any]] = []
        writer = self._writer(adapter, source="push")
        gate = asyncio.Semaphore(1 if bulk else max(1, self.settings.item_concurrency))
        deferred: list[Listing] = []
        halt: PermanentAdapterError | None = None

        async def send(chunk: list[Listing]) -> None:
            nonlocal halt
            async with gate:
                if halt is not None:
                    return
                pushed = {
                    row.id: Pushed(
                        row.id,
                        desired[row.id].content_hash if content else None,
                        desired[row.id].offer_hash,
                    )
                    for row in chunk
                }
                payloads = [desired[row.id].content for row in chunk]
                offers = [desired[row.id].offer for row in chunk]

                def call() -> Awaitable[list[ItemResult]]:
                    if content:
                        return adapter.push_listings(payloads)
                    return adapter.push_offers(offers)

                try:
                    results = await self._call(
                        account.id, adapter, operation, len(chunk), call, attempts, route
                    )
                except RetryableAdapterError:
                    deferred.extend(chunk)
                    return
                except AuthenticationError as exc:
                    halt = exc
                    return
                except PermanentAdapterError as exc:
                    # The whole request was refused (not one item): each item carries it.
                    results = [
                        ItemResult(sku=row.sku, status=ItemStatus.REJECTED, issues=())
                        for row in chunk
                    ]
                    for row in chunk:
                        writer.note(row.id, str(exc), severity="error", code="REQUEST_REJECTED")
                if len(results) != len(chunk):
                    log.error(
                        "%s returned %d results for %d items; deferring the chunk",
                        adapter.slug,
                        len(results),
                        len(chunk),
                    )
                    deferred.extend(chunk)
                    return
                for row, result in zip(chunk, results, strict=True):
                    writer.apply(row, pushed[row.id], result)
                    SYNC_ITEMS.labels(adapter.slug, str(result.status)).inc()

        await asyncio.gather(*(send(c) for c in chunks))
        if sent is not None:
            sent.set()
        if deferred:
            failures = self._account_failures(account.id, increment=True)
            delay = repo.backoff(failures, self.settings.retry_max_s, self.settings.backoff_max_s)
            writer.defer(deferred, delay, "retryable")
        else:
            self._account_failures(account.id, reset=True)
        await self._save(attempts, writer, desired_rows=work, desired=desired)
        if halt is not None:
            raise halt
        return len(work) - len(deferred)

    def _account_failures(
        self, account_id: int, *, increment: bool = False, reset: bool = False
    ) -> int:
        state = self._accounts.setdefault(account_id, _AccountState())
        state.failures = 0 if reset else state.failures + (1 if increment else 0)
        return state.failures

    def _writer(self, adapter: Adapter, *, source: str) -> ResultWriter:
        return ResultWriter(
            source=source,
            marketplace=adapter.display_name,
            pause_after=self.settings.pause_after_failures,
            backoff_base_s=self.settings.backoff_base_s,
            backoff_max_s=self.settings.backoff_max_s,
        )

    async def _save(
        self,
        attempts: list[dict[str, Any]],
        writer: ResultWriter,
        *,
        desired_rows: Sequence[Listing] = (),
        desired: dict[int, Any] | None = None,
    ) -> None:
        async with transaction(self.sessionmaker) as session:
            if desired_rows and desired is not None:
                rows = [
                    {
                        "id": row.id,
                        "desired_content_hash": desired[row.id].content_hash,
                        "desired_offer_hash": desired[row.id].offer_hash,
                        "desired_price_paise": desired[row.id].price.final_paise,
                        "desired_quantity": desired[row.id].stock.available_to_sell,
                    }
                    for row in desired_rows
                ]
                await session.execute(update(Listing), rows)
            await writer.flush(session)
            await _insert_attempts(session, attempts)


def _attempt(
    account_id: int,
    operation: str,
    items: int,
    outcome: str,
    started: Any,
    clock: float,
    exc: AdapterError | None,
    route: str,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"route": route} if route else {}
    if exc is not None:
        detail.update(
            {"error_type": type(exc).__name__, "status_code": exc.status_code, "code": exc.code}
        )
    return {
        "account_id": account_id,
        "operation": operation[:40],
        "items": items,
        "outcome": outcome,
        "error": str(exc)[:2000] if exc is not None else None,
        "detail": detail or None,
        "started_at": started,
        "duration_ms": int((time.perf_counter() - clock) * 1000),
    }


async def _insert_attempts(session: AsyncSession, attempts: list[dict[str, Any]]) -> None:
    if attempts:
        await session.execute(insert(SyncAttempt), attempts)
        attempts.clear()


async def listing_counts(session: AsyncSession, account_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Listing.status, func.count())
        .where(Listing.account_id == account_id)
        .group_by(Listing.status)
    )
    counts = {str(status): int(n) for status, n in rows}
    counts["total"] = sum(counts.values())
    return counts


def _log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("sync background task failed", exc_info=task.exception())


__all__ = ["ListingStatus", "PassReport", "SyncEngine", "listing_counts"]
