"""RFC 9457 problem details: one error base class with a status, one handler.

ProblemError                       any error the API answers with problem+json
 ├── NotFound (404)                also what another tenant's resource looks like
 ├── Unauthorized (401)
 ├── Forbidden (403)
 ├── Conflict (409)
 ├── ValidationProblem (422)       carries [{row, field, message}]
 └── PayloadTooLarge (413)
"""

from __future__ import annotations

from typing import Any, cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://odop-sync.dev/problems/"


class FieldIssue(BaseModel):
    row: int | None = Field(default=None, description="1-based row of the batch or sheet")
    field: str | None = Field(default=None, description="the column or JSON field")
    message: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldIssue] | None = None


class ProblemError(Exception):
    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldIssue] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers

    def to_problem(self, instance: str | None = None) -> Problem:
        return Problem(
            type=TYPE_BASE + self.slug,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            errors=self.errors,
        )


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Missing or invalid API key"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Not allowed for this key"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class ValidationProblem(ProblemError):
    status, slug, title = 422, "validation", "Invalid input"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _loc_to_field(loc: tuple[Any, ...]) -> tuple[int | None, str | None]:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    row: int | None = None
    # JSON batch items: ("body", "items", 3, "price") -> row 4, field price
    if len(parts) >= 2 and parts[0] == "items" and isinstance(parts[1], int):
        row = parts[1] + 1
        parts = parts[2:]
    field = ".".join(str(p) for p in parts) or None
    return row, field


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request, fallback: str | None = None) -> str:
    """The `Allow` of a 405: every method some route of the app serves at the request's path.
    (Starlette names only the methods of the first route it tried, and each FastAPI operation
    is a route of its own, so GET /v1/batches hid behind "Allow: POST".) Mounted apps answer
    for themselves and are left out."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    allowed = [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    if allowed:
        return ", ".join(allowed)
    # A mounted app without answers of its own (the demo's static images) serves GET and HEAD.
    return fallback or "GET, HEAD"


def install_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(ProblemError, exc)
        return problem_response(exc.to_problem(request.url.path), exc.headers)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(RequestValidationError, exc)
        issues = []
        for err in exc.errors():
            row, field = _loc_to_field(tuple(err.get("loc", ())))
            issues.append(FieldIssue(row=row, field=field, message=str(err.get("msg", "invalid"))))
        problem = ValidationProblem(
            f"{len(issues)} field(s) are invalid", errors=issues
        ).to_problem(request.url.path)
        return problem_response(problem)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        exc = cast(StarletteHTTPException, exc)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request, headers.get("Allow"))
        problem = Problem(
            type=TYPE_BASE + ("not-found" if exc.status_code == 404 else "http-error"),
            title=str(exc.detail) if exc.status_code != 404 else "Not found",
            status=exc.status_code,
            detail=str(exc.detail),
            instance=request.url.path,
        )
        return problem_response(problem, headers)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


def _problem_doc(description: str) -> dict[str, Any]:
    return {
        "model": Problem,
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


# Declared on every router, so the OpenAPI document tells clients what errors look like.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _problem_doc("missing or invalid API key"),
    403: _problem_doc("the key's role does not allow this"),
    404: _problem_doc("not found, or another agency's"),
    409: _problem_doc("conflicts with the current state"),
    413: _problem_doc("over a documented limit"),
    415: _problem_doc("unsupported content type"),
    422: _problem_doc("invalid input; `errors` lists {row, field, message}"),
}

# On every operation whose JSON body FastAPI parses: a body that is not JSON text at all (not
# UTF-8, say) is answered 400 before any field is looked at; malformed JSON is a 422.
BODY_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _problem_doc('the body could not be read ("There was an error parsing the body")'),
}
