"""A cart becomes an order, priced the way PrestaShop 8.1.2 prices it.

What the real shop does, and the simulator with it (tests/fixtures/prestashop):
- the tax of a line is the rule of its product's tax group for the country of the
  delivery address (PS_TAX_ADDRESS_TYPE); a country with no rule pays no tax (the
  real shop has rules for the EU, Monaco and the United Kingdom, none for
  Switzerland: tax_rules_full); with B2B on, an address of another country with a
  VAT number pays none either;
- round per item (the demo's): the unit price incl. VAT is rounded to the cent and
  the line is that times the quantity; the line excl. VAT is rounded once;
- shipping is the carrier's price at the carrier's tax rule, gift wrapping the
  shop's wrapping price at its own tax rule (PS_GIFT_WRAPPING_TAX_RULES_GROUP);
- in another currency every price is converted at the currency's
  `conversion_rate` (units for one unit of the default currency) before tax and
  rounding, the order keeps that rate, and its payment is in that currency, with a
  conversion_rate of 1 (Order::addOrderPayment given no currency, as validateOrder
  calls it; a payment made by a later state change takes the order's rate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from tui_connector.simulator.life import payment_record
from tui_connector.simulator.server import ShopData

CENT = Decimal("0.01")
SIX = Decimal("0.000001")
STAMP = "%Y-%m-%d %H:%M:%S"
SHIPPING_EXCL = Decimal("5.83")  # Colissimo, in the default currency
FREE_SHIPPING_FROM = Decimal("80")  # incl. VAT, in the default currency
WRAPPING_EXCL = Decimal("2.50")  # PS_GIFT_WRAPPING_PRICE
WRAPPING_TAX_GROUP = 1  # PS_GIFT_WRAPPING_TAX_RULES_GROUP
CARRIER_TAX_GROUP = 1
PAID_STATES = {2, 3, 4, 5, 7, 9, 11}


def r2(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def six(value: Decimal) -> str:
    return str(value.quantize(SIX, rounding=ROUND_HALF_UP))


@dataclass
class Cart:
    customer: str
    delivery: str  # address ids
    invoice: str
    lines: list[tuple[dict, int]]  # (item, quantity): items as `item()` makes them
    placed: dt.datetime
    state: int
    reference: str
    module: str = "ps_wirepayment"
    payment: str = "Virement bancaire"
    carrier: str = "2"  # 1: collected in the shop, free
    voucher: bool = False  # a 10 % voucher on the goods
    currency: str = "1"
    wrapping: bool = False
    received: dt.datetime | None = None  # when a paid order's money came
    secure_key: str = ""
    order_id: int | None = None
    extra: dict = field(default_factory=dict)  # fields written as given (note...)


def item(data: ShopData, product_id: int, attribute: int = 0) -> dict:
    """What a cart line needs of a product (or one of its combinations)."""
    product = data.table("products")[product_id]
    price = Decimal(product["price"])
    reference, name = product.get("reference", ""), product["name"]
    name = name.get(2) if hasattr(name, "get") else name
    if attribute:
        combination = data.table("combinations")[attribute]
        price += Decimal(combination.get("price") or 0)
        reference = combination.get("reference") or reference
    return {
        "product": product,
        "attribute": str(attribute),
        "name": name,
        "reference": reference,
        "price": price,
        "group": int(product["id_tax_rules_group"]),
    }


def _configuration(data: ShopData, name: str, default: str) -> str:
    for row in data.table("configurations").values():
        if row.get("name") == name:
            return row.get("value") or default
    return default


def tax_for(data: ShopData, group: int, address: dict) -> tuple[str | None, Decimal]:
    """(tax id, rate) of a tax group for an address; (None, 0) where the shop has no rule."""
    country = address.get("id_country", "0")
    home = _configuration(data, "PS_COUNTRY_DEFAULT", "8")
    if address.get("vat_number") and country != home:
        return None, Decimal(0)  # a business of another country: no VAT (B2B)
    for rule in data.table("tax_rules").values():
        if str(rule["id_tax_rules_group"]) == str(group) and rule["id_country"] in (country, "0"):
            tax = data.table("taxes")[int(rule["id_tax"])]
            return str(tax["id"]), Decimal(tax["rate"])
    return None, Decimal(0)


def place(data: ShopData, cart: Cart) -> dict:
    """Write the order of `cart` with its lines, carrier, history, voucher and payment."""
    address = data.table("addresses")[int(cart.delivery)]
    currency = data.table("currencies")[int(cart.currency)]
    rate_of_currency = Decimal(currency.get("conversion_rate") or 1)
    stamp = cart.placed.strftime(STAMP)
    lines, products_excl, products_incl = [], Decimal(0), Decimal(0)
    for entry, quantity in cart.lines:
        tax_id, rate = tax_for(data, entry["group"], address)
        unit_excl = Decimal(six(entry["price"] * rate_of_currency))
        unit_incl = r2(unit_excl * (1 + rate / 100))  # PrestaShop: round per item
        total_incl = unit_incl * quantity
        total_excl = r2(unit_excl * quantity)
        products_excl += total_excl
        products_incl += total_incl
        lines.append((entry, quantity, unit_excl, unit_incl, total_excl, total_incl, tax_id))
    _, carrier_rate = tax_for(data, CARRIER_TAX_GROUP, address)
    ship_excl = r2(SHIPPING_EXCL * rate_of_currency) if cart.carrier == "2" else Decimal(0)
    ship_incl = r2(ship_excl * (1 + carrier_rate / 100))
    if products_incl >= FREE_SHIPPING_FROM * rate_of_currency:
        ship_excl = ship_incl = Decimal(0)
    wrap_excl = wrap_incl = Decimal(0)
    if cart.wrapping:
        _, wrap_rate = tax_for(data, WRAPPING_TAX_GROUP, address)
        wrap_excl = r2(WRAPPING_EXCL * rate_of_currency)
        wrap_incl = r2(wrap_excl * (1 + wrap_rate / 100))
    discount_incl = discount_excl = Decimal(0)
    if cart.voucher:  # 10 % of the goods, VAT at the goods' own rates
        discount_excl = r2(products_excl / 10)
        discount_incl = r2(products_incl / 10)
    paid_incl = products_incl + ship_incl + wrap_incl - discount_incl
    paid_excl = products_excl + ship_excl + wrap_excl - discount_excl
    order_id = cart.order_id or max(data.table("orders"), default=0) + 1
    order_rows = []
    for entry, quantity, unit_excl, unit_incl, total_excl, total_incl, tax_id in lines:
        detail = data.insert(
            "order_details",
            {
                "id_order": str(order_id),
                "product_id": entry["product"]["id"],
                "product_attribute_id": entry["attribute"],
                "id_shop": "1",
                "product_name": entry["name"],
                "product_quantity": str(quantity),
                "product_quantity_refunded": "0",
                "product_quantity_reinjected": "0",
                "product_price": six(unit_excl),
                "product_reference": entry["reference"],
                "product_ean13": "",
                "id_tax_rules_group": str(entry["group"]),
                "tax_computation_method": "0",
                "unit_price_tax_incl": six(unit_incl),
                "unit_price_tax_excl": six(unit_excl),
                "total_price_tax_incl": six(total_incl),
                "total_price_tax_excl": six(total_excl),
                "original_product_price": six(unit_excl),
                "associations": {"taxes": [{"id": tax_id}] if tax_id else []},
            },
        )
        order_rows.append(
            {
                "id": detail["id"],
                "product_id": entry["product"]["id"],
                "product_attribute_id": entry["attribute"],
                "product_quantity": str(quantity),
                "product_name": entry["name"],
                "product_reference": entry["reference"],
                "product_ean13": "",
                "product_price": six(unit_excl),
                "id_customization": "0",
                "unit_price_tax_incl": six(unit_incl),
                "unit_price_tax_excl": six(unit_excl),
            }
        )
    paid = cart.state in PAID_STATES
    received = (cart.received or cart.placed) if paid else cart.placed
    received_stamp = received.strftime(STAMP)
    order = data.insert(
        "orders",
        {
            "id": str(order_id),
            "id_address_delivery": cart.delivery,
            "id_address_invoice": cart.invoice,
            "id_cart": str(order_id),
            "id_currency": cart.currency,
            "id_lang": "2",
            "id_customer": cart.customer,
            "id_carrier": cart.carrier,
            "current_state": str(cart.state),
            "module": cart.module,
            "invoice_number": str(order_id) if paid else "0",
            "invoice_date": received_stamp if paid else "0000-00-00 00:00:00",
            "delivery_number": "0",
            "delivery_date": "0000-00-00 00:00:00",
            "valid": "1" if paid else "0",
            "date_add": stamp,
            "date_upd": received_stamp,
            "shipping_number": "",
            "note": "",
            "id_shop_group": "1",
            "id_shop": "1",
            "secure_key": cart.secure_key,
            "payment": cart.payment,
            "recyclable": "0",
            "gift": "1" if cart.wrapping else "0",
            "gift_message": "",
            "mobile_theme": "0",
            "total_discounts": six(discount_incl),
            "total_discounts_tax_incl": six(discount_incl),
            "total_discounts_tax_excl": six(discount_excl),
            "total_paid": six(paid_incl),
            "total_paid_tax_incl": six(paid_incl),
            "total_paid_tax_excl": six(paid_excl),
            "total_paid_real": six(paid_incl if paid else Decimal(0)),
            "total_products": six(products_excl),
            "total_products_wt": six(products_incl),
            "total_shipping": six(ship_incl),
            "total_shipping_tax_incl": six(ship_incl),
            "total_shipping_tax_excl": six(ship_excl),
            "carrier_tax_rate": f"{carrier_rate:.3f}",
            "total_wrapping": six(wrap_incl),
            "total_wrapping_tax_incl": six(wrap_incl),
            "total_wrapping_tax_excl": six(wrap_excl),
            "round_mode": "2",
            "round_type": "1",
            "conversion_rate": six(rate_of_currency),
            "reference": cart.reference,
            "associations": {"order_rows": order_rows},
            **cart.extra,
        },
    )
    history = [(10, stamp), (cart.state, received_stamp)] if paid else [(cart.state, stamp)]
    for history_state, history_stamp in history:
        data.insert(
            "order_histories",
            {
                "id_employee": "0",
                "id_order_state": str(history_state),
                "id_order": str(order_id),
                "date_add": history_stamp,
            },
        )
    data.insert(
        "order_carriers",
        {
            "id_order": str(order_id),
            "id_carrier": cart.carrier,
            "id_order_invoice": "0",
            "weight": "0.500000",
            "shipping_cost_tax_excl": six(ship_excl),
            "shipping_cost_tax_incl": six(ship_incl),
            "tracking_number": "",
            "date_add": stamp,
        },
    )
    if discount_incl:
        data.insert(
            "order_cart_rules",
            {
                "id_order": str(order_id),
                "id_cart_rule": "1",
                "id_order_invoice": "0",
                "name": "Bienvenue -10 %",
                "value": six(discount_incl),
                "value_tax_excl": six(discount_excl),
                "free_shipping": "0",
                "deleted": "0",
            },
        )
    if paid:
        data.insert(
            "order_payments",
            payment_record(
                cart.reference,
                paid_incl,
                cart.payment,
                received_stamp,
                currency=cart.currency,
                conversion_rate=Decimal(1),  # what validateOrder's addOrderPayment writes
            ),
        )
    return order
