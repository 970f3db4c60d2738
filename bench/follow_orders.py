"""Follow imported orders: the shop lives (payments, cancellations, full and partial
refunds), then one orders run brings every change into Gestan. Prints the requests
and the time of that run, and checks the books against what the shop records.

    python bench/follow_orders.py --orders 10000 --share 0.05 --latency-ms 20

The shop is served from this process (its life is made here, as the real shop records
it: tui_connector/simulator/life.py). Checks, each printed:
- 411, per customer: what the shop says is still owed (billed, less credited, less
  paid, plus paid back);
- 512: the shop's payments less the money paid back;
- no credit note or payment twice (each slip and payment linked once);
- stock: the rows `sync stock` would write are those it would have written before the
  shop lived (the connector's moves follow the shop's).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from collections import Counter
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.life import CANCELED, REFUNDED, ShopLife
from tui_connector.simulator.server import Faults, SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.stock import StockFlow

OPTIONS = OrderOptions(invoices=True, mark_paid=True, accounting=True)
CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


def shop_books(data, imported: set[int]) -> tuple[dict[str, Decimal], Decimal]:
    """(owed per shop customer id, money kept) from the shop's own records."""
    payments: dict[str, Decimal] = Counter()
    for payment in data.table("order_payments").values():
        payments[payment["order_reference"]] += money(payment["amount"])
    slips: dict[int, Decimal] = Counter()
    for slip in data.table("order_slip").values():
        slips[int(slip["id_order"])] += money(slip["total_products_tax_incl"]) + money(
            slip["total_shipping_tax_incl"]
        )
    owed: dict[str, Decimal] = Counter()
    kept = Decimal(0)
    for order_id in imported:
        order = data.table("orders")[order_id]
        billed = money(order["total_paid_tax_incl"])
        paid = payments[order["reference"]]
        state = int(order["current_state"])
        credited = billed if state in (CANCELED, REFUNDED) else slips[order_id]
        # a refund pays back all that was paid; otherwise only the slips paid money back
        back = paid if state == REFUNDED else min(paid, slips[order_id])
        owed[order["id_customer"]] += billed - credited - paid + back
        kept += paid - back
    return owed, kept


def gestan_books() -> tuple[dict[str, Decimal], Decimal]:
    """(411 per shop customer id, 512 balance) from Gestan's entries."""
    customer_of = {
        link.gestan_id: str(link.shop_id)
        for link in m.Link.select().where(m.Link.resource == "customers")
    }
    accounts = {f"411{c.code}": customer_of.get(c.id) for c in m.Contact.select()}
    owed: dict[str, Decimal] = Counter()
    bank = Decimal(0)
    for line in m.AccountingLine.select():
        if line.account_number == "411":
            owed[accounts.get(line.aux_number)] += line.debit - line.credit
        elif line.account_number.startswith("51"):
            bank += line.debit - line.credit
    return owed, bank


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--share", type=float, default=0.05)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()

    data = build(orders=args.orders, seed=3)
    folder = tempfile.mkdtemp()
    open_database(f"sqlite:///{folder}/gestan.db")
    demo_gestan.seed(data)
    with (
        SimulatedShop(data, faults=Faults(), indexed=True) as shop,
        SyncWebservice(shop.url, shop.key) as client,
    ):
        started = time.perf_counter()
        for flow_class in (ContactsFlow, ProductsFlow):
            assert flow_class(client).stream().ok
        report = OrdersFlow(client, since_last=True, options=OPTIONS).stream()
        print(f"import: {report.summary()} in {time.perf_counter() - started:.1f} s")
        stock_before = {r.key for r in StockFlow(client).read() if r.action or r.blocked}
        life = ShopLife(data).live(
            random.Random(7), dt.datetime(2027, 1, 15, 10, 0), share=args.share
        )
        print("the shop lives: " + ", ".join(f"{len(v)} {k}" for k, v in life.items()))
        shop.faults.latency_ms = args.latency_ms
        before = client.requests_made
        started = time.perf_counter()
        report = OrdersFlow(client, since_last=True, options=OPTIONS).stream()
        seconds = time.perf_counter() - started
        requests = client.requests_made - before
        shop.faults.latency_ms = 0
        print(f"follow: {report.summary()}")
        print(
            f"follow run at {args.latency_ms:g} ms a request: {requests} requests, "
            f"{seconds:.1f} s, for {args.orders} imported orders, "
            f"{sum(len(v) for v in life.values())} changed"
        )
        stock_after = {r.key for r in StockFlow(client).read() if r.action or r.blocked}
    imported = {link.shop_id for link in m.Link.select().where(m.Link.resource == "orders")}
    shop_owed, shop_kept = shop_books(data, imported)
    owed, bank = gestan_books()
    wrong = {
        c: (owed[c], shop_owed[c]) for c in set(owed) | set(shop_owed) if owed[c] != shop_owed[c]
    }
    print(f"411 per customer equals the shop's: {not wrong} ({len(wrong)} differ)")
    print(f"512 {bank} = shop's payments less refunds {shop_kept}: {bank == shop_kept}")
    twice = [
        resource
        for resource in ("order_slip", "order_payments")
        if m.Link.select().where(m.Link.resource == resource).count()
        != len({link.gestan_id for link in m.Link.select().where(m.Link.resource == resource)})
    ]
    print(f"no credit note or payment twice: {not twice}")
    print(f"sync stock writes nothing new: {stock_after <= stock_before}")


if __name__ == "__main__":
    main()
