"""The GOP gateway's own rules, as the Alibaba.com sandbox applies them to every call: how a call
is read (form, multipart or query), how it is signed (PROTOCOL.md §4.1), which system fields it
needs, and the platform's success and error envelopes (§5).

The error codes are the project's reading of a catalogue the platform does not publish
(PROTOCOL.md §10; the Alibaba.com contract note takes the names from the sister IOP gateway, I).
Nothing here is read from the adapter: the sandbox judges it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse

# Codes ----------------------------------------------------------------------------------------
# contract note, "Error": situation → type, code (I: the platform documents no catalogue).
MISSING = "MissingParameter"
INVALID = "InvalidParameter"
BAD_SIGNATURE = "IncompleteSignature"
BAD_APP_KEY = "InvalidAppKey"
BAD_TIMESTAMP = "InvalidTimestamp"
BAD_ACCESS_TOKEN = "IllegalAccessToken"  # noqa: S105 - an error code
BAD_REFRESH_TOKEN = "IllegalRefreshToken"  # noqa: S105 - an error code
BAD_CODE = "InvalidCode"
BAD_PATH = "InvalidApiPath"
CALL_LIMIT = "ApiCallLimit"
UNAVAILABLE = "ServiceUnavailable"
XML_PARSE = "API_SCHEMA_XML_PARSE_ERROR"
# I: the sister IOP gateway's name for "this app may not call this API group" (U-REF says such
# a call is refused even when signed correctly); the sandbox answers injected 403s with it.
NO_PERMISSION = "InsufficientIsvPermissions"
# PROTOCOL §5.2, the sister platform's text for a signature failure (stored page, U).
SIGNATURE_MESSAGE = "The request signature does not conform to platform standards"
# contract note: the throttling message.
LIMIT_MESSAGE = "The request has exceeded the limit"

# System fields ----------------------------------------------------------------------------
# PROTOCOL §3.3: the only signing method of GOP.
SIGN_METHOD = "sha256"
# contract note: timestamps are 13-digit epoch milliseconds.
TIMESTAMP_RE = re.compile(r"^[0-9]{13}$")
# PROTOCOL §3.3 / §6: allowed clock skew 7200 s (indicative; configurable in the sandbox).
DEFAULT_SKEW = 7200.0
# contract note: multipart text parts up to this size (the XML of a product is far smaller).
MAX_TEXT_PART = 6 * 1024 * 1024


@dataclass
class GopError(Exception):
    """A refusal in the platform's error envelope (HTTP 200 unless `status` says otherwise)."""

    code: str
    message: str
    type: str = "ISV"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def request_id() -> str:
    return uuid.uuid4().hex[:26]


def ok(payload: Mapping[str, Any]) -> JSONResponse:
    """PROTOCOL §5.1: HTTP 200, flat JSON, `code` "0" and `request_id` beside the payload."""
    rid = request_id()
    return JSONResponse({"code": "0", "request_id": rid, "_trace_id_": rid, **payload})


def refusal(error: GopError) -> JSONResponse:
    """PROTOCOL §5.2: `type`, `code`, `message`, `request_id` (HTTP 200 for the gateway's own
    refusals; injected faults keep their HTTP status)."""
    rid = request_id()
    body = {
        "type": error.type,
        "code": error.code,
        "message": error.message,
        "request_id": rid,
        "_trace_id_": rid,
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers)


# Signing ----------------------------------------------------------------------------------


def string_to_sign(api_path: str, fields: Mapping[str, str]) -> str:
    """PROTOCOL §4.1: the API path, then name + value of every text field but `sign`, names in
    byte order (code-point order of str is UTF-8 byte order). Empty values are left out (§4.3,
    the project's rule: adapters send none, so both readings agree)."""
    parts = (f"{name}{value}" for name, value in sorted(fields.items()) if name != "sign" and value)
    return api_path + "".join(parts)


def signature(secret: str, api_path: str, fields: Mapping[str, str]) -> str:
    """PROTOCOL §4.1 steps 5-6: HMAC-SHA256 keyed with the app secret, upper-case hex."""
    mac = hmac.new(secret.encode(), string_to_sign(api_path, fields).encode(), hashlib.sha256)
    return mac.hexdigest().upper()


def signature_matches(secret: str, api_path: str, fields: Mapping[str, str]) -> bool:
    """PROTOCOL §4.4: recompute and compare case-insensitively."""
    given = fields.get("sign", "").upper()
    return hmac.compare_digest(given.encode(), signature(secret, api_path, fields).encode())


# Reading a call ---------------------------------------------------------------------------


@dataclass
class Call:
    """One call as the gateway received it: text fields (query and body together, empty ones
    dropped: §4.3), file parts (not signed, §3.4) and the path in the URL after /rest."""

    url_path: str | None
    fields: dict[str, str]
    files: dict[str, UploadFile]
    protocol: str | None

    @property
    def api_path(self) -> str | None:
        """`method` when given (what the official SDK signs with), else the URL's path."""
        return self.fields.get("method") or self.url_path


async def read_call(request: Request, url_path: str | None) -> Call:
    """The call's fields; GopError InvalidParameter for a field given twice, an unreadable body
    or a body that is neither a form nor multipart (§3.2)."""
    pairs: list[tuple[str, str | UploadFile]] = list(request.query_params.multi_items())
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if request.method == "POST" and kind in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        try:
            form = await request.form(max_part_size=MAX_TEXT_PART)
        except Exception as exc:  # the form parser's own errors (a malformed multipart body)
            raise GopError(INVALID, f"the request body cannot be read: {exc}") from None
        pairs += list(form.multi_items())
    elif request.method == "POST" and (await request.body()):
        raise GopError(
            INVALID,
            "the body must be application/x-www-form-urlencoded or multipart/form-data",
        )
    fields: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for name, value in pairs:
        if name in fields or name in files:
            raise GopError(INVALID, f"parameter {name} is given more than once")
        if isinstance(value, UploadFile):
            files[name] = value
        elif value != "":
            fields[name] = value
    path = "/" + url_path.strip("/") if url_path and url_path.strip("/") else None
    return Call(path, fields, files, request.headers.get("x-protocol"))


def millis(text: str) -> int | None:
    return int(text) if TIMESTAMP_RE.match(text) else None


def fault_error(status: int, headers: dict[str, str]) -> GopError:
    """An injected STATUS fault in the platform's words (contract note): 429 ApiCallLimit,
    401 IllegalAccessToken, 403 InsufficientIsvPermissions, 5xx ISP ServiceUnavailable."""
    if status == 429:
        return GopError(CALL_LIMIT, LIMIT_MESSAGE, status=status, headers=headers)
    if status == 401:
        return GopError(BAD_ACCESS_TOKEN, "the access token is invalid", status=status)
    if status == 403:
        return GopError(NO_PERMISSION, "the app may not call this API", status=status)
    if status >= 500:
        message = "the service timed out" if status == 504 else "the service is unavailable"
        return GopError(UNAVAILABLE, message, type="ISP", status=status, headers=headers)
    return GopError(INVALID, "the request was refused", status=status, headers=headers)
