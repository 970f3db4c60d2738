"""A deterministic French demo shop: the same seed gives the same shop, to the cent.

Orders are priced the way PrestaShop does by default (round per item):
unit price incl. VAT rounded to the cent, line total = unit x quantity,
shipping and discounts with their own VAT, totals summed from the lines.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from tui_connector.prestashop.codec import Translated
from tui_connector.simulator.checkout import PAID_STATES, Cart, place, six
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import ShopData

TAXES = {1: Decimal("20"), 2: Decimal("10"), 3: Decimal("5.5"), 4: Decimal("2.1")}
TAX_GROUPS = {
    1: (1, "FR Taux standard (20%)"),
    2: (2, "FR Taux réduit (10%)"),
    3: (3, "FR Taux réduit (5.5%)"),
    4: (4, "FR Taux super réduit (2.1%)"),
}
# id, name, paid, logable, shipped, delivery, invoice, template: a PrestaShop 8.1.2
# install's (order_states_full of the real shop's captures)
ORDER_STATES = [
    (1, "En attente du paiement par chèque", 0, 0, 0, 0, 0, "cheque"),
    (2, "Paiement accepté", 1, 1, 0, 0, 1, "payment"),
    (3, "En cours de préparation", 1, 1, 0, 1, 1, "preparation"),
    (4, "Expédié", 1, 1, 1, 1, 1, "shipped"),
    (5, "Livré", 1, 1, 1, 1, 1, ""),
    (6, "Annulé", 0, 0, 0, 0, 0, "order_canceled"),
    (7, "Remboursé", 0, 0, 0, 0, 1, "refund"),
    (8, "Erreur de paiement", 0, 0, 0, 0, 0, "payment_error"),
    (9, "En attente de réapprovisionnement (payé)", 1, 0, 0, 0, 1, "outofstock"),
    (10, "En attente de virement bancaire", 0, 0, 0, 0, 0, "bankwire"),
    (11, "Paiement à distance accepté", 1, 1, 0, 0, 1, "payment"),
    (12, "En attente de réapprovisionnement (non payé)", 0, 0, 0, 0, 0, "outofstock"),
    (13, "En attente de paiement à la livraison", 0, 0, 0, 0, 0, "cashondelivery"),
]
# The real shop's answers to the names the connector asks (configurations_filtered).
CONFIGURATION = {
    "PS_TIMEZONE": "Europe/Paris",
    "PS_COUNTRY_DEFAULT": "8",
    "PS_CURRENCY_DEFAULT": "1",
    "PS_LANG_DEFAULT": "2",
    "PS_ROUND_TYPE": "2",
    "PS_PRICE_ROUND_MODE": "2",
    "PS_OS_CHEQUE": "1",
    "PS_OS_PAYMENT": "2",
    "PS_OS_PREPARATION": "3",
    "PS_OS_SHIPPING": "4",
    "PS_OS_DELIVERED": "5",
    "PS_OS_CANCELED": "6",
    "PS_OS_REFUND": "7",
    "PS_OS_ERROR": "8",
    "PS_OS_OUTOFSTOCK_PAID": "9",
    "PS_OS_BANKWIRE": "10",
    "PS_OS_WS_PAYMENT": "11",
    "PS_OS_OUTOFSTOCK_UNPAID": "12",
    "PS_OS_COD_VALIDATION": "13",
    "PS_INVOICE": "1",
    "PS_TAX": "1",
    "PS_GIFT_WRAPPING_PRICE": "2.5",
    "PS_GIFT_WRAPPING_TAX_RULES_GROUP": "1",
    "PS_B2B_ENABLE": "1",
}
STATE_WEIGHTS = {5: 40, 4: 15, 2: 12, 3: 6, 1: 6, 10: 5, 6: 6, 7: 3, 8: 2, 11: 3, 9: 2}
PAYMENTS = {1: ("ps_checkpayment", "Chèque"), 10: ("ps_wirepayment", "Virement bancaire")}
FIRST = [
    "Marie",
    "Jean",
    "Camille",
    "Louis",
    "Chloé",
    "Hugo",
    "Léa",
    "Lucas",
    "Manon",
    "Paul",
    "Inès",
    "Arthur",
    "Sarah",
    "Jules",
    "Emma",
    "Gabriel",
    "Alice",
    "Nathan",
    "Zoé",
    "Théo",
]
LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Thomas",
    "Robert",
    "Richard",
    "Petit",
    "Durand",
    "Leroy",
    "Moreau",
    "Simon",
    "Laurent",
    "Lefèvre",
    "Michel",
    "Garcia",
    "Fournier",
]
CITIES = [
    ("75011", "Paris"),
    ("69003", "Lyon"),
    ("13006", "Marseille"),
    ("31000", "Toulouse"),
    ("33000", "Bordeaux"),
    ("44000", "Nantes"),
    ("67000", "Strasbourg"),
    ("59000", "Lille"),
]
STREETS = [
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Voltaire",
    "place de la Mairie",
    "rue des Lilas",
    "chemin des Vignes",
    "allée des Tilleuls",
]
# category id, parent, name (fr)
CATEGORIES = [
    (1, 0, "Racine"),
    (2, 1, "Accueil"),
    (3, 2, "Vêtements"),
    (4, 3, "Homme"),
    (5, 3, "Femme"),
    (6, 2, "Accessoires"),
    (7, 6, "Papeterie"),
    (8, 6, "Maison"),
    (9, 2, "Épicerie fine"),
]
CATALOGUE = [  # (category, tax group, name, price excl. VAT, with sizes/colours)
    (4, 1, "T-shirt colibri", "19.120000", True),
    (5, 1, "Pull imprimé colibri", "29.920000", True),
    (4, 1, "Chemise en lin", "41.583333", True),
    (7, 1, "Carnet de notes renard", "10.750000", False),
    (8, 1, "Coussin ours brun", "15.825000", False),
    (8, 1, "Mug L'aventure commence", "9.916667", False),
    (9, 3, "Confiture de figues", "5.592417", False),
    (9, 3, "Miel de lavande", "8.530806", False),
    (9, 2, "Jus de pomme artisanal", "3.545455", False),
    (7, 4, "Revue Le Monde des mots", "6.758080", False),
]
SIZES = [(1, "S"), (2, "M"), (3, "L"), (4, "XL")]
COLOURS = [(11, "Blanc"), (12, "Noir"), (13, "Bleu")]


def fr(text: str, en: str | None = None) -> Translated:
    return Translated({1: en or text, 2: text})


def build(
    orders: int = 200,
    customers: int | None = None,
    products: int | None = None,
    seed: int = 1,
    start: dt.date = dt.date(2024, 12, 1),
    real_shapes: bool = False,
) -> ShopData:
    """The demo shop: `orders` orders over two years from `start`; with `real_shapes`,
    the shapes real shops hold as well (what `tui-connector demo` shows)."""
    rng = random.Random(seed)
    data = ShopData()
    customers = customers or max(5, orders // 4)
    _reference_tables(data)
    catalogue = _catalogue(data, rng, products or len(CATALOGUE))
    _customers(data, rng, customers, start)
    _orders(data, rng, orders, catalogue, start)
    if real_shapes:
        add_real_shapes(data)
    return data


def add_real_shapes(data: ShopData) -> None:
    """What the real shops hold and a made-up catalogue would not (tests/fixtures/
    prestashop): combinations with the parent's reference (PrestaShop's own demo
    catalogue), a product without one, a product the JSON renderer chokes on, a guest
    with a registered twin, the GDPR module's placeholder, an order whose customer is
    gone. The data says it holds them (`real_shapes`): the demo's Gestan then has a past
    with it (demo_gestan.seed)."""
    from tui_connector.simulator.server import JSON_BREAKS

    data.real_shapes = True
    products = data.table("products")
    for combination in data.table("combinations").values():
        if combination["id_product"] == "1":
            combination["reference"] = products[1]["reference"]
    if 9 in products:
        products[9]["reference"] = ""
    if 8 in products:
        products[8][JSON_BREAKS] = True
    customers = data.table("customers")
    first = customers[1]
    stamp = "2026-11-02 10:00:00"
    guest = data.insert(
        "customers",
        {**first, "id": None, "is_guest": "1", "id_default_group": "2", "date_add": stamp},
    )
    home = next(a for a in data.table("addresses").values() if a["id_customer"] == "1")
    data.insert("addresses", {**home, "id": None, "id_customer": guest["id"]})
    data.insert(
        "customers",
        {
            **first,
            "id": None,
            "firstname": "Anonymous",
            "lastname": "Anonymous",
            "email": "anonymous@psgdpr.com",
            "id_gender": "0",
            "note": "",
            "date_add": stamp,
        },
    )
    orders = data.table("orders")
    if orders:
        orders[max(orders)]["id_customer"] = str(max(customers) + 100)  # deleted since


def _reference_tables(data: ShopData) -> None:
    data.insert(
        "languages",
        {
            "id": "1",
            "name": "English (English)",
            "iso_code": "en",
            "locale": "en-US",
            "language_code": "en-us",
            "active": "1",
        },
    )
    data.insert(
        "languages",
        {
            "id": "2",
            "name": "Français (French)",
            "iso_code": "fr",
            "locale": "fr-FR",
            "language_code": "fr",
            "active": "1",
        },
    )
    for currency_id, name, iso, rate in (
        (1, "Euro", "EUR", "1.000000"),
        (2, "Franc suisse", "CHF", "0.940000"),
    ):
        data.insert(
            "currencies",
            {
                "id": str(currency_id),
                "name": name,
                "iso_code": iso,
                "conversion_rate": rate,
                "active": "1",
            },
        )
    for country_id, iso, name in (
        (8, "FR", "France"),
        (3, "BE", "Belgique"),
        (19, "CH", "Suisse"),
        (12, "LU", "Luxembourg"),
    ):
        data.insert(
            "countries",
            {
                "id": str(country_id),
                "id_zone": "1",
                "id_currency": "0",
                "iso_code": iso,
                "active": "1",
                "name": fr(name),
            },
        )
    data.insert("zones", {"id": "1", "name": "Europe", "active": "1"})
    for group_id, name in ((1, "Visiteur"), (2, "Invité"), (3, "Client")):
        data.insert(
            "groups",
            {
                "id": str(group_id),
                "reduction": "0.00",
                "price_display_method": "0",
                "show_prices": "1",
                "name": fr(name),
            },
        )
    data.insert(
        "shops",
        {
            "id": "1",
            "id_shop_group": "1",
            "id_category": "2",
            "active": "1",
            "name": "Boutique démo",
        },
    )
    for tax_id, rate in TAXES.items():
        data.insert(
            "taxes",
            {
                "id": str(tax_id),
                "rate": f"{rate:.3f}",
                "active": "1",
                "deleted": "0",
                "name": fr(f"TVA FR {rate}%"),
            },
        )
    for group_id, (tax_id, name) in TAX_GROUPS.items():
        data.insert(
            "tax_rule_groups", {"id": str(group_id), "name": name, "active": "1", "deleted": "0"}
        )
        # French rates for France and the EU countries, none for Switzerland: what a
        # French install's rules say (tax_rules_full of the real shop)
        for position, country_id in enumerate((8, 3, 12)):
            data.insert(
                "tax_rules",
                {
                    "id": str(group_id + 10 * position),
                    "id_tax_rules_group": str(group_id),
                    "id_country": str(country_id),
                    "id_state": "0",
                    "zipcode_from": "0",
                    "zipcode_to": "0",
                    "id_tax": str(tax_id),
                    "behavior": "0",
                },
            )
    for carrier_id, name in ((1, "Retrait en boutique"), (2, "Colissimo")):
        data.insert(
            "carriers",
            {
                "id": str(carrier_id),
                "deleted": "0",
                "is_module": "0",
                "id_tax_rules_group": "1",
                "name": name,
                "active": "1",
                "shipping_handling": "0",
                "delay": fr("2 à 3 jours"),
            },
        )
    for position, (name, value) in enumerate(CONFIGURATION.items(), start=1):
        data.insert(
            "configurations",
            {
                "id": str(position),
                "value": value,
                "name": name,
                "id_shop_group": "",
                "id_shop": "",
                "date_add": "2024-11-30 09:00:00",
                "date_upd": "2024-11-30 09:00:00",
            },
        )
    # per language, so `configurations` never gives it (the real shop's fact 22)
    data.insert(
        "translated_configurations",
        {
            "id": "39",
            "value": fr("#IN"),
            "name": "PS_INVOICE_PREFIX",
            "id_shop_group": "",
            "id_shop": "",
            "date_add": "2024-11-30 09:00:00",
            "date_upd": "2024-11-30 09:00:00",
        },
    )
    for state_id, name, paid, logable, shipped, delivery, invoice, template in ORDER_STATES:
        data.insert(
            "order_states",
            {
                "id": str(state_id),
                "paid": str(paid),
                "logable": str(logable),
                "shipped": str(shipped),
                "delivery": str(delivery),
                "invoice": str(invoice),
                "deleted": "0",
                "name": fr(name),
                "color": "#3498D8",
                "template": fr(template),
            },
        )
    for category_id, parent, name in CATEGORIES:
        depth = 0 if category_id == 1 else 1 if category_id == 2 else 2 if parent == 2 else 3
        data.insert(
            "categories",
            {
                "id": str(category_id),
                "id_parent": str(parent),
                "level_depth": str(depth),
                "active": "1",
                "id_shop_default": "1",
                "is_root_category": "1" if category_id == 2 else "0",
                "position": "0",
                "date_add": "2024-01-01 09:00:00",
                "date_upd": "2024-01-01 09:00:00",
                "name": fr(name),
                "link_rewrite": fr(name.lower().replace(" ", "-")),
            },
        )
    data.insert(
        "product_options",
        {
            "id": "1",
            "is_color_group": "0",
            "group_type": "select",
            "position": "0",
            "name": fr("Taille", "Size"),
            "public_name": fr("Taille", "Size"),
        },
    )
    data.insert(
        "product_options",
        {
            "id": "2",
            "is_color_group": "1",
            "group_type": "color",
            "position": "1",
            "name": fr("Couleur", "Color"),
            "public_name": fr("Couleur", "Color"),
        },
    )
    for value_id, name in SIZES:
        data.insert(
            "product_option_values",
            {
                "id": str(value_id),
                "id_attribute_group": "1",
                "position": str(value_id),
                "name": fr(name),
            },
        )
    for value_id, name in COLOURS:
        data.insert(
            "product_option_values",
            {
                "id": str(value_id),
                "id_attribute_group": "2",
                "position": str(value_id),
                "name": fr(name),
            },
        )


def _catalogue(data: ShopData, rng: random.Random, count: int) -> list[dict]:
    """Products (and their combinations); returns what can be ordered."""
    sellable = []
    for index in range(count):
        category, tax_group, name, price, variants = CATALOGUE[index % len(CATALOGUE)]
        if index >= len(CATALOGUE):
            name = f"{name} n°{index // len(CATALOGUE) + 1}"
        product_id = index + 1
        reference = f"DEMO-{product_id:05d}"
        product = data.insert(
            "products",
            _product_record(
                product_id,
                category,
                tax_group,
                name,
                price,
                variants=variants,
                added="2024-01-01 09:00:00",
                updated="2024-06-01 09:00:00",
            ),
        )
        rate = TAXES[TAX_GROUPS[tax_group][0]]
        stocks = []
        if variants:
            combos = []
            for size_id, size in SIZES[:3]:
                for colour_id, colour in COLOURS[:2]:
                    impact = Decimal("2.500000") if size == "L" else Decimal(0)
                    combination = data.insert(
                        "combinations",
                        {
                            "id_product": str(product_id),
                            "reference": f"{reference}-{size}-{colour[:2].upper()}",
                            "ean13": "",
                            "price": six(impact),
                            "wholesale_price": "0.000000",
                            "minimal_quantity": "1",
                            "default_on": "1" if not combos else "",
                            "available_date": "0000-00-00",
                            "associations": {
                                "product_option_values": [
                                    {"id": str(size_id)},
                                    {"id": str(colour_id)},
                                ]
                            },
                        },
                    )
                    combos.append({"id": combination["id"]})
                    quantity = rng.randint(0, 40)
                    stocks.append((combination["id"], quantity))
                    sellable.append(
                        {
                            "product": product,
                            "attribute": combination["id"],
                            "name": f"{name} - Taille : {size}, Couleur : {colour}",
                            "reference": combination["reference"],
                            "price": Decimal(price) + impact,
                            "rate": rate,
                            "tax_id": TAX_GROUPS[tax_group][0],
                            "group": tax_group,
                        }
                    )
            product["associations"]["combinations"] = combos
            product["associations"]["product_option_values"] = [
                {"id": str(v)} for v in (1, 2, 3, 11, 12)
            ]
        else:
            sellable.append(
                {
                    "product": product,
                    "attribute": "0",
                    "name": name,
                    "reference": reference,
                    "price": Decimal(price),
                    "rate": rate,
                    "tax_id": TAX_GROUPS[tax_group][0],
                    "group": tax_group,
                }
            )
        total = sum(q for _, q in stocks) if stocks else rng.randint(0, 120)
        _stock(data, product, [("0", total), *stocks])
    _specific_prices(data, count)
    return sellable


def _product_record(
    product_id: int,
    category: int,
    tax_group: int,
    name: str,
    price: str,
    *,
    variants: bool,
    added: str,
    updated: str,
) -> dict:
    """A product as the shop holds it, before its combinations and stock."""
    ean = f"3700000{product_id:05d}"
    ean += str((10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(ean)) % 10) % 10)
    return {
        "id": str(product_id),
        "id_category_default": str(category),
        "id_tax_rules_group": str(tax_group),
        "reference": f"DEMO-{product_id:05d}",
        "ean13": ean,
        "price": price,
        "wholesale_price": six(Decimal(price) / 2),
        "active": "1",
        "state": "1",
        "product_type": "combinations" if variants else "standard",
        "type": "simple",
        "minimal_quantity": "1",
        "available_for_order": "1",
        "show_price": "1",
        "condition": "new",
        "visibility": "both",
        "id_shop_default": "1",
        "date_add": added,
        "date_upd": updated,
        "name": fr(name),
        "link_rewrite": fr(name.lower().replace(" ", "-")),
        "description_short": fr(f"<p>{name}, de notre sélection.</p>"),
        "associations": {"categories": [{"id": "2"}, {"id": str(category)}]},
    }


def _stock(data: ShopData, product: dict, rows: list[tuple[str, int]]) -> None:
    """A product's stock rows {(combination id or "0", quantity)}, the product's own
    first, and the product's quantity (their total)."""
    product["associations"]["stock_availables"] = []
    for attribute, quantity in rows:
        row = data.insert(
            "stock_availables",
            {
                "id_product": product["id"],
                "id_product_attribute": str(attribute),
                "id_shop": "1",
                "id_shop_group": "0",
                "quantity": str(quantity),
                "depends_on_stock": "0",
                "out_of_stock": "2",
                "location": "",
            },
        )
        product["associations"]["stock_availables"].append(
            {"id": row["id"], "id_product_attribute": str(attribute)}
        )
    product["quantity"] = str(rows[0][1])


def add_product(
    data: ShopData,
    name: str,
    *,
    category: int,
    tax_group: int,
    price: str,
    quantity: int,
    when: dt.datetime,
) -> dict:
    """A product the back office creates (no combinations), with `quantity` in stock,
    shaped as the catalogue's; returns it."""
    stamp = when.strftime("%Y-%m-%d %H:%M:%S")
    with data.lock:
        product_id = max(data.table("products"), default=0) + 1
        product = data.insert(
            "products",
            _product_record(
                product_id,
                category,
                tax_group,
                name,
                price,
                variants=False,
                added=stamp,
                updated=stamp,
            ),
        )
        _stock(data, product, [("0", quantity)])
        data.changed()
    return product


def _specific_prices(data: ShopData, count: int) -> None:
    """A Belgian discount, a professional price, and a customer's own price."""
    common = {
        "id_shop_group": "0",
        "id_shop": "0",
        "id_cart": "0",
        "id_currency": "0",
        "id_specific_price_rule": "0",
        "from": "0000-00-00 00:00:00",
        "to": "0000-00-00 00:00:00",
        "id_product_attribute": "0",
    }
    if count >= 5:
        data.insert(
            "specific_prices",
            {
                **common,
                "id_product": "5",
                "id_country": "3",
                "id_group": "0",
                "id_customer": "0",
                "price": "-1.000000",
                "from_quantity": "1",
                "reduction": "0.100000",
                "reduction_tax": "1",
                "reduction_type": "percentage",
            },
        )
    if count >= 7:
        data.insert(
            "specific_prices",
            {
                **common,
                "id_product": "7",
                "id_country": "0",
                "id_group": "0",
                "id_customer": "2",
                "price": "7.500000",
                "from_quantity": "1",
                "reduction": "0.000000",
                "reduction_tax": "1",
                "reduction_type": "amount",
            },
        )


def _customers(data: ShopData, rng: random.Random, count: int, start: dt.date) -> None:
    for customer_id in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        guest = customer_id % 7 == 0
        gender = (
            "2"
            if first
            in (
                "Marie",
                "Camille",
                "Chloé",
                "Léa",
                "Manon",
                "Inès",
                "Sarah",
                "Emma",
                "Alice",
                "Zoé",
            )
            else "1"
        )
        created = dt.datetime.combine(start, dt.time(9)) + dt.timedelta(hours=customer_id * 7)
        stamp = created.strftime("%Y-%m-%d %H:%M:%S")
        email = f"{first}.{last}.{customer_id}@exemple.fr".lower().translate(
            str.maketrans("éèëïôç", "eeeioc")
        )
        data.insert(
            "customers",
            {
                "id": str(customer_id),
                "id_default_group": "2" if guest else "3",
                "id_lang": "2",
                "lastname": last.upper() if customer_id % 3 == 0 else last,
                "firstname": first,
                "email": email,
                "id_gender": gender if customer_id % 13 else "0",
                "birthday": "0000-00-00",
                "newsletter": str(customer_id % 2),
                "optin": "0",
                "company": "Atelier " + last if customer_id % 9 == 0 else "",
                "active": "1",
                "is_guest": "1" if guest else "0",
                "deleted": "0",
                "note": "Client fidèle" if customer_id % 17 == 0 else "",
                "id_shop": "1",
                "id_shop_group": "1",
                "date_add": stamp,
                "date_upd": stamp,
                "associations": {"groups": [{"id": "2" if guest else "3"}]},
            },
        )
        for alias_index in range(1 + (customer_id % 5 == 0) + (customer_id % 15 == 0)):
            postcode, city = rng.choice(CITIES)
            data.insert(
                "addresses",
                {
                    "id_customer": str(customer_id),
                    "id_manufacturer": "0",
                    "id_supplier": "0",
                    "id_warehouse": "0",
                    "id_country": "8",
                    "id_state": "0",
                    "alias": ["Mon adresse", "Bureau", "Maison de campagne"][alias_index],
                    "company": "",
                    "lastname": last,
                    "firstname": first,
                    "vat_number": "",
                    "address1": f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
                    "address2": "",
                    "postcode": postcode,
                    "city": city,
                    "other": "",
                    "phone": f"01{rng.randint(10000000, 99999999)}",
                    "phone_mobile": f"06{rng.randint(10000000, 99999999)}"
                    if alias_index == 0
                    else "",
                    "dni": "",
                    "deleted": "0",
                    "date_add": stamp,
                    "date_upd": stamp,
                },
            )


def _orders(
    data: ShopData, rng: random.Random, count: int, catalogue: list[dict], start: dt.date
) -> None:
    addresses_of: dict[str, list[str]] = {}
    for address in data.table("addresses").values():
        addresses_of.setdefault(address["id_customer"], []).append(address["id"])
    customers = sorted(addresses_of, key=int)
    states = list(STATE_WEIGHTS)
    weights = list(STATE_WEIGHTS.values())
    span = 2 * 365 * 24 * 3600
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    refunds: list[tuple[int, dt.datetime]] = []
    for order_id in range(1, count + 1):
        placed = dt.datetime.combine(start, dt.time(8)) + dt.timedelta(
            seconds=span * (order_id - 1) // max(1, count) + rng.randint(0, 3000)
        )
        customer = rng.choice(customers)
        delivery = rng.choice(addresses_of[customer])
        invoice = delivery if rng.random() < 0.85 else rng.choice(addresses_of[customer])
        state = rng.choices(states, weights)[0]
        module, payment = PAYMENTS.get(state, ("ps_wirepayment", "Virement bancaire"))
        size = min(len(catalogue), rng.choice((1, 1, 2, 2, 3, 4)))
        lines = [(entry, rng.choice((1, 1, 1, 2, 3))) for entry in rng.sample(catalogue, k=size)]
        carrier = "2" if rng.random() < 0.9 else "1"
        reference = "".join(rng.choice(letters) for _ in range(9))
        paid = state in PAID_STATES
        # A transfer arrives a day or two after the order: the payment, the invoice and
        # the state that says paid are dated then, as the shop records them.
        received = placed + dt.timedelta(hours=rng.randint(20, 52)) if paid else placed
        if state == 7:
            state = 5  # delivered first; the refund comes later, through the shop's life
            if order_id % 7:  # (a voucher's share of a refund is the back office's choice)
                refunds.append((order_id, received + dt.timedelta(days=rng.randint(5, 20))))
        place(
            data,
            Cart(
                customer=customer,
                delivery=delivery,
                invoice=invoice,
                lines=lines,
                placed=placed,
                state=state,
                reference=reference,
                module=module,
                payment=payment,
                carrier=carrier,
                voucher=order_id % 7 == 0,
                received=received,
                secure_key=f"{rng.getrandbits(128):032x}",
                order_id=order_id,
                extra={"note": "Livrer après 18 h" if order_id % 19 == 0 else ""},
            ),
        )
        if order_id % 23 == 0:
            data.insert(
                "messages",
                {
                    "id_cart": str(order_id),
                    "id_order": str(order_id),
                    "id_customer": customer,
                    "id_employee": "0",
                    "message": "Merci de bien emballer, c'est un cadeau.",
                    "private": "0",
                    "date_add": placed.strftime("%Y-%m-%d %H:%M:%S"),
                },
            )
    life = ShopLife(data)
    for order_id, when in refunds:  # a standard refund: the credit slip, then Refunded
        life.refund(order_id, when)
