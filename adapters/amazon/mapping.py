"""Pure canonical ⇄ Amazon conversions: no HTTP, no state.

ListingPayload → putListingsItem body / JSON_LISTINGS_FEED UPDATE message; OfferUpdate → JSON
patches (purchasable_offer, fulfillment_availability); Amazon issues → ItemIssue in plain words;
Orders API 2026-01-01 orders → RemoteOrder.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError

from adapters.amazon import wire
from adapters.amazon.product_types import ProductType, ProductTypeMap
from odop_sync.adapter_sdk import (
    ItemIssue,
    ListingPayload,
    Money,
    OfferUpdate,
    OrderStatus,
    RemoteListingState,
    RemoteOrder,
    RemoteOrderLine,
    Severity,
)

AMAZON_IN = "A21TJRUUN4KGV"
LANGUAGE_EN_IN = "en_IN"
LANGUAGE_HI_IN = "hi_IN"
# Offer-only updates do not need the item's real product type: Amazon accepts the generic
# "PRODUCT" type for LISTING_OFFER_ONLY data and offer patches.
OFFER_PRODUCT_TYPE = "PRODUCT"
MAX_BULLETS = 5
# What a JSON_LISTINGS_FEED's processing report lists per item (header.report.includedData).
REPORT_DATA = ("issues", "summaries")
MAX_OTHER_IMAGES = 8

# Amazon attribute → the canonical field an operator fixes (DESIGN §4 names).
CANONICAL_FIELD = {
    "item_name": "title_en",
    "brand": "producer_ref",
    "manufacturer": "producer_ref",
    "bullet_point": "attributes.bullet_points",
    "product_description": "description_en",
    "country_of_origin": "attributes.country_of_origin",
    "item_type_keyword": "craft",
    "condition_type": "attributes.condition_type",
    "material": "material",
    "fabric_type": "material",
    "color": "color",
    "size": "size",
    "purchasable_offer": "price",
    "purchasable_offer.our_price": "price",
    "maximum_retail_price": "mrp",
    "purchasable_offer.maximum_retail_price": "mrp",
    "fulfillment_availability": "stock",
    "main_product_image_locator": "images",
    "item_package_dimensions": "length_cm/width_cm/height_cm",
    "item_package_weight": "weight_g",
}

ADVICE_BY_CATEGORY = {
    "MISSING_ATTRIBUTE": "add a value; Amazon requires it for this product type",
    "INVALID_ATTRIBUTE": "correct the value; Amazon does not accept it",
    "MISSING_PRICE": "set a price",
    "INVALID_PRICE": "check price and MRP (0 < price ≤ MRP, in INR)",
    "MISSING_IMAGE": "add at least one https image",
    "INVALID_IMAGE": "replace the image with a compliant one (white background, no text or logo)",
    "DUPLICATE": "this may duplicate another ASIN; check identifiers and title",
    "QUALIFICATION_REQUIRED": "the seller must get approval for this category in Seller Central",
}


@dataclass(frozen=True, slots=True)
class MappedListing:
    sku: str
    product_type: str
    attributes: dict[str, Any]
    issues: tuple[ItemIssue, ...] = ()  # blocking problems found before sending anything

    def put_request(self) -> wire.ListingsItemPutRequest:
        return wire.ListingsItemPutRequest(
            product_type=self.product_type, requirements="LISTING", attributes=self.attributes
        )

    def feed_message(self, message_id: int) -> wire.FeedMessage:
        return wire.FeedMessage(
            message_id=message_id,
            sku=self.sku,
            operation_type="UPDATE",
            product_type=self.product_type,
            requirements="LISTING",
            attributes=self.attributes,
        )


def rupees(money: Money) -> float:
    """Amazon's price schedules take numbers in rupees; paise never leave as floats otherwise."""
    return float(money.to_decimal())


def _text(value: str, marketplace_id: str, language_tag: str = LANGUAGE_EN_IN) -> dict[str, Any]:
    return {"value": value, "language_tag": language_tag, "marketplace_id": marketplace_id}


def _plain(value: Any, marketplace_id: str) -> dict[str, Any]:
    return {"value": value, "marketplace_id": marketplace_id}


def purchasable_offer(price: Money, mrp: Money | None, marketplace_id: str) -> list[dict[str, Any]]:
    offer: dict[str, Any] = {
        "marketplace_id": marketplace_id,
        "currency": price.currency,
        "audience": "ALL",
        "our_price": [{"schedule": [{"value_with_tax": rupees(price)}]}],
    }
    if mrp is not None:
        # Amazon.in carries the printed MRP (Legal Metrology) next to the selling price.
        offer["maximum_retail_price"] = [{"schedule": [{"value_with_tax": rupees(mrp)}]}]
    return [offer]


def fulfillment_availability(quantity: int) -> list[dict[str, Any]]:
    # DEFAULT = merchant-fulfilled (Easy Ship / self-ship); FBA quantities are Amazon's to set.
    return [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]


def _bullets(item: ListingPayload) -> list[str]:
    if item.bullet_points:
        return list(item.bullet_points[:MAX_BULLETS])
    derived = []
    if item.craft and item.district:
        derived.append(f"Handmade {item.craft} from {item.district}")
    elif item.craft:
        derived.append(f"Handmade {item.craft}")
    if item.gi_tag:
        derived.append(f"GI-tagged: {item.gi_tag}")
    if item.material:
        derived.append(f"Material: {item.material}")
    derived.append(f"Made by {item.manufacturer or item.brand}")
    return derived[:MAX_BULLETS]


def _price_issues(
    item: ListingPayload, sku: str, *, allow_http_images: bool = False
) -> list[ItemIssue]:
    issues = []
    if item.price.currency != "INR" or item.mrp.currency != "INR":
        issues.append(
            ItemIssue(
                code="CURRENCY",
                field="price",
                message=f"field price of SKU {sku}: Amazon.in sells in INR; send INR amounts",
                attribute_names=("purchasable_offer",),
            )
        )
    elif not 0 < item.price.amount <= item.mrp.amount:
        issues.append(
            ItemIssue(
                code="PRICE_ABOVE_MRP",
                field="price",
                message=(
                    f"field price of SKU {sku}: set a price above 0 and not above the MRP "
                    f"({item.mrp}); selling above MRP is illegal in India"
                ),
                attribute_names=("purchasable_offer",),
            )
        )
    for url in item.images:
        if not url.startswith("https://") and not (allow_http_images and url.startswith("http://")):
            issues.append(
                ItemIssue(
                    code="IMAGE_NOT_HTTPS",
                    field="images",
                    message=f"field images of SKU {sku}: Amazon fetches images over https only",
                    attribute_names=("main_product_image_locator",),
                )
            )
            break
    return issues


def listing_attributes(
    item: ListingPayload, ptype: ProductType, marketplace_id: str = AMAZON_IN
) -> dict[str, Any]:
    mp = marketplace_id
    names = [_text(item.title, mp)]
    if item.title_hi:
        names.append(_text(item.title_hi, mp, LANGUAGE_HI_IN))
    attrs: dict[str, Any] = {
        "item_name": names,
        "brand": [_text(item.brand, mp)],
        "manufacturer": [_text(item.manufacturer or item.brand, mp)],
        "bullet_point": [_text(b, mp) for b in _bullets(item)],
        "country_of_origin": [_plain(item.country_of_origin, mp)],
        "item_type_keyword": [_plain(ptype.item_type_keyword, mp)],
        "condition_type": [_plain("new_new", mp)],
        "supplier_declared_dg_hz_regulation": [_plain("not_applicable", mp)],
        # Handmade artisan goods carry no GTIN; the exemption is granted per brand and category.
        "supplier_declared_has_product_identifier_exemption": [_plain(True, mp)],
        "purchasable_offer": purchasable_offer(item.price, item.mrp, mp),
        "fulfillment_availability": fulfillment_availability(item.quantity),
    }
    if item.description:
        descriptions = [_text(item.description, mp)]
        if item.description_hi:
            descriptions.append(_text(item.description_hi, mp, LANGUAGE_HI_IN))
        attrs["product_description"] = descriptions
    if item.material:
        key = "fabric_type" if "fabric_type" in ptype.required else "material"
        attrs[key] = [_text(item.material, mp)]
    if item.color:
        attrs["color"] = [_text(item.color, mp)]
    if item.size:
        attrs["size"] = [_text(item.size, mp)]
    if item.images:
        attrs["main_product_image_locator"] = [
            {"media_location": item.images[0], "marketplace_id": mp}
        ]
        for n, url in enumerate(item.images[1 : 1 + MAX_OTHER_IMAGES], start=1):
            attrs[f"other_product_image_locator_{n}"] = [
                {"media_location": url, "marketplace_id": mp}
            ]
    package = item.package
    if package and package.length_cm and package.width_cm and package.height_cm:
        attrs["item_package_dimensions"] = [
            {
                "length": {"value": float(package.length_cm), "unit": "centimeters"},
                "width": {"value": float(package.width_cm), "unit": "centimeters"},
                "height": {"value": float(package.height_cm), "unit": "centimeters"},
                "marketplace_id": mp,
            }
        ]
    if package and package.weight_g:
        attrs["item_package_weight"] = [
            {"value": float(package.weight_g), "unit": "grams", "marketplace_id": mp}
        ]
    # Extra Amazon attributes the agency supplied, already in Amazon's shape, win last.
    for name, value in item.attributes.items():
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            attrs[name] = value
    extra = item.marketplace_attributes.get("amazon_attributes")
    if isinstance(extra, Mapping):
        attrs.update(extra)
    return attrs


def map_listing(
    item: ListingPayload,
    types: ProductTypeMap,
    marketplace_id: str = AMAZON_IN,
    *,
    allow_http_images: bool = False,
) -> MappedListing:
    explicit = item.marketplace_attributes.get("amazon_product_type")
    ptype = types.choose(
        explicit=explicit if isinstance(explicit, str) else None,
        hint=item.product_type,
        title=item.title,
        craft=item.craft,
        odop_product=item.odop_product,
    )
    return MappedListing(
        sku=item.sku,
        product_type=ptype.name,
        attributes=listing_attributes(item, ptype, marketplace_id),
        issues=tuple(_price_issues(item, item.sku, allow_http_images=allow_http_images)),
    )


def offer_issues(offer: OfferUpdate) -> list[ItemIssue]:
    if offer.price.currency != "INR":
        return [
            ItemIssue(
                code="CURRENCY",
                field="price",
                message=f"field price of SKU {offer.sku}: Amazon.in sells in INR; send INR amounts",
            )
        ]
    if offer.price.amount <= 0 or (offer.mrp is not None and offer.price.amount > offer.mrp.amount):
        return [
            ItemIssue(
                code="PRICE_ABOVE_MRP",
                field="price",
                message=(
                    f"field price of SKU {offer.sku}: set a price above 0 and not above the MRP"
                ),
            )
        ]
    return []


def offer_patches(offer: OfferUpdate, marketplace_id: str = AMAZON_IN) -> list[wire.PatchOperation]:
    patches = [
        wire.PatchOperation(
            op="replace",
            path="/attributes/purchasable_offer",
            value=purchasable_offer(offer.price, offer.mrp, marketplace_id),
        )
    ]
    if offer.quantity is not None:
        patches.append(
            wire.PatchOperation(
                op="replace",
                path="/attributes/fulfillment_availability",
                value=fulfillment_availability(offer.quantity),
            )
        )
    return patches


def offer_patch_request(
    offer: OfferUpdate, marketplace_id: str = AMAZON_IN
) -> wire.ListingsItemPatchRequest:
    return wire.ListingsItemPatchRequest(
        product_type=OFFER_PRODUCT_TYPE, patches=offer_patches(offer, marketplace_id)
    )


def offer_feed_message(
    offer: OfferUpdate, message_id: int, marketplace_id: str = AMAZON_IN
) -> wire.FeedMessage:
    return wire.FeedMessage(
        message_id=message_id,
        sku=offer.sku,
        operation_type="PATCH",
        product_type=OFFER_PRODUCT_TYPE,
        patches=offer_patches(offer, marketplace_id),
    )


def listings_feed(
    seller_id: str, messages: Sequence[wire.FeedMessage], *, issue_locale: str = LANGUAGE_EN_IN
) -> wire.ListingsFeed:
    # includedData makes the report list every item the feed touched, so results can be
    # rebuilt per SKU from the report alone (the feed may be polled by another process), with
    # each item's summaries, which carry its ASIN.
    return wire.ListingsFeed(
        header=wire.FeedHeader(
            seller_id=seller_id,
            issue_locale=issue_locale,
            report=wire.FeedReportOptions(included_data=list(REPORT_DATA)),
        ),
        messages=list(messages),
    )


# issues ---------------------------------------------------------------------------------------


def canonical_field(attribute: str | None) -> str:
    if not attribute:
        return "listing"
    if attribute in CANONICAL_FIELD:
        return CANONICAL_FIELD[attribute]
    root = attribute.split(".", 1)[0].split("[", 1)[0]
    return CANONICAL_FIELD.get(root, f"attributes.{root}")


def plain_issue(
    sku: str,
    *,
    code: str,
    message: str,
    severity: str,
    attribute_names: Iterable[str] = (),
    categories: Iterable[str] = (),
) -> ItemIssue:
    names = tuple(attribute_names)
    field = canonical_field(names[0] if names else None)
    advice = next(
        (ADVICE_BY_CATEGORY[c] for c in categories if c in ADVICE_BY_CATEGORY),
        "fix it as Amazon says",
    )
    return ItemIssue(
        code=code,
        severity=Severity.ERROR if severity == "ERROR" else Severity.WARNING,
        field=field,
        message=f"field {field} of SKU {sku}: {advice} (Amazon {code}: {message})",
        attribute_names=names,
    )


def issue_from_listings(sku: str, issue: wire.Issue) -> ItemIssue:
    return plain_issue(
        sku,
        code=issue.code,
        message=issue.message,
        severity=issue.severity,
        attribute_names=issue.attribute_names,
        categories=issue.categories,
    )


def issue_from_report(sku: str, issue: wire.ReportIssue) -> ItemIssue:
    names = [issue.attribute_name] if issue.attribute_name else _quoted_attributes(issue.message)
    categories = ["MISSING_ATTRIBUTE"] if "required but not supplied" in issue.message else []
    return plain_issue(
        sku,
        code=issue.code or "FEED",
        message=issue.message,
        severity=issue.severity,
        attribute_names=names,
        categories=categories,
    )


def _quoted_attributes(message: str) -> list[str]:
    # Report messages name the attribute as '[batteries_required]' or 'condition_type'.
    start = message.find("'")
    end = message.find("'", start + 1)
    if start == -1 or end == -1:
        return []
    return [message[start + 1 : end].strip("[]")]


def issue_from_errors(sku: str, errors: wire.ErrorList | None, status: int) -> ItemIssue:
    first = errors.errors[0] if errors and errors.errors else wire.Error(code=str(status))
    return ItemIssue(
        code=first.code,
        field="listing",
        message=(
            f"field listing of SKU {sku}: Amazon refused the request (HTTP {status}, "
            f"{first.code}: {first.message or 'no detail'}); correct the listing and push again"
        ),
    )


def marketplace_asin(
    identifiers: Iterable[wire.ItemIdentifiersByMarketplace], marketplace_id: str
) -> str | None:
    """The ASIN of the item in the account's marketplace (ItemIdentifiers are per marketplace)."""
    return next(
        (i.asin for i in identifiers if i.asin and i.marketplace_id == marketplace_id), None
    )


def summary_asin(item: wire.Item, marketplace_id: str) -> str | None:
    """The ASIN an item's summaries give for the account's marketplace."""
    return next(
        (s.asin for s in item.summaries if s.asin and s.marketplace_id == marketplace_id), None
    )


W = TypeVar("W", bound=wire.Wire)


def _valid(model: type[W], raws: Any) -> list[W]:
    """The entries of a list that are `model`s; the others are skipped."""
    out = []
    for raw in raws if isinstance(raws, list) else ():
        try:
            out.append(model.model_validate(raw))
        except ValidationError:
            continue
    return out


def report_item(raw: Mapping[str, Any]) -> wire.Item | None:
    """One item of a processing report (a listings item with the included data sets; the
    report schema only says "an object"): its SKU with the issues and summaries that parse,
    or None without a SKU."""
    sku = raw.get("sku")
    if not isinstance(sku, str):
        return None
    return wire.Item(
        sku=sku,
        issues=_valid(wire.Issue, raw.get("issues")),
        summaries=_valid(wire.ItemSummary, raw.get("summaries")),
    )


def consumer_offer(item: wire.Item, marketplace_id: str) -> wire.ItemOffer | None:
    """The offer shoppers on the account's marketplace see: offerType B2C there. An item may
    also carry B2B offers (Amazon Business) and offers in other marketplaces."""
    return next(
        (o for o in item.offers if o.marketplace_id == marketplace_id and o.offer_type == "B2C"),
        None,
    )


def remote_state(item: wire.Item, marketplace_id: str = AMAZON_IN) -> RemoteListingState:
    summary = next((s for s in item.summaries if s.marketplace_id == marketplace_id), None)
    offer = consumer_offer(item, marketplace_id)
    stock = next(
        (f for f in item.fulfillment_availability if f.fulfillment_channel_code == "DEFAULT"), None
    )
    price = Money.from_decimal(offer.price.amount, offer.price.currency_code) if offer else None
    return RemoteListingState(
        sku=item.sku,
        exists=True,
        status=",".join(summary.status) if summary and summary.status else "INACTIVE",
        remote_id=summary.asin if summary else None,
        price=price,
        quantity=stock.quantity if stock else None,
        issues=tuple(issue_from_listings(item.sku, i) for i in item.issues),
    )


# orders ----------------------------------------------------------------------------------------

# Orders API 2026-01-01 FulfillmentStatus → the core's states. UNFULFILLABLE orders (Amazon-
# fulfilled orders from other channels) will never ship: their units are not sold.
ORDER_STATUS: Mapping[str, OrderStatus] = {
    "PENDING_AVAILABILITY": OrderStatus.PENDING,
    "PENDING": OrderStatus.PENDING,
    "UNSHIPPED": OrderStatus.UNSHIPPED,
    "PARTIALLY_SHIPPED": OrderStatus.UNSHIPPED,
    "SHIPPED": OrderStatus.SHIPPED,
    "CANCELLED": OrderStatus.CANCELLED,
    "UNFULFILLABLE": OrderStatus.CANCELLED,
}
# A package whose detailed status says its units came back to the seller (customer return or
# refused delivery); the Orders API has no separate return record.
RETURNED_PACKAGE = "RETURNED_TO_SELLER"


def _returned_units(order: wire.Order) -> dict[str, int]:
    returned: dict[str, int] = {}
    for package in order.packages:
        status = package.package_status
        if status is None or status.detailed_status != RETURNED_PACKAGE:
            continue
        for item in package.package_items:
            returned[item.order_item_id] = returned.get(item.order_item_id, 0) + item.quantity
    return returned


def order_line(item: wire.OrderItem, *, cancelled_order: bool, returned: int) -> RemoteOrderLine:
    price = item.product.price.unit_price if item.product.price else None
    quantity = item.quantity_ordered
    cancelled = 0
    if cancelled_order:
        cancelled = quantity
    elif item.cancellation is not None and item.cancellation.cancellation_execution is not None:
        # A cancelled line of a live order: the units not yet shipped are the cancelled ones.
        shipped = (item.fulfillment.quantity_fulfilled if item.fulfillment else None) or 0
        cancelled = max(0, quantity - shipped)
    return RemoteOrderLine(
        line_id=item.order_item_id,
        sku=item.product.seller_sku or item.product.asin or item.order_item_id,
        quantity=quantity,
        unit_price=(
            Money.from_decimal(price.amount, price.currency_code)
            if price is not None
            else Money(amount=0)
        ),
        quantity_cancelled=cancelled,
        quantity_returned=min(returned, quantity - cancelled),
    )


def canonical_order_status(order: wire.Order, lines: Sequence[RemoteOrderLine]) -> OrderStatus:
    raw = order.fulfillment.fulfillment_status if order.fulfillment else "PENDING"
    status = ORDER_STATUS[raw]
    if status is OrderStatus.SHIPPED:
        if (
            lines
            and all(
                line.quantity_returned + line.quantity_cancelled >= line.quantity for line in lines
            )
            and any(line.quantity_returned for line in lines)
        ):
            return OrderStatus.RETURNED
        packages = [p.package_status.status for p in order.packages if p.package_status]
        if packages and all(s == "DELIVERED" for s in packages):
            return OrderStatus.DELIVERED
    return status


def remote_order(order: wire.Order) -> RemoteOrder:
    """One searchOrders order as the core's RemoteOrder (prices in paise, lines by SKU)."""
    raw = order.fulfillment.fulfillment_status if order.fulfillment else "PENDING"
    cancelled = ORDER_STATUS[raw] is OrderStatus.CANCELLED
    returned = _returned_units(order)
    lines = tuple(
        order_line(i, cancelled_order=cancelled, returned=returned.get(i.order_item_id, 0))
        for i in order.order_items
    )
    return RemoteOrder(
        order_id=order.order_id,
        status=raw,
        canonical_status=canonical_order_status(order, lines),
        purchased_at=order.created_time,
        updated_at=order.last_updated_time,
        currency=lines[0].unit_price.currency if lines else "INR",
        lines=lines,
    )
