"""Publishing through the category schema (schema get → value XML → schema add / update), stock
and shelf, and the products that do not go: no B2B terms, no category, a required field the
catalog cannot fill."""

from __future__ import annotations

from typing import Any

from defusedxml import ElementTree as SafeET

from odop_sync.adapter_sdk import NEEDS_CATALOG_MAPPING, ItemStatus, Money, OfferUpdate, PriceTier
from tests.adapters.alibaba.conftest import PHOTO, Rig, carpet, make_rig, terms, usd
from tests.adapters.alibaba.fake_gop import FakeGop

ADD = "/icbu/product/schema/add"
UPDATE = "/icbu/product/schema/update"
LIST = "/alibaba/icbu/product/list"
DISPLAY = "/icbu/product/update/display"


def fields_of(xml: str) -> dict[str, Any]:
    """A value document read back by hand: id → text, texts, or rows of inner texts."""
    out: dict[str, Any] = {}
    for node in SafeET.fromstring(xml).findall("./field"):
        if node.find("./complex-values") is not None:
            out[node.get("id", "")] = [
                {f.get("id"): f.findtext("./value") for f in group.findall("./field")}
                for group in node.findall("./complex-values")
            ]
        elif node.find("./values") is not None:
            out[node.get("id", "")] = [v.text for v in node.findall("./values/value")]
        else:
            out[node.get("id", "")] = node.findtext("./value")
    return out


class TestPublish:
    async def test_a_new_carpet_is_published_with_its_tiers_stock_and_shelf(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        (result,) = await rig.adapter.push_listings([carpet()])
        assert result.status is ItemStatus.ACCEPTED, result
        (sent,) = gop.sent(ADD)
        assert sent["cat_id"] == "100001101"  # Carpets & Rugs, from the hand-knotted craft
        assert sent["language"] == "en_US"
        values = fields_of(sent["xml"])
        assert values["subject"] == "Bhadohi hand-knotted wool carpet, 5x8 ft"
        assert values["red_model"] == "BHD-CARPET-RED"
        assert values["main_image"] == [PHOTO]
        assert values["product_type"] == "wholesale"
        assert values["fob_currency"] == "USD"
        assert values["min_order_quantity"] == "2"
        assert values["min_order_unit_type"] == "Piece/Pieces"
        assert values["bulk_discount_prices"] == [
            {"start_quantity": "2", "price": "185.00"},
            {"start_quantity": "50", "price": "170.00"},
            {"start_quantity": "200", "price": "155.50"},
        ]
        assert values["supply_quantity"] == "400"
        assert values["supply_period_type"] == "Month"
        # "any larger order" goes out as up to 99999 units, the platform's largest quantity
        assert values["deliver_periods"] == [
            {"quantity": "50", "process_period": "20"},
            {"quantity": "99999", "process_period": "45"},
        ]
        assert values["delivery_port"] == "Nhava Sheva (Mumbai)"
        assert values["payment_methods"] == ["T/T", "L/C"]
        assert values["attr_1001"] == "Wool"  # Material
        assert values["attr_1002"] == "Hand Knotted"  # Technics
        assert values["attr_1003"] == "India"  # Place of Origin, from country IN
        assert "hs_code" not in values  # the schema does not advertise it: not sent
        product = gop.by_sku("BHD-CARPET-RED")
        assert product is not None
        assert result.remote_id == str(product.id)
        assert product.stock == 4
        assert product.display == "Y"

    async def test_a_known_product_is_updated_not_published_again(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        (first,) = await rig.adapter.push_listings([carpet()])
        lists = gop.count(LIST)
        again = carpet(remote_id=first.remote_id, title="Bhadohi hand-knotted carpet, 5x8 ft")
        (second,) = await rig.adapter.push_listings([again])
        assert second.status is ItemStatus.ACCEPTED
        assert gop.count(ADD) == 1
        (update,) = gop.sent(UPDATE)
        assert update["product_id"] == first.remote_id
        assert fields_of(update["xml"])["subject"] == "Bhadohi hand-knotted carpet, 5x8 ft"
        assert gop.count(LIST) == lists  # the core's id: no search
        assert len(gop.products) == 1

    async def test_a_retry_after_a_crash_finds_the_product_instead_of_publishing_twice(
        self, gop: FakeGop, router: Any
    ) -> None:
        async with make_rig(gop) as before_the_crash:
            (first,) = await before_the_crash.adapter.push_listings([carpet()])
        # A new process, and the core never recorded the id.
        async with make_rig(gop) as after:
            (second,) = await after.adapter.push_listings([carpet()])
        assert second.status is ItemStatus.ACCEPTED
        assert second.remote_id == first.remote_id
        assert gop.count(ADD) == 1
        assert gop.count(UPDATE) == 1
        assert len(gop.products) == 1
        assert gop.sent(LIST)[-1]["subject"] == "Bhadohi hand-knotted wool carpet, 5x8 ft"

    async def test_a_product_with_the_same_name_but_another_sku_is_not_taken_over(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        await rig.adapter.push_listings([carpet("BHD-CARPET-RED")])
        (other,) = await rig.adapter.push_listings([carpet("BHD-CARPET-NAVY")])
        assert other.status is ItemStatus.ACCEPTED
        assert gop.count(ADD) == 2
        assert len(gop.products) == 2

    async def test_the_schema_is_read_once_per_category(self, rig: Rig, gop: FakeGop) -> None:
        await rig.adapter.push_listings([carpet(f"C-{n}") for n in range(3)])
        assert gop.count("/alibaba/icbu/product/schema/get") == 1


class TestNotSent:
    async def test_a_product_without_b2b_terms_is_not_offered_and_says_why(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        (result,) = await rig.adapter.push_listings([carpet(b2b=None)])
        assert result.status is ItemStatus.REJECTED
        (issue,) = result.issues
        assert issue.code == NEEDS_CATALOG_MAPPING
        assert issue.message == (
            "field b2b_moq of SKU BHD-CARPET-RED: not offered on Alibaba.com: it sells by "
            "minimum order quantity and quantity tiers; add b2b_moq, b2b_moq_unit and "
            "b2b_price_tiers to the product"
        )
        assert gop.calls == []

    async def test_a_craft_with_no_category_needs_mapping(self, rig: Rig, gop: FakeGop) -> None:
        item = carpet(craft="Glassware", title="Firozabad glass vase", odop_product="Glassware")
        (result,) = await rig.adapter.push_listings([item])
        assert result.status is ItemStatus.REJECTED
        assert result.issues[0].code == NEEDS_CATALOG_MAPPING
        assert "Glassware" in result.issues[0].message
        assert gop.count(ADD) == 0

    async def test_a_required_attribute_the_catalog_cannot_fill_is_named(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        (result,) = await rig.adapter.push_listings([carpet(material=None)])
        assert result.status is ItemStatus.REJECTED
        (issue,) = result.issues
        assert issue.field == "attributes.marketplaces.alibaba.attributes.Material"
        assert "'Material'" in issue.message
        assert "BHD-CARPET-RED" in issue.message
        assert gop.count(ADD) == 0

    async def test_a_product_can_give_the_attribute_itself(self, rig: Rig, gop: FakeGop) -> None:
        own = {"attributes": {"Material": "Silk", "Technics": "Hand Tufted"}}
        item = carpet(material=None, marketplace_attributes=own)
        (result,) = await rig.adapter.push_listings([item])
        assert result.status is ItemStatus.ACCEPTED, result
        values = fields_of(gop.sent(ADD)[0]["xml"])
        assert (values["attr_1001"], values["attr_1002"]) == ("Silk", "Hand Tufted")

    async def test_a_value_outside_the_options_is_named_with_the_choices(self, rig: Rig) -> None:
        item = carpet(marketplace_attributes={"attributes": {"Technics": "Crocheted"}})
        (result,) = await rig.adapter.push_listings([item])
        assert result.status is ItemStatus.REJECTED
        assert "Hand Knotted, Hand Tufted, Handwoven" in result.issues[0].message

    async def test_tier_prices_not_in_usd_do_not_go(self, rig: Rig, gop: FakeGop) -> None:
        inr = terms(price_tiers=(PriceTier(min_quantity=2, price=Money(amount=1_500_000)),))
        (result,) = await rig.adapter.push_listings([carpet(b2b=inr)])
        assert result.status is ItemStatus.REJECTED
        assert result.issues[0].field == "b2b_price_tiers"
        assert "USD" in result.issues[0].message
        assert gop.count(ADD) == 0

    async def test_more_tiers_than_the_schema_allows_are_refused(self, rig: Rig) -> None:
        tiers = tuple(PriceTier(min_quantity=q, price=usd("10")) for q in (2, 10, 50, 100, 500))
        (result,) = await rig.adapter.push_listings([carpet(b2b=terms(price_tiers=tiers))])
        assert result.status is ItemStatus.REJECTED
        assert "at most 4 quantity tiers" in result.issues[0].message

    async def test_a_product_refusal_names_the_field(self, rig: Rig, gop: FakeGop) -> None:
        gop.script(
            ADD,
            {
                "code": "0",
                "biz_success": False,
                "msg_code": "CHK_BASIC_REQUIRED",
                "message": "Minimum Order Quantity is required",
            },
        )
        (result,) = await rig.adapter.push_listings([carpet()])
        assert result.status is ItemStatus.REJECTED
        (issue,) = result.issues
        assert issue.code == "CHK_BASIC_REQUIRED"
        assert issue.field == "b2b_moq"
        assert issue.message.startswith("field b2b_moq of SKU BHD-CARPET-RED:")
        assert "Minimum Order Quantity is required" in issue.message

    async def test_a_category_alibaba_will_not_serve_is_a_rejection(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        item = carpet(marketplace_attributes={"category": "100001100"})  # not a leaf
        (result,) = await rig.adapter.push_listings([item])
        assert result.status is ItemStatus.REJECTED
        assert "CHK_CAT_NOT_LEAF" in result.issues[0].message


class TestStockAndShelf:
    async def test_stock_at_zero_goes_offline_and_back_online_when_restocked(
        self, rig: Rig, gop: FakeGop
    ) -> None:
        (published,) = await rig.adapter.push_listings([carpet(quantity=3)])
        product = gop.by_sku("BHD-CARPET-RED")
        assert product is not None
        sold_out = OfferUpdate(
            sku="BHD-CARPET-RED", price=usd("185"), quantity=0, remote_id=published.remote_id
        )
        (result,) = await rig.adapter.push_offers([sold_out])
        assert result.status is ItemStatus.ACCEPTED
        assert (product.stock, product.display) == (0, "N")
        assert gop.sent(DISPLAY)[-1]["new_display"] == "off"
        restocked = sold_out.model_copy(update={"quantity": 7})
        (result,) = await rig.adapter.push_offers([restocked])
        assert result.status is ItemStatus.ACCEPTED
        assert (product.stock, product.display) == (7, "Y")

    async def test_stock_is_set_from_what_alibaba_holds_now(self, rig: Rig, gop: FakeGop) -> None:
        await rig.adapter.push_listings([carpet(quantity=3)])
        product = gop.by_sku("BHD-CARPET-RED")
        assert product is not None
        product.stock = 1  # a sale on Alibaba.com's side
        offer = OfferUpdate(sku="BHD-CARPET-RED", price=usd("185"), quantity=6)
        await rig.adapter.push_offers([offer])
        assert product.stock == 6
        change = gop.sent("/icbu/product/inventory/update")[-1]["request_param"]
        assert '"inventory":5,"operate":"plus"' in change

    async def test_an_offer_for_a_product_not_on_alibaba_says_so(self, rig: Rig) -> None:
        offer = OfferUpdate(sku="NOT-THERE", price=usd("1"), quantity=1)
        (result,) = await rig.adapter.push_offers([offer])
        assert result.status is ItemStatus.REJECTED
        assert result.issues[0].code == "NOT_LISTED"

    async def test_offers_come_back_in_input_order(self, rig: Rig) -> None:
        await rig.adapter.push_listings([carpet("A-1"), carpet("A-2")])
        offers = [
            OfferUpdate(sku=s, price=usd("1"), quantity=q)
            for s, q in (("A-2", 0), ("NOPE", 1), ("A-1", 2))
        ]
        results = await rig.adapter.push_offers(offers)
        assert [r.sku for r in results] == ["A-2", "NOPE", "A-1"]
        assert [r.status for r in results] == [
            ItemStatus.ACCEPTED,
            ItemStatus.REJECTED,
            ItemStatus.ACCEPTED,
        ]


class TestStates:
    async def test_states_come_from_product_get_and_the_list(
        self, gop: FakeGop, router: Any
    ) -> None:
        async with make_rig(gop) as first:
            await first.adapter.push_listings([carpet("S-1", quantity=0), carpet("S-2")])
        async with make_rig(gop) as rig:  # a new process: ids come from the product list
            states = await rig.adapter.fetch_listing_states(["S-2", "GONE", "S-1"])
        assert [s.sku for s in states] == ["S-2", "GONE", "S-1"]
        assert [s.exists for s in states] == [True, False, True]
        assert states[0].quantity == 4
        assert states[0].status == "approved (online)"
        assert states[2].status == "approved (offline)"
        assert states[0].price is None  # tiers, not one price
        assert states[1].status == "MISSING"
