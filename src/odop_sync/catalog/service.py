"""Applying validated rows to the catalog: products, variants, the stock ledger and the audit log.

Callers own the transaction. Everything here works on sets of rows with a fixed number of queries
per call (one per table), so a 500-row chunk costs the same round trips as a 5-row one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from odop_sync.batches.validation import ItemIn, ProducerIn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.kit.problems import FieldIssue
from odop_sync.models import (
    AuditRecord,
    Producer,
    Product,
    RowStatus,
    StockMovement,
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


def _diff(obj: Any, wanted: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in wanted.items():
        current = getattr(obj, name)
        if not _same(current, value):
            before[name] = _jsonable(current)
            after[name] = _jsonable(value)
    return before, after


def _product_values(item: ItemIn) -> dict[str, Any]:
    return {name: getattr(item, name) for name in PRODUCT_FIELDS}


def _variant_values(item: ItemIn) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in VARIANT_FIELDS}
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
        before, after = _diff(row, values)
        if after:
            for name in after:
                setattr(row, name, values[name])
            audits.append(
                AuditRecord(
                    actor=actor,
                    agency_id=agency_id,
                    entity="producer",
                    entity_id=row.id,
                    action="update",
                    before=before,
                    after=after,
                )
            )
    await session.flush()
    for row in created:
        audits.append(
            AuditRecord(
                actor=actor,
                agency_id=agency_id,
                entity="producer",
                entity_id=row.id,
                action="create",
                before=None,
                after={"ref": row.ref, **{n: _jsonable(getattr(row, n)) for n in PRODUCER_FIELDS}},
            )
        )
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
    movement explaining it.
    """
    outcomes: list[Outcome | None] = [None] * len(items)
    found = await session.execute(
        select(Producer.ref, Producer.id).where(
            Producer.agency_id == agency_id, Producer.ref.in_({i.producer_ref for i in items})
        )
    )
    producer_ids = {ref: producer_id for ref, producer_id in found}
    live: list[tuple[int, ItemIn]] = []
    for n, item in enumerate(items):
        if item.producer_ref not in producer_ids:
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
        else:
            live.append((n, item))

    products = {
        p.ref: p
        for p in await session.scalars(
            select(Product).where(
                Product.agency_id == agency_id, Product.ref.in_({i.product_ref for _, i in live})
            )
        )
    }
    variants = {
        v.sku: v
        for v in await session.scalars(
            select(Variant).where(
                Variant.agency_id == agency_id, Variant.sku.in_({i.sku for _, i in live})
            )
        )
    }

    audits: list[AuditRecord] = []
    touched_products: set[str] = set()
    new_products: list[Product] = []
    for _, item in live:
        product = products.get(item.product_ref)
        values = _product_values(item)
        producer_id = producer_ids[item.producer_ref]
        if product is None:
            product = Product(
                agency_id=agency_id, ref=item.product_ref, producer_id=producer_id, **values
            )
            session.add(product)
            products[item.product_ref] = product
            new_products.append(product)
            continue
        before, after = _diff(product, {**values, "producer_id": producer_id})
        if after:
            for name in after:
                setattr(product, name, producer_id if name == "producer_id" else values[name])
            touched_products.add(item.product_ref)
            if product.id is not None:
                audits.append(
                    AuditRecord(
                        actor=actor,
                        agency_id=agency_id,
                        entity="product",
                        entity_id=product.id,
                        action="update",
                        before=before,
                        after=after,
                    )
                )
    if new_products:
        await session.flush(new_products)

    movements: list[StockMovement] = []
    new_variants: list[tuple[int, Variant, ItemIn]] = []
    changed_variants: list[tuple[int, Variant]] = []
    for n, item in live:
        product = products[item.product_ref]
        variant = variants.get(item.sku)
        values = _variant_values(item)
        digest = item.content_hash()
        if variant is None:
            variant = Variant(
                agency_id=agency_id,
                product_id=product.id,
                sku=item.sku,
                stock_on_hand=item.stock,
                content_hash=digest,
                **values,
            )
            session.add(variant)
            variants[item.sku] = variant
            new_variants.append((n, variant, item))
            continue
        product_changed = item.product_ref in touched_products
        if (
            variant.content_hash == digest
            and variant.stock_on_hand == item.stock
            and variant.product_id == product.id
            and not product_changed
        ):
            outcomes[n] = Outcome(RowStatus.UNCHANGED, variant.id)
            continue
        before, after = _diff(variant, {**values, "product_id": product.id})
        for name in after:
            setattr(variant, name, product.id if name == "product_id" else values[name])
        if variant.stock_on_hand != item.stock:
            delta = item.stock - variant.stock_on_hand
            before["stock_on_hand"], after["stock_on_hand"] = variant.stock_on_hand, item.stock
            variant.stock_on_hand = item.stock
            movements.append(
                StockMovement(
                    variant_id=variant.id,
                    delta=delta,
                    balance_after=item.stock,
                    reason=stock_reason,
                    source_ref=f"{source_ref}#row:{item.row}",
                    actor=actor,
                )
            )
        variant.content_hash = digest
        variant.version += 1
        if after:
            audits.append(
                AuditRecord(
                    actor=actor,
                    agency_id=agency_id,
                    entity="variant",
                    entity_id=variant.id,
                    action="update",
                    before=before,
                    after=after,
                )
            )
        changed_variants.append((n, variant))

    if new_variants:
        await session.flush([v for _, v, _ in new_variants])
    for n, variant, item in new_variants:
        outcomes[n] = Outcome(RowStatus.CREATED, variant.id)
        if item.stock:
            movements.append(
                StockMovement(
                    variant_id=variant.id,
                    delta=item.stock,
                    balance_after=item.stock,
                    reason=stock_reason,
                    source_ref=f"{source_ref}#row:{item.row}",
                    actor=actor,
                )
            )
        audits.append(
            AuditRecord(
                actor=actor,
                agency_id=agency_id,
                entity="variant",
                entity_id=variant.id,
                action="create",
                before=None,
                after=item.to_json(),
            )
        )
    for n, variant in changed_variants:
        outcomes[n] = Outcome(RowStatus.UPDATED, variant.id)
    for _, item in live:
        # A product created in this call is audited once, after its id exists.
        product = products[item.product_ref]
        if product in new_products:
            audits.append(
                AuditRecord(
                    actor=actor,
                    agency_id=agency_id,
                    entity="product",
                    entity_id=product.id,
                    action="create",
                    before=None,
                    after={
                        "ref": product.ref,
                        **{k: _jsonable(v) for k, v in _product_values(item).items()},
                    },
                )
            )
            new_products.remove(product)
    session.add_all(movements)
    session.add_all(audits)
    await session.flush()
    return [o if o is not None else Outcome(RowStatus.REJECTED) for o in outcomes]
