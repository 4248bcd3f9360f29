"""The core's `ImageSource`: product image URLs (tenant input) fetched for adapters that upload
image bytes themselves (Alibaba.com's photobank), only from the origins the operator allows
(settings: image_origins; in demo mode also the app's own public_base_url, which serves
/demo/images), only images (an image/* content type), at most 5 MB, through the same guarded
transport as marketplace calls, and never following a redirect (it could lead anywhere)."""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Callable, Iterable
from urllib.parse import unquote

import httpx

from odop_sync.adapter_sdk import FetchedImage, ImageRefusal, create_http_client

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Alibaba.com's photobank takes up to 5 MB (PROTOCOL §7.10)
DEFAULT_PORTS = {"http": 80, "https": 443}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/svg+xml": ".svg",
}

Transport = Callable[[], httpx.AsyncBaseTransport | None]


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL (the port only when not the default), lower
    case; None for anything else (another scheme, user info, no host)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return None
    if parsed.scheme not in DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    port = parsed.port
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[parsed.scheme] else ""
    host = parsed.host.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{parsed.scheme}://{host}{suffix}"


def _file_name(url: httpx.URL, content_type: str) -> str:
    name = posixpath.basename(unquote(url.path)) or "image"
    name = "".join(c for c in name if c.isalnum() or c in "._-")[:100] or "image"
    ext = EXTENSIONS.get(content_type)
    if ext and not name.lower().endswith(ext) and "." not in name:
        name += ext
    return name


class AllowedOriginImages:
    """Fetches an image URL when its origin is one of `origins`, else refuses it."""

    def __init__(
        self,
        origins: Iterable[str],
        *,
        transport: Transport | None = None,
        max_bytes: int = MAX_IMAGE_BYTES,
        timeout_s: float = 20.0,
    ) -> None:
        self.origins = frozenset(o for o in (origin_of(x) for x in origins) if o)
        self.transport: Transport = transport or (lambda: None)
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    def __repr__(self) -> str:
        return f"<AllowedOriginImages origins={sorted(self.origins)!r}>"

    def refusal(self, url: str) -> ImageRefusal | None:
        """Why `url` may not be fetched at all, or None when its origin is allowed."""
        origin = origin_of(url)
        if origin is None:
            return ImageRefusal("the image address is not an http(s) URL")
        if origin not in self.origins:
            return ImageRefusal(
                f"images are fetched only from the hosts the operator allows (settings: "
                f"image_origins), and {origin} is not one of them; host the image there or use "
                "an image already on the marketplace"
            )
        return None

    async def fetch(self, url: str) -> FetchedImage | ImageRefusal:
        refused = self.refusal(url)
        if refused is not None:
            return refused
        target = httpx.URL(url)
        where = origin_of(url)
        try:
            async with (
                create_http_client(transport=self.transport(), timeout=self.timeout_s) as http,
                http.stream("GET", target, headers={"Accept": "image/*"}) as response,
            ):
                if response.status_code != 200:
                    retry = response.status_code >= 500 or response.status_code == 429
                    return ImageRefusal(
                        f"{where} answered HTTP {response.status_code} for the image", retry
                    )
                content_type = response.headers.get("content-type", "").split(";")[0].strip()
                content_type = content_type.lower()
                if not content_type.startswith("image/"):
                    return ImageRefusal(
                        f"{where} served {content_type or 'no content type'}, not an image"
                    )
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    return self._too_large(where)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        return self._too_large(where)
        except httpx.HTTPError as exc:
            log.info("image fetch from %s failed: %s", where, type(exc).__name__)
            return ImageRefusal(f"{where} could not be reached ({type(exc).__name__})", True)
        if not body:
            return ImageRefusal(f"{where} served an empty image")
        return FetchedImage(bytes(body), content_type, _file_name(target, content_type))

    def _too_large(self, where: str | None) -> ImageRefusal:
        limit = self.max_bytes // (1024 * 1024)
        return ImageRefusal(f"the image at {where} is larger than {limit} MB; make it smaller")


__all__ = ["MAX_IMAGE_BYTES", "AllowedOriginImages", "origin_of"]
