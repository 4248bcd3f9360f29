"""A queued "sync now" run: claimed, its accounts synced to the end, the outcome recorded with
each account's listing counts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import Listing, MarketplaceAccount, SyncRun
from odop_sync.sync import repository as repo
from odop_sync.sync.calls import EngineCore


class RunProcessor(EngineCore):
    def wake(
        self, account_id: int, *, variant_ids: Sequence[int] | None = None, full: bool = False
    ) -> None:
        raise NotImplementedError  # SyncEngine

    async def wait_idle(self, account_id: int) -> None:
        raise NotImplementedError  # SyncEngine

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


async def listing_counts(session: AsyncSession, account_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Listing.status, func.count())
        .where(Listing.account_id == account_id)
        .group_by(Listing.status)
    )
    counts = {str(status): int(n) for status, n in rows}
    counts["total"] = sum(counts.values())
    return counts
