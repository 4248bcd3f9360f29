"""Reading the marketplace back: open submissions (feeds) polled and their reports applied, and
one page a pass of confirmed listings compared with the marketplace's copy (drift)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from odop_sync.adapter_sdk import (
    Adapter,
    Capability,
    RetryableAdapterError,
    SubmissionState,
)
from odop_sync.db import transaction
from odop_sync.kit.time import utcnow
from odop_sync.metrics import SYNC_ITEMS
from odop_sync.models import MarketplaceAccount
from odop_sync.sync import repository as repo
from odop_sync.sync.calls import AccountState, EngineCore, insert_attempts
from odop_sync.sync.drift import drift_of, live_listings, mark_drifted

log = logging.getLogger(__name__)


class Reconciler(EngineCore):
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
                await insert_attempts(session, attempts)
        return still_open

    async def _reconcile_page(
        self, account: MarketplaceAccount, adapter: Adapter, state: AccountState
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
            page = await live_listings(
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
            and (drift := drift_of(listing, remote, adapter.display_name, adapter.price_step_paise))
            is not None
        ]
        async with transaction(self.sessionmaker) as session:
            await mark_drifted(session, drifts)
            await insert_attempts(session, attempts)
        state.reconcile_after = page[-1].id
        SYNC_ITEMS.labels(adapter.slug, "drifted").inc(len(drifts))
        return len(drifts)
