"""Product images on Alibaba.com: a product's images must come from the seller's own photobank
(PROTOCOL §7.6, PUB_BIZCHECK_DESCRIPTION_IMAGE_SOURCE_ERROR). An image already on Alibaba.com's
image host (`*.alicdn.com`, contract I) goes as it is; any other is fetched through the core's
ImageSource (never by this adapter: image URLs are tenant input) and uploaded once per process
(`/alibaba/icbu/photobank/upload`, multipart, the bytes unsigned, ≤ 5 MB), the URL → photobank
URL kept. A refused image is an issue on the listing, never a crash."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from adapters.alibaba import wire
from adapters.alibaba.gop import MARKETPLACE, Gop
from adapters.alibaba.mapping import issue
from odop_sync.adapter_sdk import (
    ImageRefusal,
    ImageSource,
    ItemIssue,
    PayloadRejectedError,
    RetryableAdapterError,
    Severity,
)

log = logging.getLogger("adapters.alibaba.photos")


def on_alibaba(url: str) -> bool:
    try:
        host = httpx.URL(url if not url.startswith("//") else "https:" + url).host.lower()
    except httpx.InvalidURL:
        return False
    return host.endswith(wire.ALICDN_SUFFIX)


def _absolute(url: str) -> str:
    return "https:" + url if url.startswith("//") else url


@dataclass
class Photos:
    """The photobank URLs of one product's images, with an issue per image left out."""

    urls: list[str] = field(default_factory=list)
    issues: list[ItemIssue] = field(default_factory=list)


class Photobank:
    def __init__(self, gop: Gop, images: Callable[[], ImageSource | None]) -> None:
        self.gop = gop
        self.images = images  # read when needed: the core may hand it over after construction
        self._uploaded: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def __repr__(self) -> str:
        return f"<Photobank uploaded={len(self._uploaded)}>"

    async def photos(self, sku: str, urls: Sequence[str]) -> Photos:
        out = Photos()
        for url in urls:
            got = await self.photo(url)
            if isinstance(got, str):
                if got not in out.urls:
                    out.urls.append(got)
            else:
                advice = f"an image was left out: {got.reason}"
                out.issues.append(issue(sku, "images", advice, "IMAGE", Severity.WARNING))
        return out

    async def photo(self, url: str) -> str | ImageRefusal:
        """The photobank URL of `url`, or why there is none. Raises a RetryableAdapterError
        when the image's origin (or the photobank) does not answer now."""
        if on_alibaba(url):
            return _absolute(url)
        if url in self._uploaded:
            return self._uploaded[url]
        async with self._locks.setdefault(url, asyncio.Lock()):  # one upload per image
            if url in self._uploaded:
                return self._uploaded[url]
            source = self.images()
            if source is None:
                return ImageRefusal(
                    "it is not on Alibaba.com yet, and this server was given no way to fetch "
                    "images for upload"
                )
            fetched = await source.fetch(url)
            if isinstance(fetched, ImageRefusal):
                if fetched.retryable:
                    raise RetryableAdapterError(
                        f"an image could not be fetched now: {fetched.reason}",
                        adapter=self.gop.adapter,
                        operation=wire.OPERATIONS[wire.PHOTOBANK_UPLOAD],
                    )
                return fetched
            if fetched.size > wire.MAX_IMAGE_BYTES:
                return ImageRefusal(f"{MARKETPLACE}'s photobank takes images up to 5 MB")
            try:
                answer = await self.gop.call(
                    wire.PHOTOBANK_UPLOAD,
                    {"file_name": fetched.file_name},
                    wire.UploadAnswer,
                    files={
                        "image_bytes": (fetched.file_name, fetched.content, fetched.content_type)
                    },
                )
            except PayloadRejectedError as exc:  # SIZE_TOO_LARGE, NOCAPACITY, …
                return ImageRefusal(f"the photobank refused it ({exc.code}: {exc.message})")
            uploaded = answer.upload_image_response
            if uploaded is None or not uploaded.photobank_url:
                raise self.gop.unreadable(wire.OPERATIONS[wire.PHOTOBANK_UPLOAD])
            self._uploaded[url] = _absolute(uploaded.photobank_url)
            log.debug("uploaded an image to the photobank (%s)", fetched.file_name)
            return self._uploaded[url]


__all__ = ["Photobank", "Photos", "on_alibaba"]
