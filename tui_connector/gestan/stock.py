"""Gestan's stock: signed movements in the main warehouse and the levels that follow
from them. Every flow that moves stock (products' initial quantity, orders, their
cancellations and credit slips) writes it here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan import refcache
from tui_connector.gestan.database import insert_rows

INITIAL_STOCK = "initial_shop"  # the movement that takes a product's quantity from the shop


def gestan_quantities() -> dict[int, Decimal]:
    """Every product's quantity in all warehouses, in one query."""
    totals: dict[int, Decimal] = {}
    for product, quantity in m.StockLevel.select(
        m.StockLevel.product, m.StockLevel.quantity
    ).tuples():
        totals[product] = totals.get(product, Decimal(0)) + quantity
    return totals


def gestan_stock(product_id: int) -> Decimal:
    total = m.StockLevel.select(m.StockLevel.quantity).where(m.StockLevel.product == product_id)
    return sum((level.quantity for level in total), Decimal(0))


def initial_stock_dates(products: list[int] | None = None) -> dict[int, dt.datetime]:
    """When Gestan last took each product's stock from the shop (this machine's clock):
    a sale or a restock the shop made before that is in the quantity already."""
    query = m.StockMovement.select(m.StockMovement.product, m.StockMovement.date).where(
        m.StockMovement.reason == INITIAL_STOCK
    )
    if products is not None:
        query = query.where(m.StockMovement.product.in_(products or [0]))
    latest: dict[int, dt.datetime] = {}
    for product, date in query.tuples():
        latest[product] = max(date, latest.get(product, date))
    return latest


def main_warehouse() -> m.Warehouse:
    return refcache.cached("main_warehouse", lambda: m.Warehouse.get(m.Warehouse.code == "PRINC"))


@dataclass(frozen=True)
class Movement:
    """A signed quantity of a product in or out of the main warehouse."""

    product: int
    quantity: Decimal
    reason: str  # INITIAL_STOCK, "order", "return", "inventory"...
    label: str
    date: dt.datetime
    order: int | None = None


def move_stock(movements: list[Movement]) -> None:
    """Movements, and the levels they move: one insert of the movements, one read of
    the levels, one insert of the new ones and one update per distinct quantity."""
    if not movements:
        return
    warehouse = main_warehouse().id
    insert_rows(
        m.StockMovement,
        [
            {
                "product": move.product,
                "warehouse": warehouse,
                "quantity": move.quantity,
                "reason": move.reason,
                "label": move.label,
                "order": move.order,
                "date": move.date,
            }
            for move in movements
        ],
    )
    moved: dict[int, Decimal] = {}
    for move in movements:
        moved[move.product] = moved.get(move.product, Decimal(0)) + move.quantity
    levels = dict(
        m.StockLevel.select(m.StockLevel.product, m.StockLevel.id)
        .where((m.StockLevel.warehouse == warehouse) & (m.StockLevel.product.in_(list(moved))))
        .tuples()
    )
    insert_rows(
        m.StockLevel,
        [
            {"product": product, "warehouse": warehouse, "quantity": quantity}
            for product, quantity in moved.items()
            if product not in levels
        ],
    )
    by_quantity: dict[Decimal, list[int]] = {}
    for product, quantity in moved.items():
        if product in levels:
            by_quantity.setdefault(quantity, []).append(levels[product])
    for quantity, ids in by_quantity.items():
        m.StockLevel.update(quantity=m.StockLevel.quantity + quantity).where(
            m.StockLevel.id.in_(ids)
        ).execute()


def add_stock_movement(
    product: m.Product | int,
    quantity: Decimal,
    reason: str,
    label: str,
    *,
    order: m.SalesOrder | None = None,
    date=None,
) -> None:
    """One movement (a cancellation's return, an inventory), and its level."""
    move_stock(
        [
            Movement(
                product=getattr(product, "id", product),
                quantity=quantity,
                reason=reason,
                label=label,
                date=date or m.now(),
                order=getattr(order, "id", order),
            )
        ]
    )
