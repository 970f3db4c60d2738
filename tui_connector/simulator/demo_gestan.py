"""The demo Gestan that goes with the demo shop: families mapped to its categories, some
products already there (linked, or only sharing a reference), stock that differs from the
shop's, and one product the shop does not have yet.
"""

from __future__ import annotations

from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import write_transaction
from tui_connector.simulator.demo_data import ShopData
from tui_connector.sync.core import save_link
from tui_connector.sync.products import INITIAL_STOCK, add_stock_movement

FAMILIES = [  # code, label, parent, sales account, shop category
    ("VET", "Vêtements", None, "707100", 3),
    ("VET-H", "Homme", "VET", "", 4),
    ("VET-F", "Femme", "VET", "", 5),
    ("ACC", "Accessoires", None, "707200", 6),
    ("ACC-PAP", "Papeterie", "ACC", "", 7),
    ("ACC-MAI", "Maison", "ACC", "", 8),
    ("EPI", "Épicerie fine", None, "707300", 9),
]
RATES = {1: "T20", 2: "T10", 3: "T5.5", 4: "T2.1"}


def seed(shop: ShopData) -> None:
    """Fill a new Gestan database for the demo shop `shop`."""
    with write_transaction():
        for code, label, parent, account, category in FAMILIES:
            m.Family.create(
                code=code,
                label=label,
                sales_account=account,
                parent=m.Family.get(m.Family.code == parent) if parent else None,
            )
            settings.set_value(f"family.{category}", code)
        settings.set_value("civility.1", "M.")
        settings.set_value("civility.2", "Mme")
        settings.set_value("company.name", "Boutique démo")
        settings.set_value("company.siren", "732829320")
        for key, value in (
            ("company.address", "12 rue des Lilas, 69003 Lyon"),
            ("company.vat_number", "FR44732829320"),
            ("company.legal_form", "SARL"),
            ("company.capital", "10 000 €"),
            ("company.rcs", "RCS Lyon 732 829 320"),
        ):
            settings.set_value(key, value)
        for key in ("invoices.create", "invoices.mark_paid", "accounting.enabled"):
            settings.set_value(key, "true")
        family_of = {category: code for code, _, _, _, category in FAMILIES}
        simple = [
            p
            for p in shop.table("products").values()
            if not p.get("associations", {}).get("combinations")
        ]
        stock = {
            (s["id_product"], s["id_product_attribute"]): s
            for s in shop.table("stock_availables").values()
        }
        for index, product in enumerate(simple[:4]):
            group = int(product["id_tax_rules_group"])
            item = m.Product.create(
                code=product["reference"],
                ean13=product["ean13"],
                label=product["name"].text(2),
                price_excl=Decimal(product["price"]),
                vat_rate=m.VatRate.get(m.VatRate.code == RATES[group]),
                family=m.Family.get(
                    m.Family.code == family_of[int(product["id_category_default"])]
                ),
            )
            shop_quantity = int(stock[(product["id"], "0")]["quantity"])
            # the warehouse counted differently: the first stock sync has work to do
            add_stock_movement(
                item, Decimal(shop_quantity + 3 * (index + 1)), INITIAL_STOCK, "Stock initial"
            )
            if index < 3:  # the last one only shares its reference: linked on first read
                from tui_connector.sync.products import shop_unit
                from tui_connector.sync.shop_facts import ShopFacts

                facts = ShopFacts(
                    language=2,
                    group_rates={
                        1: Decimal("20"),
                        2: Decimal("10"),
                        3: Decimal("5.5"),
                        4: Decimal("2.1"),
                    },
                )
                digest = shop_unit(product, None, facts, settings.family_keys("family.")).digest()
                save_link(
                    "products",
                    int(product["id"]),
                    0,
                    item.id,
                    date_upd=product["date_upd"],
                    digest=digest,
                )
        candle = m.Product.create(
            code="GES-BOUGIE",
            label="Bougie parfumée figue",
            price_excl=Decimal("12.500000"),
            vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
            family=m.Family.get(m.Family.code == "ACC-MAI"),
        )
        add_stock_movement(candle, Decimal(24), "inventory", "Inventaire")
        m.Territory.create(code="BE", label="Belgique")
        professionals = m.Territory.create(code="PRO", label="Professionnels")
        settings.set_value("territory.BE", "country:BE")
        settings.set_value("territory.PRO", "group:3")
        notebook = m.Product.get(m.Product.code == simple[0]["reference"])
        # from 5 notebooks, professionals pay 9.50 excl. VAT
        m.SpecialPrice.create(
            product=notebook,
            territory=professionals,
            min_quantity=Decimal(5),
            price_excl=Decimal("9.500000"),
        )
