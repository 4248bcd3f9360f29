from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from odop_sync.auth import repository as repo
from odop_sync.auth.keys import digest_key, generate_key
from odop_sync.kit.problems import Forbidden, NotFound, Unauthorized, ValidationProblem
from odop_sync.models import ApiKey, Role


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
    key = await repo.live_key_by_digest(session, digest_key(plaintext))
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
    await repo.add_key(session, key)
    for slug in grant_slugs or []:
        if role is not Role.PARTNER:
            raise ValidationProblem("--grant is only for partner keys")
        await repo.add_grant(session, key.id, await _agency_id(session, slug))
    await session.flush()
    return key, plaintext


async def _agency_id(session: AsyncSession, slug: str) -> int:
    agency_id = await repo.agency_id_by_slug(session, slug)
    if agency_id is None:
        raise NotFound(f"no agency with slug {slug!r}")
    return agency_id


async def acting_agency_id(session: AsyncSession, principal: Principal, agency: str | None) -> int:
    """The agency a write acts for: an agency key's own; an admin names one with ?agency=SLUG."""
    if principal.role is Role.AGENCY:
        if principal.agency_id is None:  # an agency key always names its agency
            raise Unauthorized("this agency key has no agency")
        if agency is not None:
            own = await repo.agency_slug(session, principal.agency_id)
            if agency != own:
                raise NotFound(f"no agency {agency!r}")
        return principal.agency_id
    principal.require_write()
    if not agency:
        raise ValidationProblem(
            "an admin key must name the agency with ?agency=SLUG",
            errors=None,
        )
    agency_id = await repo.agency_id_by_slug(session, agency)
    if agency_id is None:
        raise NotFound(f"no agency {agency!r}")
    return agency_id


async def read_scope(session: AsyncSession, principal: Principal, agency: str | None) -> int | None:
    """The agency whose data this key reads: an agency key's own; an admin's choice or all."""
    principal.require_catalog_reader()
    scope = principal.agency_scope()
    if agency is None:
        return scope
    agency_id = await repo.agency_id_by_slug(session, agency)
    # Another agency's slug looks exactly like an unknown one to an agency key.
    if agency_id is None or (principal.role is not Role.ADMIN and agency_id != scope):
        raise NotFound(f"no agency {agency!r}")
    return agency_id
