"""The DTOs adapters exchange with the core. Frozen, validated, and free of ORM or settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "NEEDS_CATALOG_MAPPING",
    "B2BTerms",
    "ItemIssue",
    "ItemResult",
    "ItemStatus",
    "LeadTime",
    "ListingPayload",
    "Money",
    "OfferUpdate",
    "OrderPage",
    "OrderStatus",
    "PackageDimensions",
    "PriceTier",
    "RemoteListingState",
    "RemoteOrder",
    "RemoteOrderLine",
    "SalesPeriod",
    "SalesRow",
    "Severity",
    "Shipment",
    "SubmissionState",
    "SubmissionStatus",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Money(_Frozen):
    """An amount in minor units (paise for INR), never a float."""

    amount: int
    currency: str = Field(default="INR", min_length=3, max_length=3)

    @classmethod
    def from_decimal(cls, value: Decimal | str | int, currency: str = "INR") -> Money:
        return cls(amount=int((Decimal(value) * 100).to_integral_value()), currency=currency)

    def to_decimal(self) -> Decimal:
        return (Decimal(self.amount) / 100).quantize(Decimal("0.01"))

    def __str__(self) -> str:
        return f"{self.currency} {self.to_decimal()}"


class PackageDimensions(_Frozen):
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    weight_g: Decimal | None = None


class PriceTier(_Frozen):
    """One step of a B2B quantity price ladder: `price` per unit for orders of `min_quantity`
    units up to `max_quantity` (None: and above), in the account's currency."""

    min_quantity: int = Field(ge=1)
    max_quantity: int | None = Field(default=None, ge=1)
    price: Money


class LeadTime(_Frozen):
    """Days to dispatch an order of up to `max_quantity` units (None: any larger order)."""

    max_quantity: int | None = Field(default=None, ge=1)
    days: int = Field(ge=1, le=365)


class B2BTerms(_Frozen):
    """A product's wholesale (export, B2B) terms, for marketplaces that sell by minimum order
    quantity and quantity tiers (Alibaba.com). Tiers ascend and do not overlap; the lowest starts
    at `moq` or above. Tier prices are in the account's currency, converted by the core."""

    moq: int = Field(ge=1, description="minimum order quantity, in moq_unit")
    moq_unit: str = Field(
        min_length=1,
        description="canonical unit: piece, pair, set, dozen, square_metre, metre, "
        "kilogram, carton",
    )
    price_tiers: tuple[PriceTier, ...] = Field(min_length=1)
    supply_per_month: int | None = Field(default=None, ge=1, description="units per month")
    lead_times: tuple[LeadTime, ...] = ()
    port_of_loading: str | None = None
    payment_terms: tuple[str, ...] = Field(
        default=(), description="canonical words: TT, LC, DP, DA, western_union, paypal"
    )
    export_hs_code: str | None = Field(
        default=None, description="export HS code where it differs from the HSN code"
    )


class ListingPayload(_Frozen):
    """Full content of one variant (SKU) as the core wants it on one marketplace account."""

    sku: str = Field(min_length=1, max_length=40)
    product_ref: str
    title: str = Field(min_length=1)
    title_hi: str | None = None
    description: str | None = None
    description_hi: str | None = None
    bullet_points: tuple[str, ...] = ()
    brand: str = Field(min_length=1, description="producer (artisan, SHG, unit) name")
    manufacturer: str | None = None
    craft: str | None = None
    product_type: str | None = Field(default=None, description="marketplace product type hint")
    odop_product: str | None = None
    hsn_code: str = Field(pattern=r"^\d{4}(\d{2}){0,2}$")
    gst_rate: Decimal
    mrp: Money
    price: Money
    quantity: int = Field(ge=0, description="available to sell on this account")
    images: tuple[str, ...] = ()
    package: PackageDimensions | None = None
    material: str | None = None
    color: str | None = None
    size: str | None = None
    district: str | None = None
    gi_tag: str | None = None
    country_of_origin: str = "IN"
    attributes: Mapping[str, Any] = Field(default_factory=dict)
    marketplace_attributes: Mapping[str, Any] = Field(
        default_factory=dict, description="per-marketplace extras, e.g. a Flipkart FSN"
    )
    b2b: B2BTerms | None = Field(
        default=None, description="wholesale terms; None: the product is not sold B2B"
    )
    remote_id: str | None = Field(
        default=None,
        description="the marketplace's id of this listing as last confirmed, when the core knows "
        "it (set at push time, never part of the desired state's hash)",
    )

    @field_validator("attributes", "marketplace_attributes")
    @classmethod
    def _plain_dict(cls, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)


class OfferUpdate(_Frozen):
    """Price and stock only: the fast path."""

    sku: str = Field(min_length=1, max_length=40)
    price: Money
    mrp: Money | None = None
    quantity: int | None = Field(default=None, ge=0)
    marketplace_attributes: Mapping[str, Any] = Field(
        default_factory=dict,
        description="the listing's per-marketplace extras (as in ListingPayload), for marketplaces "
        "whose offer calls name the catalog product, e.g. Flipkart's FSN",
    )
    remote_id: str | None = Field(
        default=None, description="as ListingPayload.remote_id: the marketplace's id, when known"
    )

    @field_validator("marketplace_attributes")
    @classmethod
    def _plain_dict(cls, value: Mapping[str, Any]) -> dict[str, Any]:
        return dict(value)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# ItemIssue.code of a listing that cannot go out until someone maps the variant onto the
# marketplace's own catalog (e.g. a Flipkart FSN). The core parks such a listing as "needs
# mapping" with the reason on its timeline instead of retrying it, and tries again when the
# variant changes.
NEEDS_CATALOG_MAPPING = "NEEDS_CATALOG_MAPPING"


class ItemIssue(_Frozen):
    code: str
    severity: Severity = Severity.ERROR
    field: str | None = None
    message: str = Field(description='plain words: "field X of SKU Y: what to do"')
    attribute_names: tuple[str, ...] = ()


class ItemStatus(StrEnum):
    ACCEPTED = "accepted"
    SUBMITTED = "submitted"  # async: resolve with poll_submissions(submission_id)
    REJECTED = "rejected"
    UNCHANGED = "unchanged"


class ItemResult(_Frozen):
    sku: str
    status: ItemStatus
    submission_id: str | None = None
    remote_id: str | None = None
    issues: tuple[ItemIssue, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is not ItemStatus.REJECTED


class SubmissionState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class SubmissionStatus(_Frozen):
    submission_id: str
    state: SubmissionState
    results: tuple[ItemResult, ...] = ()
    detail: str | None = None


class RemoteListingState(_Frozen):
    sku: str
    exists: bool = True
    status: str = Field(description="marketplace status words, e.g. BUYABLE, or MISSING")
    remote_id: str | None = None
    price: Money | None = None
    quantity: int | None = None
    issues: tuple[ItemIssue, ...] = ()


class OrderStatus(StrEnum):
    """The core's order states; each adapter maps its marketplace's own words onto these."""

    PENDING = "pending"  # placed, payment or approval not final (Amazon Pending)
    UNSHIPPED = "unshipped"  # confirmed, waiting to be dispatched
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"  # every line cancelled: all its units go back to stock
    RETURNED = "returned"  # every line returned: all its units go back to stock


class RemoteOrderLine(_Frozen):
    line_id: str | None = Field(
        default=None, description="the marketplace's line id; without one, lines go by SKU"
    )
    sku: str
    quantity: int = Field(ge=0, description="units ordered, including any later cancelled")
    unit_price: Money
    quantity_cancelled: int = Field(default=0, ge=0, description="units of this line cancelled")
    quantity_returned: int = Field(default=0, ge=0, description="units of this line returned")


class RemoteOrder(_Frozen):
    order_id: str
    status: str = Field(description="the marketplace's own status words, e.g. Unshipped, APPROVED")
    purchased_at: datetime
    currency: str = "INR"
    lines: tuple[RemoteOrderLine, ...] = ()
    canonical_status: OrderStatus = Field(
        default=OrderStatus.PENDING, description="status mapped onto the core's states"
    )
    updated_at: datetime | None = Field(
        default=None, description="last change at the marketplace (defaults to purchased_at)"
    )
    inr_rate: Decimal | None = Field(
        default=None,
        gt=0,
        description="INR per unit of currency the order was booked at, when not INR",
    )


class OrderPage(_Frozen):
    orders: tuple[RemoteOrder, ...] = ()
    cursor: str | None = Field(default=None, description="pass back to pull_orders to go on")
    updated_before: datetime | None = Field(
        default=None,
        description="every order changed before this instant has been served once the last page "
        "(cursor None) is reached; the core's next pull asks for updated_after this, minus an "
        "overlap. None: the core uses the newest updated_at it saw",
    )


class SalesPeriod(_Frozen):
    start: date
    end: date


class SalesRow(_Frozen):
    sku: str
    day: date
    units: int
    gross: Money


class Shipment(_Frozen):
    carrier: str
    tracking_number: str
    shipped_at: datetime
    line_ids: tuple[str, ...] = ()
