"""Large pushes go through JSON_LISTINGS_FEED and resolve per SKU through poll_submissions."""

from __future__ import annotations

from adapters.amazon.sandbox import SANDBOX_SELLER, AmazonSandbox

from odop_sync.adapter_sdk import ItemStatus, Money, OfferUpdate, SubmissionState
from tests.adapters.amazon.conftest import TIME_SCALE, amazon_env, listing


class TestFeedRoute:
    async def test_a_feed_of_300_items_resolves_with_one_result_per_sku(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        bad = {"ODOP-00007", "ODOP-00123"}
        sandbox.faults.reject(bad, field="color", message="The value 'Red' is not valid for color.")
        items = [listing(f"ODOP-{n:05d}") for n in range(300)]
        async with amazon_env(sandbox) as env:
            submitted = await env.adapter.push_listings(items)
            assert [r.sku for r in submitted] == [i.sku for i in items]
            assert {r.status for r in submitted} == {ItemStatus.SUBMITTED}
            feed_ids = {r.submission_id for r in submitted}
            assert len(feed_ids) == 1
            assert None not in feed_ids
            assert sandbox.call_count("putListingsItem") == 0

            (status,) = await env.adapter.poll_submissions(sorted(feed_ids))  # type: ignore[arg-type]
            assert status.state is SubmissionState.PENDING  # IN_QUEUE for 30 marketplace seconds

            sandbox.clock.advance(120)
            (status,) = await env.adapter.poll_submissions(sorted(feed_ids))  # type: ignore[arg-type]
        assert status.state is SubmissionState.DONE
        by_sku = {r.sku: r for r in status.results}
        assert set(by_sku) == {i.sku for i in items}
        for sku in bad:
            assert by_sku[sku].status is ItemStatus.REJECTED
            assert by_sku[sku].issues[0].field == "color"
            assert f"SKU {sku}" in by_sku[sku].issues[0].message
        assert sum(r.status is ItemStatus.ACCEPTED for r in status.results) == 298
        assert len(sandbox.listing_skus(SANDBOX_SELLER)) == 298

    async def test_results_come_from_the_report_even_without_local_memory(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        items = [listing(f"BULK-{n:03d}") for n in range(60)]
        async with amazon_env(sandbox) as env:
            feed_id = (await env.adapter.push_listings(items))[0].submission_id
        sandbox.clock.advance(120)
        async with amazon_env(sandbox) as other_process:  # a different worker polls
            (status,) = await other_process.adapter.poll_submissions([feed_id])  # type: ignore[list-item]
        assert status.state is SubmissionState.DONE
        assert {r.sku for r in status.results} == {i.sku for i in items}

    async def test_a_stuck_feed_stays_pending(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        sandbox.faults.inject("stuck_feed")
        async with amazon_env(sandbox) as env:
            results = await env.adapter.push_listings([listing(f"S-{n}") for n in range(50)])
            sandbox.clock.advance(3600)
            (status,) = await env.adapter.poll_submissions([results[0].submission_id])  # type: ignore[list-item]
        assert status.state is SubmissionState.PENDING

    async def test_bulk_offers_go_out_as_patch_messages(self) -> None:
        sandbox = AmazonSandbox(time_scale=TIME_SCALE)
        items = [listing(f"OFR-{n:03d}") for n in range(50)]
        offers = [OfferUpdate(sku=i.sku, price=Money(amount=1_000_000), quantity=9) for i in items]
        async with amazon_env(sandbox) as env:
            await env.adapter.push_listings(items[:1])  # OFR-000 exists, the rest do not yet
            submitted = await env.adapter.push_offers(offers)
            sandbox.clock.advance(120)
            (status,) = await env.adapter.poll_submissions([submitted[0].submission_id])  # type: ignore[list-item]
        by_sku = {r.sku: r.status for r in status.results}
        assert by_sku["OFR-000"] is ItemStatus.ACCEPTED
        assert by_sku["OFR-001"] is ItemStatus.REJECTED
        row = sandbox.state.table(SANDBOX_SELLER, "listings")["OFR-000"]
        assert row["attributes"]["fulfillment_availability"][0]["quantity"] == 9
