"""The core's image reader for adapters that upload image bytes (Alibaba.com): image URLs are
tenant input, so only the operator's origins are fetched, only images, at most 5 MB, and no
redirect is followed."""

from __future__ import annotations

import httpx
import pytest
import respx

from odop_sync.adapter_sdk import FetchedImage, ImageRefusal
from odop_sync.config import ConfigError, Settings
from odop_sync.sync.images import AllowedOriginImages, origin_of

ALLOWED = "https://images.agency.example"
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 100


@pytest.fixture
def web() -> respx.MockRouter:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


async def test_an_image_on_an_allowed_origin_is_fetched(web: respx.MockRouter) -> None:
    web.get(f"{ALLOWED}/rugs/red%20rug.png").mock(
        return_value=httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
    )
    got = await AllowedOriginImages([ALLOWED]).fetch(f"{ALLOWED}/rugs/red%20rug.png?v=2")
    assert isinstance(got, FetchedImage)
    assert (got.content, got.content_type, got.file_name) == (PNG, "image/png", "redrug.png")
    assert "xxxx" not in repr(got)  # bytes stay out of logs


@pytest.mark.parametrize(
    "url",
    [
        "https://elsewhere.example/rug.png",
        "http://images.agency.example/rug.png",  # another scheme: another origin
        "https://images.agency.example:8443/rug.png",
        "https://user:pw@images.agency.example/rug.png",
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_any_other_origin_is_refused_without_a_request(
    web: respx.MockRouter, url: str
) -> None:
    got = await AllowedOriginImages([ALLOWED]).fetch(url)
    assert isinstance(got, ImageRefusal)
    assert not got.retryable
    assert web.calls.call_count == 0


async def test_what_is_not_an_image_is_refused(web: respx.MockRouter) -> None:
    web.get(f"{ALLOWED}/page").mock(
        return_value=httpx.Response(200, text="<html>", headers={"Content-Type": "text/html"})
    )
    got = await AllowedOriginImages([ALLOWED]).fetch(f"{ALLOWED}/page")
    assert isinstance(got, ImageRefusal)
    assert "text/html, not an image" in got.reason


@pytest.mark.parametrize("declared", [True, False])
async def test_an_image_over_the_limit_is_refused(web: respx.MockRouter, declared: bool) -> None:
    big = b"\xff" * 2048
    headers = {"Content-Type": "image/jpeg"}
    if not declared:  # streamed without a length: counted as it comes
        web.get(f"{ALLOWED}/big.jpg").mock(
            return_value=httpx.Response(200, stream=httpx.ByteStream(big), headers=headers)
        )
    else:
        web.get(f"{ALLOWED}/big.jpg").mock(
            return_value=httpx.Response(200, content=big, headers=headers)
        )
    got = await AllowedOriginImages([ALLOWED], max_bytes=1024).fetch(f"{ALLOWED}/big.jpg")
    assert isinstance(got, ImageRefusal)
    assert "larger than" in got.reason


async def test_a_redirect_is_not_followed(web: respx.MockRouter) -> None:
    web.get(f"{ALLOWED}/moved.png").mock(
        return_value=httpx.Response(302, headers={"Location": "http://10.0.0.1/x.png"})
    )
    got = await AllowedOriginImages([ALLOWED]).fetch(f"{ALLOWED}/moved.png")
    assert isinstance(got, ImageRefusal)
    assert "302" in got.reason
    assert web.calls.call_count == 1


async def test_an_origin_that_does_not_answer_may_be_tried_later(web: respx.MockRouter) -> None:
    web.get(f"{ALLOWED}/x.png").mock(side_effect=httpx.ConnectError("down"))
    got = await AllowedOriginImages([ALLOWED]).fetch(f"{ALLOWED}/x.png")
    assert isinstance(got, ImageRefusal)
    assert got.retryable


def test_origins_compare_without_default_ports_and_case() -> None:
    assert origin_of("HTTPS://Images.Agency.Example:443/a.png") == ALLOWED
    assert origin_of("http://127.0.0.1:8000/demo/images/a.svg") == "http://127.0.0.1:8000"


class TestSettings:
    def test_demo_mode_allows_the_apps_own_images(self) -> None:
        settings = Settings(env="testing", demo_mode=True, public_base_url="http://127.0.0.1:8000/")
        assert settings.allowed_image_origins == ["http://127.0.0.1:8000"]

    def test_an_operator_origin_must_be_https(self) -> None:
        with pytest.raises(ConfigError, match="image_origins"):
            Settings(env="testing", image_origins=["http://images.agency.example"])

    def test_an_origin_has_no_path(self) -> None:
        with pytest.raises(ConfigError, match="without a path"):
            Settings(env="testing", image_origins=["https://images.agency.example/rugs"])

    def test_an_https_origin_is_kept(self) -> None:
        settings = Settings(env="testing", image_origins=[ALLOWED])
        assert settings.allowed_image_origins == [ALLOWED]
