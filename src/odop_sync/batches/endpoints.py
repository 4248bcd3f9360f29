from __future__ import annotations

import csv
import functools
import io
from typing import Annotated, Any, Literal

import anyio
import orjson
from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from odop_sync.batches import repository, service
from odop_sync.batches.intake import parse_sheet
from odop_sync.batches.schemas import BatchCreate, BatchRead, DryRunRead
from odop_sync.batches.template import build_template
from odop_sync.catalog.rules import Rules
from odop_sync.config import Settings
from odop_sync.deps import PrincipalDep, RunnerDep, SessionDep, SettingsDep, acting_agency_id
from odop_sync.kit.problems import (
    PROBLEM_RESPONSES,
    FieldIssue,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationProblem,
)
from odop_sync.models import RowStatus

router = APIRouter(prefix="/v1", tags=["batches"], responses=PROBLEM_RESPONSES)
# Row numbers are INTEGER columns (int4 on PostgreSQL): a cursor beyond is refused, not sent.
ROW_NO_MAX = 2**31 - 1

BATCH_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            # Inline: the body is read by hand (JSON or a sheet), so FastAPI would not add
            # BatchCreate to the components and a $ref to it would point nowhere.
            "application/json": {"schema": BatchCreate.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV (UTF-8 with/without BOM, UTF-16, Windows-1252; "
                            "comma, semicolon or tab) or XLSX; header row = field names",
                        }
                    },
                }
            },
        },
    }
}


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    # Starlette's Request.form() re-reads the cached body; hand it the bytes we already checked.
    request._body = body
    return body


# Sheets parsed at once (each in a worker thread); more uploads wait their turn without
# holding the event loop, which keeps answering every other request meanwhile.
PARSERS = 2


def _parsers(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "intake_parsers", None)
    if limiter is None:
        limiter = request.app.state.intake_parsers = anyio.CapacityLimiter(PARSERS)
    return limiter


def _sheet_intake(
    content: bytes, filename: str | None, content_type: str | None, settings: Settings
) -> service.Intake:
    """Parse, number and check a sheet (a worker thread's work: it may be big)."""
    sheet = parse_sheet(
        content, filename=filename, content_type=content_type, limits=settings.limits
    )
    intake = service.Intake(
        source=sheet.source,
        filename=filename,
        producers=[],
        rows=sheet.rows,
        digest=service.digest_bytes(b"sheet", content),
    )
    intake.check_products(Rules.from_settings(settings))
    return intake


def _json_intake(body: bytes, settings: Settings) -> service.Intake:
    """Parse and check a JSON batch (a worker thread's work: up to max_body_bytes of JSON)."""
    limits = settings.limits
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValidationProblem(f"the body is not valid JSON: {exc}") from None
    try:
        parsed = BatchCreate.model_validate(data)
    except ValidationError as exc:
        raise ValidationProblem(
            "the batch must be an object with 'producers' and 'items' lists",
            errors=[
                FieldIssue(field=".".join(str(p) for p in e["loc"]) or None, message=e["msg"])
                for e in exc.errors()[:50]
            ],
        ) from None
    if len(parsed.items) > limits.max_rows_per_batch:
        raise PayloadTooLarge(
            f"{len(parsed.items)} items; a batch may have at most {limits.max_rows_per_batch}"
        )
    if not parsed.items and not parsed.producers:
        raise ValidationProblem(
            "the batch is empty",
            errors=[FieldIssue(field="items", message="add at least one item or producer")],
        )
    intake = service.Intake(
        source="json",
        filename=None,
        producers=parsed.producers,
        rows=[(n + 1, item) for n, item in enumerate(parsed.items)],
        digest=service.digest_bytes(b"json", body),
        may_contain_nul=b"\\u0000" in body or b"\x00" in body,
    )
    intake.check_products(Rules.from_settings(settings))
    return intake


async def read_intake(request: Request, settings: Settings) -> service.Intake:
    """The batch of a request, parsed and checked off the event loop."""
    limits = settings.limits
    content_type = request.headers.get("content-type", "").lower()
    body = await _read_body(request, limits.max_body_bytes)
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=10)
        except StarletteHTTPException as exc:
            # Starlette's 400 for a malformed body or too many parts: the request is well-formed
            # HTTP whose content is wrong, which this API answers with a 422 naming the field.
            raise ValidationProblem(
                "the multipart body could not be read: send one part named 'file'",
                errors=[FieldIssue(field="file", message=str(exc.detail))],
            ) from None
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise ValidationProblem(
                "send the sheet as a multipart field named 'file'",
                errors=[FieldIssue(field="file", message="missing file part")],
            )
        content = await upload.read()
        work = functools.partial(
            _sheet_intake, content, upload.filename, upload.content_type, settings
        )
        return await anyio.to_thread.run_sync(work, limiter=_parsers(request))
    if content_type.startswith("application/json") or not content_type:
        work = functools.partial(_json_intake, body, settings)
        return await anyio.to_thread.run_sync(work, limiter=_parsers(request))
    raise UnsupportedMediaType(
        f"content type {content_type!r} is not accepted: send application/json or "
        "multipart/form-data with a CSV or XLSX file"
    )


@router.post(
    "/batches",
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=BATCH_BODY_DOC,
    responses={
        200: {
            # A replay answers with the earlier batch, as its 202 did.
            "model": DryRunRead | BatchRead,
            "description": "dry run (the report), or a replay of an Idempotency-Key (the batch)",
        },
    },
)
async def create_batch(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
    runner: RunnerDep,
    dry_run: Annotated[bool, Query(description="validate and report, store nothing")] = False,
    agency: Annotated[
        str | None, Query(max_length=64, description="agency slug (admin keys)")
    ] = None,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> BatchRead:
    """Publish a batch of variants (JSON, CSV or XLSX). Stored durably, then processed in the
    background; poll `GET /v1/batches/{id}` for progress and per-row results."""
    principal.require_write()
    agency_id = await acting_agency_id(session, principal, agency)
    intake = await read_intake(request, settings)
    rules = Rules.from_settings(settings)
    if dry_run:
        report = await service.dry_run(
            session, agency_id=agency_id, intake=intake, rules=rules, actor=principal.actor
        )
        await session.rollback()
        return JSONResponse(report.model_dump(mode="json"), status_code=200)  # type: ignore[return-value]
    batch, replayed = await service.submit(
        session,
        agency_id=agency_id,
        intake=intake,
        idempotency_key=idempotency_key,
        actor=principal.actor,
    )
    await session.commit()
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    else:
        runner.wake()
    response.headers["Location"] = f"/v1/batches/{batch.id}"
    return await service.read_batch(session, batch, rows=None)


@router.get("/batches", tags=["batches"])
async def list_batches(session: SessionDep, principal: PrincipalDep) -> list[BatchRead]:
    principal.require_catalog_reader()
    batches = await repository.list_batches(session, principal.agency_scope())
    return [await service.read_batch(session, b, rows=None) for b in batches]


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/batches/template.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "the sheet template"}},
)
async def batch_template(principal: PrincipalDep) -> Response:
    """A sheet template to fill in and upload to `POST /v1/batches`: every column the importer
    reads, in order, each header with a note (English and Hindi name, what goes there),
    drop-downs for the GST rate (the slabs in force) and the district, and one example row (a
    Bhadohi carpet of producer `weaver-ramesh`) that imports as it is once that producer is
    registered. Replace or delete the example before uploading your own rows."""
    principal.require_catalog_reader()
    content = await anyio.to_thread.run_sync(build_template)
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="odop-sync-template.xlsx"'},
    )


def _csv_safe(value: object) -> str:
    """A cell Excel will not run as a formula (a leading =, +, -, @ is quoted away)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get(
    "/batches/{batch_id}/errors.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "row, sku, field, message"}},
)
async def batch_errors_csv(
    batch_id: Annotated[int, Path(ge=1, le=2**62)], session: SessionDep, principal: PrincipalDep
) -> Response:
    """The batch's rejected rows as CSV (UTF-8 with a BOM, so Excel shows Hindi right): one
    line per problem with the sheet's row number, the SKU, the field and the message. Fix those
    cells in the sheet and upload it again."""
    principal.require_catalog_reader()
    batch = await service.get_batch(session, batch_id, principal.agency_scope())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["row", "sku", "field", "message"])
    after = 0
    while True:
        found = await repository.row_results(
            session, batch, status=RowStatus.REJECTED, after=after, limit=5000
        )
        for row_no, sku, _status, errors, _warnings, _variant in found:
            for issue in errors or [{}]:
                writer.writerow(
                    [
                        issue.get("row") or row_no,
                        _csv_safe(sku),
                        _csv_safe(issue.get("field")),
                        _csv_safe(issue.get("message")),
                    ]
                )
        if len(found) < 5000:
            break
        after = found[-1][0]
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="batch-{batch.id}-errors.csv"'},
    )


@router.get("/batches/{batch_id}")
async def get_batch(
    batch_id: Annotated[int, Path(ge=1, le=2**62)],
    session: SessionDep,
    principal: PrincipalDep,
    rows: Annotated[
        Literal["all", "none", "pending", "created", "updated", "unchanged", "rejected"],
        Query(description="per-row results to include: all, none, or those with one status"),
    ] = "all",
    after: Annotated[
        int,
        Query(
            ge=0,
            le=ROW_NO_MAX,
            description="row cursor: results after this row number (`rows_next_cursor`)",
        ),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> BatchRead:
    principal.require_catalog_reader()
    batch = await service.get_batch(session, batch_id, principal.agency_scope())
    return await service.read_batch(
        session, batch, rows=None if rows == "none" else rows, after=after, limit=limit
    )
