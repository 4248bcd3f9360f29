"""Product images an adapter must upload itself (Alibaba.com's photobank takes the bytes, not a
URL). Image URLs are tenant input, and no tenant input may choose a host the server calls: the
adapter never fetches them itself but asks the core's `ImageSource`, which fetches only from the
origins the operator allows and answers with the bytes or with a refusal in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

__all__ = ["FetchedImage", "ImageRefusal", "ImageSource"]


@dataclass(frozen=True, slots=True)
class FetchedImage:
    """One image as fetched: its bytes, its media type (image/*) and a file name for it."""

    content: bytes = field(repr=False)
    content_type: str
    file_name: str

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True, slots=True)
class ImageRefusal:
    """Why an image could not be had, in plain words naming the URL's host, never its query.
    `retryable`: the origin did not answer now (a later attempt may succeed); otherwise the
    image itself is refused (origin not allowed, too large, not an image)."""

    reason: str
    retryable: bool = False


@runtime_checkable
class ImageSource(Protocol):
    """What the core hands an adapter (constructor keyword `images`) to read image URLs with."""

    async def fetch(self, url: str) -> FetchedImage | ImageRefusal: ...
