"""The desired state of one listing: a canonical variant projected onto one account.

`content` is the full listing (what push_listings sends), `offer` the price and stock (what
push_offers sends). Their hashes are what dirty detection compares; the hash the engine records as
confirmed is always the hash of the very payload the marketplace accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel

from odop_sync.adapter_sdk import ListingPayload, Money, OfferUpdate, PackageDimensions
from odop_sync.catalog.districts import District, district_by_code
from odop_sync.fx.rates import INR, FxHold, FxQuote, RateUsed, to_minor
from odop_sync.kit.time import utcnow
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
    # The account's currency and, when it is not INR, the FX quote its prices convert at.
    currency: str = INR
    fx: FxQuote | None = None
    # The adapter class's `sells_b2b`: only then does a listing carry the product's B2B terms.
    sells_b2b: bool = False

    @classmethod
    def of(
        cls, account: MarketplaceAccount, fx: FxQuote | None = None, *, sells_b2b: bool = False
    ) -> AccountRules:
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
            currency=account.currency or INR,
            fx=fx,
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
    # Accounts in another currency: the rate the payloads were converted at, and the price
    # the marketplace gets in that currency's minor units.
    fx: RateUsed | None = None
    price_minor: int | None = None


@dataclass(frozen=True, slots=True)
class Held:
    """A listing that cannot go out now (no FX rate in force, or too old): nothing is pushed,
    and the listing waits as needs_mapping with `hold.reason` on its timeline."""

    variant_id: int
    sku: str
    hold: FxHold
    price: PriceDerivation
    stock: StockDerivation


Projection = Desired | Held

_M = TypeVar("_M", bound=BaseModel)


def convert_amounts(payload: _M, rate: RateUsed) -> _M:
    """The payload with every INR amount in it converted into `rate.currency` (minor units,
    half up): for a listing its price, MRP and each B2B tier price, for an offer its price and
    MRP, and any Money a later field adds. Works on the finished payload, whatever it carries."""
    updates = {}
    for name in type(payload).model_fields:
        value = getattr(payload, name)
        converted = _converted(value, rate)
        if converted is not value:
            updates[name] = converted
    return payload.model_copy(update=updates) if updates else payload


def _converted(value: Any, rate: RateUsed) -> Any:
    if isinstance(value, Money):
        if value.currency != INR:
            return value
        return Money(amount=to_minor(value.amount, rate.rate), currency=rate.currency)
    if isinstance(value, BaseModel):
        return convert_amounts(value, rate)
    if isinstance(value, tuple):
        items = tuple(_converted(item, rate) for item in value)
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value


def _hashes(content: ListingPayload, offer: OfferUpdate) -> tuple[str, str]:
    """The content hash (the offer's fields left out) and the offer hash of a desired state."""
    dumped = content.model_dump(mode="json")
    content_hash = state_hash({k: v for k, v in dumped.items() if k not in OFFER_FIELDS})
    # The extras ride along for calls that name the catalog product (Flipkart's FSN); they are
    # content, hashed there: a changed FSN re-sends the whole listing, not just the offer.
    offer_hash = state_hash(offer.model_dump(mode="json", exclude={"marketplace_attributes"}))
    return content_hash, offer_hash


def _rate_for(rules: AccountRules) -> RateUsed | FxHold | None:
    """The rate the account's prices convert at, why there is none, or None (INR)."""
    if rules.currency == INR:
        return None
    return (rules.fx or FxQuote(rules.currency, utcnow().date(), None, 0)).verdict()


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
) -> Projection:
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
    rate = _rate_for(rules)
    if isinstance(rate, FxHold):
        return Held(variant.id, variant.sku, rate, price, stock)
    if rate is not None:
        # The pricing rule works in INR (markup, rounding, floor, MRP); what it gives is
        # converted last, at the rate in force.
        content, offer = convert_amounts(content, rate), convert_amounts(offer, rate)
    content_hash, offer_hash = _hashes(content, offer)
    return Desired(
        variant_id=variant.id,
        sku=variant.sku,
        content=content,
        offer=offer,
        content_hash=content_hash,
        offer_hash=offer_hash,
        price=price,
        stock=stock,
        fx=rate,
        price_minor=None if rate is None else offer.price.amount,
    )
