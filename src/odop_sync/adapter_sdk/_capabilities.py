from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """What an adapter can do; every operation on `Adapter` is gated by one of these."""

    CHECK_CONNECTION = "check_connection"
    PUSH_LISTINGS = "push_listings"
    PUSH_OFFERS = "push_offers"
    POLL_SUBMISSIONS = "poll_submissions"
    FETCH_LISTING_STATES = "fetch_listing_states"
    PULL_ORDERS = "pull_orders"
    PULL_SALES = "pull_sales"
    ORDER_WRITEBACK = "order_writeback"
    BULK_FEED = "bulk_feed"
