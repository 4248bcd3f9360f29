"""A real Adapter subclass that serves OrderPages from a list, with cursors; no network."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel

from odop_sync.adapter_sdk import (
    Adapter,
    Capability,
    OperationLimit,
    OrderPage,
    RateLimiter,
    RemoteOrder,
)


class _Config(BaseModel):
    seller: str = "fake"


class PagedOrdersAdapter(Adapter):
    slug = "fake-orders"
    display_name = "Fake orders"
    capabilities = frozenset({Capability.PULL_ORDERS})
    config_model = _Config
    limits: ClassVar[dict[str, OperationLimit]] = {"orders": OperationLimit(rate=1000, burst=1000)}

    def __init__(self, pages: Sequence[Sequence[RemoteOrder]]) -> None:
        super().__init__(_Config(), httpx.AsyncClient(), RateLimiter(self.limits))
        self.pages = [tuple(p) for p in pages]
        self.calls: list[tuple[str | None, datetime | None]] = []
        self.fail_after: int | None = None  # raise on the call after this many

    async def check_connection(self) -> None:
        return None

    async def pull_orders(
        self, cursor: str | None = None, *, updated_after: datetime | None = None
    ) -> OrderPage:
        self.calls.append((cursor, updated_after))
        if self.fail_after is not None and len(self.calls) > self.fail_after:
            raise RuntimeError("killed")
        n = int(cursor) if cursor else 0
        more = n + 1 < len(self.pages)
        return OrderPage(orders=self.pages[n], cursor=str(n + 1) if more else None)


def adapter_for(adapter: PagedOrdersAdapter) -> Any:
    async def get(_account: Any) -> Adapter:
        return adapter

    return get
