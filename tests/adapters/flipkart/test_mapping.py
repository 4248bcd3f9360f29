"""Pure mapping: no HTTP anywhere in this module."""

from __future__ import annotations

from decimal import Decimal

from adapters.flipkart.mapping import ListingDefaults

from adapters.flipkart import mapping, wire
from odop_sync.adapter_sdk import (
    NEEDS_CATALOG_MAPPING,
    ItemStatus,
    Money,
    OfferUpdate,
    PackageDimensions,
    Severity,
)
from tests.adapters.flipkart.conftest import FSN, listing

DEFAULTS = ListingDefaults(location_id="LOC1", dispatch_sla_days=2, made_to_order_sla_days=9)


def request_of(mapped: mapping.Mapped) -> dict[str, object]:
    assert mapped.request is not None, mapped.issues
    return mapped.request.to_wire()


class TestListingRequest:
    def test_a_complete_variant_becomes_a_create_listing_request(self) -> None:
        body = request_of(mapping.map_listing(listing("A"), DEFAULTS))
        assert body["product_id"] == FSN
        assert body["price"] == {"mrp": 14999, "selling_price": 12499, "currency": "INR"}
        assert body["tax"] == {"hsn": "570110", "goods_services_rate": 5.0, "tax_code": "GST_5"}
        assert body["listing_status"] == "ACTIVE"
        assert body["fulfillment_profile"] == "NON_FBF"
        assert body["locations"] == [{"id": "LOC1", "status": "ENABLED", "inventory": 4}]
        assert body["shipping_fees"] == {"local": 0, "zonal": 0, "national": 0, "currency": "INR"}
        assert body["address_label"] == {
            "manufacturer_details": ["Bhadohi Weavers SHG, Bhadohi"],
            "countries_of_origin": ["IN"],
        }

    def test_the_package_is_in_centimetres_and_kilograms(self) -> None:
        body = request_of(mapping.map_listing(listing("A"), DEFAULTS))
        assert body["packages"] == [
            {
                "name": "A",
                "dimensions": {"length": 160.0, "breadth": 30.0, "height": 30.0},
                "weight": 9.0,
                "handling": {"fragile": False},
            }
        ]

    def test_pottery_glass_and_terracotta_travel_as_fragile(self) -> None:
        for craft in ("Terracotta", "Glassware", "Black pottery"):
            body = request_of(mapping.map_listing(listing("A", craft=craft), DEFAULTS))
            assert body["packages"][0]["handling"] == {"fragile": True}, craft  # type: ignore[index]
        sturdy = listing("A", craft="Terracotta", attributes={"fragile": False})
        assert request_of(mapping.map_listing(sturdy, DEFAULTS))["packages"][0]["handling"] == {  # type: ignore[index]
            "fragile": False
        }

    def test_made_to_order_products_carry_their_dispatch_sla(self) -> None:
        regular = request_of(mapping.map_listing(listing("A"), DEFAULTS))["fulfillment"]
        assert regular == {
            "dispatch_sla": 2,
            "shipping_provider": "FLIPKART",
            "procurement_type": "REGULAR",
        }
        woven = listing("B", attributes={"made_to_order": True, "made_to_order_days": 21})
        assert request_of(mapping.map_listing(woven, DEFAULTS))["fulfillment"] == {
            "dispatch_sla": 21,
            "shipping_provider": "FLIPKART",
            "procurement_type": "MADE_TO_ORDER",
        }
        default_days = listing("C", attributes={"made_to_order": "yes"})
        fulfillment = request_of(mapping.map_listing(default_days, DEFAULTS))["fulfillment"]
        assert fulfillment["dispatch_sla"] == 9  # type: ignore[index]

    def test_a_variant_may_set_its_own_shipping_fees(self) -> None:
        item = listing("A", marketplace_attributes={"fsn": FSN, "shipping_fees": {"national": 80}})
        fees = request_of(mapping.map_listing(item, DEFAULTS))["shipping_fees"]
        assert fees == {"local": 0, "zonal": 0, "national": 80, "currency": "INR"}

    def test_paise_are_dropped_with_a_warning_and_never_above_mrp(self) -> None:
        item = listing("A", price=Money(amount=99_950), mrp=Money(amount=99_950))
        mapped = mapping.map_listing(item, DEFAULTS)
        assert request_of(mapped)["price"] == {"mrp": 999, "selling_price": 999, "currency": "INR"}
        (warning,) = mapped.issues
        assert warning.severity is Severity.WARNING
        assert warning.message.startswith("field price of SKU A: Flipkart takes whole rupees")

    def test_blocking_problems_stop_the_request(self) -> None:
        cases = {
            "price": listing("A", price=Money(amount=50)),
            "gst_rate": listing("A", gst_rate=Decimal(40)),
            "length_cm/width_cm/height_cm/weight_g": listing(
                "A", package=PackageDimensions(length_cm=Decimal(10))
            ),
        }
        for field, item in cases.items():
            mapped = mapping.map_listing(item, DEFAULTS)
            assert mapped.request is None, field
            assert mapped.rejected().status is ItemStatus.REJECTED
            assert mapped.issues[0].field == field
            assert "SKU A" in mapped.issues[0].message

    def test_no_fsn_means_needs_catalog_mapping(self) -> None:
        for attributes in ({}, {"fsn": "  "}, {"fsn": "not-an-fsn"}):
            mapped = mapping.map_listing(listing("A", marketplace_attributes=attributes), DEFAULTS)
            (issue,) = mapped.issues
            assert issue.code == NEEDS_CATALOG_MAPPING
            assert issue.field == "attributes.marketplaces.flipkart.fsn"
        lower = listing("A", marketplace_attributes={"fsn": FSN.lower()})
        assert request_of(mapping.map_listing(lower, DEFAULTS))["product_id"] == FSN


class TestOfferRequests:
    def test_an_offer_becomes_a_price_and_an_inventory_request(self) -> None:
        offer = OfferUpdate(
            sku="A", price=Money(amount=99_900), mrp=Money(amount=120_000), quantity=3
        )
        assert request_of(mapping.map_price(offer, FSN)) == {
            "product_id": FSN,
            "price": {"mrp": 1200, "selling_price": 999, "currency": "INR"},
        }
        stock = mapping.map_inventory(offer, FSN, DEFAULTS)
        assert stock is not None
        assert request_of(stock) == {
            "product_id": FSN,
            "locations": [{"id": "LOC1", "status": "ENABLED", "inventory": 3}],
        }

    def test_without_a_quantity_only_the_price_goes(self) -> None:
        offer = OfferUpdate(sku="A", price=Money(amount=99_900))
        assert mapping.map_inventory(offer, FSN, DEFAULTS) is None


class TestAnswers:
    def test_a_failure_reads_as_plain_words_per_field(self) -> None:
        answer = wire.ListingChangeResponse.model_validate(
            {
                "status": "FAILURE",
                "errors": [],
                "attribute_errors": [
                    {
                        "severity": "ERROR",
                        "code": 2301,
                        "description": "Selling price cannot exceed MRP",
                        "attribute": "price.selling_price",
                    }
                ],
            }
        )
        result = mapping.change_result("BHD-1", answer)
        assert result.status is ItemStatus.REJECTED
        (issue,) = result.issues
        assert (issue.field, issue.code) == ("price", "2301")
        assert issue.message == (
            "field price of SKU BHD-1: check the price (a whole number of rupees above 0, not "
            "above the MRP) (Flipkart 2301: Selling price cannot exceed MRP)"
        )

    def test_a_warning_is_accepted_with_its_issue(self) -> None:
        answer = wire.ListingChangeResponse.model_validate(
            {
                "status": "WARNING",
                "errors": [{"severity": "WARNING", "code": 7, "description": "Slow SLA"}],
                "attribute_errors": [],
            }
        )
        result = mapping.change_result("A", answer)
        assert result.status is ItemStatus.ACCEPTED
        assert result.issues[0].severity is Severity.WARNING

    def test_a_sku_missing_from_the_answer_is_not_a_success(self) -> None:
        result = mapping.change_result("A", None)
        assert result.status is ItemStatus.REJECTED
        assert result.issues[0].code == "NO_STATUS"

    def test_a_failure_without_errors_still_says_so(self) -> None:
        answer = wire.ListingChangeResponse(status="FAILURE")
        assert (
            mapping.change_result("A", answer)
            .issues[0]
            .message.startswith("field listing of SKU A: Flipkart refused it")
        )

    def test_price_and_stock_results_combine(self) -> None:
        ok = mapping.change_result("A", wire.ListingChangeResponse(status="SUCCESS"))
        bad = mapping.change_result("A", wire.ListingChangeResponse(status="FAILURE"))
        assert mapping.combine(ok, None).status is ItemStatus.ACCEPTED
        assert mapping.combine(ok, bad).status is ItemStatus.REJECTED
        assert mapping.combine(bad, ok).issues == bad.issues

    def test_attribute_paths_map_to_canonical_fields(self) -> None:
        cases = {
            "product_id": "attributes.marketplaces.flipkart.fsn",
            "price.mrp": "mrp",
            "/SKU-1/tax/hsn": "hsn_code",
            "packages[0].dimensions.length": "length_cm",
            "locations": "stock",
            "fulfillment.procurement_type": "attributes.made_to_order",
            "item_name": "attributes.item_name",
            None: "listing",
        }
        for attribute, field in cases.items():
            assert mapping.canonical_field(attribute) == field, attribute

    def test_a_listing_detail_becomes_a_remote_state(self) -> None:
        detail = wire.ListingDetail.model_validate(
            {
                "listing_id": "LST1",
                "product_id": FSN,
                "price": {"mrp": 1500, "flipkart_selling_price": 1200, "currency": "INR"},
                "listing_status": "ACTIVE",
                "fulfillment_profile": "NON_FBF",
                "locations": [
                    {"id": "OTHER", "status": "ENABLED", "inventory": 1},
                    {"id": "LOC1", "status": "ENABLED", "inventory": 6},
                ],
            }
        )
        state = mapping.remote_state("A", detail, "LOC1")
        assert (state.price, state.quantity, state.remote_id) == (Money(amount=120_000), 6, FSN)
