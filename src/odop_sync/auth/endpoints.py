"""`GET /v1/me`: who the calling key is, so a page can show it and decide what to offer."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import select

from odop_sync.deps import PrincipalDep, SessionDep
from odop_sync.kit.problems import PROBLEM_RESPONSES
from odop_sync.models import Agency, ApiKey, Role

router = APIRouter(prefix="/v1", tags=["auth"], responses=PROBLEM_RESPONSES)


class AgencyRef(BaseModel):
    id: int
    slug: str
    name: str


class MeRead(BaseModel):
    """The calling key as its owner may see it: never the key itself nor its digest."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "role": "agency",
                    "name": "UP ODOP cell, Lucknow",
                    "agency": {"id": 1, "slug": "up-odop", "name": "UP ODOP"},
                    "granted_agencies": [],
                }
            ]
        }
    }

    role: Role = Field(description="admin (every agency), agency (its own) or partner (sales)")
    name: str = Field(description="the name the key was created with")
    agency: AgencyRef | None = Field(description="an agency key's agency; null for the others")
    granted_agencies: list[AgencyRef] = Field(
        description="the agencies whose sales a partner key may read; empty for the others"
    )


@router.get("/me")
async def me(session: SessionDep, principal: PrincipalDep) -> MeRead:
    """The calling key: its role, name, agency (agency keys) and granted agencies (partner
    keys). Any valid key may ask."""
    name = await session.scalar(select(ApiKey.name).where(ApiKey.id == principal.key_id))
    wanted = set(principal.granted_agency_ids)
    if principal.agency_id is not None:
        wanted.add(principal.agency_id)
    agencies = {
        a.id: AgencyRef(id=a.id, slug=a.slug, name=a.name)
        for a in await session.scalars(select(Agency).where(Agency.id.in_(sorted(wanted))))
    }
    return MeRead(
        role=principal.role,
        name=name or "",
        agency=agencies.get(principal.agency_id) if principal.agency_id is not None else None,
        granted_agencies=sorted(
            (agencies[i] for i in principal.granted_agency_ids if i in agencies),
            key=lambda a: a.slug,
        ),
    )
