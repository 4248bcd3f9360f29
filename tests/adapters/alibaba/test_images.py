"""Images: those already on Alibaba.com (*.alicdn.com) go as they are; others are fetched
through the core's ImageSource (never by the adapter) and uploaded to the photobank once; a
refused image is an issue on the listing, not a crash."""

from __future__ import annotations

from typing import Any

import pytest

from odop_sync.adapter_sdk import (
    FetchedImage,
    ImageRefusal,
    ItemStatus,
    RetryableAdapterError,
    Severity,
)
from tests.adapters.alibaba.conftest import carpet, make_rig
from tests.adapters.alibaba.fake_gop import FakeGop
from tests.adapters.alibaba.test_publishing import fields_of

OWN = "https://images.agency.example/bhadohi/red.png"
PNG = b"\x89PNG\r\n\x1a\n" + b"0" * 64


class Source:
    def __init__(self, answer: FetchedImage | ImageRefusal | None = None) -> None:
        self.answer = answer or FetchedImage(PNG, "image/png", "red.png")
        self.asked: list[str] = []

    async def fetch(self, url: str) -> FetchedImage | ImageRefusal:
        self.asked.append(url)
        return self.answer


async def test_an_image_is_uploaded_once_and_its_photobank_url_sent(
    gop: FakeGop, router: Any
) -> None:
    source = Source()
    async with make_rig(gop, images=source) as rig:
        results = await rig.adapter.push_listings(
            [carpet("A", images=(OWN,)), carpet("B", images=(OWN,))]
        )
    assert [r.status for r in results] == [ItemStatus.ACCEPTED, ItemStatus.ACCEPTED]
    assert source.asked == [OWN]
    assert gop.uploads == [("red.png", PNG)]
    (upload,) = gop.sent("/alibaba/icbu/photobank/upload")
    assert "image_bytes" not in upload  # a file part: not a signed text field
    for sent in gop.sent("/icbu/product/schema/add"):
        assert fields_of(sent["xml"])["main_image"] == ["https://sc04.alicdn.com/kf/H0001.png"]


async def test_an_image_already_on_alibaba_is_not_fetched(gop: FakeGop, router: Any) -> None:
    source = Source()
    async with make_rig(gop, images=source) as rig:
        (result,) = await rig.adapter.push_listings([carpet()])
    assert result.status is ItemStatus.ACCEPTED
    assert source.asked == []
    assert gop.uploads == []


async def test_a_refused_image_is_an_issue_and_without_any_image_the_product_waits(
    gop: FakeGop, router: Any
) -> None:
    refusal = ImageRefusal("images are fetched only from the hosts the operator allows")
    async with make_rig(gop, images=Source(refusal)) as rig:
        (result,) = await rig.adapter.push_listings([carpet(images=(OWN,))])
    assert result.status is ItemStatus.REJECTED
    warning, error = result.issues
    assert warning.severity is Severity.WARNING
    assert "the hosts the operator allows" in warning.message
    assert error.field == "images"
    assert error.message.startswith("field images of SKU BHD-CARPET-RED:")
    assert gop.count("/icbu/product/schema/add") == 0


async def test_one_refused_image_of_two_leaves_the_other(gop: FakeGop, router: Any) -> None:
    refusal = ImageRefusal("not an image")
    images = ("https://sc01.alicdn.com/kf/Hok.jpg", OWN)
    async with make_rig(gop, images=Source(refusal)) as rig:
        (result,) = await rig.adapter.push_listings([carpet(images=images)])
    assert result.status is ItemStatus.ACCEPTED
    assert [i.severity for i in result.issues] == [Severity.WARNING]
    sent = fields_of(gop.sent("/icbu/product/schema/add")[0]["xml"])
    assert sent["main_image"] == ["https://sc01.alicdn.com/kf/Hok.jpg"]


async def test_without_an_image_source_an_outside_image_cannot_go(
    gop: FakeGop, router: Any
) -> None:
    async with make_rig(gop) as rig:
        (result,) = await rig.adapter.push_listings([carpet(images=(OWN,))])
    assert result.status is ItemStatus.REJECTED
    assert "no way to fetch images" in result.issues[0].message


async def test_an_origin_that_does_not_answer_now_is_retried_later(
    gop: FakeGop, router: Any
) -> None:
    refusal = ImageRefusal("images.agency.example could not be reached", retryable=True)
    async with make_rig(gop, images=Source(refusal)) as rig:
        with pytest.raises(RetryableAdapterError):
            await rig.adapter.push_listings([carpet(images=(OWN,))])
