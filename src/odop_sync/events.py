"""In-process catalog change notifications: the sync engine subscribes to push within seconds."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Listener = Callable[[int, Sequence[int]], None]


class CatalogEvents:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def catalog_changed(self, agency_id: int, variant_ids: Sequence[int]) -> None:
        """Called after the change is committed; listeners must not block."""
        for listener in self._listeners:
            try:
                listener(agency_id, variant_ids)
            except Exception:
                log.exception("catalog change listener failed")
