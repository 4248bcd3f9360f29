"""Pure canonical ⇄ Flipkart conversions: no HTTP, no state.

ListingPayload → CreateListingRequest / UpdateListingRequest; OfferUpdate → UpdatePriceRequest
and UpdateInventoryRequest; Flipkart's per-SKU ListingChangeResponse → ItemResult with issues in
plain words; MarketplaceListingDetail → RemoteListingState; Shipment V3 search results →
RemoteOrder (one per order id, its order items as lines).

Decisions the documents leave to us, made here once:

- The FSN. Flipkart lists a seller's SKU against a product already in its catalog, named by
  its FSN (`product_id`). The canonical variant carries it as the marketplace attribute
  `attributes.marketplaces.flipkart.fsn`; without one (or with one that is not 16 letters and
  digits) the listing is not sent and comes back REJECTED with `NEEDS_CATALOG_MAPPING`, which the
  core shows as "needs mapping" until the variant changes.
- Whole rupees. Prices and shipping fees are `int32` rupees, so paise are dropped (rounded
  down: the price never rises, and never above the MRP), with a warning when that happened.
- Procurement. A variant whose attribute `made_to_order` is true is MADE_TO_ORDER with the
  dispatch SLA of its `made_to_order_days` attribute (else the account's made-to-order SLA);
  everything else is REGULAR with the account's dispatch SLA.
- Packages. One package from the variant's length, width, height (cm) and weight (g, sent as
  kg); Flipkart needs all four. It is fragile when the attribute `fragile` says so or, without
  one, when the craft is pottery, terracotta, glass or ceramics.
- Tax. The HSN code, the GST rate as `goods_services_rate` and `tax_code` "GST_<rate>". The API
  takes rates up to 28 %: a variant at the 40 % slab cannot be listed through it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from adapters.flipkart import wire
from odop_sync.adapter_sdk import (
    NEEDS_CATALOG_MAPPING,
    ItemIssue,
    ItemResult,
    ItemStatus,
    ListingPayload,
    Money,
    OfferUpdate,
    OrderStatus,
    RemoteListingState,
    RemoteOrder,
    RemoteOrderLine,
    Severity,
)

# Flipkart Serial Number: 16 upper-case letters and digits, e.g. CRPFZ7G9HKRGZBGY.
FSN_RE = re.compile(r"^[A-Z0-9]{16}$")
FSN_FIELD = "attributes.marketplaces.flipkart.fsn"
MAX_GST_RATE = Decimal(28)  # Tax.goods_services_rate: maximum 28
FRAGILE_CRAFTS = ("pottery", "terracotta", "glass", "ceramic")
TRUE_WORDS = frozenset({"true", "yes", "y", "1"})

# Flipkart attribute (or the last part of its path) → the canonical field an operator fixes.
CANONICAL_FIELD = {
    "product_id": FSN_FIELD,
    "price": "price",
    "selling_price": "price",
    "mrp": "mrp",
    "currency": "price",
    "tax": "hsn_code",
    "hsn": "hsn_code",
    "goods_services_rate": "gst_rate",
    "tax_code": "gst_rate",
    "packages": "length_cm/width_cm/height_cm/weight_g",
    "dimensions": "length_cm/width_cm/height_cm",
    "length": "length_cm",
    "breadth": "width_cm",
    "height": "height_cm",
    "weight": "weight_g",
    "locations": "stock",
    "inventory": "stock",
    "procurement_type": "attributes.made_to_order",
    "dispatch_sla": "attributes.made_to_order_days",
    "shipping_fees": "attributes.marketplaces.flipkart.shipping_fees",
    "address_label": "producer_ref",
    "manufacturer_details": "producer_ref",
}

ADVICE = {
    FSN_FIELD: "map the variant to its Flipkart catalog product (FSN)",
    "price": "check the price (a whole number of rupees above 0, not above the MRP)",
    "mrp": "check the MRP (a whole number of rupees, not below the price)",
    "hsn_code": "check the HSN code (4, 6 or 8 digits)",
    "gst_rate": "check the GST rate for this HSN code",
    "stock": "check the stock and the account's location id",
    "attributes.made_to_order": "check whether the product is made to order",
    "attributes.made_to_order_days": "set a dispatch time Flipkart accepts",
}


@dataclass(frozen=True, slots=True)
class ListingDefaults:
    """What an account decides for every listing (from its configuration)."""

    location_id: str
    fulfillment_profile: wire.FulfillmentProfile = "NON_FBF"
    shipping_provider: wire.ShippingProvider = "FLIPKART"
    dispatch_sla_days: int = 2
    made_to_order_sla_days: int = 7
    shipping_fees: tuple[int, int, int] = (0, 0, 0)  # local, zonal, national, in rupees


@dataclass(frozen=True, slots=True)
class Mapped:
    """One SKU ready to send (`request`), or stopped before sending (an error issue)."""

    sku: str
    request: wire.Wire | None
    issues: tuple[ItemIssue, ...] = ()

    def rejected(self) -> ItemResult:
        return ItemResult(sku=self.sku, status=ItemStatus.REJECTED, issues=self.issues)


def _issue(
    sku: str, field: str, advice: str, code: str, severity: Severity = Severity.ERROR
) -> ItemIssue:
    return ItemIssue(
        code=code, severity=severity, field=field, message=f"field {field} of SKU {sku}: {advice}"
    )


# the FSN --------------------------------------------------------------------------------------


def fsn_of(attributes: Mapping[str, Any]) -> str | None:
    value = attributes.get("fsn")
    return value.strip().upper() if isinstance(value, str) and value.strip() else None


def fsn_issue(sku: str, attributes: Mapping[str, Any]) -> ItemIssue | None:
    """Why this SKU cannot be listed yet, when its FSN is missing or malformed."""
    fsn = fsn_of(attributes)
    if fsn is None:
        advice = (
            "Flipkart lists SKUs against a product in its own catalog; find the product on "
            "Flipkart and set its FSN (16 letters and digits) as the variant's attribute "
            'marketplaces.flipkart.fsn, e.g. {"marketplaces": {"flipkart": {"fsn": "..."}}}'
        )
    elif not FSN_RE.match(fsn):
        advice = f"{fsn!r} is not an FSN (16 letters and digits); correct the mapping"
    else:
        return None
    return _issue(sku, FSN_FIELD, advice, NEEDS_CATALOG_MAPPING)


# money and tax --------------------------------------------------------------------------------


def whole_rupees(
    sku: str, price: Money, mrp: Money | None
) -> tuple[wire.Price | None, list[ItemIssue]]:
    """Flipkart's `int32` rupees, rounded down, or the issues that stop the price going out."""
    mrp = mrp or price
    if price.currency != "INR" or mrp.currency != "INR":
        return None, [_issue(sku, "price", "Flipkart sells in INR; send INR amounts", "CURRENCY")]
    selling, maximum = price.amount // 100, mrp.amount // 100
    if not 0 < selling <= maximum:
        advice = f"set a price of at least ₹1 and not above the MRP ({mrp}); Flipkart takes rupees"
        return None, [_issue(sku, "price", advice, "PRICE_OUT_OF_RANGE")]
    issues = []
    if price.amount % 100 or mrp.amount % 100:
        advice = (
            f"Flipkart takes whole rupees: price {price} and MRP {mrp} went out as ₹{selling} "
            f"and ₹{maximum} (round prices to the rupee, e.g. the account's rounding, to choose)"
        )
        issues.append(_issue(sku, "price", advice, "PAISE_DROPPED", Severity.WARNING))
    return wire.Price(mrp=maximum, selling_price=selling, currency="INR"), issues


def tax(sku: str, item: ListingPayload) -> tuple[wire.Tax | None, list[ItemIssue]]:
    if item.gst_rate > MAX_GST_RATE:
        advice = (
            f"Flipkart's listing API takes GST rates up to {MAX_GST_RATE} %, not "
            f"{item.gst_rate:g} %; list this product through the Seller Hub instead"
        )
        return None, [_issue(sku, "gst_rate", advice, "GST_RATE_UNSUPPORTED")]
    rate = float(item.gst_rate)
    return (
        wire.Tax(hsn=item.hsn_code, goods_services_rate=rate, tax_code=f"GST_{item.gst_rate:g}"),
        [],
    )


# fulfilment and packages ----------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return value is True or (isinstance(value, int) and value == 1)


def is_made_to_order(attributes: Mapping[str, Any]) -> bool:
    return _truthy(attributes.get("made_to_order"))


def fulfillment(item: ListingPayload, defaults: ListingDefaults) -> wire.Fulfillment:
    if is_made_to_order(item.attributes):
        days = item.attributes.get("made_to_order_days")
        sla = days if isinstance(days, int) and days >= 1 else defaults.made_to_order_sla_days
        return wire.Fulfillment(
            dispatch_sla=sla,
            shipping_provider=defaults.shipping_provider,
            procurement_type="MADE_TO_ORDER",
        )
    return wire.Fulfillment(
        dispatch_sla=defaults.dispatch_sla_days,
        shipping_provider=defaults.shipping_provider,
        procurement_type="REGULAR",
    )


def is_fragile(item: ListingPayload) -> bool:
    if "fragile" in item.attributes:
        return _truthy(item.attributes["fragile"])
    craft = (item.craft or "").casefold()
    return any(word in craft for word in FRAGILE_CRAFTS)


def package(sku: str, item: ListingPayload) -> tuple[wire.Package | None, list[ItemIssue]]:
    p = item.package
    if p is None or not (p.length_cm and p.width_cm and p.height_cm and p.weight_g):
        advice = (
            "Flipkart needs the package's length, width and height (cm) and weight (g); add them"
        )
        return None, [_issue(sku, "length_cm/width_cm/height_cm/weight_g", advice, "PACKAGE")]
    return (
        wire.Package(
            name=sku,
            dimensions=wire.Dimensions(
                length=float(p.length_cm), breadth=float(p.width_cm), height=float(p.height_cm)
            ),
            weight=float(p.weight_g / 1000),
            handling=wire.Handling(fragile=is_fragile(item)),
        ),
        [],
    )


def shipping_fees(item: ListingPayload, defaults: ListingDefaults) -> wire.ShippingFees:
    """The account's fees, or the variant's own `marketplaces.flipkart.shipping_fees`."""
    local, zonal, national = defaults.shipping_fees
    own = item.marketplace_attributes.get("shipping_fees")
    if isinstance(own, Mapping):
        local = int(own.get("local", local))
        zonal = int(own.get("zonal", zonal))
        national = int(own.get("national", national))
    return wire.ShippingFees(local=local, zonal=zonal, national=national)


def location(defaults: ListingDefaults, quantity: int) -> wire.Location:
    return wire.Location(id=defaults.location_id, status="ENABLED", inventory=quantity)


# requests -------------------------------------------------------------------------------------


def map_listing(item: ListingPayload, defaults: ListingDefaults) -> Mapped:
    sku = item.sku
    mapping_issue = fsn_issue(sku, item.marketplace_attributes)
    if mapping_issue is not None:
        return Mapped(sku, None, (mapping_issue,))
    price, issues = whole_rupees(sku, item.price, item.mrp)
    taxed, tax_issues = tax(sku, item)
    box, box_issues = package(sku, item)
    issues += tax_issues + box_issues
    if price is None or taxed is None or box is None:
        return Mapped(sku, None, tuple(issues))
    maker = item.manufacturer or item.brand
    request = wire.ListingRequest(
        product_id=fsn_of(item.marketplace_attributes) or "",
        price=price,
        tax=taxed,
        listing_status="ACTIVE",
        shipping_fees=shipping_fees(item, defaults),
        fulfillment_profile=defaults.fulfillment_profile,
        fulfillment=fulfillment(item, defaults),
        packages=[box],
        locations=[location(defaults, item.quantity)],
        # Legal Metrology: who made it and where it comes from, on the label.
        address_label=wire.AddressLabel(
            manufacturer_details=[f"{maker}, {item.district}" if item.district else maker],
            countries_of_origin=[item.country_of_origin],
        ),
    )
    return Mapped(sku, request, tuple(issues))


def map_price(offer: OfferUpdate, fsn: str) -> Mapped:
    price, issues = whole_rupees(offer.sku, offer.price, offer.mrp)
    if price is None:
        return Mapped(offer.sku, None, tuple(issues))
    return Mapped(offer.sku, wire.PriceRequest(product_id=fsn, price=price), tuple(issues))


def map_inventory(offer: OfferUpdate, fsn: str, defaults: ListingDefaults) -> Mapped | None:
    if offer.quantity is None:
        return None
    request = wire.InventoryRequest(product_id=fsn, locations=[location(defaults, offer.quantity)])
    return Mapped(offer.sku, request)


# answers --------------------------------------------------------------------------------------


def canonical_field(attribute: str | None) -> str:
    if not attribute:
        return "listing"
    path = [p for p in re.split(r"[./\[\]]+", attribute) if p and not p.isdigit()]
    for name in (".".join(path), *reversed(path)):
        if name in CANONICAL_FIELD:
            return CANONICAL_FIELD[name]
    return f"attributes.{path[-1]}" if path else "listing"


def plain_issue(sku: str, error: wire.Error, attribute: str | None = None) -> ItemIssue:
    field = canonical_field(attribute or error.path)
    if field == FSN_FIELD and error.severity == "ERROR":
        # Flipkart does not know the FSN (or not for this seller): a mapping to fix, not a
        # listing to resend as it is.
        code = NEEDS_CATALOG_MAPPING
    else:
        code = str(error.code)
    advice = ADVICE.get(field, "fix it as Flipkart says")
    return ItemIssue(
        code=code,
        severity=Severity.ERROR if error.severity == "ERROR" else Severity.WARNING,
        field=field,
        message=f"field {field} of SKU {sku}: {advice} (Flipkart {error.code}: "
        f"{error.description or 'no detail'})",
        attribute_names=(attribute,) if attribute else (),
    )


def change_issues(sku: str, answer: wire.ListingChangeResponse) -> list[ItemIssue]:
    issues = [plain_issue(sku, e, e.attribute) for e in answer.attribute_errors]
    issues += [plain_issue(sku, e) for e in answer.errors]
    if answer.status == "FAILURE" and not any(i.severity is Severity.ERROR for i in issues):
        issues.append(_issue(sku, "listing", "Flipkart refused it without saying why", "FAILURE"))
    return issues


def change_result(
    sku: str,
    answer: wire.ListingChangeResponse | None,
    *,
    remote_id: str | None = None,
    issues: Iterable[ItemIssue] = (),
) -> ItemResult:
    """One SKU's entry in a 200 answer. A SKU the answer leaves out is not a success."""
    found = list(issues)
    if answer is None:
        advice = "Flipkart's answer did not mention this SKU; it will be sent again"
        found.append(_issue(sku, "listing", advice, "NO_STATUS"))
        return ItemResult(sku=sku, status=ItemStatus.REJECTED, issues=tuple(found))
    found += change_issues(sku, answer)
    status = ItemStatus.REJECTED if answer.status == "FAILURE" else ItemStatus.ACCEPTED
    return ItemResult(sku=sku, status=status, remote_id=remote_id, issues=tuple(found))


def combine(first: ItemResult, second: ItemResult | None) -> ItemResult:
    """Price and stock of one SKU travel in two calls: accepted only when both were."""
    if second is None:
        return first
    rejected = ItemStatus.REJECTED in (first.status, second.status)
    return first.model_copy(
        update={
            "status": ItemStatus.REJECTED if rejected else ItemStatus.ACCEPTED,
            "remote_id": first.remote_id or second.remote_id,
            "issues": first.issues + second.issues,
        }
    )


def remote_state(sku: str, detail: wire.ListingDetail, location_id: str) -> RemoteListingState:
    at_location = next((loc for loc in detail.locations if loc.id == location_id), None)
    return RemoteListingState(
        sku=sku,
        exists=True,
        status=detail.listing_status,
        remote_id=detail.product_id,
        price=Money(amount=detail.price.selling_price * 100, currency=detail.price.currency),
        quantity=at_location.inventory if at_location else None,
    )


# orders ----------------------------------------------------------------------------------------

# An order item's state → the core's state. Flipkart has no "pending": an order reaches the
# seller APPROVED. A return requested is not back yet: the units stay sold until RETURNED.
ITEM_STATUS: Mapping[str, OrderStatus] = {
    "APPROVED": OrderStatus.UNSHIPPED,
    "PACKING_IN_PROGRESS": OrderStatus.UNSHIPPED,
    "FORM_FAILED": OrderStatus.UNSHIPPED,
    "PACKED": OrderStatus.UNSHIPPED,
    "READY_TO_DISPATCH": OrderStatus.UNSHIPPED,
    "PICKUP_COMPLETE": OrderStatus.SHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "DELIVERED": OrderStatus.DELIVERED,
    "COMPLETED": OrderStatus.DELIVERED,
    "RETURN_REQUESTED": OrderStatus.DELIVERED,
    "RETURNED": OrderStatus.RETURNED,
    "CANCELLED": OrderStatus.CANCELLED,
}
_PROGRESS = (OrderStatus.UNSHIPPED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)


def order_line(item: wire.ShipmentOrderItem) -> RemoteOrderLine:
    """One order item as a line. `sellingPrice` is what the buyer pays for the item's units
    together (rupees, shipping apart), so the unit price is that over the quantity."""
    quantity = item.quantity
    selling = item.price_components.selling_price if item.price_components else None
    unit = (
        Money.from_decimal(selling / quantity)
        if selling is not None and quantity
        else Money(amount=0)
    )
    status = ITEM_STATUS[item.status]
    return RemoteOrderLine(
        line_id=item.order_item_id,
        sku=item.sku or item.fsn or item.order_item_id,
        quantity=quantity,
        unit_price=unit,
        quantity_cancelled=quantity if status is OrderStatus.CANCELLED else 0,
        quantity_returned=quantity if status is OrderStatus.RETURNED else 0,
    )


def order_status(statuses: Iterable[OrderStatus]) -> OrderStatus:
    """An order's state from its items': cancelled or returned when every item is (returned
    when any is), else the least advanced of the live items."""
    found = set(statuses)
    live = [s for s in _PROGRESS if s in found]
    if live:
        return live[0]
    return OrderStatus.RETURNED if OrderStatus.RETURNED in found else OrderStatus.CANCELLED


def remote_orders(shipments: Iterable[wire.ShipmentDetail]) -> list[RemoteOrder]:
    """Shipments → orders, in first-seen order. A shipment holds items of one order only, but
    an order may span shipments: those met on the same page are merged; lines carry Flipkart's
    order item ids, so parts met on different pages add up by line in the core."""
    items: dict[str, list[wire.ShipmentOrderItem]] = {}
    updated: dict[str, datetime] = {}
    for shipment in shipments:
        for item in shipment.order_items:
            items.setdefault(item.order_id, []).append(item)
            if shipment.updated_at is not None:
                seen = updated.get(item.order_id)
                updated[item.order_id] = (
                    max(seen, shipment.updated_at) if seen else shipment.updated_at
                )
    orders = []
    for order_id, group in items.items():
        lines = tuple(order_line(i) for i in group)
        statuses = [ITEM_STATUS[i.status] for i in group]
        dates = [i.order_date for i in group if i.order_date is not None]
        changed = updated.get(order_id)
        purchased = min(dates) if dates else changed
        if purchased is None:
            continue  # neither an order date nor a change date: nothing to place it in time
        orders.append(
            RemoteOrder(
                order_id=order_id,
                status=",".join(sorted({i.status for i in group})),
                canonical_status=order_status(statuses),
                purchased_at=purchased,
                updated_at=changed,
                lines=lines,
            )
        )
    return orders
