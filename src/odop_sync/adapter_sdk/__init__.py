"""The only part of odop_sync that adapters import: base class, DTOs, errors, capabilities, rate
limiter, HTTP client factory with `send`/`classify_response`, OAuth 2.0 token auth and the
order-pull cursor. The sandbox toolkit lives in `odop_sync.adapter_sdk.sandbox` (orders in
`odop_sync.adapter_sdk.sandbox_orders`), the conformance suite in `odop_sync.adapter_sdk.testing`
(it needs pytest), discovery in `odop_sync.adapter_sdk.registry`."""

from odop_sync.adapter_sdk._auth import OAuth2TokenAuth
from odop_sync.adapter_sdk._base import Adapter, CredentialsChanged, OperationLimit
from odop_sync.adapter_sdk._capabilities import Capability
from odop_sync.adapter_sdk._clock import Clock, SystemClock
from odop_sync.adapter_sdk._cursor import DEFAULT_ORDER_LOOKBACK, PullCursor
from odop_sync.adapter_sdk._data import adapter_data_file, specs_dir
from odop_sync.adapter_sdk._dtos import (
    NEEDS_CATALOG_MAPPING,
    B2BTerms,
    ItemIssue,
    ItemResult,
    ItemStatus,
    LeadTime,
    ListingPayload,
    Money,
    OfferUpdate,
    OrderPage,
    OrderStatus,
    PackageDimensions,
    PriceTier,
    RemoteListingState,
    RemoteOrder,
    RemoteOrderLine,
    SalesPeriod,
    SalesRow,
    Severity,
    Shipment,
    SubmissionState,
    SubmissionStatus,
)
from odop_sync.adapter_sdk._errors import (
    AdapterConfigError,
    AdapterError,
    AuthenticationError,
    CapabilityNotSupportedError,
    MarketplaceUnavailableError,
    PayloadRejectedError,
    PermanentAdapterError,
    RateLimitedError,
    RemoteNotFoundError,
    RetryableAdapterError,
)
from odop_sync.adapter_sdk._images import FetchedImage, ImageRefusal, ImageSource
from odop_sync.adapter_sdk._ratelimit import BucketState, RateLimiter, parse_retry_after
from odop_sync.adapter_sdk._schema import QueryValidator, SchemaError, SchemaValidator
from odop_sync.adapter_sdk.http import classify_response, create_http_client, safe_url, send
from odop_sync.adapter_sdk.registry import (
    ENTRY_POINT_GROUP,
    AdapterRegistry,
    discover_adapters,
    validate_adapter_class,
)

__all__ = [
    "DEFAULT_ORDER_LOOKBACK",
    "ENTRY_POINT_GROUP",
    "NEEDS_CATALOG_MAPPING",
    "Adapter",
    "AdapterConfigError",
    "AdapterError",
    "AdapterRegistry",
    "AuthenticationError",
    "B2BTerms",
    "BucketState",
    "Capability",
    "CapabilityNotSupportedError",
    "Clock",
    "CredentialsChanged",
    "FetchedImage",
    "ImageRefusal",
    "ImageSource",
    "ItemIssue",
    "ItemResult",
    "ItemStatus",
    "LeadTime",
    "ListingPayload",
    "MarketplaceUnavailableError",
    "Money",
    "OAuth2TokenAuth",
    "OfferUpdate",
    "OperationLimit",
    "OrderPage",
    "OrderStatus",
    "PackageDimensions",
    "PayloadRejectedError",
    "PermanentAdapterError",
    "PriceTier",
    "PullCursor",
    "QueryValidator",
    "RateLimitedError",
    "RateLimiter",
    "RemoteListingState",
    "RemoteNotFoundError",
    "RemoteOrder",
    "RemoteOrderLine",
    "RetryableAdapterError",
    "SalesPeriod",
    "SalesRow",
    "SchemaError",
    "SchemaValidator",
    "Severity",
    "Shipment",
    "SubmissionState",
    "SubmissionStatus",
    "SystemClock",
    "adapter_data_file",
    "classify_response",
    "create_http_client",
    "discover_adapters",
    "parse_retry_after",
    "safe_url",
    "send",
    "specs_dir",
    "validate_adapter_class",
]
