"""What the Flipkart sandbox holds requests to, each rule with where it comes from: Flipkart's
documents (specs/: the OpenAPI file rebuilt from the docs site, and the text of its pages, see
specs/SOURCE.md) or, where they say nothing, the sandbox's own stated assumption.

Nothing here is read from the adapter (FlipkartAdapter.limits, wire, mapping): the sandbox
judges the adapter, so a wrong path, limit or table on the adapter's side shows up as a refusal
here instead of being agreed with.
"""

from __future__ import annotations

import re
from types import MappingProxyType

# Paths --------------------------------------------------------------------------------------

# docs: intro, "GET /oauth-service/oauth/token?grant_type=client_credentials&scope=Seller_Api".
TOKEN_PATH = "/oauth-service/oauth/token"  # noqa: S105 - a path
# docs: intro, the client-credentials call asks for scope Seller_Api.
SELLER_SCOPE = "Seller_Api"
# spec: the paths of createListings (POST /sellers/listings/v3), updateListings (.../update),
# updatePrice (.../update/price), updateInventory (.../update/inventory), listingSearch
# (.../search) and getListings (GET .../{skuIds}).
LISTINGS = "/sellers/listings/v3"
WRITES = MappingProxyType(
    {
        "createListings": "",
        "updateListings": "/update",
        "updatePrice": "/update/price",
        "updateInventory": "/update/inventory",
    }
)
# spec: searchPreDispatchShipmentPost (POST) and searchPreDispatchShipmentGet (GET).
SHIPMENTS_FILTER = "/sellers/v3/shipments/filter"
# The name faults and call counts give the token call (the spec has no operationId for it).
TOKEN_OPERATION = "oauth.token"  # noqa: S105 - an operation name

# Sizes --------------------------------------------------------------------------------------

# docs: faq, "you can update a maximum of 10 FSNs at a time"; the sandbox holds every Listings
# V3 call that names SKUs (writes and getListings) to it.
MAX_SKUS_PER_CALL = 10
# docs: listing-search, "fetch all of the seller's listings ... in a batch of 500".
SEARCH_PAGE = 500
# Assumption: the docs give no page size for the shipment search; 20 a page at most.
SHIPMENTS_PAGE = 20

# Rate limits ----------------------------------------------------------------------------------

# Flipkart publishes no rate limits: nothing in the docs pages or the spec speaks of a rate,
# quota or throttling, and the response codes page lists no 429. The sandbox's stated
# assumption, the same for every operation: 5 calls a second per seller, bursts of 25, beyond
# which a call gets 429 with Retry-After. A client that keeps well under that (the docs ask
# nothing) never meets a 429 here; one that fires faster does.
ASSUMED_RATE = 5.0
ASSUMED_BURST = 25.0
OPERATIONS = (
    "createListings",
    "updateListings",
    "updatePrice",
    "updateInventory",
    "getListings",
    "listingSearch",
    "searchPreDispatchShipmentPost",
    "searchPreDispatchShipmentGet",
)
RATE_LIMITS = MappingProxyType(dict.fromkeys(OPERATIONS, (ASSUMED_RATE, ASSUMED_BURST)))

# Listings ----------------------------------------------------------------------------------

# Assumption: the docs type an FSN (product_id) as a string only; the spec's examples carry
# "MOBFDG3VACEXZEYZ", and the sandbox takes an FSN to be 16 upper-case letters and digits.
FSN_RE = re.compile(r"^[A-Z0-9]{16}$")
# Assumption: SKU ids of 1 to 64 letters, digits, '.', '_' and '-'; getListings lists any
# other as `invalid`.
SKU_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# docs: release-notes, HSN "is an 8 digit product classification"; the sandbox's assumption
# accepts the 4 and 6 digit codes (HSN headings and subheadings) as well.
HSN_RE = re.compile(r"^\d{4}(\d{2}){0,2}$")

# Shipments --------------------------------------------------------------------------------

# docs: search-pre-dispatch-shipment-post, filter.type is one of preDispatch, postDispatch,
# cancelled and filter.states any of the twelve states below. Which states belong to which
# type the docs leave open; the sandbox's reading of the shipment lifecycle
# (order-management-intro): before dispatch, after it, and cancelled ("Cancellation can only
# happen before the shipment is shipped").
FILTER_STATES = MappingProxyType(
    {
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
)
