"""Applying validated rows to the catalog: products, variants, the stock ledger and the audit log.

Callers own the transaction. Everything here works on sets of rows with a fixed number of queries
per call (one per table), so a 500-row chunk costs the same round trips as a 5-row one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import Any

from sqlalchemy import Table, Update, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.catalog.items import ItemIn, ProducerIn
from odop_sync.db import insert_many, matches_any
from odop_sync.kit.problems import FieldIssue
from odop_sync.kit.time import utcnow
from odop_sync.models import (
    AuditRecord,
    Producer,
    Product,
    RowStatus,
    StockMovement,
    StockReason,
    Variant,
)
from odop_sync.models.base import table_of

PRODUCTS = table_of(Product)
VARIANTS = table_of(Variant)

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
    return dict(zip(PRODUCT_FIELDS, _product_getter(item), strict=True))


def _variant_values(item: ItemIn) -> dict[str, Any]:
    values = dict(zip(VARIANT_FIELDS, _variant_getter(item), strict=True))
    values["images"] = list(item.images)
    return values


async def upsert_producers(
    session: AsyncSession, agency_id: int, producers: Sequence[ProducerIn], actor: str
) -> dict[str, int]:
    """Create or update producers by ref; returns ref → id."""
    refs = [p.ref for p in producers]
    existing = {
        p.ref: p
        for p in await session.scalars(
            select(Producer).where(Producer.agency_id == agency_id, Producer.ref.in_(refs))
        )
    }
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
    dialect = session.get_bind().dialect
    found = await session.execute(
        select(Producer.ref, Producer.id).where(
            Producer.agency_id == agency_id,
            matches_any(table_of(Producer).c.ref, {i.producer_ref for i in items}, dialect),
        )
    )
    producer_ids: dict[str, int] = dict(found.all())
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
    if not live:
        return [o or Outcome(RowStatus.REJECTED) for o in outcomes]

    now = utcnow()
    products = await _rows_by(session, Product, "ref", agency_id, {i.product_ref for _, i in live})
    variants = await _rows_by(session, Variant, "sku", agency_id, {i.sku for _, i in live})
    audits: list[dict[str, Any]] = []

    def audit(entity: str, entity_id: int, action: str, before: Any, after: Any) -> None:
        audits.append(
            {
                "at": now,
                "actor": actor,
                "agency_id": agency_id,
                "entity": entity,
                "entity_id": entity_id,
                "action": action,
                "before": before,
                "after": after,
            }
        )

    # Products: create the new ones, update the changed ones (the latest row of a product wins).
    new_products: dict[str, dict[str, Any]] = {}
    changed_products: dict[str, dict[str, Any]] = {}
    touched: set[str] = set()
    for _, item in live:
        wanted = {**_product_values(item), "producer_id": producer_ids[item.producer_ref]}
        ref = item.product_ref
        if ref in new_products:
            new_products[ref].update(wanted)
            continue
        current = products.get(ref)
        if current is None:
            new_products[ref] = {
                "agency_id": agency_id,
                "ref": ref,
                "created_at": now,
                "updated_at": now,
                **wanted,
            }
            continue
        before, after = _diff_row(current, wanted)
        if after:
            current.update(wanted)
            changed_products[ref] = current
            touched.add(ref)
            audit("product", current["id"], "update", before, after)
    if new_products:
        # Sorted, and tolerant of a product another chunk of the same batch created meanwhile
        # (chunks run concurrently on PostgreSQL): one lock order, no unique-key failure.
        refs = sorted(new_products)
        created = await insert_many(
            session,
            PRODUCTS,
            [new_products[ref] for ref in refs],
            returning=("id", "ref"),
            skip_conflicts_on=("agency_id", "ref"),
        )
        created_refs: set[str] = set()
        for product_id, ref in created:
            created_refs.add(ref)
            values = new_products[ref]
            products[ref] = {**values, "id": product_id}
            after = {"ref": ref}
            for k in PRODUCT_FIELDS:
                after[k] = _jsonable(values[k])
            audit("product", product_id, "create", None, after)
        raced = set(refs) - created_refs
        if raced:
            found_raced = await _rows_by(session, Product, "ref", agency_id, raced)
            for ref, current in found_raced.items():
                wanted = {k: new_products[ref][k] for k in (*PRODUCT_FIELDS, "producer_id")}
                products[ref] = current
                before, after = _diff_row(current, wanted)
                if after:
                    current.update(wanted)
                    changed_products[ref] = current
                    touched.add(ref)
                    audit("product", current["id"], "update", before, after)
    if changed_products:
        await session.execute(
            _update_by_id(PRODUCTS, ["updated_at", "producer_id", *PRODUCT_FIELDS]),
            [
                {
                    "_id": r["id"],
                    "updated_at": now,
                    "producer_id": r["producer_id"],
                    **{k: r[k] for k in PRODUCT_FIELDS},
                }
                for r in sorted(changed_products.values(), key=lambda r: r["id"])
            ],
        )

    # Variants.
    movements: list[dict[str, Any]] = []
    new_variants: dict[str, tuple[int, ItemIn, dict[str, Any], dict[str, Any]]] = {}
    variant_updates: list[dict[str, Any]] = []
    for n, item in live:
        product_id = products[item.product_ref]["id"]
        wanted = {**_variant_values(item), "product_id": product_id}
        canonical = item.to_json()
        digest = item.content_hash(canonical)
        current = variants.get(item.sku)
        if current is None:
            new_variants[item.sku] = (
                n,
                item,
                canonical,
                {
                    "agency_id": agency_id,
                    "sku": item.sku,
                    "stock_on_hand": item.stock,
                    "content_hash": digest,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                    **wanted,
                },
            )
            continue
        if (
            current["content_hash"] == digest
            and current["stock_on_hand"] == item.stock
            and current["product_id"] == product_id
            and item.product_ref not in touched
        ):
            outcomes[n] = Outcome(RowStatus.UNCHANGED, current["id"])
            continue
        before, after = _diff_row(current, wanted)
        if current["stock_on_hand"] != item.stock:
            before["stock_on_hand"], after["stock_on_hand"] = current["stock_on_hand"], item.stock
            movements.append(
                {
                    "variant_id": current["id"],
                    "delta": item.stock - current["stock_on_hand"],
                    "balance_after": item.stock,
                    "reason": stock_reason,
                    "source_ref": f"{source_ref}#row:{item.row}",
                    "actor": actor,
                    "created_at": now,
                }
            )
        variant_updates.append(
            {
                "_id": current["id"],
                **wanted,
                "stock_on_hand": item.stock,
                "content_hash": digest,
                "version": current["version"] + 1,
                "updated_at": now,
            }
        )
        if after:
            audit("variant", current["id"], "update", before, after)
        outcomes[n] = Outcome(RowStatus.UPDATED, current["id"])
    if new_variants:
        created = await insert_many(
            session,
            VARIANTS,
            [values for _, _, _, values in new_variants.values()],
            returning=("id", "sku"),
        )
        for variant_id, sku in created:
            n, item, canonical, _ = new_variants[sku]
            outcomes[n] = Outcome(RowStatus.CREATED, variant_id)
            if item.stock:
                movements.append(
                    {
                        "variant_id": variant_id,
                        "delta": item.stock,
                        "balance_after": item.stock,
                        "reason": stock_reason,
                        "source_ref": f"{source_ref}#row:{item.row}",
                        "actor": actor,
                        "created_at": now,
                    }
                )
            audit("variant", variant_id, "create", None, canonical)
    if variant_updates:
        variant_updates.sort(key=lambda u: u["_id"])  # one lock order across concurrent chunks
        await session.execute(
            _update_by_id(VARIANTS, [k for k in variant_updates[0] if k != "_id"]), variant_updates
        )
    await insert_many(session, table_of(StockMovement), movements)
    await insert_many(session, table_of(AuditRecord), audits)
    return [o or Outcome(RowStatus.REJECTED) for o in outcomes]


def _update_by_id(table: Table, columns: list[str]) -> Update:
    """UPDATE … WHERE id = :_id, run as executemany (Core: no ORM bookkeeping per row)."""
    return (
        table.update()
        .where(table.c.id == bindparam("_id"))
        .values({name: bindparam(name) for name in columns})
    )


async def _rows_by(
    session: AsyncSession,
    model: type[Product] | type[Variant],
    key: str,
    agency_id: int,
    values: set[str],
) -> dict[str, dict[str, Any]]:
    table = model.__table__
    result = await session.execute(
        select(table).where(
            table.c.agency_id == agency_id,
            matches_any(table.c[key], values, session.get_bind().dialect),
        )
    )
    return {row[key]: dict(row) for row in result.mappings()}


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
