"""The demo ODOP catalog: the batch in catalog.json, its image paths served by this app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parent
IMAGES_DIR = DEMO_DIR / "images"
IMAGES_ROUTE = "/demo/images"


def load_demo_catalog(base_url: str) -> dict[str, Any]:
    """The demo batch with relative image paths turned into URLs on `base_url`."""
    data: dict[str, Any] = json.loads((DEMO_DIR / "catalog.json").read_text(encoding="utf-8"))
    base = base_url.rstrip("/")
    for item in data["items"]:
        item["images"] = [
            img if "://" in img else f"{base}/{img.lstrip('/')}" for img in item.get("images", [])
        ]
    return data
