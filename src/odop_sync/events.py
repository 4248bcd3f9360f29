"""In-process notifications: the sync engine subscribes to push within seconds of a change.

Both kinds are called after the change is committed; listeners must not block. Listeners in
other processes hear of them through PostgreSQL NOTIFY (see `odop_sync.sync.notify`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Listener = Callable[[int, Sequence[int]], None]
RunListener = Callable[[int], None]


class CatalogEvents:
    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._run_listeners: list[RunListener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def subscribe_runs(self, listener: RunListener) -> None:
        self._run_listeners.append(listener)

    def catalog_changed(self, agency_id: int, variant_ids: Sequence[int]) -> None:
        """Variants of an agency changed (an empty list: look at everything changed lately)."""
        for listener in self._listeners:
            try:
                listener(agency_id, variant_ids)
            except Exception:
                log.exception("catalog change listener failed")

    def sync_requested(self, run_id: int) -> None:
        """A `sync_runs` row was queued (POST /v1/sync/runs)."""
        for listener in self._run_listeners:
            try:
                listener(run_id)
            except Exception:
                log.exception("sync run listener failed")
