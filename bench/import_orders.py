"""Import N orders with invoices, payments and entries from a simulated shop with latency.

The shop runs in its own process (`tui-connector simulator`), so the peak
memory printed is the connector's alone. The batched import (the orders
flow) and a naive one-request-per-record import of the same orders run in
the same script, each into a fresh SQLite Gestan, and must give the same
books.

    python bench/import_orders.py --orders 10000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import tempfile
import time

from measure import Sampler, start_shop

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow, PageData
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import read_facts

OPTIONS = OrderOptions(invoices=True, mark_paid=True, accounting=True)


class NaiveOrdersFlow(OrdersFlow):
    """The same import, reading one record per request, as a naive connector does."""

    limit: int | None = None  # the first orders only: a sample to extrapolate from

    def read(self, progress=None):
        from tui_connector.gestan.links import links

        self._prepare_read()
        known = links("orders")
        rows = []
        for order_id in self.client.ids("orders")[: self.limit]:
            order = self.client.get("orders", order_id, complete=True)
            details = [
                self.client.get("order_details", int(r["id"]), complete=True)
                for r in order.get("associations", {}).get("order_rows", [])
            ]
            rules = self.client.list(
                "order_cart_rules", Query(filters={"id_order": Filter.equals(order_id)})
            )
            messages = self.client.list(
                "messages", Query(filters={"id_order": Filter.equals(order_id)})
            )
            payments = self.client.list(
                "order_payments",
                Query(filters={"order_reference": Filter.equals(order["reference"])}),
            )
            slips = self.client.list(
                "order_slip", Query(filters={"id_order": Filter.equals(order_id)})
            )
            customer = self.client.get("customers", int(order["id_customer"]), complete=True)
            addresses = {}
            for key in ("id_address_invoice", "id_address_delivery"):
                if order[key] not in addresses:
                    addresses[order[key]] = self.client.get(
                        "addresses", int(order[key]), complete=True
                    )
            data = PageData(
                details={order["id"]: details},
                rules={order["id"]: rules},
                messages={order["id"]: messages},
                payments={order["reference"]: payments},
                slips={order["id"]: slips},
                customers={customer["id"]: customer},
                addresses=addresses,
            )
            rows.append(self._row(order, known, data))
        return rows


def download_floor(url: str, key: str) -> dict:
    """What the import cannot go below: the orders read as the flow reads them (the
    shop's facts and states, pages of 500 with `display=full` sorted as the flow sorts
    them, each page's dependencies by id batches, a few requests in flight), parsed by
    the codec, then dropped: nothing mapped, nothing written."""
    with SyncWebservice(url, key) as client:
        start = time.perf_counter()
        flow = OrdersFlow(client, options=OPTIONS)
        read_facts(client)
        client.list("order_states", Query(display="full"))
        query = Query(filters=flow._filters(), sort=("date_add_ASC", "id_ASC"))
        orders = 0
        for page in client.iter_pages("orders", query):
            flow._dependencies(page)  # the flow's own batched read of a page's dependencies
            orders += len(page)
        return {
            "orders": orders,
            "seconds": time.perf_counter() - start,
            "requests": client.requests_made,
        }


class StatementCounter:
    """Counts the statements a peewee database executes (SQL, savepoints, locks)."""

    def __init__(self, database):
        self.count = 0
        execute = database.execute_sql

        def counted(sql, params=None, *args, **kwargs):
            self.count += 1
            return execute(sql, params, *args, **kwargs)

        database.execute_sql = counted


def import_into(
    folder: str,
    name: str,
    url: str,
    key: str,
    flow_class,
    database_url: str | None = None,
) -> dict:
    if database_url:  # a server database: start from empty tables
        from tui_connector.gestan.database import make_database

        with make_database(database_url) as empty, empty.bind_ctx(m.ALL_MODELS):
            empty.drop_tables(m.ALL_MODELS, safe=True, cascade="postgres" in database_url)
    database = open_database(database_url or f"sqlite:///{folder}/{name}.db")
    for family, category in (
        ("VET", 3),
        ("VET", 4),
        ("VET", 5),
        ("ACC", 6),
        ("ACC", 7),
        ("ACC", 8),
        ("EPI", 9),
    ):
        if not m.Family.select().where(m.Family.code == family).exists():
            m.Family.create(code=family, label=family)
        settings.set_value(f"family.{category}", family)
    with SyncWebservice(url, key) as client:
        for prepare in (ContactsFlow, ProductsFlow):
            prepare(client).stream()  # as `tui-connector sync contacts|products` runs them
        prepared = peak_memory()
        print(f"  {name:<8} contacts and products imported, peak memory so far {prepared:.0f} MB")
        before = client.requests_made
        statements = StatementCounter(database)
        start = time.perf_counter()
        flow = flow_class(client, options=OPTIONS)
        progress = Sampler(name, "orders")
        # the orders flow as `tui-connector sync orders` runs it: page by page
        if flow_class is OrdersFlow:
            report = flow.stream(progress=progress)
        else:
            report = flow.execute(flow.read(), progress=progress)
        seconds = time.perf_counter() - start
        requests = client.requests_made - before
        queries = statements.count
    peak = peak_memory()  # the import's, before the books are loaded to be compared
    books = sorted(
        m.Invoice.select(m.Invoice.number, m.SalesOrder.reference, m.Invoice.total_incl)
        .join(m.SalesOrder)
        .tuples()
        .iterator()
    )
    database.close()
    return {
        "orders": report.counts["created"],
        "seconds": seconds,
        "requests": requests,
        "queries": queries,
        "rows": len(report.results),
        "books": [(number, reference, str(total)) for number, reference, total in books],
        "peak": peak,
    }


def peak_memory() -> float:
    """The most this process has held so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument(
        "--naive-sample",
        type=int,
        help="the naive import of the first N orders only, its time extrapolated to all",
    )
    parser.add_argument(
        "--only",
        choices=["batched", "naive"],
        help="one import only (e.g. the naive one in another process, beside a batched run)",
    )
    parser.add_argument(
        "--database",
        help="a Gestan database URL (default: SQLite files); its tables are dropped first",
    )
    args = parser.parse_args()
    shop, url, key = start_shop(args.orders, args.latency_ms)
    folder = tempfile.mkdtemp()
    try:
        print(
            f"{args.orders} shop orders, {args.latency_ms:g} ms per request, "
            "invoices + payments + entries"
        )
        print(f"Gestan on {(args.database or 'sqlite').split(':')[0]}, files in {folder}")
        floor = download_floor(url, key)
        print(
            f"floor    read {floor['orders']:6}  requests {floor['requests']:6}  "
            f"wall {floor['seconds']:8.1f} s  (download and parse, nothing written)",
            flush=True,
        )
        results = {}
        NaiveOrdersFlow.limit = args.naive_sample
        for name, flow_class in (("batched", OrdersFlow), ("naive", NaiveOrdersFlow)):
            if (args.only and args.only != name) or (name == "naive" and args.skip_naive):
                continue
            found = results[name] = import_into(folder, name, url, key, flow_class, args.database)
            digest = hashlib.sha256(repr(found["books"]).encode()).hexdigest()[:12]
            print(
                f"{name:<8} imported {found['orders']:6}  requests {found['requests']:6}  "
                f"wall {found['seconds']:8.1f} s  {found['orders'] / found['seconds']:7.1f}"
                f" orders/s  queries {found['queries']} "
                f"({found['queries'] / max(found['orders'], 1):.1f} per order imported, "
                f"{found['queries'] / max(found['rows'], 1):.1f} per row)  "
                f"peak memory so far {found['peak']:.0f} MB  books {digest}",
                flush=True,
            )
            if name == "batched":
                print(
                    f"ratio    import / floor: {found['seconds']:.1f} s / "
                    f"{floor['seconds']:.1f} s = {found['seconds'] / floor['seconds']:.2f}x"
                )
        if len(results) == 2:
            batched, naive = results["batched"], results["naive"]
            if args.naive_sample:
                # the naive import of the sample, its time scaled to every order read
                scale = floor["orders"] / min(args.naive_sample, floor["orders"])
                seconds, requests = naive["seconds"] * scale, naive["requests"] * scale
                same = set(naive["books"]) <= set(batched["books"])
                print(
                    f"naive    sample of {args.naive_sample} orders read, {naive['orders']} "
                    f"imported, extrapolated to "
                    f"{floor['orders']}: about {requests:.0f} requests, {seconds:.1f} s"
                )
                print(
                    f"ratio    {requests / batched['requests']:.1f}x fewer requests, "
                    f"{seconds / batched['seconds']:.1f}x faster (extrapolated); the sample's "
                    f"books are the batched import's: {same}"
                )
            else:
                print(
                    f"ratio    {naive['requests'] / batched['requests']:.1f}x fewer requests, "
                    f"{naive['seconds'] / batched['seconds']:.1f}x faster; same books: "
                    f"{naive['books'] == batched['books']}"
                )
    finally:
        shop.terminate()


if __name__ == "__main__":
    main()
