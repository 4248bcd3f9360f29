"""Wake-ups across processes through PostgreSQL LISTEN/NOTIFY.

Every process on PostgreSQL publishes its catalog changes and sync requests on one channel;
worker processes listen and wake their engine. The local process has already woken its own
engine directly, so it ignores its own messages. SQLite is one process: nothing to do there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

CHANNEL = "odop_sync"
# NOTIFY payloads must stay under 8000 bytes: past this many ids, send none (the receiver then
# re-projects everything changed since its watermark, which includes them).
MAX_IDS = 400


def asyncpg_dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PgNotifier:
    def __init__(self, database_url: str, origin: str) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.origin = origin
        self.on_catalog: Callable[[int, Sequence[int]], None] | None = None
        self.on_run: Callable[[int], None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()

    def __repr__(self) -> str:
        return f"<PgNotifier channel={CHANNEL!r} origin={self.origin!r}>"

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_connected(), name="pg-notify")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), 5.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.gather(*self._pending, return_exceptions=True)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None

    async def _keep_connected(self) -> None:
        delay = 0.5
        while True:
            try:
                conn = await asyncpg.connect(self.dsn)
                closed = asyncio.Event()
                conn.add_termination_listener(lambda _conn, ev=closed: ev.set())
                await conn.add_listener(CHANNEL, self._received)
                self._conn = conn
                self._ready.set()
                delay = 0.5
                await closed.wait()
                log.warning("the LISTEN connection closed; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection failed (%s); retrying", type(exc).__name__)
            self._conn = None
            await asyncio.sleep(delay)
            delay = min(delay * 2, 15.0)

    def _received(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if message.get("o") == self.origin:
            return
        if message.get("k") == "catalog" and self.on_catalog is not None:
            self.on_catalog(int(message["a"]), [int(v) for v in message.get("v", [])])
        elif message.get("k") == "run" and self.on_run is not None:
            self.on_run(int(message["r"]))

    def catalog_changed(self, agency_id: int, variant_ids: Sequence[int]) -> None:
        ids = list(variant_ids) if len(variant_ids) <= MAX_IDS else []
        self._publish({"o": self.origin, "k": "catalog", "a": agency_id, "v": ids})

    def sync_requested(self, run_id: int) -> None:
        self._publish({"o": self.origin, "k": "run", "r": run_id})

    def _publish(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._send(json.dumps(message, separators=(",", ":"))))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, payload: str) -> None:
        conn = self._conn
        if conn is None:
            log.warning("no LISTEN/NOTIFY connection; other workers learn of this by their sweep")
            return
        try:
            async with self._lock:
                await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
        except Exception as exc:
            log.warning("NOTIFY failed (%s)", type(exc).__name__)


async def notify_catalog_changed(session: Any, agency_ids: Sequence[int], origin: str) -> None:
    """From a process without a notifier of its own (the CLI): tell the workers listening on
    PostgreSQL that these agencies' accounts should look again, as `catalog_changed` does.
    NOTIFY inside the caller's transaction goes out when it commits, so nobody looks early."""
    from sqlalchemy import text

    for agency_id in agency_ids:
        payload = json.dumps(
            {"o": origin, "k": "catalog", "a": agency_id, "v": []}, separators=(",", ":")
        )
        await session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )
