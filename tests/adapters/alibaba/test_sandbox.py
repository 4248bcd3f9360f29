"""The sandbox speaks Alibaba.com's product, inventory, photobank and Trade Assurance APIs: the
category schema it serves judges what is published, products are listed and read back, shelved
and restocked, orders come in USD in B2B quantities, and throttling and faults answer in the
platform's envelope. Expected values come from PROTOCOL.md, the contract note and the hand-made
carpet of tests/adapters/alibaba/gop.py."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from adapters.alibaba.sandbox import SANDBOX_SELLER, AlibabaSandbox

from tests.adapters.alibaba.gop import (
    CARPET,
    TIERS,
    Gop,
    carpet,
    compact,
    document,
    publish,
)

LIST = "/alibaba/icbu/product/list"
GET = "/icbu/product/get"
ADD = "/icbu/product/schema/add"
UPDATE = "/icbu/product/schema/update"
DISPLAY = "/icbu/product/update/display"
STOCK = "/icbu/product/inventory/update"
STOCK_GET = "/icbu/product/inventory/get"
ORDERS = "/alibaba/order/list"
ORDER = "/alibaba/order/get"


@pytest.fixture
async def gop() -> Gop:
    # These tests are not about the rate limit (TestThrottlingAndFaults is): a roomy one.
    client = Gop(AlibabaSandbox(rate=1000, burst=1000))
    await client.authorise()
    return client


async def state(gop: Gop, seller: str = SANDBOX_SELLER) -> dict[str, Any]:
    r = await gop.http.get(f"/_sandbox/state/{seller}")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


async def published(gop: Gop, sku: str = "BHD-RUG-1", **changes: Any) -> int:
    image = await gop.upload(f"{sku}.jpg", f"photo of {sku}".encode())
    answer = await publish(gop, sku, image, **changes)
    assert answer["biz_success"] is True, answer
    product: int = answer["product_id"]
    return product


async def restock(gop: Gop, product: int, amount: int, operate: str = "plus") -> dict[str, Any]:
    change = {
        "product_id": product,
        "inventory_list": [
            {"sku_id": -1, "inventory_code": "DEFAULT", "inventory": amount, "operate": operate}
        ],
    }
    return await gop.ok(STOCK, request_param=compact(change))


class TestCategoriesAndSchema:
    async def test_the_tree_leads_from_the_root_to_leaf_categories(self, gop: Gop) -> None:
        root = (await gop.ok("/icbu/product/category/get", cat_id=0))["category"]
        assert 15 in root["child_ids"]
        textiles = (await gop.ok("/icbu/product/category/get", cat_id=100001100))["category"]
        assert textiles["leaf_category"] is False
        assert CARPET in textiles["child_ids"]
        rugs = (await gop.ok("/icbu/product/category/get", cat_id=CARPET))["category"]
        assert rugs == {
            "category_id": CARPET,
            "name": "Carpets & Rugs",
            "level": 3,
            "leaf_category": True,
            "parent_ids": [15, 100001100],
            "child_ids": [],
        }

    async def test_schema_get_serves_the_rules_flat_or_packed(self, gop: Gop) -> None:
        flat = await gop.ok("/alibaba/icbu/product/schema/get", cat_id=CARPET)
        packed = await gop.ok(
            "/alibaba/icbu/product/schema/get",
            param_product_top_publish_request=compact({"cat_id": CARPET, "language": "en_US"}),
        )
        assert flat["biz_success"] is True
        assert flat["data"] == packed["data"]
        for ident in ("subject", "red_model", "bulk_discount_prices", "attr_1002", "attr_1003"):
            assert f'id="{ident}"' in flat["data"]
        assert 'value="Hand Knotted"' in flat["data"]

    async def test_schema_get_of_a_non_leaf_category(self, gop: Gop) -> None:
        answer = await gop.ok("/alibaba/icbu/product/schema/get", cat_id=15)
        assert answer["biz_success"] is False
        assert answer["msg_code"] == "CHK_CAT_NOT_LEAF"

    async def test_level_get_gives_the_provinces_of_india(self, gop: Gop) -> None:
        xml = document({"attr_1003": "India"})
        answer = await gop.ok("/icbu/product/schema/level/get", cat_id=CARPET, xml=xml)
        assert answer["result"]["biz_success"] is True
        assert 'value="Uttar Pradesh"' in answer["result"]["data"]


class TestPublishing:
    async def test_schema_add_then_list_and_get_show_the_product(self, gop: Gop) -> None:
        product = await published(gop)
        page = (await gop.ok(LIST, subject="hand-knotted", page_size=30))["result"]
        assert page["total_item"] == 1
        brief = page["products"][0]
        assert brief["id"] == product
        assert brief["red_model"] == "BHD-RUG-1"
        assert brief["display"] == "Y"
        assert brief["status"] == "approved"
        assert isinstance(brief["product_id"], str)
        assert brief["product_id"] != str(product)
        assert (await gop.ok(LIST, id=product))["result"]["total_item"] == 1
        assert (await gop.ok(LIST, subject="dhurrie"))["result"]["total_item"] == 0
        detail = (await gop.ok(GET, product_get_request=compact({"productId": product})))["product"]
        assert detail["productId"] == product
        assert detail["redModel"] == "BHD-RUG-1"
        assert detail["categoryId"] == CARPET
        assert detail["bulkDiscountPrices"] == [
            {"startQuantity": 50, "price": "120.00"},
            {"startQuantity": 200, "price": "95.00"},
        ]
        assert detail["minOrderQuantity"] == 50
        sku = detail["productSku"]["skus"][0]
        assert sku["skuId"] == -1
        assert sku["inventoryDtoList"] == [{"storeCode": "DEFAULT", "inventory": 0}]
        assert {"attributeName": "Technics", "valueName": "Hand Knotted"}.items() <= next(
            a for a in detail["attributes"] if a["attributeName"] == "Technics"
        ).items()
        row = (await state(gop))["listings"][0]
        assert (row["sku"], row["id"], row["display"], row["category"]) == (
            "BHD-RUG-1",
            product,
            "Y",
            CARPET,
        )
        assert row["tiers"] == [
            {"start_quantity": 50, "price": "120.00"},
            {"start_quantity": 200, "price": "95.00"},
        ]

    async def test_get_of_a_product_that_is_not_the_sellers(self, gop: Gop) -> None:
        other = Gop(gop.sandbox)
        await other.authorise("OTHERSELLER")
        theirs = await published(other, "THEIR-RUG")
        for wanted in (theirs, 1_999_999_999_999):
            answer = await gop.call(GET, product_get_request=compact({"productId": wanted}))
            assert (answer["type"], answer["code"]) == ("ISV", "PRODUCT_NOT_EXIST")
        answer = await gop.call(GET, product_get_request=compact({"productId": str(theirs)}))
        assert answer["code"] == "InvalidParameter"  # the document types productId int64

    @pytest.mark.parametrize(
        ("changes", "code", "named"),
        [
            ({"subject": None}, "CHK_BASIC_REQUIRED", "subject"),
            ({"attr_1002": "Knitted"}, "CHK_BASIC_OPTION_INVALID", "attr_1002"),
            ({"min_order_unit_type": "Bale"}, "CHK_BASIC_OPTION_INVALID", "min_order_unit_type"),
            ({"attr_1003": "Nepal"}, "CHK_BASIC_OPTION_INVALID", "attr_1008"),
            ({"fob_currency": "INR"}, "CHK_BASIC_OPTION_INVALID", "fob_currency"),
            ({"attr_9999": "x"}, "CHK_BASIC_FIELD_NOT_EXIST", "attr_9999"),
            ({"subject": "x" * 129}, "CHK_BASIC_VALUE_INVALID", "subject"),
            ({"keywords": ["a", "b", "c", "d"]}, "CHK_BASIC_VALUE_INVALID", "keywords"),
            ({"keywords": ["rug, carpet"]}, "CHK_BASIC_VALUE_INVALID", "keywords"),
            ({"min_order_quantity": "100000"}, "CHK_BASIC_VALUE_INVALID", "min_order_quantity"),
            (
                {"bulk_discount_prices": [{"start_quantity": "50", "price": "12.345"}]},
                "CHK_BASIC_VALUE_INVALID",
                "bulk_discount_prices[1].price",
            ),
            (
                {"bulk_discount_prices": list(reversed(TIERS))},
                "CHK_BASIC_NOT_ASCENDING",
                "bulk_discount_prices",
            ),
            (
                {"deliver_periods": [{"quantity": "50", "process_period": "90"}]},
                "CHK_BASIC_VALUE_INVALID",
                "deliver_periods[1].process_period",
            ),
            (
                {"main_image": ["https://sc04.alicdn.com/kf/Hsomeone-elses.jpg"]},
                "PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR",
                "main_image",
            ),
        ],
    )
    async def test_a_value_the_schema_refuses(
        self, gop: Gop, changes: dict[str, Any], code: str, named: str
    ) -> None:
        image = await gop.upload()
        answer = await publish(gop, "BHD-RUG-1", image, **changes)
        assert answer["code"] == "0"  # the gateway took the call; the business refused it
        assert answer["biz_success"] is False
        assert code in answer["msg_code"].split(";")
        assert named in answer["message"]
        assert (await state(gop))["listings"] == []

    async def test_images_are_optional_but_at_most_six(self, gop: Gop) -> None:
        image = await gop.upload()
        bare = await publish(gop, "BHD-RUG-1", image, main_image=None, description=None)
        assert bare["biz_success"] is True, bare
        many = await publish(gop, "BHD-RUG-2", image, main_image=[image] * 7)
        assert (many["msg_code"], many["message"]) == (
            "CHK_BASIC_VALUE_INVALID",
            "main_image: at most 6 values",
        )

    async def test_a_description_image_from_elsewhere(self, gop: Gop) -> None:
        image = await gop.upload()
        html = '&lt;img src="https://img.example.org/rug.jpg"&gt;'
        answer = await publish(gop, "BHD-RUG-1", image, description=html)
        assert answer["msg_code"] == "PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR"
        assert "img.example.org" in answer["message"]

    async def test_a_protocol_relative_photobank_url_is_the_sellers_own(self, gop: Gop) -> None:
        image = await gop.upload()
        assert image.startswith("https://") and ".alicdn.com/" in image
        relative = image.removeprefix("https:")
        answer = await publish(gop, "BHD-RUG-1", image, main_image=[relative])
        assert answer["biz_success"] is True, answer

    async def test_another_sellers_photobank_image(self, gop: Gop) -> None:
        other = Gop(gop.sandbox)
        await other.authorise("OTHERSELLER")
        theirs = await other.upload("theirs.jpg", b"their photo")
        answer = await publish(gop, "BHD-RUG-1", theirs)
        assert answer["msg_code"].startswith("PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR")

    @pytest.mark.parametrize(
        ("cat_id", "code"), [(100001100, "CHK_CAT_NOT_LEAF"), (42, "PUB_BIZCHECK_CAT_ID_NOTEXIST")]
    )
    async def test_a_category_that_takes_no_products(
        self, gop: Gop, cat_id: int, code: str
    ) -> None:
        image = await gop.upload()
        xml = document(carpet("BHD-RUG-1", image))
        answer = await gop.ok(ADD, cat_id=cat_id, language="en_US", xml=xml)
        assert (answer["biz_success"], answer["msg_code"]) == (False, code)

    async def test_xml_that_does_not_parse(self, gop: Gop) -> None:
        answer = await gop.call(ADD, cat_id=CARPET, xml="<itemSchema><field id='subject'>")
        assert (answer["type"], answer["code"]) == ("ISV", "API_SCHEMA_XML_PARSE_ERROR")

    @pytest.mark.parametrize(
        ("params", "code"),
        [
            ({"xml": "<itemSchema/>"}, "MissingParameter"),  # cat_id is required
            ({"cat_id": "1.5", "xml": "<itemSchema/>"}, "InvalidParameter"),
            ({"cat_id": CARPET, "xml": "<itemSchema/>", "language": "fr"}, "InvalidParameter"),
            ({"cat_id": CARPET, "xml": "<itemSchema/>", "colour": "red"}, "InvalidParameter"),
        ],
    )
    async def test_parameters_the_document_refuses(
        self, gop: Gop, params: dict[str, Any], code: str
    ) -> None:
        answer = await gop.call(ADD, **params)
        assert (answer["type"], answer["code"]) == ("ISV", code)

    async def test_schema_update_changes_only_what_it_names(self, gop: Gop) -> None:
        product = await published(gop)
        xml = document({"subject": "Bhadohi hand-knotted silk carpet"})
        missing = await gop.call(UPDATE, product_id=product, cat_id=CARPET, xml=xml)
        assert missing["code"] == "MissingParameter"  # language (§7.7)
        answer = await gop.ok(UPDATE, product_id=product, cat_id=CARPET, language="en_US", xml=xml)
        assert answer["biz_success"] is True
        render = await gop.ok(
            "/icbu/product/schema/render", cat_id=CARPET, product_id=product, language="en_US"
        )
        assert "Bhadohi hand-knotted silk carpet" in render["data"]
        assert "Nhava Sheva" in render["data"]  # untouched field kept
        cleared = document({"subject": ""})
        refused = await gop.ok(
            UPDATE, product_id=product, cat_id=CARPET, language="en_US", xml=cleared
        )
        assert refused["msg_code"] == "CHK_BASIC_REQUIRED"
        assert (await state(gop))["listings"][0]["subject"] == "Bhadohi hand-knotted silk carpet"

    async def test_schema_update_of_another_sellers_product(self, gop: Gop) -> None:
        product = await published(gop)
        other = Gop(gop.sandbox)
        await other.authorise("OTHERSELLER")
        xml = document({"subject": "mine now"})
        answer = await other.ok(
            UPDATE, product_id=product, cat_id=CARPET, language="en_US", xml=xml
        )
        assert answer["msg_code"] == "PUB_BIZCHECK_PRODUCT_NOT_EDITABLE"

    async def test_an_injected_rejection_names_the_sku_and_field(self, gop: Gop) -> None:
        r = await gop.http.post(
            "/_sandbox/faults/rejections", json={"skus": ["BHD-RUG-1"], "field": "subject"}
        )
        assert r.status_code == 201
        image = await gop.upload()
        answer = await publish(gop, "BHD-RUG-1", image)
        assert answer["biz_success"] is False
        assert answer["msg_code"] == "SANDBOX_REJECTED"
        assert answer["message"].startswith("subject: ")
        assert "BHD-RUG-1" in answer["message"]
        assert (await publish(gop, "BHD-RUG-2", image))["biz_success"] is True


class TestListing:
    async def test_page_size_31_is_refused_and_integers_must_be_integers(self, gop: Gop) -> None:
        assert (await gop.call(LIST, page_size=31))["code"] == "InvalidParameter"
        assert (await gop.call(LIST, page_size="3.0"))["code"] == "InvalidParameter"
        assert (await gop.call(LIST, page_size=30))["code"] == "0"

    async def test_pages_are_1_based_newest_modified_first(self, gop: Gop) -> None:
        ids = [await published(gop, f"BHD-RUG-{n}") for n in range(3)]
        first = (await gop.ok(LIST, page_size=2, current_page=1))["result"]
        second = (await gop.ok(LIST, page_size=2, current_page=2))["result"]
        assert first["total_item"] == 3
        seen = [p["id"] for p in first["products"] + second["products"]]
        assert seen == list(reversed(ids))


class TestDisplayAndInventory:
    async def test_display_off_and_on(self, gop: Gop) -> None:
        product = await published(gop)
        off = await gop.ok(DISPLAY, product_id_list=compact([str(product)]), new_display="off")
        assert off["success"] is True
        assert off["result"]["fail_id_map"] == {}
        assert (await state(gop))["listings"][0]["display"] == "N"
        assert (await gop.ok(LIST))["result"]["products"][0]["display"] == "N"
        obfuscated = (await gop.ok(LIST))["result"]["products"][0]["product_id"]
        await gop.ok(DISPLAY, product_id_list=compact([obfuscated]), new_display="on")
        assert (await state(gop))["listings"][0]["display"] == "Y"

    async def test_unknown_and_other_sellers_ids_come_back_in_fail_id_map(self, gop: Gop) -> None:
        other = Gop(gop.sandbox)
        await other.authorise("OTHERSELLER")
        theirs = await published(other, "THEIR-RUG")
        mine = await published(gop)
        ids = [str(mine), str(theirs), "1999999999999"]
        answer = await gop.ok(DISPLAY, product_id_list=compact(ids), new_display="off")
        assert answer["success"] is False
        failed = {i for group in answer["result"]["fail_id_map"].values() for i in group}
        assert failed == {str(theirs), "1999999999999"}
        assert (await state(other, "OTHERSELLER"))["listings"][0]["display"] == "Y"
        assert (await state(gop))["listings"][0]["display"] == "N"

    async def test_inventory_moves_by_deltas_and_never_below_zero(self, gop: Gop) -> None:
        product = await published(gop)
        assert (await restock(gop, product, 500))["result"]["success"] is True
        assert (await restock(gop, product, 200, "sub"))["result"]["success"] is True
        refused = (await restock(gop, product, 400, "sub"))["result"]
        assert (refused["success"], refused["msg_code"]) == (False, "INVENTORY_NOT_ENOUGH")
        got = await gop.ok(STOCK_GET, inventory_get_request=compact({"productId": str(product)}))
        item = got["result"]["inventoryItems"][0]
        assert (item["skuId"], item["inventory"]["amount"]) == (-1, 300)
        assert (await state(gop))["listings"][0]["inventory"] == 300

    async def test_an_inventory_change_missing_its_operation(self, gop: Gop) -> None:
        product = await published(gop)
        change = {"product_id": product, "inventory_list": [{"sku_id": -1, "inventory": 5}]}
        answer = await gop.call(STOCK, request_param=compact(change))
        assert answer["code"] == "InvalidParameter"
        assert "inventory_list" in answer["message"]

    async def test_a_photo_over_5_mb(self, gop: Gop) -> None:
        path = "/alibaba/icbu/photobank/upload"
        r = await gop.send(
            path,
            gop.fields(path, {"file_name": "big.jpg"}),
            files={"image_bytes": ("big.jpg", b"\xff" * (5 * 1024 * 1024 + 1))},
        )
        assert r.json()["code"] == "SIZE_TOO_LARGE"


class TestOrders:
    async def _stocked_carpet(self, gop: Gop, stock: int = 5000) -> int:
        product = await published(gop)
        await restock(gop, product, stock)
        return product

    async def test_generated_orders_are_b2b_in_usd_and_page_from_zero(self, gop: Gop) -> None:
        await self._stocked_carpet(gop)
        r = await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/generate", json={"count": 5})
        assert r.status_code == 201
        assert len(r.json()["orders"]) == 5
        pages = [await gop.ok(ORDERS, role="seller", start_page=n, page_size=2) for n in range(4)]
        assert [p["value"]["total_count"] for p in pages] == ["5"] * 4
        ids = [o["trade_id"] for p in pages for o in p["value"]["order_list"]]
        assert sorted(ids) == sorted(r.json()["orders"])
        assert [len(p["value"]["order_list"]) for p in pages] == [2, 2, 1, 0]
        for trade_id in ids:
            order = (await gop.ok(ORDER, e_trade_id=trade_id, language="en_US"))["value"]
            line = order["order_products"][0]
            quantity = Decimal(line["quantity"])
            assert quantity >= 50  # the carpet's MOQ
            price = "95.00" if quantity >= 200 else "120.00"  # its tiers, by hand
            assert line["unit_price"] == {"amount": price, "currency": "USD"}
            assert line["sku_code"] == "BHD-RUG-1"
            assert order["total_amount"]["currency"] == "USD"
            assert Decimal(order["total_amount"]["amount"]) == quantity * Decimal(price)
            assert order["trade_term"] == "FOB"
            assert order["shipping_address"]["port"] == "Nhava Sheva"
            assert order["trade_status"] == "unpay"

    async def test_page_size_over_50_is_refused(self, gop: Gop) -> None:
        answer = await gop.call(ORDERS, role="seller", page_size=51)
        assert answer["code"] == "InvalidParameter"

    async def test_statuses_move_with_time_and_on_request(self, gop: Gop) -> None:
        await self._stocked_carpet(gop)
        made = (
            await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/generate", json={"count": 2})
        ).json()["orders"]
        gop.sandbox.clock.advance(3600 + 1)  # paid an hour after the order (TRADE_LIFE)
        statuses = [(await gop.ok(ORDER, e_trade_id=t))["value"]["trade_status"] for t in made]
        assert statuses == ["paid", "paid"]
        r = await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/{made[0]}/close")
        assert r.status_code == 200
        closed = (await gop.ok(ORDER, e_trade_id=made[0]))["value"]
        assert closed["trade_status"] == "trade_close"
        listed = await gop.ok(ORDERS, role="seller", status="trade_close")
        assert [o["trade_id"] for o in listed["value"]["order_list"]] == [made[0]]
        # Shipped within 10 days of payment, received within 30 days of shipping.
        gop.sandbox.clock.advance(41 * 86_400)
        await gop.authorise()  # the access token lived 10 of those days
        later = (await gop.ok(ORDER, e_trade_id=made[1]))["value"]["trade_status"]
        assert later in ("trade_success", "trade_close")

    async def test_modified_date_filters(self, gop: Gop) -> None:
        await self._stocked_carpet(gop)
        await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/generate", json={"count": 3})
        later = int(gop.sandbox.clock.utcnow().timestamp() * 1000) + 1000
        after = compact({"date_timestamp": str(later)})
        assert (await gop.ok(ORDERS, role="seller", modified_date_start=after))["value"][
            "total_count"
        ] == "0"
        assert (await gop.ok(ORDERS, role="seller", modified_date_end=after))["value"][
            "total_count"
        ] == "3"
        bad = await gop.call(ORDERS, role="seller", modified_date_start="2024-01-01")
        assert bad["code"] == "InvalidParameter"

    async def test_only_live_products_with_stock_for_their_moq_sell(self, gop: Gop) -> None:
        product = await self._stocked_carpet(gop, stock=49)
        made = await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/generate", json={"count": 3})
        assert made.json()["orders"] == []
        await restock(gop, product, 1000)
        await gop.ok(DISPLAY, product_id_list=compact([str(product)]), new_display="off")
        made = await gop.http.post(f"/_sandbox/orders/{SANDBOX_SELLER}/generate", json={"count": 3})
        assert made.json()["orders"] == []


class TestThrottlingAndFaults:
    async def test_a_burst_beyond_the_limit_gets_api_call_limit(self) -> None:
        # A bucket of 3 per app and seller that refills once in 1000 marketplace seconds.
        gop = Gop(AlibabaSandbox(rate=0.001, burst=3))
        await gop.authorise()  # the token call has no seller yet: the app's own bucket
        answers = [await gop.call(LIST) for _ in range(5)]
        assert [a["code"] for a in answers] == ["0", "0", "0", "ApiCallLimit", "ApiCallLimit"]
        assert answers[-1]["type"] == "ISV"
        assert answers[-1]["message"] == "The request has exceeded the limit"
        assert (await state(gop))["throttled"] == {"productList": 2}
        gop.sandbox.clock.advance(1000)
        assert (await gop.call(LIST))["code"] == "0"

    def test_the_default_limit_is_the_contract_notes(self) -> None:
        assert AlibabaSandbox().guard.plans == {"*": (10.0, 10.0)}

    async def test_a_fault_injected_then_cleared(self, gop: Gop) -> None:
        spec = {"status": 503, "operation": "productList", "times": None}
        assert (await gop.http.post("/_sandbox/faults", json=spec)).status_code == 201
        for _ in range(2):
            r = await gop.send(LIST, gop.fields(LIST, {}))
            assert r.status_code == 503
            assert (r.json()["type"], r.json()["code"]) == ("ISP", "ServiceUnavailable")
        assert (await gop.ok("/icbu/product/category/get", cat_id=0))["code"] == "0"
        assert (await gop.http.delete("/_sandbox/faults")).status_code == 204
        assert (await gop.call(LIST))["code"] == "0"

    async def test_an_injected_429_carries_retry_after(self, gop: Gop) -> None:
        spec = {"status": 429, "operation": "productList", "retry_after": 7}
        await gop.http.post("/_sandbox/faults", json=spec)
        r = await gop.send(LIST, gop.fields(LIST, {}))
        assert (r.status_code, r.headers["Retry-After"]) == (429, "7")
        assert r.json()["code"] == "ApiCallLimit"

    async def test_faults_can_come_in_http_200_as_the_gateway_mostly_answers(
        self, gop: Gop
    ) -> None:
        r = await gop.http.put("/_sandbox/fault-status", json={"http_status": False})
        assert r.status_code == 200
        await gop.http.post("/_sandbox/faults", json={"status": 500, "operation": "productList"})
        r = await gop.send(LIST, gop.fields(LIST, {}))
        assert r.status_code == 200
        assert (r.json()["type"], r.json()["code"]) == ("ISP", "ServiceUnavailable")

    async def test_a_dropped_connection(self, gop: Gop) -> None:
        await gop.http.post("/_sandbox/faults", json={"kind": "drop", "operation": "productList"})
        with pytest.raises(httpx.TransportError):
            await gop.send(LIST, gop.fields(LIST, {}))
        assert (await gop.call(LIST))["code"] == "0"

    async def test_reset_forgets_everything(self, gop: Gop) -> None:
        await published(gop)
        assert (await gop.http.post("/_sandbox/reset")).status_code == 204
        assert (await state(gop))["listings"] == []
