"""The desired state of one listing: a canonical variant projected onto one account.

`content` is the full listing (what push_listings sends), `offer` the price and stock (what
push_offers sends). Their hashes are what dirty detection compares; the hash the engine records as
confirmed is always the hash of the very payload the marketplace accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from odop_sync.adapter_sdk import ListingPayload, Money, OfferUpdate, PackageDimensions
from odop_sync.catalog.districts import District, district_by_code
from odop_sync.listings.projection import (
    PriceDerivation,
    PricingRule,
    StockDerivation,
    available_to_sell,
    project_price,
    state_hash,
)
from odop_sync.models import MarketplaceAccount, Producer, Product, Variant
from odop_sync.sync.wholesale import listing_terms

# Fields of the content payload that belong to the offer: they are hashed with the offer, so a
# price change does not make the whole listing look new.
OFFER_FIELDS = frozenset({"price", "mrp", "quantity"})


@dataclass(frozen=True, slots=True)
class AccountRules:
    """What of an account the projection needs, detached from the ORM session."""

    account_id: int
    adapter: str
    pricing: PricingRule
    stock_buffer: int
    # The adapter class's `sells_b2b`: only then does a listing carry the product's B2B terms.
    sells_b2b: bool = False

    @classmethod
    def of(cls, account: MarketplaceAccount, *, sells_b2b: bool = False) -> AccountRules:
        return cls(
            account_id=account.id,
            adapter=account.adapter,
            pricing=PricingRule(
                markup_percent=Decimal(account.markup_percent or 0),
                markup_fixed_paise=account.markup_fixed_paise,
                rounding=account.rounding,
                floor_paise=account.floor_paise,
            ),
            stock_buffer=account.stock_buffer,
            sells_b2b=sells_b2b,
        )


@dataclass(frozen=True, slots=True)
class Desired:
    variant_id: int
    sku: str
    content: ListingPayload
    offer: OfferUpdate
    content_hash: str
    offer_hash: str
    price: PriceDerivation
    stock: StockDerivation


def _bullets(product: Product, variant: Variant, district: District | None) -> tuple[str, ...]:
    bullets = []
    if product.craft:
        # The state is the district's own (config/districts.toml): Jaipur is in Rajasthan.
        where = f" in {district.name}, {district.state}" if district else ""
        bullets.append(f"{product.craft}, handmade{where}")
    if product.gi_tag:
        bullets.append(f"Geographical Indication: {product.gi_tag}")
    if product.odop_product:
        bullets.append(f"One District One Product: {product.odop_product}")
    if variant.material:
        bullets.append(f"Material: {variant.material}")
    return tuple(bullets)


def _marketplace_attributes(attributes: Mapping[str, Any], adapter: str) -> dict[str, Any]:
    """`attributes.marketplaces.<slug>` of a variant: extras for one marketplace only."""
    marketplaces = attributes.get("marketplaces")
    if isinstance(marketplaces, Mapping):
        own = marketplaces.get(adapter)
        if isinstance(own, Mapping):
            return dict(own)
    return {}


def project(
    variant: Variant,
    product: Product,
    producer: Producer,
    rules: AccountRules,
    *,
    reserved: int = 0,
) -> Desired:
    price = project_price(variant.price_paise, variant.mrp_paise, rules.pricing)
    stock = available_to_sell(variant.stock_on_hand, reserved, rules.stock_buffer)
    district = district_by_code(product.district_code)
    attributes = dict(variant.attributes or {})
    extras = _marketplace_attributes(attributes, rules.adapter)
    has_package = any(
        v is not None
        for v in (variant.length_cm, variant.width_cm, variant.height_cm, variant.weight_g)
    )
    content = ListingPayload(
        sku=variant.sku,
        product_ref=product.ref,
        title=product.title_en,
        title_hi=product.title_hi,
        description=product.description_en,
        description_hi=product.description_hi,
        bullet_points=_bullets(product, variant, district),
        brand=producer.name_en,
        manufacturer=producer.name_en,
        craft=product.craft,
        odop_product=product.odop_product,
        hsn_code=product.hsn_code,
        gst_rate=Decimal(product.gst_rate),
        mrp=Money(amount=variant.mrp_paise),
        price=Money(amount=price.final_paise),
        quantity=stock.available_to_sell,
        images=tuple(variant.images or ()),
        package=PackageDimensions(
            length_cm=variant.length_cm,
            width_cm=variant.width_cm,
            height_cm=variant.height_cm,
            weight_g=variant.weight_g,
        )
        if has_package
        else None,
        material=variant.material,
        color=variant.color,
        size=variant.size,
        district=district.name if district else None,
        gi_tag=product.gi_tag,
        attributes={k: v for k, v in attributes.items() if k != "marketplaces"},
        marketplace_attributes=extras,
        b2b=listing_terms(product.b2b) if rules.sells_b2b else None,
    )
    offer = OfferUpdate(
        sku=variant.sku,
        price=Money(amount=price.final_paise),
        mrp=Money(amount=variant.mrp_paise),
        quantity=stock.available_to_sell,
        marketplace_attributes=extras,
    )
    dumped = content.model_dump(mode="json")
    content_hash = state_hash({k: v for k, v in dumped.items() if k not in OFFER_FIELDS})
    # The extras ride along for calls that name the catalog product (Flipkart's FSN); they are
    # content, hashed there: a changed FSN re-sends the whole listing, not just the offer.
    offer_hash = state_hash(offer.model_dump(mode="json", exclude={"marketplace_attributes"}))
    return Desired(
        variant_id=variant.id,
        sku=variant.sku,
        content=content,
        offer=offer,
        content_hash=content_hash,
        offer_hash=offer_hash,
        price=price,
        stock=stock,
    )
