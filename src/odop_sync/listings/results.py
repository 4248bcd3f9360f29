"""A listing's state machine: what a marketplace's answer to a push (or to an async submission)
does to the listing — confirmed, submitted, rejected with backoff, paused after identical
rejections, waiting for its catalog mapping, or deferred — and the timeline entries that say
why. `ResultWriter` collects the changes and flushes them in bulk inside the caller's
transaction (it never commits)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.adapter_sdk import NEEDS_CATALOG_MAPPING, ItemIssue, ItemResult, ItemStatus
from odop_sync.fx.rates import RateUsed
from odop_sync.kit.time import utcnow
from odop_sync.models import Listing, ListingIssue, ListingStatus


@dataclass(frozen=True, slots=True)
class Pushed:
    """What one listing carried in a push: the hashes the marketplace would confirm."""

    listing_id: int
    content_hash: str | None  # None: an offer-only push
    offer_hash: str
    fx: RateUsed | None = None  # the FX rate its prices were converted at


@dataclass
class Outcome:
    accepted: int = 0
    submitted: int = 0
    rejected: int = 0
    paused: int = 0
    needs_mapping: int = 0
    issues: list[dict[str, Any]] = field(default_factory=list)


def failure_signature(issues: Sequence[ItemIssue]) -> str:
    key = "|".join(sorted(f"{i.code}:{i.field}" for i in issues if i.severity == "error"))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def backoff(failures: int, base: float, cap: float) -> timedelta:
    return timedelta(seconds=min(cap, base * 2.0 ** max(0, failures - 1)))


class ResultWriter:
    """Turns adapter results into listing updates and timeline entries, flushed in bulk."""

    def __init__(
        self,
        *,
        source: str,
        marketplace: str,
        pause_after: int,
        backoff_base_s: float,
        backoff_max_s: float,
    ) -> None:
        self.source = source
        self.marketplace = marketplace
        self.pause_after = pause_after
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.updates: list[dict[str, Any]] = []
        self.timeline: list[dict[str, Any]] = []
        self.outcome = Outcome()

    def _issues(self, listing_id: int, issues: Sequence[ItemIssue], now: datetime) -> None:
        for issue in issues:
            self.timeline.append(
                {
                    "listing_id": listing_id,
                    "at": now,
                    "source": self.source,
                    "severity": str(issue.severity),
                    "code": issue.code[:64],
                    "field": (issue.field or None) and issue.field[:120],
                    "message": issue.message[:2000],
                }
            )

    def note(self, listing_id: int, message: str, severity: str = "info", code: str = "") -> None:
        self.timeline.append(
            {
                "listing_id": listing_id,
                "at": utcnow(),
                "source": "engine",
                "severity": severity,
                "code": code or None,
                "field": None,
                "message": message[:2000],
            }
        )

    def apply(self, listing: Listing, pushed: Pushed, result: ItemResult) -> None:
        now = utcnow()
        self._issues(listing.id, result.issues, now)
        change: dict[str, Any] = {"id": listing.id, "updated_at": now, "last_pushed_at": now}
        if pushed.fx is not None:
            # "Which rate did the marketplace get?": the one of the price last pushed.
            change.update(
                fx_rate=pushed.fx.rate, fx_source=pushed.fx.source, fx_valid_on=pushed.fx.valid_on
            )
        if result.remote_id:
            change["remote_id"] = result.remote_id[:120]
        if result.status is ItemStatus.SUBMITTED:
            change.update(
                status=ListingStatus.SUBMITTED,
                submission_id=(result.submission_id or "")[:120] or None,
                pending_content_hash=pushed.content_hash,
                pending_offer_hash=pushed.offer_hash,
                submitted_at=now,
            )
            self.outcome.submitted += 1
        elif result.status in (ItemStatus.ACCEPTED, ItemStatus.UNCHANGED):
            self._confirm(listing, change, pushed.content_hash, pushed.offer_hash, now)
        else:
            self._reject(listing, change, result.issues, now)
        self._keep_held(listing, change)
        self.updates.append(change)

    def hold(self, listing: Listing, code: str, reason: str) -> None:
        """The listing cannot go out now (no usable FX rate): it waits as needs_mapping with
        the reason (on its timeline when new) until a re-projection finds it can go."""
        if listing.held_code != code or listing.held_reason != reason[:500]:
            self.note(listing.id, reason, severity="warning", code=code)
        self.updates.append(
            {
                "id": listing.id,
                "updated_at": utcnow(),
                "status": ListingStatus.NEEDS_MAPPING,
                "held_code": code,
                "held_reason": reason[:500],
                "next_attempt_at": None,
            }
        )

    @staticmethod
    def _keep_held(listing: Listing, change: dict[str, Any]) -> None:
        # Held back meanwhile (its submission was out when the rate went): it stays waiting.
        if listing.held_code is not None and "status" in change:
            change["status"] = ListingStatus.NEEDS_MAPPING

    def resolve(self, listing: Listing, result: ItemResult | None, *, failed: bool) -> None:
        """An async submission came back: `result` for this SKU, or none in the report."""
        now = utcnow()
        change: dict[str, Any] = {
            "id": listing.id,
            "updated_at": now,
            "submission_id": None,
            "pending_content_hash": None,
            "pending_offer_hash": None,
            "submitted_at": None,
        }
        if result is not None:
            self._issues(listing.id, result.issues, now)
            if result.remote_id:
                change["remote_id"] = result.remote_id[:120]
        if result is not None and result.status is ItemStatus.REJECTED:
            self._reject(listing, change, result.issues, now)
        elif failed and result is None:
            # The marketplace dropped the whole submission: send it again.
            change["status"] = ListingStatus.PENDING
            self.note(listing.id, f"{self.marketplace} did not process the submission; resending")
        else:
            content = listing.pending_content_hash or listing.confirmed_content_hash
            self._confirm(listing, change, content, listing.pending_offer_hash, now)
        self._keep_held(listing, change)
        self.updates.append(change)

    def _confirm(
        self,
        listing: Listing,
        change: dict[str, Any],
        content_hash: str | None,
        offer_hash: str | None,
        now: datetime,
    ) -> None:
        content = content_hash or listing.confirmed_content_hash
        offer = offer_hash or listing.confirmed_offer_hash
        clean = content == listing.desired_content_hash and offer == listing.desired_offer_hash
        still_open = listing.submission_id is not None and "submission_id" not in change
        change.update(
            confirmed_content_hash=content,
            confirmed_offer_hash=offer,
            last_confirmed_at=now,
            failure_count=0,
            failure_signature=None,
            next_attempt_at=None,
            dirty_since=None if clean else (listing.dirty_since or now),
            status=(
                ListingStatus.SUBMITTED
                if still_open and not clean
                else ListingStatus.LIVE
                if clean
                else ListingStatus.PENDING
            ),
        )
        if listing.status in (ListingStatus.REJECTED, ListingStatus.PAUSED):
            self.note(listing.id, f"accepted by {self.marketplace}; the listing is live again")
        self.outcome.accepted += 1

    def _reject(
        self, listing: Listing, change: dict[str, Any], issues: Sequence[ItemIssue], now: datetime
    ) -> None:
        if any(i.code == NEEDS_CATALOG_MAPPING for i in issues):
            # Not a failure to retry: nothing changes until someone maps the variant onto the
            # marketplace's catalog. The listing waits (no backoff, no pause) with the reason on
            # its timeline, and a change to the variant's content wakes it.
            change.update(
                status=ListingStatus.NEEDS_MAPPING,
                failure_count=0,
                failure_signature=None,
                next_attempt_at=None,
                paused_reason=None,
            )
            self.outcome.needs_mapping += 1
            return
        signature = failure_signature(issues)
        failures = listing.failure_count + 1 if listing.failure_signature == signature else 1
        change.update(failure_count=failures, failure_signature=signature)
        first = next((i.message for i in issues if i.severity == "error"), None)
        first = first or f"{self.marketplace} refused the listing without saying why"
        if failures >= self.pause_after:
            reason = (
                f"paused after {failures} identical rejections by {self.marketplace}: {first} "
                "(fix the product; a changed product is tried again by itself)"
            )
            change.update(status=ListingStatus.PAUSED, paused_reason=reason[:500])
            self.note(listing.id, reason, severity="warning", code="PAUSED")
            self.outcome.paused += 1
        else:
            change.update(
                status=ListingStatus.REJECTED,
                next_attempt_at=now + backoff(failures, self.backoff_base_s, self.backoff_max_s),
            )
        self.outcome.rejected += 1
        self.outcome.issues.append({"listing_id": listing.id, "sku": listing.sku, "issue": first})

    def defer(self, listings: Sequence[Listing], delay: timedelta, reason: str) -> None:
        """A retryable failure outlasted the in-process retries: try these again later."""
        now = utcnow()
        for listing in listings:
            self.updates.append(
                {"id": listing.id, "updated_at": now, "next_attempt_at": now + delay}
            )
        del reason  # recorded in the attempt log, not on every listing's timeline

    async def flush(self, session: AsyncSession) -> None:
        if self.updates:
            # One statement per distinct column set (executemany needs uniform parameters).
            groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            for row in self.updates:
                groups.setdefault(tuple(sorted(row)), []).append(row)
            for rows in groups.values():
                await session.execute(update(Listing), rows)
        if self.timeline:
            await session.execute(insert(ListingIssue), self.timeline)
        self.updates, self.timeline = [], []


__all__ = ["Outcome", "Pushed", "ResultWriter", "backoff", "failure_signature"]
