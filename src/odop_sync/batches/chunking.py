"""What makes a chunk of a batch cheap to process: the cyclic garbage collector held off while
chunks run, and the next chunk's rows validated while this one's statements are in the driver.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from typing import Any

from odop_sync.batches.repository import PendingRow
from odop_sync.catalog.items import ItemIn
from odop_sync.catalog.rules import Rules, validate_item
from odop_sync.kit.problems import FieldIssue

__all__ = ["Lookahead", "gc_paused"]


class _GcPause:
    """Hold the cyclic garbage collector off while chunks are worked on.

    A chunk allocates hundreds of thousands of short-lived, acyclic containers (row dicts,
    statement parameters), which reference counting frees; but the allocations alone trigger
    collections, and full ones traverse the whole heap of the server: a sizeable share of a
    chunk's CPU time, for nothing. The collector is switched back on (if it was on) when the last
    overlapping chunk is done, and runs then as allocation next demands.
    """

    def __init__(self) -> None:
        self.depth = 0
        self.switched_off = False

    def __enter__(self) -> None:
        if self.depth == 0 and gc.isenabled():
            gc.disable()
            self.switched_off = True
        self.depth += 1

    def __exit__(self, *exc: object) -> None:
        self.depth -= 1
        if self.depth == 0 and self.switched_off:
            self.switched_off = False
            gc.enable()


gc_paused = _GcPause()


@dataclass
class Lookahead:
    """The rows that come after a chunk, read in that chunk's transaction and validated by a task
    that runs while the chunk's statements and COMMIT are in the driver's thread (validation
    needs no database; SQLite works with the GIL released). The next chunk uses them only if
    they are still exactly the next pending rows; otherwise it reads and validates afresh.
    A row's data never changes once stored, so a validation done ahead is the one it would do."""

    rows: list[PendingRow] = field(default_factory=list)
    checked: list[ItemIn | list[FieldIssue]] | None = None
    task: asyncio.Task[None] | None = None

    def start(self, rules: Rules) -> None:
        self.task = asyncio.create_task(self._validate(rules))

    async def _validate(self, rules: Rules) -> None:
        checked: list[ItemIn | list[FieldIssue]] = []
        for n, (_, row_no, data) in enumerate(self.rows, 1):
            checked.append(validate_item(data, row_no, rules))
            if n % 50 == 0:
                await asyncio.sleep(0)  # let the chunk's next statement go to the driver
        self.checked = checked

    async def take(self) -> tuple[list[PendingRow], list[Any] | None]:
        """The rows read ahead and their validation (None if it did not finish), then empty."""
        if self.task is not None:
            try:
                await self.task
            finally:
                self.task = None
        rows, checked = self.rows, self.checked
        self.rows, self.checked = [], None
        return rows, checked

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
