"""The `batches.process` job: resumable, one committed chunk at a time."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from odop_sync.batches import repository, service
from odop_sync.batches.chunking import Lookahead, gc_paused
from odop_sync.catalog.rules import Rules
from odop_sync.config import Settings
from odop_sync.db import transaction
from odop_sync.jobs.runner import JobContext


async def process_batch(ctx: JobContext) -> None:
    settings: Settings = ctx.services["settings"]
    rules = Rules.from_settings(settings)
    batch_id = int(ctx.payload["batch_id"])
    async with transaction(ctx.sessionmaker) as session:
        if await service.start(session, batch_id, rules) is None:
            return
    # PostgreSQL: chunks on separate connections overlap one's database round trips with the
    # other's validation. SQLite serialises writers, so one chunk at a time there.
    parallel = 1 if settings.is_sqlite else max(1, settings.jobs.batch_parallel_chunks)
    size = settings.jobs.batch_chunk_rows
    while True:
        await asyncio.gather(
            *(
                drain(ctx.sessionmaker, batch_id, rules, size, look_ahead=parallel == 1)
                for _ in range(parallel)
            )
        )
        async with transaction(ctx.sessionmaker) as session:
            done = await service.finish_if_done(session, batch_id)
            batch = await repository.get_batch(session, batch_id) if done else None
            agency_id = batch.agency_id if batch is not None else None
        if agency_id is not None:
            events = ctx.services.get("events")
            if events is not None:
                # No variant list: the engine re-projects what changed since its watermark.
                events.catalog_changed(agency_id, [])
            return


async def drain(
    sessionmaker: async_sessionmaker[AsyncSession],
    batch_id: int,
    rules: Rules,
    size: int,
    *,
    look_ahead: bool = False,
) -> None:
    """Process chunks until none is left to take.

    `look_ahead` (one chunk at a time): each chunk also reads the rows of the next one, and they
    are validated while this chunk's statements and COMMIT run in the driver's thread instead of
    after them. Transactions stay strictly one after the other: the next chunk begins only once
    this one has committed.
    """
    ahead = Lookahead() if look_ahead else None
    more = True
    try:
        while more:
            with gc_paused:
                async with transaction(sessionmaker) as session:
                    more = await service.process_chunk(session, batch_id, rules, size, ahead=ahead)
    finally:
        if ahead is not None:
            ahead.cancel()
