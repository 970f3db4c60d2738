"""The catalogue as both sides compare it: a shop product or combination, or a Gestan
product, as a Unit (pure functions of what was read and the run's mapping), and the
families made from the shop's categories. Read by the products flow, the mapping
screen's cache, the runner and the demo."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.prestashop.codec import text
from tui_connector.sync.core import content_hash
from tui_connector.sync.shop_facts import ShopFacts

RESOURCE = "products"  # the shop's resource, and the name of the products' links
SIX = Decimal("0.000001")


@dataclass(frozen=True)
class Unit:
    """A sellable thing as both sides can compare it: shop product or combination."""

    code: str
    ean13: str
    label: str
    attribute_label: str
    price_excl: Decimal
    vat_rate: Decimal | None
    family: str | None
    active: bool
    # the shop's own reference, kept beside the code: not compared (Gestan has none
    # for a product it made itself)
    shop_reference: str = field(default="", compare=False)

    def digest(self) -> str:
        return content_hash(
            [
                self.code,
                self.ean13,
                self.label,
                self.attribute_label,
                str(self.price_excl),
                str(self.vat_rate),
                self.family,
                self.active,
            ]
        )

    def same_as(self, other: Unit) -> bool:
        return self.digest() == other.digest()


def shop_price(value: str) -> Decimal:
    number = Decimal(value or "0")
    if not number.is_finite():
        raise ValueError(f"{value!r} n'est pas un prix")
    return number.quantize(SIX)


def shop_unit(
    product: dict, combination: dict | None, facts: ShopFacts, families: dict[str, str]
) -> Unit:
    """A shop product or one of its combinations as a Unit (pure)."""
    name = text(product.get("name"), facts.language).strip() or f"Produit {product['id']}"
    reference = product.get("reference", "").strip()
    attribute_label = ""
    if combination is not None:
        parts = []
        for value in combination.get("associations", {}).get("product_option_values", []):
            option = facts.option_values.get(int(value.get("id") or 0))
            if option:
                group = facts.option_groups.get(option["group"], "")
                parts.append(f"{group} - {option['name']}" if group else option["name"])
        attribute_label = ", ".join(parts)
        own = combination.get("reference", "").strip()
        shop_reference = own
        # many shops give every combination the parent's reference, or none: then the
        # code is the parent's and the combination's id, the same on every run
        code = own if own and own != reference else combination_code(product, combination)
        ean13 = combination.get("ean13", "").strip()
        price = shop_price(product.get("price")) + shop_price(combination.get("price"))
    else:
        code = shop_reference = reference
        code = code or f"PS{product['id']}"
        ean13 = product.get("ean13", "").strip()
        price = shop_price(product.get("price"))
    label = f"{name} - {attribute_label}" if attribute_label else name
    group = int(product.get("id_tax_rules_group") or 0)
    rate = facts.group_rates.get(group) if group else Decimal(0)
    return Unit(
        code=code[:64],
        ean13=ean13[:13],
        label=label[:255],
        attribute_label=attribute_label[:255],
        price_excl=price,
        vat_rate=None if rate is None else Decimal(rate).quantize(Decimal("0.001")),
        family=families.get(product.get("id_category_default", "")),
        active=product.get("active") == "1",
        shop_reference=shop_reference[:64],
    )


def combination_code(product: dict, combination: dict) -> str:
    reference = product.get("reference", "").strip() or f"PS{product['id']}"
    return f"{reference}-{combination['id']}"


def unique_code(unit: Unit, shop_id: int, sub_id: int) -> str:
    """The code of a product whose reference another product already has."""
    suffix = f"-{sub_id}" if sub_id else f"-P{shop_id}"
    return unit.code if unit.code.endswith(suffix) else f"{unit.code[: 64 - len(suffix)]}{suffix}"


def reference_for_shop(target: m.Product, in_shop: str) -> str:
    """What Gestan sends as the shop's reference: its code, unless the code was made
    because the shop's reference (`in_shop`, shared or empty) could not be one: then
    the shop keeps its own."""
    made = target.code != target.shop_reference and in_shop.strip() == target.shop_reference
    return in_shop if made else target.code


def as_linked(unit: Unit, target: m.Product) -> Unit:
    """Identity is the link: a linked product keeps the code Gestan gave it as long as
    the shop's reference is the one it was given for."""
    if unit.code != target.code and unit.shop_reference == target.shop_reference:
        return replace(unit, code=target.code)
    return unit


def gestan_unit(product: m.Product) -> Unit:
    return Unit(
        code=product.code,
        ean13=product.ean13,
        label=product.label,
        attribute_label=product.attribute_label,
        price_excl=product.price_excl,
        vat_rate=product.vat_rate.rate if product.vat_rate_id else None,
        family=product.family.code if product.family_id else None,
        active=product.active,
        shop_reference=product.shop_reference,
    )


def slug(label: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "produit"


def valid_ean13(code: str) -> bool:
    if not re.fullmatch(r"\d{13}", code):
        return False
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code[:12]))
    return (10 - total % 10) % 10 == int(code[12])


def create_families_from_categories(facts: ShopFacts) -> list[str]:
    """Top-level shop categories become families, their children sub-families; mapped."""
    made = []
    mapping = settings.family_keys("family.")
    tops = {cid: c for cid, c in facts.categories.items() if c["depth"] == 2}
    for cid, category in sorted(facts.categories.items(), key=lambda kv: (kv[1]["depth"], kv[0])):
        if str(cid) in mapping or category["depth"] < 2:
            continue
        top = cid if category["depth"] == 2 else category["parent"]
        while top not in tops and facts.categories.get(top, {}).get("depth", 0) > 2:
            top = facts.categories[top]["parent"]
        code = f"F{cid:03d}"
        parent = None
        if cid != top and top in tops:
            parent_code = mapping.get(str(top)) or f"F{top:03d}"
            parent = m.Family.get_or_none(m.Family.code == parent_code)
        family = m.Family.get_or_none(m.Family.code == code)
        if family is None:
            family = m.Family.create(code=code, label=category["name"][:128], parent=parent)
            made.append(code)
        settings.set_value(f"family.{cid}", family.code)
        mapping[str(cid)] = family.code
    return made
