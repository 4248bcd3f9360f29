from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from odop_sync.kit.text import has_nul
from odop_sync.models import ProducerKind


class ApiInput(BaseModel):
    """Request bodies: text that PostgreSQL could not store (NUL) is refused as invalid input."""

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class AgencyCreate(ApiInput):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$", examples=["up-odop"])
    name: str = Field(min_length=1, max_length=200, examples=["UP ODOP Cell"])
    state: str = Field(default="Uttar Pradesh", min_length=1, max_length=64)


class AgencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    slug: str
    name: str
    state: str
    created_at: datetime


class ProducerCreate(ApiInput):
    """Checked by the same rules as a batch's producers section."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "ref": "shg-chikan-sakhi",
                    "kind": "self_help_group",
                    "name_en": "Chikan Sakhi Mahila SHG",
                    "name_hi": "चिकन सखी महिला स्वयं सहायता समूह",
                    "district": "Lucknow",
                    "craft": "Chikankari",
                }
            ]
        }
    )

    ref: str = Field(max_length=200)
    kind: str = Field(max_length=200)
    name_en: str = Field(max_length=1000)
    name_hi: str | None = Field(default=None, max_length=1000)
    district: str | None = Field(default=None, max_length=200)
    craft: str | None = Field(default=None, max_length=1000)
    pehchan_card: str | None = Field(default=None, max_length=200)
    udyam_number: str | None = Field(default=None, max_length=200)
    gstin: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=200)


class ProducerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agency_id: int
    ref: str
    kind: ProducerKind
    name_en: str
    name_hi: str | None
    district_code: str | None
    craft: str | None
    pehchan_card: str | None
    udyam_number: str | None
    gstin: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


class VariantRead(BaseModel):
    id: int
    sku: str
    product_id: int
    mrp: str = Field(description="INR, two decimals")
    price: str = Field(description="INR, two decimals")
    mrp_paise: int
    price_paise: int
    stock_on_hand: int
    weight_g: Decimal | None
    length_cm: Decimal | None
    width_cm: Decimal | None
    height_cm: Decimal | None
    material: str | None
    color: str | None
    size: str | None
    images: list[str]
    attributes: dict[str, Any]
    version: int
    updated_at: datetime


class PriceTierRead(BaseModel):
    min_quantity: int
    max_quantity: int | None = Field(description="None: this quantity and above")
    price: str = Field(description="INR per unit, two decimals", examples=["1850.00"])
    price_paise: int


class LeadTimeRead(BaseModel):
    max_quantity: int | None = Field(description="orders up to this quantity; None: any larger")
    days: int


class B2BTermsRead(BaseModel):
    """The product's wholesale (B2B, export) terms; quantities are in `moq_unit`."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "moq": 2,
                    "moq_unit": "square_metre",
                    "price_tiers": [
                        {
                            "min_quantity": 2,
                            "max_quantity": 49,
                            "price": "1850.00",
                            "price_paise": 185000,
                        },
                        {
                            "min_quantity": 50,
                            "max_quantity": None,
                            "price": "1700.00",
                            "price_paise": 170000,
                        },
                    ],
                    "supply_per_month": 400,
                    "lead_times": [
                        {"max_quantity": 50, "days": 30},
                        {"max_quantity": None, "days": 60},
                    ],
                    "port_of_loading": "Nhava Sheva (Mumbai)",
                    "payment_terms": ["TT", "LC"],
                    "export_hs_code": "57011010",
                }
            ]
        }
    )

    moq: int
    moq_unit: str = Field(
        description="piece, pair, set, dozen, square_metre, metre, kilogram or carton"
    )
    price_tiers: list[PriceTierRead]
    supply_per_month: int | None
    lead_times: list[LeadTimeRead]
    port_of_loading: str | None
    payment_terms: list[str] = Field(description="TT, LC, DP, DA, western_union, paypal")
    export_hs_code: str | None


class ProductRead(BaseModel):
    id: int
    agency_id: int
    ref: str
    producer_id: int
    producer_ref: str
    title_en: str
    title_hi: str | None
    description_en: str | None
    description_hi: str | None
    district_code: str | None
    district: str | None
    craft: str | None
    odop_product: str | None
    gi_tag: str | None
    hsn_code: str
    gst_rate: Decimal
    b2b: B2BTermsRead | None = Field(
        description="wholesale terms; None: the product is not offered B2B (e.g. Alibaba.com)"
    )
    variants: list[VariantRead]
    created_at: datetime
    updated_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: int | None = Field(description="pass as ?after= for the next page")


class VariantUpdate(ApiInput):
    """Any subset of a variant's fields; the result is checked by the batch rules."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"price": "1499.00", "stock": 12}]}
    )

    price: Decimal | str | None = Field(default=None, examples=["1499.00"])
    mrp: Decimal | str | None = None
    stock: int | None = Field(default=None, ge=0, le=10_000_000)
    title_en: str | None = Field(default=None, max_length=1000)
    title_hi: str | None = Field(default=None, max_length=1000)
    description_en: str | None = Field(default=None, max_length=10_000)
    description_hi: str | None = Field(default=None, max_length=10_000)
    hsn_code: str | None = Field(default=None, max_length=100)
    gst_rate: Decimal | str | None = None
    weight_g: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    material: str | None = Field(default=None, max_length=1000)
    color: str | None = Field(default=None, max_length=1000)
    size: str | None = Field(default=None, max_length=1000)
    images: list[str] | None = Field(default=None, max_length=100)
    attributes: dict[str, Any] | None = None
    # The product's B2B terms, in the batch's forms (all of them null: no B2B terms).
    b2b_moq: int | str | None = None
    b2b_moq_unit: str | None = Field(default=None, max_length=100)
    b2b_price_tiers: str | list[dict[str, Any]] | None = Field(default=None, max_length=1000)
    b2b_supply_per_month: int | str | None = None
    b2b_lead_times: str | list[dict[str, Any]] | None = Field(default=None, max_length=1000)
    b2b_port_of_loading: str | None = Field(default=None, max_length=1000)
    b2b_payment_terms: str | list[str] | None = Field(default=None, max_length=100)
    export_hs_code: str | None = Field(default=None, max_length=100)
