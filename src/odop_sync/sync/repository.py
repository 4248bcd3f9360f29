"""The engine's database work: leases, desired-state refresh, dirty selection, results.

Every function runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.accounts import problems
from odop_sync.adapter_sdk import (
    NEEDS_CATALOG_MAPPING,
    ItemIssue,
    ItemResult,
    ItemStatus,
    Money,
    RemoteListingState,
)
from odop_sync.kit.time import utcnow
from odop_sync.models import (
    AccountLease,
    Listing,
    ListingIssue,
    ListingStatus,
    MarketplaceAccount,
    Producer,
    Product,
    Variant,
)
from odop_sync.sync.desired import AccountRules, Desired, project

# Listings the engine leaves alone until a person (or a changed product) acts.
WAITING = (ListingStatus.PAUSED, ListingStatus.NEEDS_MAPPING)
IN_CHUNKS = 2000  # ids per IN (...) list
REFRESH_CHUNK = 1000  # variants re-projected at a time


def _chunks(values: Sequence[Any], size: int = IN_CHUNKS) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# leases ------------------------------------------------------------------------------------


async def acquire_lease(session: AsyncSession, account_id: int, owner: str, ttl: float) -> bool:
    """Take (or extend) the account's lease; False when another live worker holds it.

    The conditional UPDATE is the arbiter: PostgreSQL re-checks its WHERE after a concurrent
    holder commits, SQLite serialises writers (BEGIN IMMEDIATE)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    dialect_insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ins = dialect_insert(AccountLease)
    await session.execute(
        ins.values(account_id=account_id, owner=None, expires_at=None).on_conflict_do_nothing()
    )
    now = utcnow()
    result = await session.execute(
        update(AccountLease)
        .where(
            AccountLease.account_id == account_id,
            or_(
                AccountLease.owner.is_(None),
                AccountLease.owner == owner,
                AccountLease.expires_at < now,
            ),
        )
        .values(owner=owner, expires_at=now + timedelta(seconds=ttl))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def release_lease(session: AsyncSession, account_id: int, owner: str) -> None:
    await session.execute(
        update(AccountLease)
        .where(AccountLease.account_id == account_id, AccountLease.owner == owner)
        .values(owner=None, expires_at=None)
        .execution_options(synchronize_session=False)
    )


# desired state -----------------------------------------------------------------------------


async def enabled_accounts(
    session: AsyncSession, agency_id: int | None = None, *, ready_at: datetime | None = None
) -> list[MarketplaceAccount]:
    """Enabled accounts; with `ready_at`, only those not waiting out a problem then."""
    query = select(MarketplaceAccount).where(MarketplaceAccount.enabled.is_(True))
    if ready_at is not None:
        query = query.where(problems.ready(ready_at))
    if agency_id is not None:
        query = query.where(MarketplaceAccount.agency_id == agency_id)
    return list(await session.scalars(query.order_by(MarketplaceAccount.id)))


def _catalog_rows() -> Any:
    return (
        select(Variant, Product, Producer)
        .join(Product, Variant.product_id == Product.id)
        .join(Producer, Product.producer_id == Producer.id)
    )


def _changed_since(since: datetime) -> Any:
    return or_(
        Variant.updated_at >= since,
        Product.updated_at >= since,
        Producer.updated_at >= since,
    )


async def catalog_ids(
    session: AsyncSession,
    agency_id: int,
    *,
    since: datetime | None = None,
    account_id: int | None = None,
) -> list[int]:
    """Ids of the agency's variants (changed since `since`, counting product and producer);
    with `account_id`, only those the account's listing has not been projected from since they
    changed (no listing yet, or a variant, product or producer row newer than its stamp)."""
    query = (
        select(Variant.id)
        .join(Product, Variant.product_id == Product.id)
        .join(Producer, Product.producer_id == Producer.id)
        .where(Variant.agency_id == agency_id)
    )
    if since is not None:
        query = query.where(_changed_since(since))
    if account_id is not None:
        stamp = Listing.source_changed_at
        query = query.outerjoin(
            Listing, and_(Listing.account_id == account_id, Listing.variant_id == Variant.id)
        ).where(
            or_(
                Listing.id.is_(None),
                stamp.is_(None),
                stamp < Variant.updated_at,
                stamp < Product.updated_at,
                stamp < Producer.updated_at,
            )
        )
    return list(await session.scalars(query.order_by(Variant.id)))


async def load_catalog(
    session: AsyncSession,
    agency_id: int,
    *,
    variant_ids: Sequence[int] | None = None,
    since: datetime | None = None,
) -> list[tuple[Variant, Product, Producer]]:
    base = _catalog_rows().where(Variant.agency_id == agency_id)
    if since is not None:
        base = base.where(_changed_since(since))
    if variant_ids is None:
        return [tuple(r) for r in (await session.execute(base))]
    rows: list[tuple[Variant, Product, Producer]] = []
    for ids in _chunks(sorted(set(variant_ids))):
        result = await session.execute(base.where(Variant.id.in_(ids)))
        rows.extend(tuple(r) for r in result)
    return rows


@dataclass
class RefreshResult:
    projected: int = 0
    created: int = 0
    changed: int = 0


def _dirty(listing: Listing | dict[str, Any], desired: Desired) -> bool:
    get = listing.get if isinstance(listing, dict) else lambda k: getattr(listing, k)
    return (
        get("confirmed_content_hash") != desired.content_hash
        or get("confirmed_offer_hash") != desired.offer_hash
    )


@dataclass
class RefreshPlan:
    """What one re-projection covers: the variant ids, in ascending order (projected chunk by
    chunk), and the moment it began, which becomes the account's watermark once every chunk is
    recorded (a re-projection cut short leaves the watermark where it was, so the next one
    covers the same ground again)."""

    todo: list[int]
    started: datetime
    watermark: bool  # a scan or a full pass (not named variants): advances projected_at
    result: RefreshResult = field(default_factory=RefreshResult)

    def chunks(self, size: int = REFRESH_CHUNK) -> list[Sequence[int]]:
        return list(_chunks(self.todo, size))


async def plan_refresh(
    session: AsyncSession,
    account: MarketplaceAccount,
    *,
    variant_ids: Sequence[int] | None = None,
    full: bool = False,
    overlap_s: float = 10.0,
) -> RefreshPlan:
    """The variants a re-projection covers: the given ids, or those changed since the account's
    watermark (less `overlap_s`), or all of them."""
    started = utcnow()
    since = None
    if variant_ids is None and not full and account.projected_at is not None:
        since = account.projected_at - timedelta(seconds=overlap_s)
    if variant_ids is None:
        # A scan skips what was projected from the variant's current rows already (the overlap
        # is there for writes committed late, which the stamps catch row by row).
        unstamped = account.id if since is not None else None
        todo = await catalog_ids(session, account.agency_id, since=since, account_id=unstamped)
    else:
        todo = sorted(set(variant_ids))
    return RefreshPlan(todo, started, watermark=variant_ids is None)


async def refresh_chunk(
    session: AsyncSession, account: MarketplaceAccount, plan: RefreshPlan, ids: Sequence[int]
) -> None:
    """Re-project these variants (a chunk of the plan) and record their desired hashes."""
    started, result = plan.started, plan.result
    rules = AccountRules.of(account)
    rows = await load_catalog(session, account.agency_id, variant_ids=ids)
    result.projected += len(rows)
    if not rows:
        return
    desired = {d.variant_id: d for d in (project(v, p, pr, rules) for v, p, pr in rows)}
    stamps = {v.id: max(v.updated_at, p.updated_at, pr.updated_at) for v, p, pr in rows}
    existing: dict[int, Listing] = {}
    for some in _chunks(sorted(desired)):
        found = await session.scalars(
            select(Listing).where(Listing.account_id == account.id, Listing.variant_id.in_(some))
        )
        existing.update((row.variant_id, row) for row in found)
    inserts, updates, restamps = [], [], []
    for variant_id, want in desired.items():
        have = existing.get(variant_id)
        stamp = stamps[variant_id]
        if have is None:
            inserts.append(
                {
                    "account_id": account.id,
                    "variant_id": variant_id,
                    "sku": want.sku,
                    "source_changed_at": stamp,
                    "status": ListingStatus.PENDING,
                    "desired_content_hash": want.content_hash,
                    "desired_offer_hash": want.offer_hash,
                    "desired_price_paise": want.price.final_paise,
                    "desired_quantity": want.stock.available_to_sell,
                    "dirty_since": started,
                    "failure_count": 0,
                    "created_at": started,
                    "updated_at": started,
                }
            )
            continue
        if (
            have.desired_content_hash == want.content_hash
            and have.desired_offer_hash == want.offer_hash
            and have.sku == want.sku
        ):
            if have.source_changed_at != stamp:
                restamps.append({"id": have.id, "source_changed_at": stamp})
            continue
        change: dict[str, Any] = {
            "id": have.id,
            "sku": want.sku,
            "source_changed_at": stamp,
            "desired_content_hash": want.content_hash,
            "desired_offer_hash": want.offer_hash,
            "desired_price_paise": want.price.final_paise,
            "desired_quantity": want.stock.available_to_sell,
            "updated_at": started,
        }
        dirty = _dirty(have, want)
        change["dirty_since"] = (have.dirty_since or started) if dirty else None
        remapped = (
            have.status is ListingStatus.NEEDS_MAPPING
            and have.desired_content_hash != want.content_hash
        )
        if have.status in (ListingStatus.REJECTED, ListingStatus.PAUSED) or remapped:
            # The product changed: what was refused may now pass. Try again at once. (A
            # listing waiting for its catalog mapping waits on until its content changes:
            # the mapping is content, a new price alone does not map it.)
            change.update(
                status=ListingStatus.PENDING,
                failure_count=0,
                failure_signature=None,
                paused_reason=None,
                next_attempt_at=None,
            )
        elif have.status is ListingStatus.LIVE and dirty:
            change["status"] = ListingStatus.PENDING
        elif have.status is ListingStatus.PENDING and not dirty:
            change["status"] = ListingStatus.LIVE
        updates.append(change)
    if inserts:
        await session.execute(insert(Listing), inserts)
    if updates:
        await session.execute(update(Listing), updates)
    if restamps:
        await session.execute(update(Listing), restamps)
    result.created += len(inserts)
    result.changed += len(updates)


async def finish_refresh(
    session: AsyncSession, account: MarketplaceAccount, plan: RefreshPlan
) -> None:
    """Every chunk of the plan is recorded: advance the account's watermark (scans, full)."""
    if not plan.watermark:
        return
    account.projected_at = plan.started
    await session.execute(
        update(MarketplaceAccount)
        .where(MarketplaceAccount.id == account.id)
        .values(projected_at=plan.started)
        .execution_options(synchronize_session=False)
    )


async def refresh_desired(
    session: AsyncSession,
    account: MarketplaceAccount,
    *,
    variant_ids: Sequence[int] | None = None,
    full: bool = False,
    overlap_s: float = 10.0,
) -> RefreshResult:
    """Re-project the variants that changed (given ids, or since the account's watermark, or
    all) and record their desired hashes: new listings are created, changed ones become dirty,
    and a rejected or paused listing whose product changed gets another chance. All in the
    caller's transaction; the engine also runs a plan chunk by chunk (each committed on its
    own) to push while it projects."""
    plan = await plan_refresh(
        session, account, variant_ids=variant_ids, full=full, overlap_s=overlap_s
    )
    # In chunks, so memory stays flat however large the catalog (a full pass over 20,000
    # variants held every row, projection and listing at once).
    for chunk in plan.chunks():
        await refresh_chunk(session, account, plan, chunk)
    await finish_refresh(session, account, plan)
    return plan.result


# dirty selection ---------------------------------------------------------------------------


def _due(account_id: int, now: datetime) -> Any:
    return and_(
        Listing.account_id == account_id,
        Listing.status.notin_(WAITING),
        or_(
            Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash),
            Listing.desired_offer_hash.is_distinct_from(Listing.confirmed_offer_hash),
        ),
        or_(Listing.next_attempt_at.is_(None), Listing.next_attempt_at <= now),
        # Already on its way in an open submission: wait for that report.
        not_(
            and_(
                Listing.submission_id.is_not(None),
                Listing.pending_offer_hash.is_not_distinct_from(Listing.desired_offer_hash),
                or_(
                    Listing.pending_content_hash.is_not_distinct_from(Listing.desired_content_hash),
                    and_(
                        Listing.pending_content_hash.is_(None),
                        Listing.confirmed_content_hash.is_not_distinct_from(
                            Listing.desired_content_hash
                        ),
                    ),
                ),
            )
        ),
    )


async def due_listings(
    session: AsyncSession,
    account_id: int,
    *,
    content: bool,
    limit: int,
    exclude: Collection[int] = (),
    variants_upto: int | None = None,
) -> list[Listing]:
    """Dirty listings whose turn it is, oldest change first. `content`: those whose content
    must be (re)sent; otherwise those whose content is confirmed and only the offer differs.
    `exclude`: ids on their way already (pushed, results not yet saved). `variants_upto`: only
    listings of variants up to this id (a re-projection in progress has recorded those)."""
    now = utcnow()
    kind = Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash)
    query = select(Listing).where(_due(account_id, now), kind if content else not_(kind))
    if exclude:
        query = query.where(Listing.id.notin_(sorted(exclude)))
    if variants_upto is not None:
        query = query.where(Listing.variant_id <= variants_upto)
    query = query.order_by(Listing.dirty_since, Listing.id).limit(limit)
    return list(await session.scalars(query))


async def count_due(session: AsyncSession, account_id: int, *, content: bool) -> int:
    now = utcnow()
    kind = Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash)
    query = select(func.count()).where(_due(account_id, now), kind if content else not_(kind))
    return int(await session.scalar(query) or 0)


async def next_due_at(session: AsyncSession, account_id: int) -> datetime | None:
    """When the earliest backed-off dirty listing becomes due again."""
    query = select(func.min(Listing.next_attempt_at)).where(
        Listing.account_id == account_id,
        Listing.status.notin_(WAITING),
        Listing.next_attempt_at > utcnow(),
        or_(
            Listing.desired_content_hash.is_distinct_from(Listing.confirmed_content_hash),
            Listing.desired_offer_hash.is_distinct_from(Listing.confirmed_offer_hash),
        ),
    )
    value: datetime | None = await session.scalar(query)
    return value


async def open_submissions(session: AsyncSession, account_id: int) -> dict[str, datetime | None]:
    """Submission id → when it was sent, for the account's unresolved async submissions."""
    rows = await session.execute(
        select(Listing.submission_id, func.min(Listing.submitted_at))
        .where(Listing.account_id == account_id, Listing.submission_id.is_not(None))
        .group_by(Listing.submission_id)
    )
    return {sid: at for sid, at in rows if sid is not None}


# results -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Pushed:
    """What one listing carried in a push: the hashes the marketplace would confirm."""

    listing_id: int
    content_hash: str | None  # None: an offer-only push
    offer_hash: str


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
        self.updates.append(change)

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


async def listings_by_ids(session: AsyncSession, ids: Sequence[int]) -> list[Listing]:
    out: list[Listing] = []
    for chunk in _chunks(list(ids)):
        out.extend(await session.scalars(select(Listing).where(Listing.id.in_(chunk))))
    return out


async def listings_in_submission(
    session: AsyncSession, account_id: int, submission_id: str
) -> list[Listing]:
    return list(
        await session.scalars(
            select(Listing).where(
                Listing.account_id == account_id, Listing.submission_id == submission_id
            )
        )
    )


async def project_listings(
    session: AsyncSession, account: MarketplaceAccount, listings: Sequence[Listing]
) -> dict[int, Desired]:
    """Fresh desired states for these listings (by listing id), straight from the catalog."""
    rules = AccountRules.of(account)
    rows = await load_catalog(
        session, account.agency_id, variant_ids=[row.variant_id for row in listings]
    )
    by_variant = {v.id: project(v, p, pr, rules) for v, p, pr in rows}
    return {row.id: by_variant[row.variant_id] for row in listings if row.variant_id in by_variant}


# Reconcile: what the marketplace shows against what it last confirmed ----------------------------


@dataclass(frozen=True, slots=True)
class LiveListing:
    id: int
    sku: str
    price_paise: int | None
    quantity: int | None


@dataclass(frozen=True, slots=True)
class Drift:
    listing_id: int
    whole: bool  # the listing itself is gone: content and offer go again
    message: str


async def live_listings(
    session: AsyncSession, account_id: int, *, after: int, limit: int
) -> list[LiveListing]:
    """Confirmed listings of the account (the ones a marketplace-side change can drift), by id."""
    rows = await session.execute(
        select(Listing.id, Listing.sku, Listing.desired_price_paise, Listing.desired_quantity)
        .where(
            Listing.account_id == account_id,
            Listing.status == ListingStatus.LIVE,
            Listing.id > after,
        )
        .order_by(Listing.id)
        .limit(limit)
    )
    return [LiveListing(*row) for row in rows]


def drift_of(
    listing: LiveListing, remote: RemoteListingState, marketplace: str, price_step: int = 1
) -> Drift | None:
    """How the marketplace's copy differs from what it confirmed, in plain words, or None.
    `price_step`: the marketplace keeps prices in steps of this many paise (rounded down)."""
    sku = listing.sku
    sent = None if listing.price_paise is None else listing.price_paise // price_step * price_step
    if not remote.exists:
        return Drift(
            listing.id,
            True,
            f"SKU {sku} is no longer on {marketplace} (removed there); it is being listed again",
        )
    found: list[str] = []
    if remote.price is not None and sent is not None and remote.price.amount != sent:
        found.append(
            f"price {remote.price.to_decimal()} instead of {Money(amount=sent).to_decimal()}"
        )
    # Less stock there than sent is what a sale does before its order is pulled (the marketplace
    # counts it down itself): pushing the old number back would sell units twice, so only more
    # than sent is drift. The order pull brings the lower number in through the ledger.
    if (
        remote.quantity is not None
        and listing.quantity is not None
        and remote.quantity > listing.quantity
    ):
        found.append(f"quantity {remote.quantity} instead of {listing.quantity}")
    if not found:
        return None
    return Drift(
        listing.id,
        False,
        f"SKU {sku} on {marketplace} showed {' and '.join(found)} (changed outside odop-sync); "
        "the catalog's values are being sent again",
    )


async def mark_drifted(session: AsyncSession, drifts: Sequence[Drift]) -> None:
    """Forget the confirmation of drifted listings so the next push repairs them, and say why on
    each listing's timeline."""
    if not drifts:
        return
    now = utcnow()
    base = {
        "status": ListingStatus.PENDING,
        "dirty_since": now,
        "next_attempt_at": None,
        "failure_count": 0,
        "failure_signature": None,
        "confirmed_offer_hash": None,
    }
    # Bulk UPDATE by primary key: one statement per column set.
    whole = [
        {"id": d.listing_id, **base, "confirmed_content_hash": None} for d in drifts if d.whole
    ]
    offers = [{"id": d.listing_id, **base} for d in drifts if not d.whole]
    for rows in (whole, offers):
        if rows:
            await session.execute(update(Listing), rows)
    await session.execute(
        insert(ListingIssue),
        [
            {
                "listing_id": d.listing_id,
                "at": now,
                "source": "reconcile",
                "severity": "warning",
                "code": "drift",
                "field": None,
                "message": d.message[:2000],
            }
            for d in drifts
        ],
    )
