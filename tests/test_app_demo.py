"""What `make run` serves besides the API: demo images and the marketplace sandboxes."""

from __future__ import annotations

import httpx

from odop_sync.app import create_app
from odop_sync.config import Settings


class TestDemoMode:
    async def test_demo_mode_serves_the_amazon_sandbox_and_demo_images(
        self, settings: Settings
    ) -> None:
        app = create_app(settings.model_copy(update={"demo_mode": True}), workers=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                # Amazon's token endpoint answers as Login with Amazon does: a bad grant is a 400.
                r = await c.post("/sandbox/amazon/auth/o2/token", data={"grant_type": "nope"})
                assert r.status_code == 400
                assert "error" in r.json()
                img = await c.get("/demo/images/bhadohi-carpet-red.svg")
                assert img.status_code == 200
                assert img.headers["content-type"].startswith("image/svg")

    async def test_outside_demo_mode_no_sandbox_is_mounted(self, settings: Settings) -> None:
        app = create_app(settings, workers=False)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                assert (await c.post("/sandbox/amazon/auth/o2/token")).status_code == 404


class TestLogging:
    def test_request_urls_with_signatures_are_not_logged_by_httpx(self) -> None:
        import logging

        from odop_sync.logging import configure_logging

        configure_logging("INFO", "json")
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
