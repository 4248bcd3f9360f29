"""Pure mapping: no HTTP anywhere in this module."""

from __future__ import annotations

from adapters.amazon.product_types import load_product_types

from adapters.amazon import mapping, wire
from odop_sync.adapter_sdk import ItemStatus, Money, OfferUpdate, Severity
from tests.adapters.amazon.conftest import listing

TYPES = load_product_types()


class TestProductTypeChoice:
    def test_a_bhadohi_carpet_is_a_rug(self) -> None:
        assert mapping.map_listing(listing("A"), TYPES).product_type == "RUG"

    def test_the_item_noun_in_the_title_beats_the_craft(self) -> None:
        item = listing("B", title="Chikankari georgette saree", craft="chikankari")
        assert mapping.map_listing(item, TYPES).product_type == "SAREE"

    def test_crafts_map_to_their_product_types(self) -> None:
        cases = {
            ("Varanasi lacquerware spinning top", "wooden toys"): "TOY_FIGURE",
            ("Agra leather oxford", "leather footwear"): "SHOES",
            ("Kanpur leather laptop bag", "leather goods"): "HANDBAG",
            ("Moradabad brass puja thali", "brassware"): "HOME",
            ("Firozabad glass tumblers, set of 6", "glassware"): "DRINKING_CUP",
            ("Kannauj attar, shamama, 10 ml", "attar"): "PERSONAL_FRAGRANCE",
            ("Barabanki khadi cotton, 5 m", "khadi"): "FABRIC",
            ("Mirzapur cotton durrie", "durrie weaving"): "RUG",
            ("Saharanpur carved elephant", "wood carving"): "FIGURINE",
            ("Nizamabad black pottery vase", "black pottery"): "VASE",
        }
        for (title, craft), expected in cases.items():
            chosen = mapping.map_listing(
                listing("C", title=title, craft=craft, odop_product=None), TYPES
            )
            assert chosen.product_type == expected, title

    def test_an_explicit_amazon_product_type_wins(self) -> None:
        item = listing("D", marketplace_attributes={"amazon_product_type": "wall_art"})
        assert mapping.map_listing(item, TYPES).product_type == "WALL_ART"

    def test_unknown_products_fall_back_to_the_default_type(self) -> None:
        item = listing("E", title="Something new", craft="unknown craft", odop_product=None)
        assert mapping.map_listing(item, TYPES).product_type == "HOME"


class TestListingAttributes:
    def test_text_attributes_carry_marketplace_and_language(self) -> None:
        attrs = mapping.map_listing(listing("A"), TYPES).attributes
        assert attrs["item_name"][0] == {
            "value": "Bhadohi hand-knotted wool carpet, 5x8 ft",
            "language_tag": "en_IN",
            "marketplace_id": "A21TJRUUN4KGV",
        }
        assert attrs["item_name"][1]["language_tag"] == "hi_IN"
        assert attrs["brand"][0]["value"] == "Bhadohi Weavers SHG"
        assert attrs["manufacturer"][0]["value"] == "Bhadohi Weavers SHG"

    def test_price_goes_through_purchasable_offer_with_mrp(self) -> None:
        offer = mapping.map_listing(listing("A"), TYPES).attributes["purchasable_offer"][0]
        assert offer["currency"] == "INR"
        assert offer["marketplace_id"] == "A21TJRUUN4KGV"
        assert offer["our_price"] == [{"schedule": [{"value_with_tax": 12499.0}]}]
        assert offer["maximum_retail_price"] == [{"schedule": [{"value_with_tax": 14999.0}]}]

    def test_stock_goes_through_fulfillment_availability(self) -> None:
        attrs = mapping.map_listing(listing("A", quantity=7), TYPES).attributes
        assert attrs["fulfillment_availability"] == [
            {"fulfillment_channel_code": "DEFAULT", "quantity": 7}
        ]

    def test_every_required_attribute_of_the_type_is_filled_from_a_complete_payload(self) -> None:
        mapped = mapping.map_listing(listing("A"), TYPES)
        missing = [a for a in TYPES.get(mapped.product_type).required if a not in mapped.attributes]
        assert missing == []

    def test_apparel_material_becomes_fabric_type(self) -> None:
        mapped = mapping.map_listing(
            listing("K", title="Chikankari kurta", material="Cotton"), TYPES
        )
        assert mapped.product_type == "KURTA"
        assert mapped.attributes["fabric_type"][0]["value"] == "Cotton"

    def test_images_package_and_bullets(self) -> None:
        item = listing("A", images=("https://a/1.jpg", "https://a/2.jpg"), bullet_points=())
        attrs = mapping.map_listing(item, TYPES).attributes
        assert attrs["main_product_image_locator"][0]["media_location"] == "https://a/1.jpg"
        assert attrs["other_product_image_locator_1"][0]["media_location"] == "https://a/2.jpg"
        assert attrs["item_package_weight"][0] == {
            "value": 9000.0,
            "unit": "grams",
            "marketplace_id": "A21TJRUUN4KGV",
        }
        bullets = [b["value"] for b in attrs["bullet_point"]]
        assert "GI-tagged: Bhadohi Handmade Carpet" in bullets

    def test_a_price_above_mrp_is_stopped_before_sending(self) -> None:
        mapped = mapping.map_listing(listing("A", price=Money(amount=2_000_000)), TYPES)
        assert mapped.issues
        assert mapped.issues[0].field == "price"
        assert "SKU A" in mapped.issues[0].message

    def test_put_request_and_feed_message_validate_as_wire_models(self) -> None:
        mapped = mapping.map_listing(listing("A"), TYPES)
        body = mapped.put_request().to_wire()
        assert body["productType"] == "RUG"
        assert body["requirements"] == "LISTING"
        message = mapped.feed_message(3).to_wire()
        assert message["messageId"] == 3
        assert message["operationType"] == "UPDATE"


class TestOffers:
    def test_offer_becomes_price_and_stock_patches(self) -> None:
        offer = OfferUpdate(
            sku="A", price=Money(amount=99_900), mrp=Money(amount=120_000), quantity=3
        )
        body = mapping.offer_patch_request(offer).to_wire()
        assert body["productType"] == "PRODUCT"
        paths = [p["path"] for p in body["patches"]]
        assert paths == ["/attributes/purchasable_offer", "/attributes/fulfillment_availability"]
        assert body["patches"][1]["value"] == [
            {"fulfillment_channel_code": "DEFAULT", "quantity": 3}
        ]

    def test_offer_without_quantity_patches_price_only(self) -> None:
        offer = OfferUpdate(sku="A", price=Money(amount=99_900))
        assert len(mapping.offer_patches(offer)) == 1

    def test_offer_above_mrp_is_an_issue(self) -> None:
        offer = OfferUpdate(sku="A", price=Money(amount=200_000), mrp=Money(amount=100_000))
        assert mapping.offer_issues(offer)[0].code == "PRICE_ABOVE_MRP"


class TestIssues:
    def test_missing_attribute_reads_as_plain_words(self) -> None:
        issue = mapping.issue_from_listings(
            "BHD-1",
            wire.Issue(
                code="90220",
                message="'material' is required but not supplied.",
                severity="ERROR",
                attribute_names=["material"],
                categories=["MISSING_ATTRIBUTE"],
            ),
        )
        assert issue.field == "material"
        assert issue.severity is Severity.ERROR
        assert issue.message.startswith("field material of SKU BHD-1: add a value")

    def test_report_issue_finds_the_attribute_in_the_message(self) -> None:
        issue = mapping.issue_from_report(
            "X",
            wire.ReportIssue(
                message_id=1,
                sku="X",
                code="90220",
                severity="ERROR",
                message="'[batteries_required]' is required but not supplied.",
            ),
        )
        assert issue.attribute_names == ("batteries_required",)
        assert issue.field == "attributes.batteries_required"

    def test_price_attribute_maps_back_to_the_price_field(self) -> None:
        issue = mapping.plain_issue(
            "X",
            code="99300",
            message="too high",
            severity="WARNING",
            attribute_names=["purchasable_offer.our_price"],
            categories=["INVALID_PRICE"],
        )
        assert issue.field == "price"
        assert issue.severity is Severity.WARNING

    def test_remote_state_reads_price_quantity_and_status(self) -> None:
        item = wire.Item.model_validate(
            {
                "sku": "A",
                "summaries": [
                    {
                        "marketplaceId": "A21TJRUUN4KGV",
                        "asin": "B0X",
                        "productType": "RUG",
                        "status": ["BUYABLE", "DISCOVERABLE"],
                    }
                ],
                "offers": [
                    {
                        "marketplaceId": "A21TJRUUN4KGV",
                        "offerType": "B2C",
                        "price": {"currencyCode": "INR", "amount": "1249.50"},
                    }
                ],
                "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 2}],
            }
        )
        state = mapping.remote_state(item)
        assert state.price == Money(amount=124_950)
        assert (state.quantity, state.status, state.remote_id) == (2, "BUYABLE,DISCOVERABLE", "B0X")
        assert ItemStatus.ACCEPTED.value == "accepted"
