"""Business parameters judged by the request schemas of icbu-gop.openapi.json (package data).

A call's form fields become one object checked against the operation's request-body schema:
fields typed `integer` there must be integers written as text (`12`, not `12.0` or ` 12`),
`boolean` ones `true`/`false`; a field with `contentMediaType: application/json` must be JSON
text, parsed and checked against its `contentSchema`; a `contentMediaType:
application/octet-stream` field must be a file part. Every rule comes from the document.

One stricter reading of the sandbox's own (I): a form field the operation does not name is
refused (InvalidParameter), so a misspelt optional parameter shows up instead of being ignored.
The system fields (SystemParams) are checked by the gateway first; `sign` and `timestamp` are the
gateway's alone (compared case-insensitively, PROTOCOL §4.4; skew, §3.3).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.alibaba.sandbox_gateway import INVALID, MISSING, GopError
from odop_sync.adapter_sdk.sandbox import SchemaValidator

SPEC_FILE = "icbu-gop.openapi.json"
_INTEGER = re.compile(r"^-?[0-9]+$")
_INT64 = (-(2**63), 2**63 - 1)
# Checked by the gateway itself, not by the schema (see the module docstring).
_GATEWAY_ONLY = frozenset({"sign", "timestamp"})


def inline(node: Any, root: Mapping[str, Any], seen: tuple[str, ...] = ()) -> Any:
    """`node` with every local `$ref` replaced by what it names (siblings kept), so the schema
    needs no document around it."""
    if isinstance(node, list):
        return [inline(item, root, seen) for item in node]
    if not isinstance(node, Mapping):
        return node
    if "$ref" in node:
        ref = str(node["$ref"])
        if ref in seen:
            raise ValueError(f"recursive $ref {ref}")
        target: Any = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        merged = {**inline(target, root, (*seen, ref))}
        merged.update({k: inline(v, root, seen) for k, v in node.items() if k != "$ref"})
        return merged
    return {k: inline(v, root, seen) for k, v in node.items()}


def _parts(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [schema, *(p for sub in schema.get("allOf", ()) for p in _parts(sub))]


@dataclass(frozen=True)
class Operation:
    """One operation of the document, ready to judge a call."""

    path: str
    operation_id: str
    media: str
    properties: Mapping[str, Mapping[str, Any]]
    required: frozenset[str]
    system: frozenset[str]
    validator: SchemaValidator
    json_fields: Mapping[str, SchemaValidator]
    file_fields: frozenset[str]
    protocol: Mapping[str, Any] | None  # the X-Protocol header's schema

    def parse(self, fields: Mapping[str, str], files: Mapping[str, Any]) -> dict[str, Any]:
        """The call's parameters as typed values (JSON-text fields parsed); GopError
        MissingParameter / InvalidParameter naming the first parameter at fault."""
        unknown = sorted(set(fields) - set(self.properties))
        if unknown:
            raise GopError(INVALID, f"{unknown[0]} is not a parameter of {self.path}")
        missing = sorted(self.required - set(fields) - set(files) - _GATEWAY_ONLY)
        if missing:
            raise GopError(MISSING, f"{missing[0]} is required by {self.path}")
        values: dict[str, Any] = {}
        for name in sorted(files):
            if name not in self.file_fields:
                raise GopError(INVALID, f"{name} is not a file parameter of {self.path}")
            values[name] = "<file>"
        for name, text in fields.items():
            if name in self.file_fields:
                raise GopError(INVALID, f"{name} must be sent as a file part")
            if name not in _GATEWAY_ONLY:
                values[name] = _typed(name, text, self.properties[name])
        problems = self.validator.errors(values)
        if problems:
            first = problems[0]
            raise GopError(INVALID, f"{_where(first.path)}: {first.message}")
        for name, check in self.json_fields.items():
            if name in values:
                values[name] = _json_text(name, values[name], check)
        return values


def _where(pointer: str) -> str:
    return pointer.lstrip("/").replace("/", ".") or "request"


def _typed(name: str, text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        if not _INTEGER.match(text) or not _INT64[0] <= int(text) <= _INT64[1]:
            raise GopError(INVALID, f"{name} must be an integer, got {text[:40]!r}")
        return int(text)
    if kind == "number":
        try:
            return float(Decimal(text))
        except InvalidOperation:
            raise GopError(INVALID, f"{name} must be a number, got {text[:40]!r}") from None
    if kind == "boolean":
        if text not in ("true", "false"):
            raise GopError(INVALID, f"{name} must be true or false")
        return text == "true"
    return text


def _json_text(name: str, text: str, check: SchemaValidator) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise GopError(INVALID, f"{name} must be JSON text") from None
    problems = check.errors(value)
    if problems:
        first = problems[0]
        where = f"{name}{first.path.replace('/', '.')}" if first.path else name
        raise GopError(INVALID, f"{where}: {first.message}")
    return value


class GatewaySpec:
    """Every operation of the document by its API path."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            for verb, op in item.items():
                if verb == "post" and isinstance(op, Mapping):
                    self.operations[path] = self._operation(path, op)

    def _operation(self, path: str, op: Mapping[str, Any]) -> Operation:
        media, content = next(iter(op["requestBody"]["content"].items()))
        schema = inline(content["schema"], self.document)
        properties: dict[str, Mapping[str, Any]] = {}
        required: set[str] = set()
        for part in _parts(schema):
            properties.update(part.get("properties", {}))
            required.update(part.get("required", ()))
        system = inline(self.document["components"]["schemas"]["SystemParams"], self.document)
        json_fields = {
            name: SchemaValidator(prop["contentSchema"])
            for name, prop in properties.items()
            if prop.get("contentMediaType") == "application/json" and "contentSchema" in prop
        }
        files = {
            name
            for name, prop in properties.items()
            if prop.get("contentMediaType") == "application/octet-stream"
        }
        header = next(
            (
                inline(p, self.document)
                for p in op.get("parameters", ())
                if inline(p, self.document).get("name") == "X-Protocol"
            ),
            None,
        )
        return Operation(
            path=path,
            operation_id=str(op["operationId"]),
            media=media,
            properties=properties,
            required=frozenset(required),
            system=frozenset(system.get("properties", {})),
            validator=SchemaValidator(_without_gateway_rules(schema)),
            json_fields=json_fields,
            file_fields=frozenset(files),
            protocol=header.get("schema") if header else None,
        )

    def check_protocol(self, operation: Operation, value: str | None) -> None:
        """X-Protocol is optional (PROTOCOL §3.2); when sent it must be what the document
        allows."""
        if value is None or operation.protocol is None:
            return
        problems = SchemaValidator(operation.protocol).errors(value)
        if problems:
            raise GopError(INVALID, f"X-Protocol header: {problems[0].message}")


def _without_gateway_rules(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema minus the fields only the gateway judges (`sign`, `timestamp`)."""
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {k: v for k, v in out["properties"].items() if k not in _GATEWAY_ONLY}
    if "required" in out:
        out["required"] = [r for r in out["required"] if r not in _GATEWAY_ONLY]
    if "allOf" in out:
        out["allOf"] = [_without_gateway_rules(p) for p in out["allOf"]]
    return out
