"""What happens to an order after it was placed, done the way PrestaShop 8.1.2 does it.

Checked against the real shop's captures (tests/fixtures/prestashop/8.1.2-orders):
- a state change adds an `order_histories` row and moves the order's `date_upd` to
  that row's date; a paid state gives the order its invoice number, `valid` 1 and
  an `order_payments` row (the amount paid, the payment module's name), if none;
- a cancellation (state Canceled) puts the ordered quantities back into
  `stock_availables` and leaves `product_quantity_reinjected` at 0 (order 46);
- a credit slip (`order_slip`) never moves the order's `date_upd` (order 45): its
  `amount` is the products excl. VAT, `shipping_cost_amount` the shipping incl.
  VAT, `order_slip_type` 2 when shipping was refunded with an amount, `partial` 0;
  each detail is the line's unit prices times the quantity refunded, rounded to the
  cent; `product_quantity_refunded` grows on the order line, and with a restock the
  quantity goes back into stock and into `product_quantity_reinjected`;
- a refund adds no negative payment, and the state Refunded keeps the payment.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from tui_connector.simulator.server import ShopData

STAMP = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
SIX = Decimal("0.000001")
PAYMENT_ACCEPTED, CANCELED, REFUNDED = 2, 6, 7


def _six(value: Decimal) -> str:
    return str(value.quantize(SIX))


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def payment_record(
    reference: str,
    amount: Decimal,
    method: str,
    stamp: str,
    *,
    currency: str = "1",
    conversion_rate: Decimal = Decimal(1),
) -> dict:
    """An order_payments row as the real shop writes it (order_payments_full): linked to
    its order by reference only, the amount with 6 decimals (in the order's currency),
    card fields empty."""
    return {
        "order_reference": reference,
        "id_currency": currency,
        "amount": _six(amount),
        "payment_method": method,
        "conversion_rate": _six(conversion_rate),
        "transaction_id": "",
        "card_number": "",
        "card_brand": "",
        "card_expiration": "",
        "card_holder": "",
        "date_add": stamp,
        "id_employee": "",
    }


class ShopLife:
    """Changes to the orders of a simulated shop, each as the real shop records it."""

    def __init__(self, data: ShopData):
        self.data = data

    def now(self) -> dt.datetime:
        """The shop's clock: PrestaShop writes its dates in PS_TIMEZONE, with no offset."""
        zone = next(
            (
                c["value"]
                for c in self.data.table("configurations").values()
                if c.get("name") == "PS_TIMEZONE"
            ),
            "Europe/Paris",
        )
        return dt.datetime.now(ZoneInfo(zone)).replace(tzinfo=None, microsecond=0)

    def _order(self, order_id: int) -> dict:
        return self.data.table("orders")[order_id]

    def _state(self, state_id: int) -> dict:
        return self.data.table("order_states").get(state_id, {})

    def _lines(self, order_id: int) -> list[dict]:
        return [
            d for d in self.data.table("order_details").values() if d["id_order"] == str(order_id)
        ]

    def payments_of(self, order: dict) -> list[dict]:
        return [
            p
            for p in self.data.table("order_payments").values()
            if p.get("order_reference") == order["reference"]
        ]

    def change_state(self, order_id: int, state_id: int, when: dt.datetime) -> dict:
        """What OrderHistory::changeIdOrderState does, for the parts we follow."""
        stamp = when.strftime(STAMP)
        with self.data.lock:
            order = self._order(order_id)
            state = self._state(state_id)
            history = self.data.insert(
                "order_histories",
                {
                    "id_employee": "1",
                    "id_order_state": str(state_id),
                    "id_order": str(order_id),
                    "date_add": stamp,
                },
            )
            if state.get("paid") == "1" and state_id != REFUNDED:
                if not self.payments_of(order):
                    amount = _cents(Decimal(order["total_paid_tax_incl"]))
                    self.data.insert(
                        "order_payments",
                        payment_record(
                            order["reference"],
                            amount,
                            order.get("payment", ""),
                            stamp,
                            currency=order.get("id_currency", "1"),
                            conversion_rate=Decimal(order.get("conversion_rate") or 1),
                        ),
                    )
                if order.get("invoice_number", "0") in ("", "0"):
                    numbers = [
                        int(o.get("invoice_number") or 0)
                        for o in self.data.table("orders").values()
                    ]
                    order["invoice_number"] = str(max(numbers, default=0) + 1)
                    order["invoice_date"] = stamp
                order["valid"] = "1"
                order["total_paid_real"] = order["total_paid_tax_incl"]
            elif state.get("logable") != "1":
                order["valid"] = "0"
            if state_id == CANCELED:
                for line in self._lines(order_id):
                    out = int(line["product_quantity"]) - int(
                        line.get("product_quantity_reinjected") or 0
                    )
                    self._restock(line, out)
            order["current_state"] = str(state_id)
            order["date_upd"] = stamp
            self.data.changed()
            return history

    def pay(self, order_id: int, when: dt.datetime) -> dict:
        """A cheque or transfer received: the order goes to Payment accepted."""
        return self.change_state(order_id, PAYMENT_ACCEPTED, when)

    def cancel(self, order_id: int, when: dt.datetime) -> dict:
        return self.change_state(order_id, CANCELED, when)

    def refund(
        self,
        order_id: int,
        when: dt.datetime,
        quantities: dict[int, int] | None = None,
        *,
        shipping: bool | None = None,
        restock: bool = False,
        refunded_state: bool | None = None,
    ) -> dict:
        """A credit slip: `quantities` {order_details id: quantity}, None for every line.

        A full refund (every line, and the shipping unless told otherwise) also moves
        the order to Refunded, as the back office's "standard refund" does, unless
        `refunded_state` is False (the state was set before: real order 12)."""
        stamp = when.strftime(STAMP)
        with self.data.lock:
            order = self._order(order_id)
            lines = {int(line["id"]): line for line in self._lines(order_id)}
            full = quantities is None
            if full:
                quantities = {
                    i: int(line["product_quantity"])
                    - int(line.get("product_quantity_refunded") or 0)
                    for i, line in lines.items()
                }
            quantities = {i: q for i, q in quantities.items() if q > 0}
            shipping = full if shipping is None else shipping
            details = []
            for detail_id, quantity in sorted(quantities.items()):
                line = lines[detail_id]
                details.append(
                    {
                        "id_order_detail": str(detail_id),
                        "product_quantity": str(quantity),
                        "amount_tax_excl": _six(
                            _cents(Decimal(line["unit_price_tax_excl"]) * quantity)
                        ),
                        "amount_tax_incl": _six(
                            _cents(Decimal(line["unit_price_tax_incl"]) * quantity)
                        ),
                    }
                )
                refunded = int(line.get("product_quantity_refunded") or 0) + quantity
                line["product_quantity_refunded"] = str(refunded)
                if restock:
                    self._restock(line, quantity)
                    reinjected = int(line.get("product_quantity_reinjected") or 0) + quantity
                    line["product_quantity_reinjected"] = str(reinjected)
            excl = sum((Decimal(d["amount_tax_excl"]) for d in details), Decimal(0))
            incl = sum((Decimal(d["amount_tax_incl"]) for d in details), Decimal(0))
            ship_excl = Decimal(order.get("total_shipping_tax_excl") or 0) if shipping else 0
            ship_incl = Decimal(order.get("total_shipping_tax_incl") or 0) if shipping else 0
            slip = self.data.insert(
                "order_slip",
                {
                    "id_customer": order["id_customer"],
                    "id_order": str(order_id),
                    # OrderSlip::create takes the currency's rate of the day, not the order's
                    "conversion_rate": self._currency_rate(order),
                    "total_products_tax_excl": _six(excl),
                    "total_products_tax_incl": _six(incl),
                    "total_shipping_tax_excl": _six(Decimal(ship_excl)),
                    "total_shipping_tax_incl": _six(Decimal(ship_incl)),
                    "amount": _six(excl),
                    "shipping_cost": "1" if shipping else "0",
                    "shipping_cost_amount": _six(Decimal(ship_incl)),
                    "partial": "0",
                    "date_add": stamp,
                    "date_upd": stamp,
                    "order_slip_type": "2" if ship_incl else "0",
                    "associations": {"order_slip_details": details},
                },
            )
            for detail in details:
                detail["id"] = slip["id"]  # the slip's id on every detail, as the shop does
            self.data.changed()
        if full if refunded_state is None else refunded_state:
            self.change_state(order_id, REFUNDED, when)
        return slip

    def _currency_rate(self, order: dict) -> str:
        currency = self.data.table("currencies").get(int(order.get("id_currency") or 1), {})
        return currency.get("conversion_rate") or order.get("conversion_rate", "1.000000")

    def _restock(self, line: dict, quantity: int) -> None:
        if quantity <= 0:
            return
        for stock in self.data.table("stock_availables").values():
            if (stock.get("id_product"), stock.get("id_product_attribute")) == (
                line["product_id"],
                line.get("product_attribute_id", "0"),
            ):
                stock["quantity"] = str(int(stock.get("quantity") or 0) + quantity)
                return

    def live(
        self,
        rng: random.Random,
        when: dt.datetime,
        share: float = 0.05,
        among: Iterable[int] | None = None,
    ) -> dict:
        """A share of the orders (of those `among`, if given) change, each in its own
        way; returns what was done.

        Orders awaiting payment get paid, paid ones are cancelled with the stock put
        back, refunded in full, or refunded one unit of their first line."""
        done: dict[str, list[int]] = {"paid": [], "cancelled": [], "refunded": [], "partial": []}
        orders = sorted(self.data.table("orders"))
        if among is not None:
            wanted = set(among)
            orders = [order_id for order_id in orders if order_id in wanted]
        count = max(4, int(len(orders) * share))
        chosen = rng.sample(orders, k=min(count, len(orders)))
        for turn, order_id in enumerate(chosen):
            order = self._order(order_id)
            state = self._state(int(order["current_state"]))
            stamp = when + dt.timedelta(minutes=turn)
            if int(order["current_state"]) in (CANCELED, REFUNDED, 8):
                continue  # cancelled, refunded or a payment error: its life is over
            if state.get("paid") != "1" and state.get("logable") != "1":
                self.pay(order_id, stamp)  # awaiting a cheque or a transfer
                done["paid"].append(order_id)
                continue
            kind = ("cancelled", "refunded", "partial")[turn % 3]
            if kind == "refunded" and Decimal(order.get("total_discounts_tax_incl") or 0):
                kind = "partial"  # a voucher's share of a full refund is the back office's choice
            if kind == "cancelled":
                self.cancel(order_id, stamp)
            elif kind == "refunded":
                self.refund(order_id, stamp)
            else:
                line = min(int(d["id"]) for d in self._lines(order_id))
                self.refund(order_id, stamp, {line: 1}, restock=turn % 2 == 0)
            done[kind].append(order_id)
        return done

    def edit_product(self, product_id: int, when: dt.datetime, **changes) -> dict:
        """A product saved in the back office with `changes` (its fields, in the codec's
        shapes): its `date_upd` moves to `when`."""
        with self.data.lock:
            product = self.data.table("products")[product_id]
            product.update(changes)
            product["date_upd"] = when.strftime(STAMP)
            self.data.changed()
            return product

    def owed(self, orders: set[int]) -> tuple[dict[str, Decimal], Decimal]:
        """What the shop's own records say of `orders`: (still owed per customer id, money
        kept). Billed, less what a cancellation, a refund or the slips credited, less what
        was paid, plus what was paid back (a refund pays back all that was paid; otherwise
        only the slips paid money back)."""
        payments: dict[str, Decimal] = {}
        for payment in self.data.table("order_payments").values():
            reference = payment["order_reference"]
            payments[reference] = payments.get(reference, Decimal(0)) + _cents(
                Decimal(payment["amount"])
            )
        slips: dict[int, Decimal] = {}
        for slip in self.data.table("order_slip").values():
            refund = Decimal(slip["total_products_tax_incl"]) + Decimal(
                slip["total_shipping_tax_incl"]
            )
            slips[int(slip["id_order"])] = slips.get(int(slip["id_order"]), Decimal(0)) + _cents(
                refund
            )
        owed: dict[str, Decimal] = {}
        kept = Decimal(0)
        for order_id in orders:
            order = self._order(order_id)
            billed = _cents(Decimal(order["total_paid_tax_incl"]))
            paid = payments.get(order["reference"], Decimal(0))
            slipped = slips.get(order_id, Decimal(0))
            state = int(order["current_state"])
            # a slip at prices before the order's vouchers may refund more than was billed
            credited = billed if state in (CANCELED, REFUNDED) else min(billed, slipped)
            back = paid if state == REFUNDED else min(paid, billed, slipped)
            customer = order["id_customer"]
            owed[customer] = owed.get(customer, Decimal(0)) + billed - credited - paid + back
            kept += paid - back
        return owed, kept
