"""One marketplace call with in-process retries (tenacity), every try recorded in
`sync_attempts`; the per-account state the engine keeps between passes; and saving what a call
brought back (listing results, attempts) in one transaction."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
)

from odop_sync.adapter_sdk import (
    Adapter,
    AdapterError,
    RateLimitedError,
    RetryableAdapterError,
)
from odop_sync.config import FxSettings, SyncSettings
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.listings.results import ResultWriter
from odop_sync.metrics import SYNC_CALLS
from odop_sync.models import Listing, SyncAttempt

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class AccountState:
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


class EngineCore:
    """What every part of the sync engine shares (SyncEngine sets these up)."""

    sessionmaker: async_sessionmaker[AsyncSession]
    read_sessionmaker: async_sessionmaker[AsyncSession]
    settings: SyncSettings
    fx_settings: FxSettings
    time_scale: float
    _accounts: dict[int, AccountState]

    async def _call(
        self,
        account_id: int,
        adapter: Adapter,
        operation: str,
        items: int,
        call: Callable[[], Awaitable[T]],
        attempts: list[dict[str, Any]],
        route: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> T:
        """One marketplace call with in-process retries; every try goes to the attempt log
        (with `detail` added to what it records, e.g. the FX rate of the prices sent)."""
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
                        _attempt(
                            account_id,
                            operation,
                            items,
                            outcome,
                            started,
                            clock,
                            exc,
                            route,
                            detail,
                        )
                    )
                    SYNC_CALLS.labels(adapter.slug, operation, outcome).inc()
                    raise
                attempts.append(
                    _attempt(
                        account_id, operation, items, "ok", started, clock, None, route, detail
                    )
                )
                SYNC_CALLS.labels(adapter.slug, operation, "ok").inc()
                self._accounts.setdefault(account_id, AccountState()).calls_ok += 1
                return value
        raise AssertionError("unreachable")  # pragma: no cover

    def _account_failures(
        self, account_id: int, *, increment: bool = False, reset: bool = False
    ) -> int:
        state = self._accounts.setdefault(account_id, AccountState())
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
                        "desired_price_minor": desired[row.id].price_minor,
                        "desired_quantity": desired[row.id].stock.available_to_sell,
                    }
                    for row in desired_rows
                ]
                await session.execute(update(Listing), rows)
            await writer.flush(session)
            await insert_attempts(session, attempts)


def _attempt(
    account_id: int,
    operation: str,
    items: int,
    outcome: str,
    started: Any,
    clock: float,
    exc: AdapterError | None,
    route: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {"route": route} if route else {}
    detail.update(extra or {})
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


async def insert_attempts(session: AsyncSession, attempts: list[dict[str, Any]]) -> None:
    if attempts:
        await session.execute(insert(SyncAttempt), attempts)
        attempts.clear()
