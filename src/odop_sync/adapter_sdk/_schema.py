"""Validation of JSON bodies against JSON-schema documents or OpenAPI (Swagger 2.0) operations.

Uses the `jsonschema` package when it is installed; otherwise a compact validator for the subset
the marketplace specs use ($ref, type, required, properties, additionalProperties, items, enum,
const, min/maxItems, min/maxLength, min/maxProperties, minimum/maximum, pattern, oneOf, anyOf,
allOf, not, boolean schemas). Callers see the same `SchemaError` list either way. `QueryValidator`
checks an operation's query parameters the same way."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["QueryValidator", "SchemaError", "SchemaValidator"]

Schema = Mapping[str, Any] | bool


@dataclass(frozen=True, slots=True)
class SchemaError:
    path: str  # JSON pointer into the instance, "" for the root
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}: {self.message}"


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _type_ok(expected: str, value: Any) -> bool:
    match expected:
        case "object":
            return isinstance(value, dict)
        case "array":
            return isinstance(value, list)
        case "string":
            return isinstance(value, str)
        case "boolean":
            return isinstance(value, bool)
        case "null":
            return value is None
        case "integer":
            if isinstance(value, bool):
                return False
            return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        case "number":
            return isinstance(value, int | float) and not isinstance(value, bool)
    return True  # unknown type names (e.g. Swagger's "file") are not ours to judge


def _closest(branches: list[list[SchemaError]]) -> list[SchemaError]:
    """The errors of the branch that came nearest to matching: the most useful to show."""
    return min(branches, key=len)


class _CompactValidator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> Schema:
        if not ref.startswith("#"):
            raise ValueError(f"only local $refs are supported, got {ref!r}")
        node: Any = self.root
        for part in ref[1:].split("/")[1:] if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node  # type: ignore[no-any-return]

    def errors(self, schema: Schema, value: Any, path: str = "") -> list[SchemaError]:
        out: list[SchemaError] = []
        self._check(schema, value, path, out)
        return out

    def _check(self, schema: Schema, value: Any, path: str, out: list[SchemaError]) -> None:
        if schema is True:
            return
        if schema is False:
            out.append(SchemaError(path, "is not allowed here"))
            return
        if not isinstance(schema, Mapping):
            raise TypeError(f"a schema is an object or a boolean, not {type(schema).__name__}")
        if "$ref" in schema:  # draft-07 and Swagger 2.0: siblings of $ref are ignored
            self._check(self.resolve(schema["$ref"]), value, path, out)
            return

        expected = schema.get("type")
        if expected is not None:
            names = expected if isinstance(expected, list) else [expected]
            if not any(_type_ok(n, value) for n in names):
                out.append(SchemaError(path, f"must be of type {' or '.join(names)}"))
                return
        if "const" in schema and value != schema["const"]:
            out.append(SchemaError(path, f"must be {schema['const']!r}"))
        if "enum" in schema and value not in schema["enum"]:
            allowed = ", ".join(repr(v) for v in schema["enum"][:12])
            out.append(SchemaError(path, f"must be one of {allowed}"))

        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                out.append(SchemaError(path, f"must be at least {schema['minLength']} characters"))
            if "maxLength" in schema and len(value) > schema["maxLength"]:
                out.append(SchemaError(path, f"must be at most {schema['maxLength']} characters"))
            if "pattern" in schema and not _regex(schema["pattern"]).search(value):
                out.append(SchemaError(path, f"must match {schema['pattern']}"))
        if isinstance(value, int | float) and not isinstance(value, bool):
            if "minimum" in schema and value < schema["minimum"]:
                out.append(SchemaError(path, f"must be >= {schema['minimum']}"))
            if "maximum" in schema and value > schema["maximum"]:
                out.append(SchemaError(path, f"must be <= {schema['maximum']}"))
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                out.append(SchemaError(path, f"must have at least {schema['minItems']} items"))
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                out.append(SchemaError(path, f"must have at most {schema['maxItems']} items"))
            items = schema.get("items")
            if isinstance(items, Mapping | bool):
                for i, item in enumerate(value):
                    self._check(items, item, f"{path}/{i}", out)
        if isinstance(value, dict):
            self._check_object(schema, value, path, out)

        for sub in schema.get("allOf", ()):
            self._check(sub, value, path, out)
        if "anyOf" in schema:
            branches = [self.errors(s, value, path) for s in schema["anyOf"]]
            if all(branches):
                out.append(SchemaError(path, "does not match any allowed shape"))
                out.extend(_closest(branches))
        if "oneOf" in schema:
            branches = [self.errors(s, value, path) for s in schema["oneOf"]]
            matched = sum(1 for b in branches if not b)
            if matched == 0:
                out.append(SchemaError(path, "does not match any allowed shape"))
                out.extend(_closest(branches))
            elif matched > 1:
                out.append(
                    SchemaError(path, f"matches {matched} shapes where exactly one is allowed")
                )
        if "not" in schema and not self.errors(schema["not"], value, path):
            out.append(SchemaError(path, "matches a shape that is not allowed"))

    def _check_object(
        self, schema: Mapping[str, Any], value: dict[str, Any], path: str, out: list[SchemaError]
    ) -> None:
        for name in schema.get("required", ()):
            if name not in value:
                out.append(SchemaError(path, f"'{name}' is required"))
        if "minProperties" in schema and len(value) < schema["minProperties"]:
            out.append(
                SchemaError(path, f"must have at least {schema['minProperties']} properties")
            )
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            out.append(SchemaError(path, f"must have at most {schema['maxProperties']} properties"))
        props: Mapping[str, Any] = schema.get("properties", {})
        additional = schema.get("additionalProperties", True)
        for key, item in value.items():
            child = f"{path}/{key}"
            if key in props:
                self._check(props[key], item, child, out)
            elif additional is False:
                out.append(SchemaError(child, "is not an allowed property"))
            elif isinstance(additional, Mapping):
                self._check(additional, item, child, out)


class SchemaValidator:
    """Validate instances against one schema, resolving `$ref`s within its document."""

    def __init__(self, schema: Schema, *, root: Mapping[str, Any] | None = None) -> None:
        self.schema = schema
        self.root: Mapping[str, Any] = (
            root if root is not None else (schema if isinstance(schema, Mapping) else {})
        )
        self._compact = _CompactValidator(self.root)
        self._jsonschema = self._jsonschema_validator()

    def _jsonschema_validator(self) -> Any:
        try:
            import jsonschema  # optional: used when installed
        except ImportError:
            return None
        document: dict[str, Any] = {k: v for k, v in self.root.items() if k == "definitions"}
        if isinstance(self.schema, Mapping):
            document.update(self.schema)
            if "$ref" in document:  # keep definitions reachable next to a bare $ref
                document = {"allOf": [{"$ref": document.pop("$ref")}], **document}
        elif self.schema is False:
            document = {"not": {}}
        return jsonschema.Draft7Validator(document)

    @classmethod
    def from_file(cls, path: str | Path) -> SchemaValidator:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def for_definition(cls, spec: Mapping[str, Any], name: str) -> SchemaValidator:
        return cls({"$ref": f"#/definitions/{name}"}, root=spec)

    @classmethod
    def for_openapi_body(cls, spec: Mapping[str, Any], operation_id: str) -> SchemaValidator:
        """The request-body schema of an operation in a Swagger 2.0 or OpenAPI 3 document."""
        for item in spec.get("paths", {}).values():
            for method, op in item.items():
                if not isinstance(op, Mapping) or op.get("operationId") != operation_id:
                    continue
                for param in op.get("parameters", ()):
                    if param.get("in") == "body":
                        return cls(param["schema"], root=spec)
                content = op.get("requestBody", {}).get("content", {})
                for media in content.values():
                    return cls(media["schema"], root=spec)
                raise KeyError(f"{operation_id} ({method}) has no request body")
        raise KeyError(f"no operation {operation_id!r} in the document")

    def errors(self, instance: Any) -> list[SchemaError]:
        if self._jsonschema is not None:
            return [
                SchemaError("".join(f"/{p}" for p in err.absolute_path), err.message)
                for err in self._jsonschema.iter_errors(instance)
            ]
        return self._compact.errors(self.schema, instance)

    def is_valid(self, instance: Any) -> bool:
        return not self.errors(instance)


def _parameter_schema(param: Mapping[str, Any]) -> Mapping[str, Any]:
    if "schema" in param:  # OpenAPI 3
        return param["schema"]  # type: ignore[no-any-return]
    keys = ("type", "items", "enum", "format", "minItems", "maxItems", "minimum", "maximum")
    return {k: param[k] for k in (*keys, "pattern", "minLength", "maxLength") if k in param}


def _scalar(schema: Mapping[str, Any], raw: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be an integer") from None
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError("must be true or false")
        return raw == "true"
    if schema.get("format") == "date-time":
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("must be an ISO 8601 date-time") from None
        if parsed.tzinfo is None:
            raise ValueError("must be an ISO 8601 date-time with a time zone")
    return raw


class QueryValidator:
    """The query parameters of one operation, checked against its Swagger 2.0 / OpenAPI 3
    parameter list: each value parsed as its type says (arrays comma-separated or repeated),
    date-times ISO 8601 with a zone, required ones present, and none the operation lacks."""

    def __init__(self, parameters: Sequence[Mapping[str, Any]], root: Mapping[str, Any]) -> None:
        query = [p for p in parameters if p.get("in") == "query"]
        self.parameters = {p["name"]: _parameter_schema(p) for p in query}
        self._validator = SchemaValidator(
            {
                "type": "object",
                "properties": dict(self.parameters),
                "required": [p["name"] for p in query if p.get("required")],
                "additionalProperties": False,
            },
            root=root,
        )

    @classmethod
    def for_openapi_operation(cls, spec: Mapping[str, Any], operation_id: str) -> QueryValidator:
        for item in spec.get("paths", {}).values():
            for op in item.values():
                if isinstance(op, Mapping) and op.get("operationId") == operation_id:
                    return cls([*item.get("parameters", ()), *op.get("parameters", ())], spec)
        raise KeyError(f"no operation {operation_id!r} in the document")

    def parse(self, query: Iterable[tuple[str, str]]) -> tuple[dict[str, Any], list[SchemaError]]:
        """The parameters as typed values, and what is wrong with them (empty: valid)."""
        given: dict[str, list[str]] = {}
        for name, value in query:
            given.setdefault(name, []).append(value)
        values: dict[str, Any] = {}
        problems: list[SchemaError] = []
        for name, raws in given.items():
            schema = self.parameters.get(name, {})
            try:
                if schema.get("type") == "array":
                    items = schema.get("items", {})
                    values[name] = [_scalar(items, v) for raw in raws for v in raw.split(",")]
                elif len(raws) > 1:
                    raise ValueError("is given more than once")
                else:
                    values[name] = _scalar(schema, raws[0])
            except ValueError as exc:
                problems.append(SchemaError(f"/{name}", str(exc)))
        problems += self._validator.errors(values)
        return values, problems
