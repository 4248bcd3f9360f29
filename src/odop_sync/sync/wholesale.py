"""A product's wholesale terms as the SDK's `B2BTerms`, for marketplaces that sell by minimum
order quantity and quantity tiers (an adapter class with `sells_b2b = True`, e.g. Alibaba.com).

Tier prices leave here in INR paise; a marketplace that sells in another currency gets them
converted afterwards, like every other price. Other marketplaces get no terms at all, so their
payloads and content hashes do not change when a product's B2B terms do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from odop_sync.adapter_sdk import B2BTerms, LeadTime, Money, PriceTier
from odop_sync.catalog.b2b import WholesaleTerms

__all__ = ["listing_terms", "sells_b2b"]


def sells_b2b(adapters: Mapping[str, Any], slug: str) -> bool:
    """Whether the adapter class registered as `slug` gets wholesale terms (False when none is
    registered: its listings are not pushed anyway)."""
    cls = adapters.get(slug)
    return bool(getattr(cls, "sells_b2b", False))


def listing_terms(stored: Mapping[str, Any] | None) -> B2BTerms | None:
    """The stored terms (`products.b2b`) as the listing's `b2b`; None when there are none."""
    if not stored:
        return None
    terms = WholesaleTerms.model_validate(stored)
    return B2BTerms(
        moq=terms.moq,
        moq_unit=terms.moq_unit,
        price_tiers=tuple(
            PriceTier(
                min_quantity=t.min_quantity,
                max_quantity=t.max_quantity,
                price=Money(amount=t.price_paise),
            )
            for t in terms.price_tiers
        ),
        supply_per_month=terms.supply_per_month,
        lead_times=tuple(
            LeadTime(max_quantity=x.max_quantity, days=x.days) for x in terms.lead_times
        ),
        port_of_loading=terms.port_of_loading,
        payment_terms=terms.payment_terms,
        export_hs_code=terms.export_hs_code,
    )
