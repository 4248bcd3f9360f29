"""The engine's database work: leases, desired-state refresh, dirty selection. What a push's
results do to a listing is `odop_sync.listings.results`; reconcile's comparison is `sync.drift`.

Every function runs inside the caller's transaction and never commits.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, insert, not_, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.accounts import problems
from odop_sync.fx import repository as fx_repo
from odop_sync.fx.rates import INR, FxQuote
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
from odop_sync.sync import listing_rows
from odop_sync.sync.desired import AccountRules, Held, Projection, project

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


async def fx_quote(
    session: AsyncSession, account: MarketplaceAccount, max_age_days: int
) -> FxQuote | None:
    """The FX quote an account in another currency converts its prices at today (UTC); None
    for an INR account."""
    if (account.currency or INR) == INR:
        return None
    return await fx_repo.quote(session, account.currency, utcnow().date(), max_age_days)


def fx_moved(account: MarketplaceAccount, fx: FxQuote | None) -> bool:
    """Whether the quote in force differs from the one the account's whole catalog was last
    projected with (a rate set, replaced, come into force or grown too old): every listing's
    converted price may change, so everything is re-projected."""
    return fx is not None and fx.key != account.projected_fx


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
    # The FX quote every chunk converts at (accounts in another currency), and whether the plan
    # covers the whole catalog (then the account remembers the quote: see `fx_moved`).
    fx: FxQuote | None = None
    covers_all: bool = False

    def chunks(self, size: int = REFRESH_CHUNK) -> list[Sequence[int]]:
        return list(_chunks(self.todo, size))


async def plan_refresh(
    session: AsyncSession,
    account: MarketplaceAccount,
    *,
    variant_ids: Sequence[int] | None = None,
    full: bool = False,
    overlap_s: float = 10.0,
    fx: FxQuote | None = None,
) -> RefreshPlan:
    """The variants a re-projection covers: the given ids, or those changed since the account's
    watermark (less `overlap_s`), or all of them. `fx`: the quote to convert at (read after
    the plan's start, so a rate set meanwhile is seen by the next pass)."""
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
    covers_all = variant_ids is None and since is None
    return RefreshPlan(todo, started, watermark=variant_ids is None, fx=fx, covers_all=covers_all)


async def refresh_chunk(
    session: AsyncSession,
    account: MarketplaceAccount,
    plan: RefreshPlan,
    ids: Sequence[int],
    *,
    sells_b2b: bool,
) -> None:
    """Re-project these variants (a chunk of the plan) and record their desired hashes.
    `sells_b2b`: the account's adapter class's (its listings carry the B2B terms)."""
    started, result = plan.started, plan.result
    rules = AccountRules.of(account, plan.fx, sells_b2b=sells_b2b)
    rows = await load_catalog(session, account.agency_id, variant_ids=ids)
    result.projected += len(rows)
    if not rows:
        return
    desired = {d.variant_id: d for d in (project(v, p, pr, rules) for v, p, pr in rows)}
    stamps = {v.id: max(v.updated_at, p.updated_at, pr.updated_at) for v, p, pr in rows}
    existing = await _listings_of(session, account.id, sorted(desired))
    inserts, held_inserts, updates, restamps = [], [], [], []
    timeline: list[dict[str, Any]] = []
    for variant_id, want in desired.items():
        have = existing.get(variant_id)
        stamp = stamps[variant_id]
        if isinstance(want, Held):
            if have is None:
                held_inserts.append(
                    listing_rows.new_listing(account.id, variant_id, want, stamp, started)
                )
            else:
                updates.append(listing_rows.hold_change(have, want, stamp, started, timeline))
        elif have is None:
            inserts.append(listing_rows.new_listing(account.id, variant_id, want, stamp, started))
        elif (
            have.held_code is None
            and have.desired_content_hash == want.content_hash
            and have.desired_offer_hash == want.offer_hash
            and have.sku == want.sku
        ):
            if have.source_changed_at != stamp:
                restamps.append({"id": have.id, "source_changed_at": stamp})
        else:
            if have.held_code is not None:
                timeline.append(listing_rows.released(have.id, want, started))
            updates.append(listing_rows.listing_change(have, want, stamp, started))
    for batch in (inserts, held_inserts):
        if batch:
            await session.execute(insert(Listing), batch)
    if held_inserts:
        # The new listings' ids, for the reason on their timelines.
        new = await _listings_of(session, account.id, [row["variant_id"] for row in held_inserts])
        for row in held_inserts:
            timeline.append(
                listing_rows.held_note(new[row["variant_id"]].id, row["held_code"], started, row)
            )
    if updates:
        await session.execute(update(Listing), updates)
    if restamps:
        await session.execute(update(Listing), restamps)
    if timeline:
        await session.execute(insert(ListingIssue), timeline)
    result.created += len(inserts) + len(held_inserts)
    result.changed += len(updates)


async def _listings_of(
    session: AsyncSession, account_id: int, variant_ids: Sequence[int]
) -> dict[int, Listing]:
    """The account's listings of these variants, by variant id."""
    existing: dict[int, Listing] = {}
    for some in _chunks(variant_ids):
        found = await session.scalars(
            select(Listing).where(Listing.account_id == account_id, Listing.variant_id.in_(some))
        )
        existing.update((row.variant_id, row) for row in found)
    return existing


async def finish_refresh(
    session: AsyncSession, account: MarketplaceAccount, plan: RefreshPlan
) -> None:
    """Every chunk of the plan is recorded: advance the account's watermark (scans, full)."""
    if not plan.watermark:
        return
    values: dict[str, Any] = {"projected_at": plan.started}
    if plan.covers_all:
        values["projected_fx"] = None if plan.fx is None else plan.fx.key
        account.projected_fx = values["projected_fx"]
    account.projected_at = plan.started
    await session.execute(
        update(MarketplaceAccount)
        .where(MarketplaceAccount.id == account.id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def refresh_desired(
    session: AsyncSession,
    account: MarketplaceAccount,
    *,
    variant_ids: Sequence[int] | None = None,
    full: bool = False,
    overlap_s: float = 10.0,
    fx: FxQuote | None = None,
    sells_b2b: bool,
) -> RefreshResult:
    """Re-project the variants that changed (given ids, or since the account's watermark, or
    all) and record their desired hashes: new listings are created, changed ones become dirty,
    and a rejected or paused listing whose product changed gets another chance. All in the
    caller's transaction; the engine also runs a plan chunk by chunk (each committed on its
    own) to push while it projects."""
    plan = await plan_refresh(
        session, account, variant_ids=variant_ids, full=full, overlap_s=overlap_s, fx=fx
    )
    # In chunks, so memory stays flat however large the catalog (a full pass over 20,000
    # variants held every row, projection and listing at once).
    for chunk in plan.chunks():
        await refresh_chunk(session, account, plan, chunk, sells_b2b=sells_b2b)
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
    session: AsyncSession,
    account: MarketplaceAccount,
    listings: Sequence[Listing],
    fx: FxQuote | None = None,
    *,
    sells_b2b: bool,
) -> dict[int, Projection]:
    """Fresh desired states for these listings (by listing id), straight from the catalog;
    `Held` for those that cannot go out now (no usable FX rate). `sells_b2b`: as for
    refresh_chunk."""
    rules = AccountRules.of(account, fx, sells_b2b=sells_b2b)
    rows = await load_catalog(
        session, account.agency_id, variant_ids=[row.variant_id for row in listings]
    )
    by_variant = {v.id: project(v, p, pr, rules) for v, p, pr in rows}
    return {row.id: by_variant[row.variant_id] for row in listings if row.variant_id in by_variant}
