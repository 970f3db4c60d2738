"""The VAT PrestaShop charged on an order's goods, rate by rate, after its cart rules.

The Webservice exposes no per-rate VAT (order_details carry tax ids only), so it is
computed again the way PrestaShop 8.1 computes it when the order is validated
(Order::getProductTaxesDetails, stored in ps_order_detail_tax), checked against the
real shop's database (tests/fixtures/prestashop/8.1.2-orders/truth/vat_by_rate.json):

- the goods' discount excl. VAT is shared over every line pro rata of its unit price
  excl. VAT, whatever its rate: a unit is discounted by `unit x discount / products`;
- each line's VAT is that discounted unit's VAT, rounded as the order says
  (`round_type`: 1 per unit, 2 per line, 3 on the total);
- the cents that rounding lost or made are spread one at a time over the lines, the
  largest first, so that the lines add up to the order's own VAT on goods:
  (total_products_wt - total_products) - (the goods' discount incl. - excl. VAT).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
SIX = Decimal("0.000001")
ROUND_ITEM, ROUND_LINE, ROUND_TOTAL = 1, 2, 3


@dataclass(frozen=True)
class GoodsLine:
    unit_excl: Decimal
    quantity: Decimal
    rate: Decimal  # percent


def _half_up(value: Decimal, step: Decimal = CENT) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def spread(amount: Decimal, values: list[Decimal]) -> list[Decimal]:
    """PrestaShop's Tools::spreadAmount: `amount` (whole cents) over `values`, the largest
    first; each gets the same share and the first ones one cent more (or less)."""
    if not values or not amount:
        return list(values)
    order = sorted(range(len(values)), key=lambda i: values[i], reverse=True)
    units = int(_half_up(amount * 100, Decimal(1)))
    remainder = abs(units) % len(values) * (1 if units >= 0 else -1)  # PHP: the dividend's sign
    share = Decimal((units - remainder) // len(values)) / 100
    sign = 1 if amount >= 0 else -1
    result = list(values)
    for position, index in enumerate(order):
        result[index] += share + (sign * CENT if position < abs(remainder) else 0)
    return result


def goods_vat(
    lines: list[GoodsLine], discount_excl: Decimal, expected: Decimal, round_type: int
) -> list[Decimal]:
    """Each line's VAT after the goods' discount, as PrestaShop stored it."""
    products = sum((line.unit_excl * line.quantity for line in lines), Decimal(0))
    factor = 1 - discount_excl / products if products else Decimal(1)
    amounts = []
    for line in lines:
        unit_vat = _half_up(line.unit_excl * factor * line.rate / 100, SIX)
        if round_type == ROUND_ITEM:
            amounts.append(_half_up(unit_vat) * line.quantity)
        elif round_type == ROUND_TOTAL:
            amounts.append(unit_vat * line.quantity)
        else:
            amounts.append(_half_up(unit_vat * line.quantity))
    if round_type == ROUND_TOTAL:
        # rounded once, by rate (the order's tax rows), then spread like the others
        amounts = [_half_up(a) for a in amounts]
    return spread(expected - sum(amounts, Decimal(0)), amounts)
