from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from odop_sync.auth.keys import digest_key, generate_key
from odop_sync.kit.problems import Forbidden, NotFound, ValidationProblem
from odop_sync.models import Agency, ApiKey, ApiKeyGrant, Role


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's role and the agencies it may see."""

    key_id: int
    role: Role
    agency_id: int | None
    granted_agency_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"key:{self.key_id}"

    def require_write(self) -> None:
        if self.role is Role.PARTNER:
            raise Forbidden("a partner key can only read sales figures")

    def require_admin(self) -> None:
        if self.role is not Role.ADMIN:
            raise Forbidden("only an admin key can do this")

    def require_catalog_reader(self) -> None:
        if self.role is Role.PARTNER:
            raise Forbidden("a partner key can only read sales figures")

    def agency_scope(self) -> int | None:
        """The one agency this key is confined to, or None for admin (all agencies)."""
        return None if self.role is Role.ADMIN else self.agency_id


async def principal_for_key(session: AsyncSession, plaintext: str) -> Principal | None:
    key = await session.scalar(
        select(ApiKey)
        .where(ApiKey.digest == digest_key(plaintext), ApiKey.revoked_at.is_(None))
        .options(selectinload(ApiKey.grants))
    )
    if key is None:
        return None
    return Principal(
        key_id=key.id,
        role=key.role,
        agency_id=key.agency_id,
        granted_agency_ids=frozenset(g.agency_id for g in key.grants),
    )


async def create_key(
    session: AsyncSession,
    *,
    role: Role,
    name: str,
    agency_slug: str | None = None,
    grant_slugs: list[str] | None = None,
) -> tuple[ApiKey, str]:
    agency_id: int | None = None
    if role is Role.AGENCY:
        if not agency_slug:
            raise ValidationProblem("an agency key needs --agency SLUG")
        agency_id = await _agency_id(session, agency_slug)
    elif agency_slug:
        raise ValidationProblem("--agency is only for agency keys; use --grant for partner keys")
    plaintext, prefix, digest = generate_key()
    key = ApiKey(name=name, prefix=prefix, digest=digest, role=role, agency_id=agency_id)
    session.add(key)
    await session.flush()
    for slug in grant_slugs or []:
        if role is not Role.PARTNER:
            raise ValidationProblem("--grant is only for partner keys")
        session.add(ApiKeyGrant(api_key_id=key.id, agency_id=await _agency_id(session, slug)))
    await session.flush()
    return key, plaintext


async def _agency_id(session: AsyncSession, slug: str) -> int:
    agency_id = await session.scalar(select(Agency.id).where(Agency.slug == slug))
    if agency_id is None:
        raise NotFound(f"no agency with slug {slug!r}")
    return agency_id
