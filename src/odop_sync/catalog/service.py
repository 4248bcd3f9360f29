"""Applying validated rows to the catalog: products, variants, the stock ledger and the audit log.

Callers own the transaction. Everything here works on sets of rows with a fixed number of queries
per call (one per table), so a 500-row chunk costs the same round trips as a 5-row one. The
queries themselves are in `odop_sync.catalog.repository`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.catalog import repository
from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.kit.problems import Conflict, FieldIssue
from odop_sync.kit.time import utcnow
from odop_sync.models import (
    Agency,
    AuditRecord,
    Producer,
    Product,
    RowStatus,
    StockReason,
    Variant,
)

PRODUCT_FIELDS = (
    "title_en",
    "title_hi",
    "description_en",
    "description_hi",
    "district_code",
    "craft",
    "odop_product",
    "gi_tag",
    "hsn_code",
    "gst_rate",
    "b2b",  # the wholesale terms, as the JSON the column stores (None: none)
)
VARIANT_FIELDS = (
    "mrp_paise",
    "price_paise",
    "weight_g",
    "length_cm",
    "width_cm",
    "height_cm",
    "material",
    "color",
    "size",
    "images",
    "attributes",
)
PRODUCER_FIELDS = (
    "kind",
    "name_en",
    "name_hi",
    "district_code",
    "craft",
    "pehchan_card",
    "udyam_number",
    "gstin",
    "phone",
)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: RowStatus
    variant_id: int | None = None
    errors: tuple[FieldIssue, ...] = ()


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value.normalize()) if value == value.to_integral() else str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return list(a) == list(b)
    return bool(a == b)


_product_getter = attrgetter(*PRODUCT_FIELDS)
_variant_getter = attrgetter(*VARIANT_FIELDS)


def _product_values(item: ItemIn) -> dict[str, Any]:
    values = dict(zip(PRODUCT_FIELDS, _product_getter(item), strict=True))
    values["b2b"] = item.b2b.to_json() if item.b2b is not None else None
    return values


def _variant_values(item: ItemIn) -> dict[str, Any]:
    values = dict(zip(VARIANT_FIELDS, _variant_getter(item), strict=True))
    values["images"] = list(item.images)
    return values


async def create_agency(session: AsyncSession, *, slug: str, name: str, state: str) -> Agency:
    try:
        return await repository.add_agency(session, slug=slug, name=name, state=state)
    except IntegrityError:
        raise Conflict(f"an agency with slug {slug!r} exists") from None


async def create_producer(
    session: AsyncSession, agency_id: int, producer: ProducerIn, actor: str
) -> Producer:
    """One new producer (audited); Conflict when the agency has one with its ref."""
    exists = await repository.producer_id_by_ref(session, agency_id, producer.ref)
    if exists is not None:
        raise Conflict(f"producer {producer.ref!r} exists (id {exists})")
    ids = await upsert_producers(session, agency_id, [producer], actor)
    created = await repository.get_producer(session, ids[producer.ref])
    if created is None:
        raise AssertionError("a producer just created is not there")
    return created


async def upsert_producers(
    session: AsyncSession, agency_id: int, producers: Sequence[ProducerIn], actor: str
) -> dict[str, int]:
    """Create or update producers by ref; returns ref → id."""
    existing = await repository.producers_by_ref(session, agency_id, [p.ref for p in producers])
    audits: list[AuditRecord] = []

    def audit(row: Producer, action: str, before: Any, after: Any) -> None:
        audits.append(
            AuditRecord(
                actor=actor,
                agency_id=agency_id,
                entity="producer",
                entity_id=row.id,
                action=action,
                before=before,
                after=after,
            )
        )

    created: list[Producer] = []
    for item in producers:
        values = {name: getattr(item, name) for name in PRODUCER_FIELDS}
        row = existing.get(item.ref)
        if row is None:
            row = Producer(agency_id=agency_id, ref=item.ref, **values)
            session.add(row)
            existing[item.ref] = row
            created.append(row)
            continue
        before, after = _diff_row({n: getattr(row, n) for n in values}, values)
        if after:
            for name in after:
                setattr(row, name, values[name])
            audit(row, "update", before, after)
    await session.flush()  # ids for the created producers
    for row in created:
        after = {"ref": row.ref, **{n: _jsonable(getattr(row, n)) for n in PRODUCER_FIELDS}}
        audit(row, "create", None, after)
    session.add_all(audits)
    return {ref: row.id for ref, row in existing.items()}


@dataclass
class _Writes:
    """What one `apply_items` call records besides the rows: audit records and stock movements,
    all stamped with the same actor, time and source."""

    agency_id: int
    actor: str
    source_ref: str
    stock_reason: StockReason
    now: datetime
    audits: list[dict[str, Any]] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)

    def audit(self, entity: str, entity_id: int, action: str, before: Any, after: Any) -> None:
        self.audits.append(
            {
                "at": self.now,
                "actor": self.actor,
                "agency_id": self.agency_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "before": before,
                "after": after,
            }
        )

    def movement(self, variant_id: int, item: ItemIn, delta: int) -> None:
        """A ledger entry bringing the variant's stock to the row's."""
        self.movements.append(
            {
                "variant_id": variant_id,
                "delta": delta,
                "balance_after": item.stock,
                "reason": self.stock_reason,
                "source_ref": f"{self.source_ref}#row:{item.row}",
                "actor": self.actor,
                "created_at": self.now,
            }
        )


@dataclass
class _ProductPlan:
    """The products a call creates (by ref, the latest row's values) and changes."""

    new: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed: dict[str, dict[str, Any]] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # refs of changed products

    def update(self, w: _Writes, ref: str, current: dict[str, Any], wanted: dict[str, Any]) -> None:
        """Change the stored product `current` to `wanted` (audited), if they differ."""
        before, after = _diff_row(current, wanted)
        if after:
            current.update(wanted)
            self.changed[ref] = current
            self.touched.add(ref)
            w.audit("product", current["id"], "update", before, after)


async def apply_items(
    session: AsyncSession,
    agency_id: int,
    items: Sequence[ItemIn],
    *,
    actor: str,
    source_ref: str,
    stock_reason: StockReason = StockReason.BATCH,
) -> list[Outcome]:
    """Upsert variants (and their products) by SKU; one Outcome per item, in order.

    A row is "unchanged" when its content hash, its stock and its product's fields all match what
    is stored; otherwise the difference is written, audited, and a stock change becomes a ledger
    movement explaining it. Set-based: a fixed number of statements per call whatever its size
    (the ORM unit of work issued one INSERT per object, a thread hop each on aiosqlite).
    """
    outcomes: list[Outcome | None] = [None] * len(items)
    producer_ids = await repository.producer_ids_by_ref(
        session, agency_id, {i.producer_ref for i in items}
    )
    live = _with_known_producer(items, producer_ids, outcomes)
    if not live:
        return _filled(outcomes)
    w = _Writes(agency_id, actor, source_ref, stock_reason, utcnow())
    products = await repository.rows_by(
        session, Product, "ref", agency_id, {i.product_ref for _, i in live}
    )
    variants = await repository.rows_by(
        session, Variant, "sku", agency_id, {i.sku for _, i in live}
    )
    touched = await _write_products(session, w, live, producer_ids, products)
    await _write_variants(session, w, live, products, variants, touched, outcomes)
    await repository.add_movements(session, w.movements)
    await repository.add_audits(session, w.audits)
    return _filled(outcomes)


def _filled(outcomes: list[Outcome | None]) -> list[Outcome]:
    return [o or Outcome(RowStatus.REJECTED) for o in outcomes]


def _with_known_producer(
    items: Sequence[ItemIn], producer_ids: dict[str, int], outcomes: list[Outcome | None]
) -> list[tuple[int, ItemIn]]:
    """The items (with their positions) whose producer exists; the others are rejected."""
    live: list[tuple[int, ItemIn]] = []
    for n, item in enumerate(items):
        if item.producer_ref in producer_ids:
            live.append((n, item))
            continue
        outcomes[n] = Outcome(
            RowStatus.REJECTED,
            errors=(
                FieldIssue(
                    row=item.row,
                    field="producer_ref",
                    message=f"no producer {item.producer_ref!r} in this agency: add it to the "
                    "batch's producers section or create it with POST /v1/producers",
                ),
            ),
        )
    return live


async def _write_products(
    session: AsyncSession,
    w: _Writes,
    live: Sequence[tuple[int, ItemIn]],
    producer_ids: dict[str, int],
    products: dict[str, dict[str, Any]],
) -> set[str]:
    """Create the new products and update the changed ones (the latest row of a product wins);
    `products` gains the created ones. Returns the refs of the products that changed."""
    plan = _plan_products(w, live, producer_ids, products)
    if plan.new:
        await _create_products(session, w, plan, products)
    if plan.changed:
        await repository.update_products(
            session,
            [
                {
                    "_id": r["id"],
                    "updated_at": w.now,
                    "producer_id": r["producer_id"],
                    **{k: r[k] for k in PRODUCT_FIELDS},
                }
                for r in sorted(plan.changed.values(), key=lambda r: r["id"])
            ],
        )
    return plan.touched


def _plan_products(
    w: _Writes,
    live: Sequence[tuple[int, ItemIn]],
    producer_ids: dict[str, int],
    products: dict[str, dict[str, Any]],
) -> _ProductPlan:
    plan = _ProductPlan()
    for _, item in live:
        wanted = {**_product_values(item), "producer_id": producer_ids[item.producer_ref]}
        ref = item.product_ref
        if ref in plan.new:
            plan.new[ref].update(wanted)
            continue
        current = products.get(ref)
        if current is None:
            plan.new[ref] = {
                "agency_id": w.agency_id,
                "ref": ref,
                "created_at": w.now,
                "updated_at": w.now,
                **wanted,
            }
            continue
        plan.update(w, ref, current, wanted)
    return plan


async def _create_products(
    session: AsyncSession, w: _Writes, plan: _ProductPlan, products: dict[str, dict[str, Any]]
) -> None:
    # Sorted, and tolerant of a product another chunk of the same batch created meanwhile
    # (chunks run concurrently on PostgreSQL): one lock order, no unique-key failure.
    refs = sorted(plan.new)
    created = await repository.insert_products(session, [plan.new[ref] for ref in refs])
    created_refs: set[str] = set()
    for product_id, ref in created:
        created_refs.add(ref)
        values = plan.new[ref]
        products[ref] = {**values, "id": product_id}
        after = {"ref": ref}
        for k in PRODUCT_FIELDS:
            after[k] = _jsonable(values[k])
        w.audit("product", product_id, "create", None, after)
    raced = set(refs) - created_refs
    if raced:
        found_raced = await repository.rows_by(session, Product, "ref", w.agency_id, raced)
        for ref, current in found_raced.items():
            wanted = {k: plan.new[ref][k] for k in (*PRODUCT_FIELDS, "producer_id")}
            products[ref] = current
            plan.update(w, ref, current, wanted)


async def _write_variants(
    session: AsyncSession,
    w: _Writes,
    live: Sequence[tuple[int, ItemIn]],
    products: dict[str, dict[str, Any]],
    variants: dict[str, dict[str, Any]],
    touched: set[str],
    outcomes: list[Outcome | None],
) -> None:
    """Create, update or leave each live item's variant; its Outcome goes to `outcomes`."""
    new: dict[str, tuple[int, ItemIn, dict[str, Any], dict[str, Any]]] = {}
    updates: list[dict[str, Any]] = []
    for n, item in live:
        product_id = products[item.product_ref]["id"]
        wanted = {**_variant_values(item), "product_id": product_id}
        canonical = item.to_json()
        digest = item.content_hash(canonical)
        current = variants.get(item.sku)
        if current is None:
            new[item.sku] = (n, item, canonical, _new_variant(w, item, digest, wanted))
        elif (
            current["content_hash"] == digest
            and current["stock_on_hand"] == item.stock
            and current["product_id"] == product_id
            and item.product_ref not in touched
        ):
            outcomes[n] = Outcome(RowStatus.UNCHANGED, current["id"])
        else:
            updates.append(_variant_update(w, item, current, wanted, digest))
            outcomes[n] = Outcome(RowStatus.UPDATED, current["id"])
    if new:
        await _create_variants(session, w, new, outcomes)
    if updates:
        updates.sort(key=lambda u: u["_id"])  # one lock order across concurrent chunks
        await repository.update_variants(session, updates)


def _new_variant(w: _Writes, item: ItemIn, digest: str, wanted: dict[str, Any]) -> dict[str, Any]:
    return {
        "agency_id": w.agency_id,
        "sku": item.sku,
        "stock_on_hand": item.stock,
        "content_hash": digest,
        "version": 1,
        "created_at": w.now,
        "updated_at": w.now,
        **wanted,
    }


def _variant_update(
    w: _Writes, item: ItemIn, current: dict[str, Any], wanted: dict[str, Any], digest: str
) -> dict[str, Any]:
    """The UPDATE parameters of a changed variant; its audit and stock movement recorded."""
    before, after = _diff_row(current, wanted)
    if current["stock_on_hand"] != item.stock:
        before["stock_on_hand"], after["stock_on_hand"] = current["stock_on_hand"], item.stock
        w.movement(current["id"], item, item.stock - current["stock_on_hand"])
    if after:
        w.audit("variant", current["id"], "update", before, after)
    return {
        "_id": current["id"],
        **wanted,
        "stock_on_hand": item.stock,
        "content_hash": digest,
        "version": current["version"] + 1,
        "updated_at": w.now,
    }


async def _create_variants(
    session: AsyncSession,
    w: _Writes,
    new: dict[str, tuple[int, ItemIn, dict[str, Any], dict[str, Any]]],
    outcomes: list[Outcome | None],
) -> None:
    created = await repository.insert_variants(session, [values for *_, values in new.values()])
    for variant_id, sku in created:
        n, item, canonical, _ = new[sku]
        outcomes[n] = Outcome(RowStatus.CREATED, variant_id)
        if item.stock:
            w.movement(variant_id, item, item.stock)
        w.audit("variant", variant_id, "create", None, canonical)


def _diff_row(
    current: dict[str, Any], wanted: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in wanted.items():
        if not _same(current.get(name), value):
            before[name] = _jsonable(current.get(name))
            after[name] = _jsonable(value)
    return before, after
