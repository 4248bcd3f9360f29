"""Pure canonical → Alibaba.com conversions for products: no HTTP, no state.

A ListingPayload with B2B terms becomes the values of the category schema's fields (the value
document of schema/add and schema/update); what the schema requires and nothing here can fill
stops the product before it is sent, with the field named in plain words. Alibaba.com's prices
are the B2B quantity tiers (in USD, converted by the core), so they are content.

Decisions the documents leave to us (adapters/alibaba/CONTRACT.md, each inferred):
- One Alibaba.com product per variant, `red_model` (the model number) = our SKU; `product_type`
  wholesale; `fob_currency` USD.
- Field ids are the TOP field names of PROTOCOL §7.2/7.3; category attributes are `attr_<id>`
  named as the schema names them, filled through categories.toml.
- A lead time for "any larger order" (no maximum quantity) goes out for up to 99999 units, the
  largest order quantity the platform takes (§6).
- Keywords: the product's own `attributes.keywords`, else its craft, ODOP product and GI tag; at
  most 3, without `,` or `;` (§6).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from adapters.alibaba.categories import Category, CategoryMap
from adapters.alibaba.schema import CategorySchema, FieldSpec, Value
from odop_sync.adapter_sdk import (
    NEEDS_CATALOG_MAPPING,
    B2BTerms,
    ItemIssue,
    ItemResult,
    ItemStatus,
    ListingPayload,
    Severity,
)

MARKETPLACE = "Alibaba.com"
MAX_SUBJECT = 128  # §6
MAX_KEYWORDS = 3  # §6
MIN_QTY, MAX_QTY = 1, 99_999  # §6
MIN_PRICE, MAX_PRICE = Decimal("0.01"), Decimal("9999999.00")  # §6
MIN_DAYS, MAX_DAYS = 1, 60  # §6 handling_time, used for deliver_periods (contract)
DEFAULT_MAX_TIERS = 4  # contract (I), when the schema carries no maxItemsRule
MAX_IMAGES = 6  # contract (I)

# Canonical unit → Alibaba.com's display unit (contract, I).
UNITS = {
    "piece": "Piece/Pieces",
    "pair": "Pair/Pairs",
    "set": "Set/Sets",
    "dozen": "Dozen/Dozens",
    "square_metre": "Square Meter/Square Meters",
    "metre": "Meter/Meters",
    "kilogram": "Kilogram/Kilograms",
    "carton": "Carton/Cartons",
}
PAYMENTS = {
    "tt": "T/T",
    "lc": "L/C",
    "dp": "D/P",
    "da": "D/A",
    "western_union": "Western Union",
    "paypal": "PayPal",
}
# Alibaba.com field id → the canonical field a user fixes.
CANONICAL = {
    "subject": "title",
    "description": "description",
    "keywords": "attributes.keywords",
    "red_model": "sku",
    "main_image": "images",
    "product_type": "b2b_moq",
    "fob_currency": "b2b_price_tiers",
    "min_order_quantity": "b2b_moq",
    "min_order_unit_type": "b2b_moq_unit",
    "bulk_discount_prices": "b2b_price_tiers",
    "supply_quantity": "b2b_supply_per_month",
    "supply_unit_type": "b2b_moq_unit",
    "supply_period_type": "b2b_supply_per_month",
    "deliver_periods": "b2b_lead_times",
    "delivery_port": "b2b_port_of_loading",
    "payment_methods": "b2b_payment_terms",
    "hs_code": "export_hs_code",
}
OWN_ATTRIBUTES = "attributes.marketplaces.alibaba.attributes"

NO_B2B = (
    "not offered on Alibaba.com: it sells by minimum order quantity and quantity tiers; add "
    "b2b_moq, b2b_moq_unit and b2b_price_tiers to the product"
)


def issue(
    sku: str,
    field_name: str,
    advice: str,
    code: str,
    severity: Severity = Severity.ERROR,
    names: tuple[str, ...] = (),
) -> ItemIssue:
    return ItemIssue(
        code=code,
        severity=severity,
        field=field_name,
        message=f"field {field_name} of SKU {sku}: {advice}",
        attribute_names=names,
    )


def rejected(sku: str, issues: Sequence[ItemIssue]) -> ItemResult:
    return ItemResult(sku=sku, status=ItemStatus.REJECTED, issues=tuple(issues))


def not_b2b(sku: str) -> ItemResult:
    return rejected(sku, [issue(sku, "b2b_moq", NO_B2B, NEEDS_CATALOG_MAPPING)])


def no_category(item: ListingPayload) -> ItemResult:
    craft = item.craft or item.odop_product or "this product"
    advice = (
        f"not offered on Alibaba.com: no Alibaba.com category is mapped for {craft!r}; add the "
        "craft to alibaba/categories.toml or set attributes.marketplaces.alibaba.category"
    )
    return rejected(item.sku, [issue(item.sku, "craft", advice, NEEDS_CATALOG_MAPPING)])


def canonical_field(spec: FieldSpec | str) -> str:
    field_id = spec if isinstance(spec, str) else spec.id
    if field_id in CANONICAL:
        return CANONICAL[field_id]
    name = field_id if isinstance(spec, str) else spec.name
    return f"{OWN_ATTRIBUTES}.{name}"


@dataclass
class Built:
    """The values for one product's schema fields, or the issues that stop it."""

    sku: str
    values: dict[str, Value] = field(default_factory=dict)
    issues: list[ItemIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(i.severity is Severity.ERROR for i in self.issues)

    def error(self, spec: FieldSpec | str, advice: str, code: str = "FIELD") -> None:
        label = spec if isinstance(spec, str) else spec.label
        names = (label,)
        self.issues.append(issue(self.sku, canonical_field(spec), advice, code, names=names))

    def warn(self, spec: FieldSpec | str, advice: str, code: str = "FIELD") -> None:
        self.issues.append(issue(self.sku, canonical_field(spec), advice, code, Severity.WARNING))


# text fields ----------------------------------------------------------------------------------


def clean(text: str) -> str:
    return " ".join(text.replace(",", " ").replace(";", " ").split())


def keywords(item: ListingPayload) -> list[str]:
    own = item.attributes.get("keywords")
    if isinstance(own, str):
        candidates = own.split(",")
    elif isinstance(own, (list, tuple)):
        candidates = [str(k) for k in own]
    else:
        candidates = [t for t in (item.craft, item.odop_product, item.gi_tag) if t]
    out: list[str] = []
    for word in (clean(c) for c in candidates):
        if word and word.casefold() not in {w.casefold() for w in out}:
            out.append(word)
    return out[:MAX_KEYWORDS]


def description(item: ListingPayload) -> str:
    """Plain text as HTML (escaped): the description, then the bullet points as a list."""
    parts = [f"<p>{html.escape(p)}</p>" for p in (item.description or item.title).split("\n\n")]
    if item.bullet_points:
        rows = "".join(f"<li>{html.escape(b)}</li>" for b in item.bullet_points)
        parts.append(f"<ul>{rows}</ul>")
    return "".join(parts)


# the B2B terms --------------------------------------------------------------------------------


def _price_rows(b2b: B2BTerms, spec: FieldSpec, built: Built) -> list[dict[str, str]] | None:
    most = int(spec.number_rule("maxItemsRule") or DEFAULT_MAX_TIERS)
    if len(b2b.price_tiers) > most:
        built.error(spec, f"Alibaba.com takes at most {most} quantity tiers; merge some")
        return None
    rows = []
    for tier in sorted(b2b.price_tiers, key=lambda t: t.min_quantity):
        if tier.price.currency != "USD":
            built.error(
                spec,
                f"Alibaba.com prices in USD, and this tier came in {tier.price.currency}; the "
                "account's currency must be USD",
                "CURRENCY",
            )
            return None
        price = tier.price.to_decimal()
        if not MIN_QTY <= tier.min_quantity <= MAX_QTY or not MIN_PRICE <= price <= MAX_PRICE:
            built.error(
                spec,
                f"the tier from {tier.min_quantity} units at USD {price} is outside what "
                f"Alibaba.com takes (quantities {MIN_QTY} to {MAX_QTY}, prices USD {MIN_PRICE} "
                f"to {MAX_PRICE})",
            )
            return None
        rows.append({"start_quantity": str(tier.min_quantity), "price": f"{price:.2f}"})
    return rows


def _lead_rows(b2b: B2BTerms, spec: FieldSpec, built: Built) -> list[dict[str, str]] | None:
    rows = []
    for lead in sorted(b2b.lead_times, key=lambda x: x.max_quantity or MAX_QTY):
        if not MIN_DAYS <= lead.days <= MAX_DAYS:
            built.error(
                spec,
                f"Alibaba.com takes lead times of {MIN_DAYS} to {MAX_DAYS} days, not {lead.days}",
            )
            return None
        quantity = min(lead.max_quantity or MAX_QTY, MAX_QTY)
        rows.append({"quantity": str(quantity), "process_period": str(lead.days)})
    return rows


def _choice(spec: FieldSpec, wanted: str, built: Built) -> str | None:
    """`wanted` as one of the field's options (as it is when the field lists none)."""
    if not spec.options:
        return wanted
    found = spec.option_for(wanted)
    if found is None:
        choices = ", ".join(display for _, display in spec.options[:12])
        built.error(spec, f"{wanted!r} is not one of Alibaba.com's choices ({choices})", "OPTION")
    return found


def b2b_values(item: ListingPayload, b2b: B2BTerms, schema: CategorySchema, built: Built) -> None:
    def spec(field_id: str) -> FieldSpec | None:
        return schema.get(field_id)

    unit = UNITS.get(b2b.moq_unit.strip().casefold())
    if (s := spec("min_order_unit_type")) is not None:
        if unit is None:
            built.error(s, f"the unit {b2b.moq_unit!r} has no Alibaba.com counterpart", "UNIT")
        elif (chosen := _choice(s, unit, built)) is not None:
            built.values[s.id] = chosen
    if spec("min_order_quantity") is not None:
        built.values["min_order_quantity"] = str(b2b.moq)
        if not MIN_QTY <= b2b.moq <= MAX_QTY:
            built.error("min_order_quantity", f"Alibaba.com takes {MIN_QTY} to {MAX_QTY}")
    if (s := spec("bulk_discount_prices")) is not None:
        rows = _price_rows(b2b, s, built)
        if rows is not None:
            built.values[s.id] = rows
    if b2b.supply_per_month is not None and spec("supply_quantity") is not None:
        built.values["supply_quantity"] = str(b2b.supply_per_month)
        for field_id, wanted in (("supply_unit_type", unit), ("supply_period_type", "Month")):
            s = spec(field_id)
            chosen = _choice(s, wanted, built) if s is not None and wanted else None
            if chosen is not None:
                built.values[field_id] = chosen
    if b2b.lead_times and (s := spec("deliver_periods")) is not None:
        rows = _lead_rows(b2b, s, built)
        if rows:
            built.values[s.id] = rows
    if b2b.port_of_loading and spec("delivery_port") is not None:
        built.values["delivery_port"] = b2b.port_of_loading
    if b2b.payment_terms and (s := spec("payment_methods")) is not None:
        methods = []
        for term in b2b.payment_terms:
            wanted = PAYMENTS.get(term.strip().casefold())
            chosen = s.option_for(wanted) if wanted and s.options else wanted
            if chosen is None:
                built.warn(s, f"the payment term {term!r} has no Alibaba.com counterpart; left out")
            else:
                methods.append(chosen)
        if methods:
            built.values[s.id] = methods
    hs_code = b2b.export_hs_code or item.hsn_code
    if spec("hs_code") is not None:
        built.values["hs_code"] = hs_code


# category attributes ---------------------------------------------------------------------------


def _own_value(item: ListingPayload, spec: FieldSpec) -> str | None:
    own = item.marketplace_attributes.get("attributes")
    if not isinstance(own, Mapping):
        return None
    for key in (spec.id, spec.name):
        if key in own and own[key] not in (None, ""):
            return str(own[key])
    low = spec.name.casefold()
    found = next((v for k, v in own.items() if str(k).casefold() == low), None)
    return None if found in (None, "") else str(found)


def attribute_values(
    item: ListingPayload,
    category: Category,
    categories: CategoryMap,
    schema: CategorySchema,
    built: Built,
) -> None:
    """Every field of the schema that is not a standard one: from the product's own values,
    else from the category map's rules (by the attribute's name or field id)."""
    for spec in schema.fields.values():
        if spec.id in CANONICAL:
            continue
        value = _own_value(item, spec)
        if value is None:
            rule = category.attributes.get(spec.name) or category.attributes.get(spec.id)
            value = rule.resolve(item, categories.countries) if rule else None
        if value is None:
            continue
        if spec.type == "singleCheck":
            chosen = _choice(spec, value, built)
            if chosen is not None:
                built.values[spec.id] = chosen
        elif spec.type in ("multiCheck", "multiInput"):
            built.values[spec.id] = [value]
        else:
            built.values[spec.id] = value


# the whole product -----------------------------------------------------------------------------


def subject_of(item: ListingPayload, schema: CategorySchema | None = None) -> str:
    """The product name: the title on one line, cut at a word to the schema's maximum length
    (128 characters, §6, when the schema says nothing)."""
    subject = " ".join(item.title.split())
    spec = schema.get("subject") if schema else None
    limit = int((spec.number_rule("maxLengthRule") if spec else None) or MAX_SUBJECT)
    if len(subject) <= limit:
        return subject
    return subject[:limit].rsplit(" ", 1)[0] or subject[:limit]


def _content(item: ListingPayload, schema: CategorySchema, images: list[str], built: Built) -> None:
    subject = subject_of(item, schema)
    if subject != " ".join(item.title.split()):
        advice = f"the title is longer than Alibaba.com takes; sent as {subject!r}"
        built.warn("subject", advice, "CUT")
    standard: dict[str, Value] = {
        "subject": subject,
        "description": description(item),
        "red_model": item.sku,
        "keywords": keywords(item),
        "main_image": images[:MAX_IMAGES],
        "product_type": "wholesale",
        "fob_currency": "USD",
    }
    for field_id, value in standard.items():
        spec = schema.get(field_id)
        if spec is None or value in ("", []):
            continue
        if spec.type == "singleCheck" and isinstance(value, str):
            chosen = _choice(spec, value, built)
            if chosen is not None:
                built.values[field_id] = chosen
        else:
            built.values[field_id] = value


def build(
    item: ListingPayload,
    category: Category,
    categories: CategoryMap,
    schema: CategorySchema,
    images: list[str],
) -> Built:
    """The schema values of one product with B2B terms, with every problem found."""
    built = Built(item.sku)
    if item.b2b is None:  # the caller rejects these first; kept total for safety
        built.error("min_order_quantity", NO_B2B, NEEDS_CATALOG_MAPPING)
        return built
    _content(item, schema, images, built)
    b2b_values(item, item.b2b, schema, built)
    attribute_values(item, category, categories, schema, built)
    already = {i.attribute_names for i in built.issues}
    for spec in schema.required:
        if spec.id not in built.values and (spec.label,) not in already:
            built.error(spec, _missing_advice(spec), "REQUIRED")
    return built


def _missing_advice(spec: FieldSpec) -> str:
    if spec.id == "main_image":
        return (
            "Alibaba.com requires at least one product image on its own image host (the "
            "photobank); add an image the server may fetch"
        )
    if spec.id in CANONICAL:
        return f"Alibaba.com requires {spec.name or spec.id}; fill it in the catalog"
    return (
        f"Alibaba.com requires {spec.name!r} in this category; set it as "
        f"{OWN_ATTRIBUTES}.{spec.name} or add a rule for it to alibaba/categories.toml"
    )


def marketplace_issues(
    sku: str, problems: Sequence[tuple[str, str]], schema: CategorySchema | None = None
) -> list[ItemIssue]:
    """A product refusal (biz_success false) in plain words: each code and message, the field
    named where the message names one of the schema's fields."""
    out = []
    for code, message in problems or [("REFUSED", "")]:
        spec = _named_field(message, schema) if schema else None
        field_name = canonical_field(spec) if spec else "listing"
        words = message or "no reason given"
        out.append(
            issue(
                sku,
                field_name,
                f"{MARKETPLACE} refused the product ({code or 'no code'}: {words})",
                code or "REFUSED",
                names=(spec.label,) if spec else (),
            )
        )
    return out


def _named_field(message: str, schema: CategorySchema) -> FieldSpec | None:
    low = message.casefold()
    for spec in schema.fields.values():
        if spec.id.casefold() in low or (spec.name and spec.name.casefold() in low):
            return spec
    return None


__all__ = [
    "NO_B2B",
    "Built",
    "build",
    "canonical_field",
    "issue",
    "marketplace_issues",
    "no_category",
    "not_b2b",
    "rejected",
    "subject_of",
]
