"""The route a set of due listings takes to the marketplace, chosen in one place from what the
adapter declares (its capabilities and its per-operation limits):

- content changes go as full listings (PUSH_LISTINGS), offer-only changes (price, stock) as
  offers (PUSH_OFFERS), or as full listings where the adapter cannot push offers alone;
- a set of at least the operation's `bulk_threshold` items goes as one bulk feed, when the
  adapter supports feeds and they are switched on; otherwise as item calls of at most
  `max_batch_size` items each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from odop_sync.adapter_sdk import Adapter, Capability, OperationLimit
from odop_sync.config import SyncSettings

T = TypeVar("T")


@dataclass(frozen=True)
class Route:
    content: bool  # the listings' content changed (else only their offer)
    capability: Capability  # what carries them: PUSH_LISTINGS or PUSH_OFFERS
    operation: str  # the adapter's name for that call (its rate limit's key)
    limit: OperationLimit
    bulk_threshold: int | None  # a set this large goes as one feed; None: item calls only

    def bulk(self, items: int) -> bool:
        return self.bulk_threshold is not None and items >= self.bulk_threshold

    def chunks(self, work: Sequence[T]) -> list[list[T]]:
        """Item calls of at most `max_batch_size` items. The SDK's contract makes a call of
        `bulk_threshold` items or more a feed inside the adapter (Amazon's push_listings does
        so), so an item call stays under it; no installed adapter declares a batch size that
        large, but the cap keeps the route chosen here the route taken."""
        size = max(1, self.limit.max_batch_size)
        if self.limit.bulk_threshold is not None:
            size = min(size, max(1, self.limit.bulk_threshold - 1))
        return [list(work[i : i + size]) for i in range(0, len(work), size)]


def routes(adapter: Adapter, settings: SyncSettings) -> list[Route]:
    """The push routes of one pass, content first, then offer-only changes."""
    found = []
    for content in (True, False):
        capability = Capability.PUSH_LISTINGS if content else Capability.PUSH_OFFERS
        if not adapter.supports(capability):
            if content or not adapter.supports(Capability.PUSH_LISTINGS):
                continue
            capability = Capability.PUSH_LISTINGS  # full content carries the offer too
        operation = adapter.operations.get(capability, capability.value)
        limit = adapter.limits.get(operation) or OperationLimit(rate=1, burst=1)
        feeds = settings.bulk_feeds and adapter.supports(Capability.BULK_FEED)
        threshold = limit.bulk_threshold if feeds else None
        found.append(Route(content, capability, operation, limit, threshold))
    return found


def feeds_possible(cls: type[Adapter], settings: SyncSettings) -> bool:
    """Whether any push of this adapter may go as a bulk feed."""
    feeds = settings.bulk_feeds and Capability.BULK_FEED in cls.capabilities
    return feeds and any(x.bulk_threshold is not None for x in cls.limits.values())


__all__ = ["Route", "feeds_possible", "routes"]
