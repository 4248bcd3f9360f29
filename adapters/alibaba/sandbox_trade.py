"""Trade Assurance orders of the Alibaba.com sandbox (PROTOCOL.md §7.11, §7.12), kept in the
toolkit's OrderBook and rendered in Alibaba.com's words.

B2B orders: a generated order buys one live product (approved, on shelf) in a large quantity,
from its minimum order quantity up to several times it (never more than its stock), at the USD
price of the tier that quantity falls in, FOB, shipped from the product's port. Prices in the
book are US cents. An order placed by hand (`POST /_sandbox/orders/{seller}`) takes the quantity
it is given (tests place small ones) at its tier's price.

Statuses (§7.12; the book keeps the core's states, the sandbox names them, I): pending →
`unpay`, unshipped → `paid`, shipped → `delivering`, delivered → `trade_success`, cancelled →
`trade_close` (returned → `charge_back`, only by hand). They move on over marketplace time
(paid an hour after the order, shipped 2-10 days later, received 10-30 days after that; a tenth
are closed before shipping) or on request.

Order list (§7.11, U-GUIDE): role seller, 0-based `start_page`, `page_size` up to 50 (contract
note, I), modified/created date filters as JSON text `{"date_timestamp": "<epoch ms>"}` or
`{"date_str": "yyyy-MM-dd HH:mm:ss"}` (read as UTC, I), bounds inclusive; oldest change first.
`format_date` is UTC too (the platform formats in PST/PDT; the contract note takes UTC, I).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from adapters.alibaba.sandbox_gateway import INVALID, GopError
from adapters.alibaba.sandbox_tokens import TokenDesk
from odop_sync.adapter_sdk import OrderStatus
from odop_sync.adapter_sdk.sandbox_orders import (
    HOUR,
    OrderBook,
    OrderLife,
    OrderRejectedError,
    OrderShop,
)

DAY = 24 * HOUR
TRADE_STATUS = {
    OrderStatus.PENDING.value: "unpay",
    OrderStatus.UNSHIPPED.value: "paid",
    OrderStatus.SHIPPED.value: "delivering",
    OrderStatus.DELIVERED.value: "trade_success",
    OrderStatus.CANCELLED.value: "trade_close",
    OrderStatus.RETURNED.value: "charge_back",
}
ORDER_PAGE_MAX = 50
ORDER_PAGE_DEFAULT = 10  # U-GUIDE
NOT_FOUND = "ORDER_NOT_EXIST"  # the sandbox's own code (I)
TRADE_LIFE = OrderLife(
    orders_per_minute=0.0,
    cancel_share=0.1,
    return_share=0.0,
    confirm_after=HOUR,
    cancel_within=(2 * HOUR, 2 * DAY),
    ship_within=(2 * DAY, 10 * DAY),
    deliver_within=(10 * DAY, 30 * DAY),
)
# The buyers of generated orders: importers where Indian carpets and crafts sell.
BUYERS = (
    ("Al Noor Trading LLC", "AE", "Dubai", "Jebel Ali"),
    ("Hanse Teppich GmbH", "DE", "Hamburg", "Hamburg"),
    ("Brooklyn Home Goods Inc.", "US", "New York", "New York"),
    ("Harbour Interiors Pty Ltd", "AU", "Sydney", "Sydney"),
    ("Maison Artisane SARL", "FR", "Lyon", "Le Havre"),
)


def _cents(price: str) -> int:
    return int(Decimal(price) * 100)


def _usd(cents: int) -> dict[str, str]:
    return {"amount": f"{Decimal(cents) / 100:.2f}", "currency": "USD"}


def _date(stamp: str) -> dict[str, Any]:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return {
        "timestamp": int(moment.timestamp() * 1000),
        "format_date": moment.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _bound(name: str, value: Mapping[str, Any] | None) -> float | None:
    """A DateFilter as epoch seconds (None: open)."""
    if not value:
        return None
    if "date_timestamp" in value:
        text = str(value["date_timestamp"])
        if not text.isdigit():
            raise GopError(INVALID, f"{name}.date_timestamp: must be epoch milliseconds")
        return int(text) / 1000
    if "date_str" in value:
        try:
            moment = datetime.strptime(str(value["date_str"]) + " +0000", "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            raise GopError(INVALID, f"{name}.date_str: must be yyyy-MM-dd HH:mm:ss") from None
        return moment.timestamp()
    return None


class TradeShop(OrderShop, Protocol):
    """The sandbox as the trade desk sees it: an OrderShop that also knows B2B terms."""

    tokens: TokenDesk

    def tiers(self, seller: str, sku: str) -> list[dict[str, str]]:
        """The live product's price tiers (start_quantity, price in USD), [] if none."""

    def moq(self, seller: str, sku: str) -> int | None:
        """The live product's minimum order quantity."""

    def product_for(self, seller: str, sku: str) -> dict[str, Any] | None:
        """The product an order line of `sku` bought (the live one, else any)."""


class TradeBook(OrderBook):
    """The OrderBook with B2B quantities and tier prices."""

    def __init__(self, shop: TradeShop, *args: Any, **kwargs: Any) -> None:
        super().__init__(shop, *args, **kwargs)
        self.trade_shop = shop

    def reset(self) -> None:
        """Forget every order and plan (the state store's tables are cleared by its owner)."""
        for held in (self._random, self._next_arrival, self._due, self._index, self._count):
            held.clear()

    def tier_price(self, seller: str, sku: str, quantity: int) -> int | None:
        """US cents per unit for `quantity`: the highest tier it reaches (the lowest tier's
        price for fewer units, as a hand-placed test order may be)."""
        tiers = self.trade_shop.tiers(seller, sku)
        price = None
        for tier in tiers:
            if price is None or int(tier["start_quantity"]) <= quantity:
                price = _cents(tier["price"])
        return price

    def place(self, seller: str, lines: dict[str, int]) -> dict[str, Any]:
        self.advance(seller)
        priced: dict[str, tuple[int, int]] = {}
        for sku, quantity in lines.items():
            offer = self.shop.stock(seller, sku)
            price = self.tier_price(seller, sku, quantity)
            if offer is None or price is None:
                raise OrderRejectedError(404, f"SKU {sku} is not live for seller {seller}")
            if quantity < 1 or quantity > offer[0]:
                raise OrderRejectedError(
                    409, f"SKU {sku} has {offer[0]} in stock; {quantity} cannot be sold"
                )
            priced[sku] = (quantity, price)
        return self._place(seller, priced, self.clock.monotonic(), self._rng(seller))

    def _generate(self, seller: str, moment: float, rng: random.Random) -> None:
        order = self._b2b_lines(seller, rng)
        if order:
            self._place(seller, order, moment, rng)

    def generate(self, seller: str, count: int) -> list[dict[str, Any]]:
        """`count` B2B orders now (fewer if no live product has stock for its MOQ)."""
        self.advance(seller)
        made = []
        rng = self._rng(seller)
        for _ in range(count):
            order = self._b2b_lines(seller, rng)
            if not order:
                break
            made.append(self._place(seller, order, self.clock.monotonic(), rng))
        return made

    def _b2b_lines(self, seller: str, rng: random.Random) -> dict[str, tuple[int, int]]:
        skus = self.shop.order_skus(seller)
        rng.shuffle(skus)
        for sku in skus:
            offer, moq = self.shop.stock(seller, sku), self.trade_shop.moq(seller, sku)
            if offer is None or moq is None or offer[0] < moq:
                continue
            top = min(offer[0], moq * rng.choice((1, 2, 3, 5, 8)))
            quantity = rng.randint(moq, top)
            price = self.tier_price(seller, sku, quantity)
            if price is not None:
                return {sku: (quantity, price)}
        return {}


class TradeDesk:
    """order list and order get over a TradeBook."""

    def __init__(self, book: TradeBook) -> None:
        self.book = book
        self.shop = book.trade_shop

    def list_page(self, seller: str, params: Mapping[str, Any]) -> dict[str, Any]:
        size = params.get("page_size", ORDER_PAGE_DEFAULT)
        if not 1 <= size <= ORDER_PAGE_MAX:
            raise GopError(INVALID, f"page_size: must be 1 to {ORDER_PAGE_MAX}")
        size = min(size, self.book.page_cap or size)  # tests force paging
        start = params.get("start_page", 0)
        bounds = {
            name: _bound(name, params.get(name))
            for name in (
                "create_date_start",
                "create_date_end",
                "modified_date_start",
                "modified_date_end",
            )
        }
        status = params.get("status")
        orders = [] if params["role"] != "seller" else list(self.book.orders(seller))
        kept = [
            o
            for o in orders
            if (status is None or TRADE_STATUS[o["status"]] == status)
            and _within(o["created"], bounds["create_date_start"], bounds["create_date_end"])
            and _within(o["updated"], bounds["modified_date_start"], bounds["modified_date_end"])
        ]
        page = kept[start * size : (start + 1) * size]
        return {
            "value": {
                "total_count": str(len(kept)),
                "order_list": [
                    {
                        "trade_id": o["id"],
                        "trade_status": TRADE_STATUS[o["status"]],
                        "create_date": _date(o["created"]),
                        "modify_date": _date(o["updated"]),
                    }
                    for o in page
                ],
            }
        }

    def get(self, seller: str, trade_id: str) -> dict[str, Any]:
        self.book.advance(seller)
        order = self.book.state.table(seller, "orders").get(trade_id)
        if order is None:
            raise GopError(NOT_FOUND, f"e_trade_id: order {trade_id} does not exist")
        return {"value": self.render(seller, order)}

    def render(self, seller: str, order: Mapping[str, Any]) -> dict[str, Any]:
        """TradeEcologyOrder (§7.11)."""
        lines, total, port, lead = [], 0, "", 0
        for line in order["lines"]:
            product = self.shop.product_for(seller, line["sku"]) or {"values": {}}
            values = product["values"]
            port = port or str(values.get("delivery_port", ""))
            lead = max(lead, _lead(values.get("deliver_periods", []), line["quantity"]))
            total += line["quantity"] * line["unitPrice"]
            lines.append(
                {
                    "id": line["id"],
                    "product_id": str(product.get("id", "")),
                    "sku_id": "-1",
                    "sku_code": line["sku"],
                    "model_number": line["sku"],
                    "name": values.get("subject", line["sku"]),
                    "product_image": (values.get("main_image") or [""])[0],
                    "quantity": f"{line['quantity']}.0000",
                    "unit": values.get("min_order_unit_type", "Piece/Pieces"),
                    "unit_price": _usd(line["unitPrice"]),
                }
            )
        name, country, city, buyer_port = BUYERS[order["number"] % len(BUYERS)]
        account = self.shop.tokens.seller(seller)
        return {
            "trade_id": order["id"],
            "trade_status": TRADE_STATUS[order["status"]],
            "create_date": _date(order["created"]),
            "modify_date": _date(order["updated"]),
            "buyer": {"full_name": name, "country": country, "e_account_id": f"b{order['number']}"},
            "seller": {
                "full_name": account.display_name,
                "login_id": account.login,
                "email": account.login,
                "is_admin": True,
                "e_account_id": account.user_id,
            },
            "order_products": lines,
            "product_total_amount": _usd(total),
            "shipment_fee": _usd(0),
            "total_amount": _usd(total),
            "trade_term": "FOB",
            "shipment_method": "sea",
            "shipment_date": {"type": "relative", "duration": lead},
            "export_service_type": "self_run_service",
            "shipping_address": {
                "contact_person": name,
                "city": city,
                "country": country,
                "country_code": country,
                "port": port or buyer_port,
            },
            "status_action": {"status": TRADE_STATUS[order["status"]], "actions": []},
        }


def _lead(periods: list[dict[str, str]], quantity: int) -> int:
    """Days to ship `quantity` by the product's lead-time table (30 when it has none, I)."""
    if not periods:
        return 30
    for period in periods:
        if int(period["quantity"]) >= quantity:
            return int(period["process_period"])
    return int(periods[-1]["process_period"])


def _within(stamp: str, low: float | None, high: float | None) -> bool:
    moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    return (low is None or moment >= low) and (high is None or moment <= high)


def order_id(seller: str, number: int) -> str:
    """A trade id: digits, as the platform's are."""
    return f"3{zlib.crc32(seller.encode()) % 10**6:06d}{number:08d}"
