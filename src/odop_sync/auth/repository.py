"""Every query of the auth slice: API keys by digest, their grants, agencies by slug."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from odop_sync.models import Agency, ApiKey, ApiKeyGrant


async def live_key_by_digest(session: AsyncSession, digest: str) -> ApiKey | None:
    """The unrevoked key with this digest, its grants loaded."""
    key: ApiKey | None = await session.scalar(
        select(ApiKey)
        .where(ApiKey.digest == digest, ApiKey.revoked_at.is_(None))
        .options(selectinload(ApiKey.grants))
    )
    return key


async def agency_id_by_slug(session: AsyncSession, slug: str) -> int | None:
    agency_id: int | None = await session.scalar(select(Agency.id).where(Agency.slug == slug))
    return agency_id


async def agency_slug(session: AsyncSession, agency_id: int) -> str | None:
    slug: str | None = await session.scalar(select(Agency.slug).where(Agency.id == agency_id))
    return slug


async def add_key(session: AsyncSession, key: ApiKey) -> None:
    """Store a new key; its id is set on return."""
    session.add(key)
    await session.flush()


async def add_grant(session: AsyncSession, key_id: int, agency_id: int) -> None:
    session.add(ApiKeyGrant(api_key_id=key_id, agency_id=agency_id))
