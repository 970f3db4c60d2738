"""Follow imported orders: the shop lives (payments, cancellations, full and partial
refunds), then one orders run brings every change into Gestan. Prints the requests
and the time of that run, and checks the books against what the shop records.

    python bench/follow_orders.py --orders 10000 --share 0.05 --latency-ms 20

The shop is served from this process (its life is made here, as the real shop records
it: tui_connector/simulator/life.py). Checks, each printed:
- 411, per customer: what the shop says is still owed (billed, less credited, less
  paid, plus paid back: `ShopLife.owed`);
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
from decimal import Decimal

from tui_connector.gestan import accounting
from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import Faults, SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.stock import StockFlow

OPTIONS = OrderOptions(invoices=True, mark_paid=True, accounting=True)


def books_agree(data) -> tuple[dict, bool, Decimal, Decimal]:
    """(customers whose 411 differs from the shop's, 512 agrees, 512, the shop's)."""
    imported = {link.shop_id for link in m.Link.select().where(m.Link.resource == "orders")}
    shop_owed, shop_kept = ShopLife(data).owed(imported)
    contacts = {c.id: c for c in m.Contact.select()}
    customer_of = {
        accounting.contact_account(contacts[link.gestan_id]): str(link.shop_id)
        for link in m.Link.select().where(m.Link.resource == "customers")
        if link.gestan_id in contacts
    }
    owed, bank = accounting.balances()
    ours = {customer_of.get(aux, aux): balance for aux, balance in owed.items()}
    wrong = {
        c: (ours.get(c, 0), shop_owed.get(c, 0))
        for c in set(ours) | set(shop_owed)
        if ours.get(c, 0) != shop_owed.get(c, 0)
    }
    return wrong, bank == shop_kept, bank, shop_kept


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
    wrong, bank_agrees, bank, shop_kept = books_agree(data)
    print(f"411 per customer equals the shop's: {not wrong} ({len(wrong)} differ)")
    print(f"512 {bank} = shop's payments less refunds {shop_kept}: {bank_agrees}")
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
