"""The `batches.process` job: resumable, one committed chunk at a time."""

from __future__ import annotations

from odop_sync.batches import service
from odop_sync.batches.validation import Rules
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
    more = True
    while more:
        async with transaction(ctx.sessionmaker) as session:
            more = await service.process_chunk(
                session, batch_id, rules, settings.jobs.batch_chunk_rows
            )
