from __future__ import annotations

import json
from typing import Any

import pytest

from odop_sync.adapter_sdk import SchemaValidator
from odop_sync.adapter_sdk._schema import _CompactValidator
from odop_sync.adapter_sdk.sandbox import specs_dir

SPECS = specs_dir("adapters.amazon")


def load(name: str) -> Any:
    return json.loads((SPECS / name).read_text(encoding="utf-8"))


class TestSchemaValidator:
    def test_the_official_feed_and_report_examples_are_valid(self) -> None:
        feed = SchemaValidator.from_file(SPECS / "listings-feed-schema-v2.json")
        report = SchemaValidator.from_file(SPECS / "listings-feed-processing-report-schema-v2.json")
        assert feed.errors(load("listings-feed-schema-v2.example.json")) == []
        assert report.errors(load("listings-feed-processing-report-schema-v2.example.json")) == []

    def test_a_feed_message_matching_no_operation_shape_is_reported(self) -> None:
        feed = SchemaValidator.from_file(SPECS / "listings-feed-schema-v2.json")
        document = load("listings-feed-schema-v2.example.json")
        document["messages"][2].pop("attributes")  # UPDATE needs productType and attributes
        document["messages"][0]["operationType"] = "UPSERT"
        text = " ".join(str(e) for e in feed.errors(document))
        assert "/messages/0/operationType" in text
        assert "/messages/2" in text

    def test_openapi_request_bodies_resolve_their_refs(self) -> None:
        put = SchemaValidator.for_openapi_body(
            load("listingsItems_2021-08-01.json"), "putListingsItem"
        )
        assert put.is_valid({"productType": "RUG", "attributes": {}})
        errors = put.errors({"requirements": "ALL", "attributes": []})
        paths = {e.path for e in errors}
        assert "" in paths
        assert "/requirements" in paths
        assert "/attributes" in paths

    def test_unknown_operations_are_a_key_error(self) -> None:
        with pytest.raises(KeyError):
            SchemaValidator.for_openapi_body(load("feeds_2021-06-30.json"), "noSuchOperation")

    @pytest.mark.parametrize(
        ("schema", "value", "fragment"),
        [
            ({"type": "integer"}, True, "type integer"),
            ({"type": "string", "pattern": "^[0-9]{4}$"}, "12a4", "must match"),
            ({"type": "string", "minLength": 2, "maxLength": 3}, "abcd", "at most 3"),
            ({"type": "array", "minItems": 1}, [], "at least 1"),
            ({"type": "number", "minimum": 0}, -1, ">= 0"),
            ({"properties": {"a": False}}, {"a": 1}, "not allowed"),
            ({"additionalProperties": False, "properties": {"a": {}}}, {"b": 1}, "not an allowed"),
            ({"enum": ["A", "B"]}, "C", "one of"),
            ({"const": "2.0"}, "1.0", "must be '2.0'"),
            ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 1.5, "any allowed"),
            ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 3, "exactly one"),
            ({"type": "object", "minProperties": 1}, {}, "at least 1 properties"),
        ],
    )
    def test_the_compact_validator_covers_the_subset_the_specs_use(
        self, schema: dict[str, Any], value: Any, fragment: str
    ) -> None:
        errors = _CompactValidator(schema).errors(schema, value)
        assert errors
        assert fragment in " ".join(e.message for e in errors)

    def test_local_refs_are_followed(self) -> None:
        root = {
            "definitions": {"Money": {"type": "object", "required": ["amount"]}},
            "properties": {"price": {"$ref": "#/definitions/Money"}},
        }
        errors = _CompactValidator(root).errors(root, {"price": {}})
        assert [str(e) for e in errors] == ["/price: 'amount' is required"]
