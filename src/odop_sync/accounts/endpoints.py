from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status

from odop_sync.accounts import service
from odop_sync.accounts.schemas import AccountCreate, AccountRead, AccountUpdate, CheckResult
from odop_sync.deps import PrincipalDep, SessionDep, acting_agency_id
from odop_sync.kit.problems import BODY_RESPONSES, PROBLEM_RESPONSES

router = APIRouter(prefix="/v1", tags=["accounts"], responses=PROBLEM_RESPONSES)
IdPath = Annotated[int, Path(ge=1, le=2**62)]


@router.post("/accounts", status_code=status.HTTP_201_CREATED, responses=BODY_RESPONSES)
async def create_account(
    body: AccountCreate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    agency: Annotated[str | None, Query(max_length=64)] = None,
) -> AccountRead:
    """Connect a marketplace seller account. Credentials are write-only."""
    principal.require_write()
    agency_id = await acting_agency_id(session, principal, agency)
    state = request.app.state
    account = await service.create_account(
        session, agency_id=agency_id, body=body, adapters=state.adapters, cipher=state.cipher
    )
    await session.commit()
    return service.account_read(account, state.adapters, state.cipher)


@router.get("/accounts")
async def list_accounts(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> list[AccountRead]:
    principal.require_catalog_reader()
    state = request.app.state
    accounts = await service.list_accounts(session, principal.agency_scope())
    return [service.account_read(a, state.adapters, state.cipher) for a in accounts]


@router.get("/accounts/{account_id}")
async def get_account(
    account_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep
) -> AccountRead:
    principal.require_catalog_reader()
    account = await service.get_account(session, account_id, principal.agency_scope())
    return service.account_read(account, request.app.state.adapters, request.app.state.cipher)


@router.patch("/accounts/{account_id}", responses=BODY_RESPONSES)
async def update_account(
    account_id: IdPath,
    body: AccountUpdate,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
) -> AccountRead:
    """Change an account (new credentials, pricing rule, enabled): only the fields given
    change. A problem the account was waiting out ends, and it syncs again at once."""
    principal.require_write()
    account = await service.get_account(session, account_id, principal.agency_scope())
    state = request.app.state
    await service.update_account(
        session, account, body, adapters=state.adapters, cipher=state.cipher
    )
    await session.commit()
    await session.refresh(account)
    # An empty list: every account of the agency looks at what changed (this one re-projects
    # everything when its pricing rule changed), in this process and, through NOTIFY, others.
    state.events.catalog_changed(account.agency_id, [])
    return service.account_read(account, state.adapters, state.cipher)


@router.post("/accounts/{account_id}/check")
async def check_account(
    account_id: IdPath, request: Request, session: SessionDep, principal: PrincipalDep
) -> CheckResult:
    """Call the marketplace with the stored credentials and record the answer."""
    principal.require_write()
    account = await service.get_account(session, account_id, principal.agency_scope())
    state = request.app.state
    result = await service.check_account(
        account,
        adapters=state.adapters,
        cipher=state.cipher,
        transport=state.outbound_transport(),
        limiter=state.clients.limiter_for(account),
    )
    await session.commit()
    if result.ok:  # it may have been waiting out a problem: it syncs again now
        state.events.catalog_changed(account.agency_id, [])
    return result
