"""Orders for marketplace sandboxes: a deterministic generator, the order book it fills, paging
by last change, and the admin routes tests use to place, cancel or return an order on demand.

Orders are kept in one marketplace-neutral shape (the core's order states, prices in paise);
each sandbox renders them in its marketplace's own words. Like feed processing, nothing runs in
the background: when a sandbox is asked about a seller's orders it first catches up with
marketplace time (`OrderBook.advance`), placing the orders due since it last looked and moving
the others along their planned lives (confirmed, shipped, delivered; some cancelled before
dispatch, some returned after delivery).

What a generated order buys comes from the sandbox's own listings for that seller (`OrderShop`):
only SKUs listed there with quantity > 0, never more units than shown, and each sale lowers the
listing's quantity (a cancellation gives the units back, as a marketplace releases them)."""

from __future__ import annotations

import bisect
import heapq
import random
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response

from odop_sync.adapter_sdk._dtos import OrderStatus
from odop_sync.adapter_sdk.sandbox import SandboxClock, StateStore

__all__ = [
    "OrderBook",
    "OrderLife",
    "OrderRejectedError",
    "OrderShop",
    "order_admin_router",
    "stamp",
]

HOUR = 3600.0
DAY = 24 * HOUR
# Where an order may go next, and from where (admin actions and planned lives alike).
MOVES: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    OrderStatus.UNSHIPPED: (OrderStatus.PENDING,),
    OrderStatus.SHIPPED: (OrderStatus.PENDING, OrderStatus.UNSHIPPED),
    OrderStatus.DELIVERED: (OrderStatus.SHIPPED,),
    OrderStatus.CANCELLED: (OrderStatus.PENDING, OrderStatus.UNSHIPPED),
    OrderStatus.RETURNED: (OrderStatus.SHIPPED, OrderStatus.DELIVERED),
}


def stamp(when: datetime) -> str:
    """A fixed-width UTC ISO 8601 stamp: such stamps sort as the instants they name."""
    return when.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class OrderShop(Protocol):
    """A sandbox's listings as the generator sees them."""

    def order_skus(self, seller: str) -> list[str]:
        """The seller's listed SKUs, in a stable order."""

    def stock(self, seller: str, sku: str) -> tuple[int, int] | None:
        """(quantity shown, unit price in paise) of a listed SKU; None if not listed or priced."""

    def adjust_stock(self, seller: str, sku: str, delta: int) -> None:
        """Change the listing's shown quantity by `delta` (negative: sold)."""

    def new_order_id(self, seller: str, number: int) -> str:
        """The marketplace's id for the seller's `number`-th order."""


@dataclass(frozen=True)
class OrderLife:
    """How orders are generated and how they live, in marketplace seconds."""

    orders_per_minute: float = 0.0  # per seller; 0: only orders placed through the admin route
    cancel_share: float = 0.1
    return_share: float = 0.05
    max_quantity: int = 2
    second_line_share: float = 0.15
    confirm_after: float = 300.0  # pending → unshipped
    cancel_within: tuple[float, float] = (120.0, 2 * HOUR)
    ship_within: tuple[float, float] = (4 * HOUR, DAY)
    deliver_within: tuple[float, float] = (DAY, 4 * DAY)
    return_within: tuple[float, float] = (2 * DAY, 10 * DAY)


class OrderRejectedError(Exception):
    """An order the marketplace would not take (the SKU is not listed, or not enough stock)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class OrderBook:
    """Each seller's orders (table "orders" of the sandbox's StateStore), its index by last
    change, and the generator. Deterministic for a seed: each seller's arrivals and choices come
    from its own random stream, so one seller's traffic does not change another's orders."""

    def __init__(
        self,
        shop: OrderShop,
        state: StateStore,
        clock: SandboxClock,
        *,
        life: OrderLife | None = None,
        seed: int | None = None,
    ) -> None:
        self.shop = shop
        self.state = state
        self.clock = clock
        self.life = life or OrderLife()
        self.seed = seed if seed is not None else 0
        # A page carries at most this many orders whatever the caller asks (tests force paging).
        self.page_cap: int | None = None
        self._random: dict[str, random.Random] = {}
        self._next_arrival: dict[str, float] = {}
        self._due: dict[str, list[tuple[float, int, str, str]]] = {}  # heap per seller
        self._index: dict[str, list[tuple[str, str]]] = {}  # (updated stamp, order id), sorted
        self._count: dict[str, int] = {}

    # time -----------------------------------------------------------------------------------

    def _at(self, moment: float) -> datetime:
        """The marketplace instant of a `clock.monotonic()` reading."""
        return self.clock.utcnow() - timedelta(seconds=self.clock.monotonic() - moment)

    def _rng(self, seller: str) -> random.Random:
        if seller not in self._random:
            # A stable per-seller stream (hash() of a str changes between runs).
            stream = self.seed * 1_000_003 + zlib.crc32(seller.encode())
            self._random[seller] = random.Random(stream)  # noqa: S311 - sandbox dice
        return self._random[seller]

    def configure(self, **changes: Any) -> OrderLife:
        self.life = OrderLife(**{**self.life.__dict__, **changes})
        self._next_arrival.clear()  # the new rate applies from now on
        return self.life

    # catching up ----------------------------------------------------------------------------

    def advance(self, seller: str) -> None:
        """Place the orders due by now and apply the status changes due by now, in time order."""
        now = self.clock.monotonic()
        rate = self.life.orders_per_minute / 60.0
        rng = self._rng(seller)
        if rate > 0 and seller not in self._next_arrival:
            self._next_arrival[seller] = now + rng.expovariate(rate)
        due = self._due.setdefault(seller, [])
        while True:
            arrival = self._next_arrival.get(seller, float("inf")) if rate > 0 else float("inf")
            change = due[0][0] if due else float("inf")
            if min(arrival, change) > now:
                return
            if arrival <= change:
                self._generate(seller, arrival, rng)
                self._next_arrival[seller] = arrival + rng.expovariate(rate)
            else:
                moment, _, order_id, status = heapq.heappop(due)
                self._move(seller, order_id, OrderStatus(status), moment)

    def _generate(self, seller: str, moment: float, rng: random.Random) -> None:
        skus = self.shop.order_skus(seller)
        if not skus:
            return
        wanted = 2 if rng.random() < self.life.second_line_share else 1
        picked: dict[str, tuple[int, int]] = {}
        # A few tries at the popular end first (a skewed mix), never an out-of-stock SKU.
        for _ in range(8 * wanted):
            sku = skus[int(len(skus) * rng.random() ** 2)]
            if sku in picked:
                continue
            offer = self.shop.stock(seller, sku)
            if offer is None or offer[0] <= 0:
                continue
            quantity = min(offer[0], rng.randint(1, self.life.max_quantity))
            picked[sku] = (quantity, offer[1])
            if len(picked) == wanted:
                break
        if picked:
            self._place(seller, picked, moment, rng)

    def place(self, seller: str, lines: dict[str, int]) -> dict[str, Any]:
        """An order placed now for `lines` (SKU → units), as the admin route does; its life
        follows the generator's plan. Raises OrderRejectedError as the marketplace would."""
        self.advance(seller)
        priced: dict[str, tuple[int, int]] = {}
        for sku, quantity in lines.items():
            offer = self.shop.stock(seller, sku)
            if offer is None:
                raise OrderRejectedError(404, f"SKU {sku} is not listed for seller {seller}")
            if quantity < 1 or quantity > offer[0]:
                raise OrderRejectedError(
                    409, f"SKU {sku} shows {offer[0]} units; {quantity} cannot be sold"
                )
            priced[sku] = (quantity, offer[1])
        return self._place(seller, priced, self.clock.monotonic(), self._rng(seller))

    def _place(
        self,
        seller: str,
        lines: dict[str, tuple[int, int]],
        moment: float,
        rng: random.Random,
    ) -> dict[str, Any]:
        number = self._count.get(seller, 0) + 1
        self._count[seller] = number
        order_id = self.shop.new_order_id(seller, number)
        when = stamp(self._at(moment))
        order = {
            "id": order_id,
            "number": number,
            "created": when,
            "updated": when,
            "status": OrderStatus.PENDING.value,
            "history": [[when, OrderStatus.PENDING.value]],
            "lines": [
                {
                    "id": f"{number:08d}{n:03d}",
                    "sku": sku,
                    "quantity": quantity,
                    "unitPrice": price,
                    "cancelled": 0,
                    "returned": 0,
                }
                for n, (sku, (quantity, price)) in enumerate(lines.items(), start=1)
            ],
        }
        for sku, (quantity, _) in lines.items():
            self.shop.adjust_stock(seller, sku, -quantity)
        self.state.table(seller, "orders")[order_id] = order
        bisect.insort(self._index.setdefault(seller, []), (when, order_id))
        for delay, status in self._plan(rng):
            heapq.heappush(
                self._due.setdefault(seller, []), (moment + delay, number, order_id, status)
            )
        return order

    def _plan(self, rng: random.Random) -> list[tuple[float, str]]:
        life = self.life
        plan = [(life.confirm_after, OrderStatus.UNSHIPPED.value)]
        if rng.random() < life.cancel_share:
            cancel = max(life.confirm_after + 1, rng.uniform(*life.cancel_within))
            return [*plan, (cancel, OrderStatus.CANCELLED.value)]
        shipped = life.confirm_after + rng.uniform(*life.ship_within)
        delivered = shipped + rng.uniform(*life.deliver_within)
        plan += [(shipped, OrderStatus.SHIPPED.value), (delivered, OrderStatus.DELIVERED.value)]
        if rng.random() < life.return_share:
            plan.append((delivered + rng.uniform(*life.return_within), "returned"))
        return plan

    def _move(self, seller: str, order_id: str, status: OrderStatus, moment: float) -> bool:
        """Apply one status change at `moment`; False when the order cannot make that move
        now (e.g. a planned shipment of an order cancelled by hand)."""
        orders = self.state.table(seller, "orders")
        order = orders.get(order_id)
        if order is None or OrderStatus(order["status"]) not in MOVES[status]:
            return False
        index = self._index[seller]
        index.pop(bisect.bisect_left(index, (order["updated"], order_id)))
        when = stamp(max(self._at(moment), datetime.fromisoformat(order["updated"])))
        order["status"] = status.value
        order["updated"] = when
        order["history"].append([when, status.value])
        for line in order["lines"]:
            if status is OrderStatus.CANCELLED:
                line["cancelled"] = line["quantity"]
                self.shop.adjust_stock(seller, line["sku"], line["quantity"])
            elif status is OrderStatus.RETURNED:
                line["returned"] = line["quantity"] - line["cancelled"]
        bisect.insort(index, (when, order_id))
        return True

    def act(self, seller: str, order_id: str, status: OrderStatus) -> dict[str, Any]:
        """Move an order to `status` now (admin route); OrderRejectedError if it cannot."""
        self.advance(seller)
        order = self.state.table(seller, "orders").get(order_id)
        if order is None:
            raise OrderRejectedError(404, f"order {order_id} not found for seller {seller}")
        if status not in MOVES or not self._move(seller, order_id, status, self.clock.monotonic()):
            raise OrderRejectedError(
                409, f"order {order_id} is {order['status']} and cannot become {status.value}"
            )
        return dict(self.state.table(seller, "orders")[order_id])

    # reading --------------------------------------------------------------------------------

    def changed(
        self,
        seller: str,
        *,
        after: str,
        before: str | None = None,
        key: tuple[str, str] | None = None,
        limit: int,
        keep: Callable[[dict[str, Any]], bool] | None = None,
    ) -> tuple[list[dict[str, Any]], tuple[str, str] | None]:
        """Orders changed at or after `after` (and at or before `before`), oldest change first,
        from just past `key` (the last one a previous page served); and the key to go on from,
        None on the last page. Keyset paging: an order changed meanwhile moves to the end, so
        a pass loses nothing and serves an order twice at most."""
        self.advance(seller)
        index = self._index.get(seller, [])
        start = bisect.bisect_right(index, key) if key else bisect.bisect_left(index, (after, ""))
        orders = self.state.table(seller, "orders")
        cap = min(limit, self.page_cap or limit)
        page: list[dict[str, Any]] = []
        for position in range(start, len(index)):
            updated, order_id = index[position]
            if before is not None and updated > before:
                return page, None
            order = orders[order_id]
            if keep is not None and not keep(order):
                continue
            if len(page) == cap:
                return page, (page[-1]["updated"], page[-1]["id"])
            page.append(order)
        return page, None

    def orders(self, seller: str) -> Iterator[dict[str, Any]]:
        self.advance(seller)
        for _, order_id in self._index.get(seller, []):
            yield self.state.table(seller, "orders")[order_id]

    def public(self, seller: str) -> list[dict[str, Any]]:
        """The seller's orders as `/_sandbox/state` shows them, prices in paise."""
        return [{k: v for k, v in order.items() if k != "number"} for order in self.orders(seller)]


class _OrderLineSpec(BaseModel):
    sku: str = Field(min_length=1)
    quantity: int = Field(default=1, ge=1)


class _OrderSpec(BaseModel):
    sku: str | None = Field(default=None, min_length=1)
    quantity: int = Field(default=1, ge=1)
    lines: list[_OrderLineSpec] = Field(default_factory=list)


class _LifeSpec(BaseModel):
    orders_per_minute: float | None = Field(default=None, ge=0)
    cancel_share: float | None = Field(default=None, ge=0, le=1)
    return_share: float | None = Field(default=None, ge=0, le=1)
    max_quantity: int | None = Field(default=None, ge=1)


_ACTIONS = {
    "confirm": OrderStatus.UNSHIPPED,
    "ship": OrderStatus.SHIPPED,
    "deliver": OrderStatus.DELIVERED,
    "cancel": OrderStatus.CANCELLED,
    "return": OrderStatus.RETURNED,
}


def order_admin_router(book: OrderBook) -> APIRouter:
    """`POST /_sandbox/orders/{seller}` places an order now (`{"sku", "quantity"}` or
    `{"lines": [...]}`; 404 for a SKU not listed, 409 beyond the stock shown);
    `POST /_sandbox/orders/{seller}/{order_id}/{confirm|ship|deliver|cancel|return}` moves one;
    `GET /_sandbox/orders/{seller}` lists them; `PUT /_sandbox/generator` changes the
    generator (rate per marketplace-minute, cancellation and return shares)."""
    router = APIRouter(tags=["sandbox"])

    def refused(exc: OrderRejectedError) -> Response:
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    @router.post("/_sandbox/orders/{seller}", status_code=201)
    async def place_order(seller: str, spec: _OrderSpec) -> Response:
        lines = {line.sku: line.quantity for line in spec.lines}
        if spec.sku is not None:
            lines[spec.sku] = lines.get(spec.sku, 0) + spec.quantity
        if not lines:
            return JSONResponse({"error": "give a sku or lines"}, status_code=422)
        try:
            return JSONResponse(book.place(seller, lines), status_code=201)
        except OrderRejectedError as exc:
            return refused(exc)

    @router.get("/_sandbox/orders/{seller}")
    async def list_orders(seller: str) -> Response:
        return JSONResponse({"orders": book.public(seller)})

    @router.post("/_sandbox/orders/{seller}/{order_id}/{action}")
    async def move_order(seller: str, order_id: str, action: str) -> Response:
        if action not in _ACTIONS:
            return JSONResponse({"error": f"actions: {', '.join(_ACTIONS)}"}, status_code=404)
        try:
            return JSONResponse(book.act(seller, order_id, _ACTIONS[action]))
        except OrderRejectedError as exc:
            return refused(exc)

    @router.put("/_sandbox/generator")
    async def configure(spec: _LifeSpec) -> Response:
        life = book.configure(**spec.model_dump(exclude_none=True))
        return JSONResponse({k: v for k, v in life.__dict__.items() if not isinstance(v, tuple)})

    return router
