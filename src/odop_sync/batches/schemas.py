from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from odop_sync.kit.problems import FieldIssue
from odop_sync.models import BatchStatus, RowStatus

ITEM_EXAMPLE: dict[str, Any] = {
    "sku": "BHD-CARPET-3X5-RED",
    "product_ref": "BHD-CARPET-3X5",
    "producer_ref": "weaver-ramesh",
    "title_en": "Bhadohi hand-knotted wool carpet, 3x5 ft, red",
    "title_hi": "भदोही हाथ से बुना ऊनी कालीन, 3x5 फुट, लाल",
    "district": "Bhadohi",
    "craft": "Carpet weaving",
    "odop_product": "Carpets (Dari)",
    "gi_tag": "Bhadohi Handmade Carpet",
    "hsn_code": "5701",
    "gst_rate": 5,
    "mrp": "18500.00",
    "price": "15999.00",
    "stock": 4,
    "images": ["https://cdn.example.org/carpet-red-1.jpg"],
    # Wholesale (B2B, export) terms of the product, optional; given, the first three are
    # required. Sheets write them the same way.
    "b2b_moq": 2,
    "b2b_moq_unit": "piece",
    "b2b_price_tiers": "2-49:12500|50-199:11200|200+:9800",
    "b2b_supply_per_month": 120,
    "b2b_lead_times": "1-50:45|51-200:60|201+:75",
    "b2b_port_of_loading": "Nhava Sheva (Mumbai)",
    "b2b_payment_terms": "TT|LC",
    "export_hs_code": "57011010",
}
# The same kind of terms in the JSON list forms.
B2B_LIST_EXAMPLE: dict[str, Any] = {
    "sku": "BHD-GABBEH-2X3-RUST",
    "product_ref": "BHD-GABBEH-2X3",
    "producer_ref": "weaver-ramesh",
    "title_en": "Bhadohi hand-knotted gabbeh rug, 2 x 3 ft, rust",
    "district": "Bhadohi",
    "craft": "Carpet weaving",
    "hsn_code": "5701",
    "gst_rate": 5,
    "mrp": "5200.00",
    "price": "4800.00",
    "stock": 14,
    "images": ["https://cdn.example.org/gabbeh-rust.jpg"],
    "b2b_moq": 10,
    "b2b_moq_unit": "pcs",
    "b2b_price_tiers": [
        {"min_quantity": 10, "max_quantity": 49, "price": "3600"},
        {"min_quantity": 50, "max_quantity": 199, "price": "3200"},
        {"min_quantity": 200, "price": "2850"},
    ],
    "b2b_lead_times": [{"max_quantity": 50, "days": 30}, {"days": 45}],
    "b2b_port_of_loading": "Nhava Sheva (Mumbai)",
    "b2b_payment_terms": ["TT", "LC"],
}


class BatchCreate(BaseModel):
    """A JSON batch. Items are checked row by row, so one bad row never rejects the others."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "producers": [
                        {
                            "ref": "weaver-ramesh",
                            "kind": "artisan",
                            "name_en": "Ramesh Kumar Maurya",
                            "name_hi": "रमेश कुमार मौर्य",
                            "district": "Bhadohi",
                            "craft": "Carpet weaving",
                        }
                    ],
                    "items": [ITEM_EXAMPLE, B2B_LIST_EXAMPLE],
                }
            ]
        }
    )

    producers: list[dict[str, Any]] = Field(default_factory=list, max_length=10_000)
    items: list[dict[str, Any]] = Field(default_factory=list)


class RowResult(BaseModel):
    row: int
    sku: str | None
    status: RowStatus
    variant_id: int | None = None
    errors: list[FieldIssue] = Field(default_factory=list)
    warnings: list[FieldIssue] = Field(
        default_factory=list,
        description="what the row did that may not be meant, though it was applied: e.g. a "
        "product column (title_en, craft, …) that differs from an earlier row of the same "
        "product, whose value this row replaces, or B2B price tiers where a larger order costs "
        "more per unit",
    )


class BatchCounts(BaseModel):
    total: int
    processed: int
    created: int
    updated: int
    unchanged: int
    rejected: int


class BatchRead(BaseModel):
    id: int
    agency_id: int
    status: BatchStatus
    source: str
    filename: str | None
    idempotency_key: str | None
    counts: BatchCounts
    producer_issues: list[FieldIssue] = Field(default_factory=list)
    error: str | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    rows: list[RowResult] | None = Field(
        default=None, description="per-row results (filtered by ?rows=)"
    )
    rows_next_cursor: int | None = None


class DryRunRead(BaseModel):
    dry_run: bool = True
    counts: BatchCounts
    producer_issues: list[FieldIssue]
    rows: list[RowResult]
