"""SP-API JSON as it travels: Listings Items 2021-08-01, Feeds 2021-06-30, the JSON listings feed
(v2) and its processing report, and Login with Amazon tokens. Field names follow the specs in
adapters/amazon/specs (camelCase on the wire, snake_case here)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

LISTINGS_API_VERSION = "2021-08-01"
FEEDS_API_VERSION = "2021-06-30"
JSON_LISTINGS_FEED = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


# errors ---------------------------------------------------------------------------------------


class Error(Wire):
    code: str
    message: str = ""
    details: str | None = None


class ErrorList(Wire):
    errors: list[Error]


# listings items -------------------------------------------------------------------------------

IssueSeverity = Literal["ERROR", "WARNING", "INFO"]


class Issue(Wire):
    code: str
    message: str
    severity: IssueSeverity
    attribute_names: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)


class ItemIdentifiersByMarketplace(Wire):
    marketplace_id: str | None = None
    asin: str | None = None


class ListingsItemPutRequest(Wire):
    product_type: str
    requirements: Literal["LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY"] | None = None
    attributes: dict[str, Any]


class PatchOperation(Wire):
    op: Literal["add", "replace", "merge", "delete"]
    path: str
    value: list[dict[str, Any]] | None = None


class ListingsItemPatchRequest(Wire):
    product_type: str
    patches: list[PatchOperation] = Field(min_length=1)


class ListingsItemSubmissionResponse(Wire):
    sku: str
    status: Literal["ACCEPTED", "INVALID", "VALID"]
    submission_id: str
    issues: list[Issue] = Field(default_factory=list)
    identifiers: list[ItemIdentifiersByMarketplace] = Field(default_factory=list)


class ItemSummary(Wire):
    marketplace_id: str
    asin: str | None = None
    product_type: str
    status: list[str] = Field(default_factory=list)
    item_name: str | None = None
    created_date: datetime | None = None
    last_updated_date: datetime | None = None


class Money(Wire):
    currency_code: str
    amount: str  # a Decimal as a string, per the spec


class ItemOffer(Wire):
    marketplace_id: str
    offer_type: str
    price: Money


class FulfillmentAvailability(Wire):
    fulfillment_channel_code: str
    quantity: int | None = None


class Item(Wire):
    sku: str
    summaries: list[ItemSummary] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    issues: list[Issue] = Field(default_factory=list)
    offers: list[ItemOffer] = Field(default_factory=list)
    fulfillment_availability: list[FulfillmentAvailability] = Field(default_factory=list)


class Pagination(Wire):
    next_token: str | None = None
    previous_token: str | None = None


class ItemSearchResults(Wire):
    number_of_results: int
    items: list[Item] = Field(default_factory=list)
    pagination: Pagination | None = None


# feeds ----------------------------------------------------------------------------------------

ProcessingStatus = Literal["CANCELLED", "DONE", "FATAL", "IN_PROGRESS", "IN_QUEUE"]


class CreateFeedDocumentSpecification(Wire):
    content_type: str


class CreateFeedDocumentResponse(Wire):
    feed_document_id: str
    url: str


class CreateFeedSpecification(Wire):
    feed_type: str
    marketplace_ids: list[str]
    input_feed_document_id: str
    feed_options: dict[str, str] | None = None


class CreateFeedResponse(Wire):
    feed_id: str


class Feed(Wire):
    feed_id: str
    feed_type: str
    marketplace_ids: list[str] = Field(default_factory=list)
    created_time: datetime
    processing_status: ProcessingStatus
    processing_start_time: datetime | None = None
    processing_end_time: datetime | None = None
    result_feed_document_id: str | None = None


class FeedDocument(Wire):
    feed_document_id: str
    url: str
    compression_algorithm: Literal["GZIP"] | None = None


# JSON_LISTINGS_FEED (listings-feed-schema-v2) ------------------------------------------------


class FeedReportOptions(Wire):
    included_data: list[str]
    api_version: str = LISTINGS_API_VERSION


class FeedHeader(Wire):
    seller_id: str
    version: Literal["2.0"] = "2.0"
    issue_locale: str | None = None
    report: FeedReportOptions | None = None


class FeedMessage(Wire):
    message_id: int = Field(ge=1)
    sku: str
    operation_type: Literal["UPDATE", "PARTIAL_UPDATE", "PATCH", "DELETE"]
    product_type: str | None = None
    requirements: Literal["LISTING", "LISTING_PRODUCT_ONLY", "LISTING_OFFER_ONLY"] | None = None
    attributes: dict[str, Any] | None = None
    patches: list[PatchOperation] | None = None


class ListingsFeed(Wire):
    header: FeedHeader
    messages: list[FeedMessage]


# processing report (listings-feed-processing-report-schema-v2) -------------------------------


class ReportHeader(Wire):
    seller_id: str
    version: str
    feed_id: str


class ReportIssue(Wire):
    message_id: int | None = None
    sku: str | None = None
    code: str | None = None
    severity: IssueSeverity
    message: str
    attribute_name: str | None = None


class ReportItemSummary(Wire):
    items: int
    errors: int
    warnings: int


class ReportSummary(Wire):
    errors: int
    warnings: int
    messages_processed: int
    messages_accepted: int
    messages_invalid: int
    item_summary: ReportItemSummary | None = None


class ProcessingReport(Wire):
    header: ReportHeader
    issues: list[ReportIssue] = Field(default_factory=list)
    summary: ReportSummary
    items: list[dict[str, Any]] = Field(default_factory=list)


# orders (Orders API 2026-01-01, searchOrders) --------------------------------------------------

ORDERS_API_VERSION = "2026-01-01"
# The datasets pull_orders needs besides the order itself (searchOrders `includedData`).
ORDER_DATASETS = ("FULFILLMENT", "PACKAGES", "CANCELLATION")

FulfillmentStatus = Literal[
    "PENDING_AVAILABILITY",
    "PENDING",
    "UNSHIPPED",
    "PARTIALLY_SHIPPED",
    "SHIPPED",
    "CANCELLED",
    "UNFULFILLABLE",
]


class OrderMoney(Wire):
    amount: str  # Decimal as a string
    currency_code: str


class ItemPrice(Wire):
    unit_price: OrderMoney | None = None


class ItemProduct(Wire):
    asin: str | None = None
    title: str | None = None
    seller_sku: str | None = None
    price: ItemPrice | None = None


class ItemCancellationExecution(Wire):
    cancelled_by: str | None = None
    cancel_reason: str | None = None


class ItemCancellation(Wire):
    cancellation_request: dict[str, Any] | None = None
    cancellation_execution: ItemCancellationExecution | None = None


class ItemFulfillment(Wire):
    quantity_fulfilled: int | None = None
    quantity_unfulfilled: int | None = None


class OrderItem(Wire):
    order_item_id: str
    quantity_ordered: int
    product: ItemProduct = Field(default_factory=ItemProduct)
    cancellation: ItemCancellation | None = None
    fulfillment: ItemFulfillment | None = None


class SalesChannel(Wire):
    channel_name: str
    marketplace_id: str | None = None
    marketplace_name: str | None = None


class OrderFulfillment(Wire):
    fulfillment_status: FulfillmentStatus
    fulfilled_by: str | None = None


class PackageStatus(Wire):
    status: str
    detailed_status: str | None = None


class PackageItem(Wire):
    order_item_id: str
    quantity: int


class OrderPackage(Wire):
    package_reference_id: str
    package_status: PackageStatus | None = None
    package_items: list[PackageItem] = Field(default_factory=list)


class Order(Wire):
    order_id: str
    created_time: datetime
    last_updated_time: datetime
    sales_channel: SalesChannel
    fulfillment: OrderFulfillment | None = None
    order_items: list[OrderItem] = Field(default_factory=list)
    packages: list[OrderPackage] = Field(default_factory=list)


class OrdersPagination(Wire):
    next_token: str | None = None


class SearchOrdersResponse(Wire):
    orders: list[Order]
    pagination: OrdersPagination | None = None
    last_updated_before: datetime | None = None
    created_before: datetime | None = None
