from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, status

from odop_sync.catalog import repository, service
from odop_sync.catalog.b2b import WholesaleTerms
from odop_sync.catalog.districts import district_name
from odop_sync.catalog.rules import Rules, validate_item, validate_producer
from odop_sync.catalog.schemas import (
    AgencyCreate,
    AgencyRead,
    B2BTermsRead,
    LeadTimeRead,
    Page,
    PriceTierRead,
    ProducerCreate,
    ProducerRead,
    ProductRead,
    VariantRead,
    VariantUpdate,
)
from odop_sync.deps import PrincipalDep, SessionDep, SettingsDep, acting_agency_id
from odop_sync.kit.money import paise_to_rupees
from odop_sync.kit.problems import (
    BODY_RESPONSES,
    PROBLEM_RESPONSES,
    NotFound,
    ValidationProblem,
)
from odop_sync.models import Product, Role, RowStatus, StockReason, Variant

router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)

AgencyQuery = Annotated[
    str | None,
    Query(
        description="agency slug; required for admin keys, implied for agency keys", max_length=64
    ),
]
After = Annotated[
    int, Query(ge=0, le=2**62, description="cursor: the last id of the previous page")
]
Limit = Annotated[int, Query(ge=1, le=500)]
IdPath = Annotated[int, Path(ge=1, le=2**62)]


def variant_read(v: Variant) -> VariantRead:
    return VariantRead(
        id=v.id,
        sku=v.sku,
        product_id=v.product_id,
        mrp=str(paise_to_rupees(v.mrp_paise)),
        price=str(paise_to_rupees(v.price_paise)),
        mrp_paise=v.mrp_paise,
        price_paise=v.price_paise,
        stock_on_hand=v.stock_on_hand,
        weight_g=v.weight_g,
        length_cm=v.length_cm,
        width_cm=v.width_cm,
        height_cm=v.height_cm,
        material=v.material,
        color=v.color,
        size=v.size,
        images=list(v.images or []),
        attributes=dict(v.attributes or {}),
        version=v.version,
        updated_at=v.updated_at,
    )


def b2b_read(stored: dict[str, Any] | None) -> B2BTermsRead | None:
    if not stored:
        return None
    terms = WholesaleTerms.model_validate(stored)
    return B2BTermsRead(
        moq=terms.moq,
        moq_unit=terms.moq_unit,
        price_tiers=[
            PriceTierRead(
                min_quantity=t.min_quantity,
                max_quantity=t.max_quantity,
                price=str(paise_to_rupees(t.price_paise)),
                price_paise=t.price_paise,
            )
            for t in terms.price_tiers
        ],
        supply_per_month=terms.supply_per_month,
        lead_times=[
            LeadTimeRead(max_quantity=x.max_quantity, days=x.days) for x in terms.lead_times
        ],
        port_of_loading=terms.port_of_loading,
        payment_terms=list(terms.payment_terms),
        export_hs_code=terms.export_hs_code,
    )


def b2b_as_row(stored: dict[str, Any] | None) -> dict[str, Any]:
    """Stored terms as a batch row's B2B fields (the JSON list forms)."""
    if not stored:
        return {}
    terms = WholesaleTerms.model_validate(stored)
    return {
        "b2b_moq": terms.moq,
        "b2b_moq_unit": terms.moq_unit,
        "b2b_price_tiers": [
            {
                "min_quantity": t.min_quantity,
                "max_quantity": t.max_quantity,
                "price": str(paise_to_rupees(t.price_paise)),
            }
            for t in terms.price_tiers
        ],
        "b2b_supply_per_month": terms.supply_per_month,
        "b2b_lead_times": [
            {"max_quantity": x.max_quantity, "days": x.days} for x in terms.lead_times
        ],
        "b2b_port_of_loading": terms.port_of_loading,
        "b2b_payment_terms": list(terms.payment_terms),
        "export_hs_code": terms.export_hs_code,
    }


def product_read(p: Product) -> ProductRead:
    return ProductRead(
        id=p.id,
        agency_id=p.agency_id,
        ref=p.ref,
        producer_id=p.producer_id,
        producer_ref=p.producer.ref,
        title_en=p.title_en,
        title_hi=p.title_hi,
        description_en=p.description_en,
        description_hi=p.description_hi,
        district_code=p.district_code,
        district=district_name(p.district_code),
        craft=p.craft,
        odop_product=p.odop_product,
        gi_tag=p.gi_tag,
        hsn_code=p.hsn_code,
        gst_rate=Decimal(str(p.gst_rate)),
        b2b=b2b_read(p.b2b),
        variants=[variant_read(v) for v in p.variants],
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


@router.post(
    "/agencies",
    status_code=status.HTTP_201_CREATED,
    tags=["agencies"],
    responses=BODY_RESPONSES,
)
async def create_agency(
    body: AgencyCreate, session: SessionDep, principal: PrincipalDep
) -> AgencyRead:
    principal.require_admin()
    agency = await service.create_agency(session, slug=body.slug, name=body.name, state=body.state)
    await session.commit()
    return AgencyRead.model_validate(agency)


@router.get("/agencies", tags=["agencies"])
async def list_agencies(session: SessionDep, principal: PrincipalDep) -> list[AgencyRead]:
    only: list[int] | None = None
    if principal.role is Role.AGENCY:
        only = [principal.agency_id] if principal.agency_id is not None else []
    elif principal.role is Role.PARTNER:
        only = list(principal.granted_agency_ids)
    agencies = await repository.list_agencies(session, only)
    return [AgencyRead.model_validate(a) for a in agencies]


@router.post(
    "/producers",
    status_code=status.HTTP_201_CREATED,
    tags=["producers"],
    responses=BODY_RESPONSES,
)
async def create_producer(
    body: ProducerCreate,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    agency: AgencyQuery = None,
) -> ProducerRead:
    principal.require_write()
    agency_id = await acting_agency_id(session, principal, agency)
    result = validate_producer(body.model_dump(), 0, Rules.from_settings(settings))
    if isinstance(result, list):
        for issue in result:  # a single producer: name the field, not its index
            issue.field = (issue.field or "").split(".", 1)[-1]
        raise ValidationProblem(
            f"{len(result)} field(s) of the producer are invalid", errors=result
        )
    producer = await service.create_producer(session, agency_id, result, principal.actor)
    await session.commit()
    return ProducerRead.model_validate(producer)


@router.get("/producers", tags=["producers"])
async def list_producers(
    session: SessionDep, principal: PrincipalDep, after: After = 0, limit: Limit = 100
) -> Page[ProducerRead]:
    principal.require_catalog_reader()
    rows = await repository.list_producers(
        session, agency_scope=principal.agency_scope(), after=after, limit=limit
    )
    return Page[ProducerRead](
        items=[ProducerRead.model_validate(p) for p in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/producers/{producer_id}", tags=["producers"])
async def get_producer(
    producer_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ProducerRead:
    principal.require_catalog_reader()
    producer = await repository.get_producer(session, producer_id, principal.agency_scope())
    if producer is None:
        raise NotFound(f"no producer {producer_id}")
    return ProducerRead.model_validate(producer)


@router.get("/products", tags=["products"])
async def list_products(
    session: SessionDep,
    principal: PrincipalDep,
    after: After = 0,
    limit: Limit = 100,
    district: Annotated[
        str | None, Query(max_length=64, description="canonical district code")
    ] = None,
    craft: Annotated[str | None, Query(max_length=120)] = None,
    producer_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=120,
            description="search: products whose English or Hindi title, or one of whose "
            "variant SKUs, contains this text, ignoring case (e.g. `carpet`, `कालीन`, `BHD-`)",
        ),
    ] = None,
) -> Page[ProductRead]:
    """The agency's products with their variants, oldest first; narrowed by district, craft,
    producer and a text search, all of which combine, and paged with `after`."""
    principal.require_catalog_reader()
    search = unicodedata.normalize("NFC", q).strip() if q else None
    rows = await repository.list_products(
        session,
        agency_scope=principal.agency_scope(),
        after=after,
        limit=limit,
        district=district,
        craft=craft,
        producer_id=producer_id,
        q=search or None,
    )
    return Page[ProductRead](
        items=[product_read(p) for p in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )


@router.get("/products/{product_id}", tags=["products"])
async def get_product(
    product_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> ProductRead:
    principal.require_catalog_reader()
    product = await repository.get_product(session, product_id, principal.agency_scope())
    if product is None:
        raise NotFound(f"no product {product_id}")
    return product_read(product)


def variant_as_row(v: Variant) -> dict[str, Any]:
    """The variant as a batch row, so a PATCH is checked by exactly the batch rules."""
    p = v.product
    return {
        "sku": v.sku,
        "product_ref": p.ref,
        "producer_ref": p.producer.ref,
        "title_en": p.title_en,
        "title_hi": p.title_hi,
        "description_en": p.description_en,
        "description_hi": p.description_hi,
        "district": p.district_code,
        "craft": p.craft,
        "odop_product": p.odop_product,
        "gi_tag": p.gi_tag,
        "hsn_code": p.hsn_code,
        "gst_rate": str(p.gst_rate),
        "mrp": str(paise_to_rupees(v.mrp_paise)),
        "price": str(paise_to_rupees(v.price_paise)),
        "stock": v.stock_on_hand,
        "weight_g": v.weight_g,
        "length_cm": v.length_cm,
        "width_cm": v.width_cm,
        "height_cm": v.height_cm,
        "material": v.material,
        "color": v.color,
        "size": v.size,
        "images": list(v.images or []),
        "attributes": dict(v.attributes or {}),
        **b2b_as_row(p.b2b),
    }


@router.patch("/variants/{sku}", tags=["products"], responses=BODY_RESPONSES)
async def patch_variant(
    sku: Annotated[str, Path(max_length=200)],
    body: VariantUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    agency: AgencyQuery = None,
) -> VariantRead:
    """Change price, MRP, stock on hand or content of one SKU; audited, and stock changes are
    ledger movements with reason `manual`."""
    principal.require_write()
    agency_id = await acting_agency_id(session, principal, agency)
    variant = await repository.get_variant_by_sku(session, agency_id, sku)
    if variant is None:
        raise NotFound(f"no variant with SKU {sku!r}")
    changes = body.model_dump(exclude_unset=True)
    row = variant_as_row(variant)
    row.update(changes)
    result = validate_item(row, 1, Rules.from_settings(settings))
    if isinstance(result, list):
        for issue in result:
            issue.row = None
        raise ValidationProblem(f"{len(result)} field(s) are invalid", errors=result)
    (outcome,) = await service.apply_items(
        session,
        agency_id,
        [result],
        actor=principal.actor,
        source_ref="api:PATCH /v1/variants",
        stock_reason=StockReason.MANUAL,
    )
    if outcome.status is RowStatus.REJECTED:
        raise ValidationProblem("the change was rejected", errors=list(outcome.errors))
    await session.commit()
    fresh = await repository.reload_variant(session, variant.id)
    if fresh is None:  # deleted between commit and read
        raise NotFound(f"no variant with SKU {sku!r}")
    # Product-level fields (title, description, craft, …) are shared by the product's other
    # variants: their listings change too, so they are woken with it, not at the next sweep.
    family = await repository.variant_ids_of_product(session, fresh.product_id)
    request.app.state.events.catalog_changed(agency_id, family)
    return variant_read(fresh)
