"""Flipkart Marketplace Seller API v3 JSON as it travels (Listings V3 and the OAuth token), field
for field from adapters/flipkart/specs (the OpenAPI file rebuilt from Flipkart's docs site, and the
text of its pages). Listing names are snake_case on the wire already; Shipment V3 (orders) is
camelCase.

Listings V3 write calls take an object keyed by SKU (at most 10 per call, per the FAQ) and answer
HTTP 200 with an object keyed by SKU whose `status` is SUCCESS, WARNING or FAILURE: a failed SKU
is only visible there. Money is whole rupees (`int32`), package sizes centimetres, weight
kilograms.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

API_VERSION = "v3"
LISTINGS = "/sellers/listings/v3"
# The rebuilt OpenAPI file's `servers`.
SERVERS = {"production": "https://api.flipkart.net", "sandbox": "https://sandbox-api.flipkart.net"}
TOKEN_PATH = "/oauth-service/oauth/token"  # noqa: S105 - a path
DEFAULT_SCOPE = "Seller_Api"
# "Is there a limit on the number of FSNs that can be sent using bulk update? Yes, you can
# update a maximum of 10 FSNs at a time." (docs: faq)
MAX_SKUS_PER_CALL = 10

FulfillmentProfile = Literal["NON_FBF", "FBF_LITE", "FBF"]
ShippingProvider = Literal["FLIPKART", "SELLER", "FLIPKART_SELLER", "SELLER_FLIPKART"]
ProcurementType = Literal["EXPRESS", "REGULAR", "INTERNATIONAL", "MADE_TO_ORDER", "DOMESTIC"]
ListingStatus = Literal["ACTIVE", "INACTIVE"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# listings v3 requests ---------------------------------------------------------------------------


class Price(Wire):
    mrp: int = Field(ge=0)
    # getListings' example says `flipkart_selling_price`; the schema says `selling_price`.
    selling_price: int = Field(
        ge=0, validation_alias=AliasChoices("selling_price", "flipkart_selling_price")
    )
    currency: str = "INR"


class Tax(Wire):
    hsn: str
    is_gst_sellable: bool | None = None
    goods_services_rate: float | None = Field(default=None, ge=0, le=28)
    tax_code: str | None = None


class ShippingFees(Wire):
    local: int = Field(ge=0)
    zonal: int = Field(ge=0)
    national: int = Field(ge=0)
    currency: str = "INR"


class Fulfillment(Wire):
    dispatch_sla: int = Field(ge=1)
    shipping_provider: ShippingProvider
    procurement_type: ProcurementType


class Dimensions(Wire):
    length: float
    breadth: float
    height: float


class Handling(Wire):
    fragile: bool


class Package(Wire):
    name: str
    dimensions: Dimensions | None = None
    weight: float | None = None  # kilograms
    description: str | None = None
    handling: Handling | None = None


class Location(Wire):
    id: str
    status: Literal["ENABLED", "DISABLED"] = "ENABLED"
    inventory: int | None = None


class AddressLabel(Wire):
    manufacturer_details: list[str] | None = Field(default=None, max_length=5)
    packer_details: list[str] | None = Field(default=None, max_length=5)
    countries_of_origin: list[str] | None = Field(default=None, max_length=5)


class ListingRequest(Wire):
    """CreateListingRequest and UpdateListingRequest (the same fields)."""

    product_id: str  # the FSN
    price: Price
    tax: Tax
    listing_status: ListingStatus = "ACTIVE"
    shipping_fees: ShippingFees | None = None
    fulfillment_profile: FulfillmentProfile
    fulfillment: Fulfillment | None = None
    packages: list[Package]
    locations: list[Location]
    address_label: AddressLabel | None = None


class PriceRequest(Wire):
    """UpdatePriceRequest."""

    product_id: str
    price: Price


class InventoryRequest(Wire):
    """UpdateInventoryRequest."""

    product_id: str
    locations: list[Location]


def batch(requests: dict[str, Wire]) -> dict[str, Any]:
    """The request body: one entry per SKU."""
    return {sku: request.to_wire() for sku, request in requests.items()}


# listings v3 answers --------------------------------------------------------------------------


class Error(Wire):
    severity: Literal["ERROR", "WARNING"] = "ERROR"
    code: int | str = 0
    description: str = ""
    path: str | None = None


class AttributeProblem(Error):
    """The spec's AttributeError (renamed: Python has one)."""

    attribute: str


class ListingChangeResponse(Wire):
    status: Literal["SUCCESS", "FAILURE", "WARNING"]
    errors: list[Error] = Field(default_factory=list)
    attribute_errors: list[AttributeProblem] = Field(default_factory=list)


class ErrorBody(Wire):
    """What comes with a refused request (4xx/5xx). Flipkart does not document it; the sandbox
    uses the documented Error object in an `errors` list, and OAuth errors are RFC 6749's."""

    errors: list[Error] = Field(default_factory=list)
    error: str | None = None
    error_description: str | None = None


class ListingDetail(Wire):
    """MarketplaceListingDetail (getListings)."""

    listing_id: str
    product_id: str
    price: Price
    tax: Tax | None = None
    listing_status: ListingStatus
    shipping_fees: ShippingFees | None = None
    fulfillment_profile: str
    fulfillment: dict[str, Any] | None = None
    packages: list[dict[str, Any]] = Field(default_factory=list)
    locations: list[Location] = Field(default_factory=list)
    archived_status: str | None = None


class ListingsResponse(Wire):
    available: dict[str, ListingDetail] = Field(default_factory=dict)
    unavailable: list[str] = Field(default_factory=list)
    invalid: list[str] = Field(default_factory=list)


class SearchFilters(Wire):
    # Spelt as in the spec's BulkListingFilter.
    lisitng_status: ListingStatus | None = None


class SearchRequest(Wire):
    """BulkListingRequest: no page_id for the first page, then the previous next_page_id."""

    filters: SearchFilters | None = None
    page_id: str | None = None


class BulkListing(Wire):
    listing_id: str | None = None
    product_id: str | None = None
    sku_id: str | None = None


class SearchResponse(Wire):
    next_page_id: str | None = None
    has_more: bool = False
    # The rebuilt schema shows one BulkListing object; the text says listings come 500 a page.
    listings: list[BulkListing] | BulkListing = Field(default_factory=list)

    def items(self) -> list[BulkListing]:
        return self.listings if isinstance(self.listings, list) else [self.listings]


# orders: Shipment V3 search (POST/GET /sellers/v3/shipments/filter) ---------------------------

SHIPMENTS_FILTER = "/sellers/v3/shipments/filter"


class CamelWire(Wire):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


ShipmentFilterType = Literal["preDispatch", "postDispatch", "cancelled"]
ShipmentState = Literal[
    "APPROVED",
    "PACKING_IN_PROGRESS",
    "FORM_FAILED",
    "PACKED",
    "READY_TO_DISPATCH",
    "PICKUP_COMPLETE",
    "CANCELLED",
    "RETURN_REQUESTED",
    "RETURNED",
    "SHIPPED",
    "DELIVERED",
    "COMPLETED",
]
# The states each search type covers: one pass asks for all three, so none is missed.
FILTER_STATES: dict[str, tuple[str, ...]] = {
    "preDispatch": (
        "APPROVED",
        "PACKING_IN_PROGRESS",
        "FORM_FAILED",
        "PACKED",
        "READY_TO_DISPATCH",
    ),
    "postDispatch": (
        "PICKUP_COMPLETE",
        "SHIPPED",
        "DELIVERED",
        "RETURN_REQUESTED",
        "RETURNED",
        "COMPLETED",
    ),
    "cancelled": ("CANCELLED",),
}


class DateRange(CamelWire):
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None


class ShipmentFilter(CamelWire):
    type: ShipmentFilterType
    states: list[ShipmentState] | None = None
    sku: list[str] | None = None
    order_date: DateRange | None = None
    modified_date: DateRange | None = None


class ShipmentPagination(CamelWire):
    page_size: int


class ShipmentSort(CamelWire):
    field: Literal["dispatchByDate", "orderDate", "modifiedDate", "dispatchAfterDate"]
    order: Literal["asc", "desc"] = "asc"


class ShipmentSearchRequest(CamelWire):
    filter: ShipmentFilter
    pagination: ShipmentPagination | None = None
    sort: ShipmentSort | None = None


class PriceComponents(CamelWire):
    selling_price: Decimal | None = None
    total_price: Decimal | None = None
    shipping_charge: Decimal | None = None
    customer_price: Decimal | None = None
    flipkart_discount: Decimal | None = None


class ShipmentOrderItem(CamelWire):
    order_item_id: str
    order_id: str
    order_date: datetime | None = None
    cancellation_date: datetime | None = None
    status: ShipmentState
    quantity: int = 1
    fsn: str | None = None
    sku: str | None = None
    listing_id: str | None = None
    price_components: PriceComponents | None = None


class ShipmentDetail(CamelWire):
    shipment_id: str
    updated_at: datetime | None = None
    location_id: str | None = None
    order_items: list[ShipmentOrderItem] = Field(default_factory=list)


class ShipmentSearchResponse(CamelWire):
    has_more: bool = False
    next_page_url: str | None = None
    shipments: list[ShipmentDetail] = Field(default_factory=list)
