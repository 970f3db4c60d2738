"""The demo Gestan that goes with the demo shop: families mapped to its categories, some
products already there (linked, or only sharing a reference), stock that differs from the
shop's, and one product the shop does not have yet.

With the demo command's shop (built with its real shapes), Gestan has a past too, made
by the real flows over the simulated Webservice: the catalogue and the first orders
imported; then the shop lived on: some of those orders paid, cancelled or refunded, a
new product (its stock not managed by Gestan yet), a product changed on both sides.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import httpx

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import write_transaction
from tui_connector.gestan.links import link_of, links, save_link
from tui_connector.gestan.stock import INITIAL_STOCK, add_stock_movement
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator.demo_data import ShopData, add_product
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import Engine, new_key
from tui_connector.sync.orders import OrdersFlow
from tui_connector.sync.products import ProductsFlow

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


# The orders Gestan had imported before the demo starts: the first ones the shop took
# (and the others of the last one's day), enough for the shop to change a few.
FIRST_ORDERS = 10


def seed(shop: ShopData, *, past: bool | None = None) -> None:
    """Fill a new Gestan database for the demo shop `shop`; with `past` (by default, when
    the shop holds the real shapes: the demo command's), what Gestan and the shop did
    since the connector was set up (`live_a_while`)."""
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
                from tui_connector.sync.catalogue import shop_unit
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
    if getattr(shop, "real_shapes", False) if past is None else past:
        live_a_while(shop)


def live_a_while(shop: ShopData) -> None:
    """What a Gestan that has worked with the shop holds, made as a user makes it, then
    what changed since on either side:

    - the shop's products added to Gestan or linked (the products flow, its rows as
      read; Gestan's own product and the special prices are left to the user);
    - the first orders imported (the orders flow, up to the day of the
      `FIRST_ORDERS`th), with their customers;
    - then the shop lives: some of those orders are paid, cancelled or refunded
      (ShopLife.live), the back office adds a product (with stock, unknown to
      Gestan), and a linked product's price changes in the shop and in Gestan
      (a conflict: the user picks the side that wins).
    """
    simple = [
        p
        for p in shop.table("products").values()
        if not p.get("associations", {}).get("combinations")
    ]
    engine = Engine(shop, key=new_key())  # the shop's Webservice, for this only
    with SyncWebservice(
        engine.base_url, engine.key, transport=_InProcess(engine), on_notice=lambda said: None
    ) as client:
        products = ProductsFlow(client)
        products.execute(
            [r for r in products.read() if r.key.startswith("product:") and r.selected]
        )
        placed = sorted(shop.table("orders").values(), key=lambda o: (o["date_add"], int(o["id"])))
        if placed:
            last = placed[min(FIRST_ORDERS, len(placed)) - 1]["date_add"][:10]
            orders = OrdersFlow(client, date_to=dt.date.fromisoformat(last))
            orders.execute(orders.read())  # the rows it selects, as a user keeps them
    life = ShopLife(shop)
    now = life.now()
    imported = [shop_id for shop_id, _ in links("orders")]
    life.live(random.Random(1), now, share=0, among=imported)
    add_product(
        shop,
        "Sac cabas colibri",
        category=8,
        tax_group=1,
        price="12.416667",  # 14.90 incl. VAT
        quantity=15,
        when=now,
    )
    if not simple:
        return
    changed = simple[min(3, len(simple) - 1)]
    link = link_of("products", int(changed["id"]))
    if link is None:
        return
    price = Decimal(changed["price"])
    with write_transaction():  # Gestan's new price list...
        item = m.Product.get_by_id(link.gestan_id)
        item.price_excl = (price * Decimal("1.05")).quantize(Decimal("0.000001"))
        # (dates have whole seconds: the change is dated after the sync)
        item.updated_at = max(m.now(), link.synced_at + dt.timedelta(seconds=1))
        item.save()
    # ... and the shop's own, another
    life.edit_product(int(changed["id"]), now, price=f"{price * Decimal('1.1'):.6f}")


class _InProcess(httpx.AsyncBaseTransport):
    """The simulated Webservice's engine (what its HTTP server runs) answering the
    client in the same process: no socket, no thread to start and stop."""

    def __init__(self, engine: Engine):
        self.engine = engine

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        headers = {name.lower(): value for name, value in request.headers.items()}
        answer = self.engine.handle(
            request.method, request.url.raw_path.decode("ascii"), headers, await request.aread()
        )
        out = dict(answer.headers)
        if answer.content_type:
            out["Content-Type"] = answer.content_type
        body = b"" if request.method == "HEAD" else answer.body
        return httpx.Response(answer.status, headers=out, content=body, request=request)
