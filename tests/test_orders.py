"""Orders into Gestan against the simulated shop: statuses, money to the cent, never twice."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from tui_connector.gestan import accounting, fec, settings
from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import Faults, SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import (
    OrderOptions,
    OrderPayload,
    OrdersFlow,
    cursor_value,
    plan_order,
)
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.status import Status
from tui_connector.sync.stock import StockFlow

ALL_ON = OrderOptions(invoices=True, mark_paid=True, accounting=True)


def kinds(rows) -> Counter:
    return Counter(row.status for row in rows)


def prepare(client) -> None:
    """Contacts and products first, as a user would."""
    for flow_class in (ContactsFlow, ProductsFlow):
        flow = flow_class(client)
        assert flow.execute(flow.read()).ok


def shop_total(shop, order: m.SalesOrder) -> Decimal:
    link = m.Link.get((m.Link.resource == "orders") & (m.Link.gestan_id == order.id))
    return Decimal(shop.data.table("orders")[link.shop_id]["total_paid_tax_incl"]).quantize(
        Decimal("0.01")
    )


def assert_books_are_right(shop) -> None:
    for order in m.SalesOrder.select():
        assert order.total_incl == shop_total(shop, order), order.reference
        assert sum(line.total_incl for line in order.lines) == order.total_incl
    for series in ("FA", "AV"):  # invoices, credit notes: each series without a gap
        numbers = sorted(
            int(i.number[2:]) for i in m.Invoice.select().where(m.Invoice.series == series)
        )
        assert numbers == list(range(1, len(numbers) + 1))
    for entry in m.AccountingEntry.select():
        lines = list(entry.lines)
        assert sum(x.debit for x in lines) == sum(x.credit for x in lines), entry.label
    for invoice in m.Invoice.select().where(m.Invoice.kind == m.Invoice.INVOICE):
        assert invoice.total_incl == invoice.order.total_incl
        notes = list(m.Invoice.select().where(m.Invoice.cancels == invoice))
        # credit notes cancel some or all of their own order's invoice, never more, never before
        assert all(n.order_id == invoice.order_id and n.date >= invoice.date for n in notes)
        assert 0 <= -sum(n.total_incl for n in notes) <= invoice.total_incl


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=120, seed=5)) as running:
        yield running


@pytest.fixture
def ready(sqlite_gestan, shop, client):
    demo_gestan.seed(shop.data)
    prepare(client)
    return sqlite_gestan


def test_import_with_invoices_payments_and_entries(ready, shop, client):
    flow = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = flow.read()
    assert set(kinds(rows)) == {Status.ADD}
    unwanted = [r for r in rows if r.payload.unwanted]
    assert unwanted and not any(r.selected for r in unwanted)  # cancelled: listed, not chosen
    report = flow.execute(rows)
    assert report.ok, report.summary()
    imported = len(rows) - len(unwanted)
    invoices = m.Invoice.select().where(m.Invoice.kind == m.Invoice.INVOICE)
    assert m.SalesOrder.select().count() == imported == invoices.count()
    assert_books_are_right(shop)
    paid = [r for r in rows if r.selected and r.payload.payments]
    refunded = [r for r in paid if r.payload.ending == Status.REFUNDED]
    assert refunded  # the demo has refunded orders: each has its credit note, money back
    assert all(len(r.payload.slips) == 1 for r in refunded)  # a full slip, then Refunded
    credit_notes = m.Invoice.select().where(m.Invoice.kind == m.Invoice.CREDIT_NOTE)
    assert credit_notes.count() == len(refunded)  # the slip's; the state finds nothing left
    assert m.Payment.select().count() == len(paid) + len(refunded)
    for row in paid:  # each payment at the shop's own date and amount
        shop_payment = row.payload.payments[0]
        link = m.Link.get(
            (m.Link.resource == "order_payments") & (m.Link.shop_id == int(shop_payment["id"]))
        )
        payment = m.Payment.get_by_id(link.gestan_id)
        assert payment.date == dt.date.fromisoformat(shop_payment["date_add"][:10])
        assert payment.amount == Decimal(shop_payment["amount"])
    assert all(r.invoice for r in report.results)
    assert all(
        r.message.startswith("remboursement: avoir AV")
        for r in report.results
        if r.shop_id in {x.shop_id for x in refunded}
    )
    # paid invoices are lettered with their payment, credit notes with their refund
    lettered = m.AccountingLine.select().where(
        (m.AccountingLine.account_number == "411") & (m.AccountingLine.lettering != "")
    )
    assert lettered.count() == 2 * len(paid) + 2 * len(refunded)
    # a refunded order leaves nothing owed and no money kept
    for row in refunded:
        order = m.SalesOrder.get_by_id(
            m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == row.shop_id)).gestan_id
        )
        lines = (
            m.AccountingLine.select()
            .join(m.AccountingEntry)
            .join(m.Invoice, on=(m.AccountingEntry.invoice == m.Invoice.id))
            .where(m.Invoice.order == order)
        )
        assert sum(x.debit - x.credit for x in lines if x.account_number == "411") == 0
    # a second run imports nothing
    again = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = again.read()
    assert again.execute(rows).counts["created"] == 0
    assert m.SalesOrder.select().count() == imported


def test_lines_shipping_discounts_and_mixed_rates(ready, shop, client):
    OrdersFlow(client, options=ALL_ON).execute(OrdersFlow(client, options=ALL_ON).read())
    with_discount = (
        m.SalesOrder.select()
        .join(m.SalesOrderLine)
        .where(m.SalesOrderLine.kind == "discount")
        .first()
    )
    assert with_discount is not None
    discount = with_discount.lines.where(m.SalesOrderLine.kind == "discount").get()
    assert discount.total_incl < 0 and discount.label.startswith("Bienvenue")
    shipped = m.SalesOrderLine.select().where(m.SalesOrderLine.kind == "shipping").first()
    assert shipped.product.code == "PORT" and shipped.total_incl == Decimal("7.00")
    mixed = None
    for invoice in m.Invoice.select():
        if (
            invoice.vat_lines.count() > 1
            and invoice.lines.where(m.InvoiceLine.kind == "shipping").exists()
        ):
            mixed = invoice
            break
    assert mixed is not None, "the demo shop has orders mixing VAT rates with shipping"
    rates = {vat.rate for vat in mixed.vat_lines}
    assert Decimal("20.000") in rates and len(rates) > 1
    total = sum(v.base_excl + v.vat_amount for v in mixed.vat_lines)
    assert total == mixed.total_incl  # shipping spread over the rates, to the cent


def test_blocked_orders_say_why_and_write_nothing(sqlite_gestan, shop, client):
    demo_gestan.seed(shop.data)
    ContactsFlow(client).execute(ContactsFlow(client).read())  # products not imported
    rows = OrdersFlow(client, options=ALL_ON).read()
    blocked = next(r for r in rows if r.blocked)  # an order of a product Gestan lacks
    order = shop.data.table("orders")[blocked.shop_id]
    assert blocked.status == Status.BLOCKED and "non lié" in blocked.reason
    blocked.selected = True
    report = OrdersFlow(client, options=ALL_ON).execute([blocked])
    assert report.counts["blocked"] == 1 and m.SalesOrder.select().count() == 0
    assert order["reference"] in blocked.columns["reference"]


ONE_LINE = {  # an order line of 10.00 excl. VAT at tax 1, product 1
    "product_id": "1",
    "product_attribute_id": "0",
    "product_quantity": "1",
    "total_price_tax_incl": "12.00",
    "total_price_tax_excl": "10.00",
    "unit_price_tax_excl": "10.00",
    "associations": {"taxes": [{"id": "1"}]},
}


def test_inconsistent_total_and_unknown_tax_are_blocked():
    order = {
        "total_paid_tax_incl": "12.00",
        "total_paid_tax_excl": "10.00",
        "total_shipping_tax_incl": "0",
        "total_shipping_tax_excl": "0",
    }
    detail = {**ONE_LINE, "id": "1"}
    links = {(1, 0): 7}
    ok = plan_order(order, [detail], [], {1: Decimal(20)}, links, None)
    assert not ok.problems and ok.lines[0].total_incl == Decimal("12.00")
    off = plan_order(
        {**order, "total_paid_tax_incl": "12.01"}, [detail], [], {1: Decimal(20)}, links, None
    )
    assert any("total incohérent" in p for p in off.problems)
    unknown = plan_order(order, [detail], [], {}, links, None)
    assert any("taxe inconnue" in p for p in unknown.problems)
    wrong_rate = plan_order(order, [detail], [], {1: Decimal("5.5")}, links, None)
    assert any("ne répond pas" in p for p in wrong_rate.problems)
    no_tax = {**detail, "associations": {}, "total_price_tax_incl": "10.00"}
    untaxed = plan_order({**order, "total_paid_tax_incl": "10.00"}, [no_tax], [], {}, links, None)
    assert not untaxed.problems and untaxed.lines[0].vat_rate == 0  # a 0 % line


def test_the_shops_rounding_cent_is_a_line_only_where_rounding_explains_it():
    two = [{**ONE_LINE, "id": "1"}, {**ONE_LINE, "id": "2"}]
    order = {"total_paid_tax_excl": "20.00", "total_shipping_tax_incl": "0"}
    rates, links = {1: Decimal(20)}, {(1, 0): 7}

    def plan(total: str):
        return plan_order({**order, "total_paid_tax_incl": total}, two, [], rates, links, None)

    for total, cent in (("23.99", "-0.01"), ("24.01", "0.01")):  # two lines: half a cent each
        found = plan(total)
        assert not found.problems, found.problems
        (rounding,) = [x for x in found.lines if x.kind == m.LineKind.ROUNDING]
        assert rounding.total_incl == Decimal(cent) and rounding.total_excl == 0
        assert sum(x.total_incl for x in found.lines) == Decimal(total)
    assert any("total incohérent" in p for p in plan("24.02").problems)  # no rounding does that
    excl_off = plan_order(
        {**order, "total_paid_tax_incl": "24.01", "total_paid_tax_excl": "20.01"},
        two,
        [],
        rates,
        links,
        None,
    )
    assert any("total incohérent" in p for p in excl_off.problems)  # excl. VAT never rounds


def test_date_range_is_inclusive_of_both_days(ready, shop, client):
    target = shop.data.table("orders")[40]
    day = dt.date.fromisoformat(target["date_add"][:10])
    rows = OrdersFlow(client, date_from=day, date_to=day).read()
    expected = {
        o["id"] for o in shop.data.table("orders").values() if o["date_add"][:10] == day.isoformat()
    }
    assert {str(r.shop_id) for r in rows} == expected and "40" in expected


def test_since_last_cursor_moves_after_commit_and_resets(ready, shop, client):
    flow = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = flow.read()
    first_half = [r for r in rows if r.selected][:30]
    flow.execute(first_half)
    _date, order_id = cursor_value()
    assert order_id == first_half[-1].shop_id
    rows = OrdersFlow(client, since_last=True, options=ALL_ON).read()
    assert min(r.shop_id for r in rows) >= order_id  # the boundary is read again...
    assert next(r for r in rows if r.shop_id == order_id).status == Status.IMPORTED  # ...once
    settings.set_value("display.only_new", "true")
    rows = OrdersFlow(client, since_last=True).read()
    assert all(r.status != Status.IMPORTED for r in rows)
    from tui_connector.sync.orders import reset_cursor

    reset_cursor()
    assert cursor_value() is None
    assert len(OrdersFlow(client, since_last=True).read()) == len(shop.data.table("orders")) - 30


def test_customer_id_only_reads_less_and_still_imports_the_customer(sqlite_gestan, shop, client):
    demo_gestan.seed(shop.data)
    ProductsFlow(client).execute(ProductsFlow(client).read())
    options = OrderOptions(customer_id_only=True, invoices=True)
    flow = OrdersFlow(client, options=options)
    before = client.requests_made
    rows = flow.read()
    lean = client.requests_made - before
    assert all("·" not in r.columns["customer"] for r in rows)
    before = client.requests_made
    OrdersFlow(client, options=OrderOptions()).read()
    assert lean < client.requests_made - before
    chosen = [r for r in rows if r.selected][:3]
    flow.execute(chosen)
    for row in chosen:  # the missing customer was imported with the order
        order = row.payload.order
        link = m.Link.get(
            (m.Link.resource == "customers") & (m.Link.shop_id == int(order["id_customer"]))
        )
        sales_order = m.SalesOrder.get_by_id(
            m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == row.shop_id)).gestan_id
        )
        assert sales_order.contact_id == link.gestan_id
        assert sales_order.billing_city


def test_comments_and_stock_movements(ready, shop, client):
    with_message = next(
        o for o in shop.data.table("orders").values() if o["id"] == "23" or o["note"]
    )
    OrdersFlow(client, options=ALL_ON).execute(OrdersFlow(client, options=ALL_ON).read())
    link = m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == int(with_message["id"])))
    comment = m.SalesOrder.get_by_id(link.gestan_id).comment
    assert "emballer" in comment or "Note boutique" in comment
    # products imported from the shop today: their stock already counted every order
    assert m.StockMovement.select().where(m.StockMovement.reason == "order").count() == 0
    # a product counted in Gestan before the orders were placed goes down with them
    old = m.Product.get(m.Product.code == "GES-BOUGIE")
    assert old is not None


def test_stop_and_faults_then_a_rerun_completes(ready, shop):
    shop.faults.error_503 = 0.25
    shop.faults.cut_body = 0.1
    import threading

    for _attempt in range(8):
        with SyncWebservice(shop.url, shop.key, backoff=0.01) as faulty:
            try:
                flow = OrdersFlow(faulty, since_last=True, options=ALL_ON)
                rows = flow.read()
                cancel = threading.Event()

                def stop_at_20(done, total, label, cancel=cancel):
                    if done == 20:
                        cancel.set()

                report = flow.execute(rows, cancel=cancel, progress=stop_at_20)
            except Exception as exc:
                from tui_connector.errors import ConnectorError

                assert isinstance(exc, ConnectorError), exc
                continue
            assert report.stopped or report.ok
    shop.faults.error_503 = shop.faults.cut_body = 0
    with SyncWebservice(shop.url, shop.key) as clean:
        flow = OrdersFlow(clean, since_last=True, options=ALL_ON)
        flow.execute(flow.read())
        rows = OrdersFlow(clean, options=ALL_ON).read()
    selected_total = len([r for r in rows if r.status == Status.IMPORTED])
    assert m.SalesOrder.select().count() == selected_total
    assert_books_are_right(shop)


# --- killed with SIGKILL, resumed --------------------------------------------------------


def _sync_orders(env: dict, *, kill_after: float | None = None, mid_run: bool = False) -> int:
    """A run, or one killed `kill_after` seconds in, or (`mid_run`) killed as soon as it
    has committed its first orders: the writes are a short part of a run, in bulk."""
    command = [sys.executable, "-m", "tui_connector", "sync", "orders", "--since-last"]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    if kill_after is None and not mid_run:
        return process.wait(timeout=300)
    if mid_run:
        import sqlite3

        path = env["TUI_CONNECTOR_DATABASE"].removeprefix("sqlite:///")

        def count() -> int:
            with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
                return connection.execute("SELECT count(*) FROM sales_order").fetchone()[0]

        before = count()
        deadline = time.monotonic() + 60
        while process.poll() is None and count() == before and time.monotonic() < deadline:
            time.sleep(0.005)
    else:
        time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    return process.wait(timeout=30)


def _snapshot() -> dict:
    return {
        "orders": sorted((o.reference, str(o.total_incl)) for o in m.SalesOrder.select()),
        "invoices": sorted(
            (i.number, i.order.reference, str(i.total_incl)) for i in m.Invoice.select()
        ),
        "entries": sorted(
            (e.number, e.journal.code, str(sum(x.debit for x in e.lines)))
            for e in m.AccountingEntry.select()
        ),
        "payments": m.Payment.select().count(),
    }


@pytest.mark.slow
def test_killed_at_any_point_resumes_to_the_same_books(tmp_path):
    shop = SimulatedShop(build(orders=150, seed=9), faults=Faults(latency_ms=2)).start()
    try:
        results, duration, landed = [], 0.0, []
        for name in ("straight", "killed"):
            url = f"sqlite:///{tmp_path / name}.db"
            open_database(url)
            demo_gestan.seed(shop.data)
            for key in ("invoices.create", "invoices.mark_paid", "accounting.enabled"):
                settings.set_value(key, "true")
            m.database_proxy.obj.close()
            env = dict(
                os.environ,
                TUI_CONNECTOR_SHOP_URL=shop.url,
                TUI_CONNECTOR_API_KEY=shop.key,
                TUI_CONNECTOR_DATABASE=url,
            )
            for flow in ("contacts", "products"):
                subprocess.run(
                    [sys.executable, "-m", "tui_connector", "sync", flow],
                    env=env,
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            if name == "straight":
                started = time.perf_counter()
            else:  # killed at 30 points spread over the time a whole run takes
                for step in range(30):  # and a third of them right after a commit
                    at = duration * (0.3 + 0.7 * step / 29)
                    _sync_orders(env, kill_after=at, mid_run=step % 3 == 1)
                    database = open_database(url)
                    landed.append(m.SalesOrder.select().count())
                    database.close()
            assert _sync_orders(env) == 0
            if name == "straight":
                duration = time.perf_counter() - started
            database = open_database(url)
            results.append(_snapshot())
            assert_books_are_right(shop)
            database.close()
        straight, killed = results
        assert straight["orders"] and straight == killed
        total = len(straight["orders"])
        # commits come a chunk of orders at a time: several kills landed between two
        assert len([n for n in landed if 0 < n < total]) >= 3, landed
    finally:
        shop.stop()


@pytest.mark.slow
def test_demo_shop_of_2000_orders_end_to_end(sqlite_gestan, tmp_path):
    with SimulatedShop(build(orders=2000)) as shop, SyncWebservice(shop.url, shop.key) as client:
        demo_gestan.seed(shop.data)
        prepare(client)
        flow = OrdersFlow(client, since_last=True)  # the demo turns invoices and entries on
        report = flow.execute(flow.read())
        assert report.ok and report.counts["created"] > 1500
        assert_books_are_right(shop)
        for year in {e.fiscal_year.code for e in m.AccountingEntry.select()}:
            path = fec.export(year, tmp_path)
            rows = [line.split("\t") for line in path.read_text().splitlines()[1:]]
            debit = sum(Decimal(r[11].replace(",", ".")) for r in rows)
            credit = sum(Decimal(r[12].replace(",", ".")) for r in rows)
            assert debit == credit
        again = OrdersFlow(client, since_last=True)
        assert again.execute(again.read()).counts["created"] == 0
        assert Path(path).name.startswith("732829320FEC")
        # the shop lives; one run later the books say what the shop says
        stock_before = {r.key for r in StockFlow(client).read() if r.action or r.blocked}
        life = ShopLife(shop.data)
        done = life.live(random.Random(8), dt.datetime(2027, 2, 1, 9, 0), share=0.05)
        assert all(done.values()), done
        follow = OrdersFlow(client, since_last=True).stream()
        assert follow.ok and follow.counts["updated"] >= sum(map(len, done.values())) - 5
        imported = {link.shop_id for link in m.Link.select().where(m.Link.resource == "orders")}
        shop_owed, shop_kept = life.owed(imported)
        contacts = {c.id: c for c in m.Contact.select()}
        customer_of = {
            accounting.contact_account(contacts[link.gestan_id]): str(link.shop_id)
            for link in m.Link.select().where(m.Link.resource == "customers")
        }
        owed, bank = accounting.balances()
        assert {customer_of[aux]: v for aux, v in owed.items() if v} == {
            c: v for c, v in shop_owed.items() if v
        }
        assert bank == shop_kept
        for resource in ("order_slip", "order_payments"):  # nothing twice
            gestan = [x.gestan_id for x in m.Link.select().where(m.Link.resource == resource)]
            assert len(gestan) == len(set(gestan))
        assert_books_are_right(shop)
        assert {r.key for r in StockFlow(client).read() if r.action or r.blocked} <= stock_before


@pytest.mark.parametrize("late", ["hold", "today"])
def test_an_older_range_imported_after_a_newer_one_never_moves_an_invoice(ready, client, late):
    """Importing 2024-2025 after 2026: numbers follow dates, so those orders are held (the
    row says why) or, if asked, invoiced today after the others; no invoice changes year."""
    newer = OrdersFlow(client, date_from=dt.date(2026, 1, 1), options=ALL_ON)
    assert newer.execute(newer.read()).ok
    dated = {i.number: i.date for i in m.Invoice.select()}
    assert dated and min(dated.values()).year == 2026
    options = OrderOptions(invoices=True, mark_paid=True, accounting=True, late=late)
    older = OrdersFlow(client, date_to=dt.date(2025, 12, 31), options=options)
    rows = [
        r for r in older.read() if isinstance(r.payload, OrderPayload) and not r.payload.unwanted
    ]
    assert rows and all(r.payload.late for r in rows)
    if late == "hold":
        assert all(r.blocked and "plus ancienne que la dernière facture" in r.reason for r in rows)
        older.execute(rows)
        assert m.Invoice.select().count() == len(dated)  # nothing invoiced
    else:
        assert not any(r.blocked for r in rows)
        assert older.execute(rows).ok
        today = m.now().date()
        new = [i for i in m.Invoice.select() if i.number not in dated]
        assert new and all(i.date == today for i in new if i.kind == m.Invoice.INVOICE)
    assert {i.number: i.date for i in m.Invoice.select() if i.number in dated} == dated
    invoices = sorted(
        m.Invoice.select().where(m.Invoice.series == "FA"), key=lambda i: int(i.number[2:])
    )
    assert [i.date for i in invoices] == sorted(i.date for i in invoices)  # numbers follow dates


def test_the_invoice_takes_the_shops_invoice_date_when_asked(ready, shop, client):
    options = OrderOptions(invoices=True, invoice_date="shop")
    flow = OrdersFlow(client, date_to=dt.date(2025, 3, 31), options=options)
    rows = [r for r in flow.read() if r.selected]
    assert flow.execute(rows).ok
    for row in rows:
        order = shop.data.table("orders")[row.shop_id]
        invoice = m.Invoice.get(m.Invoice.order == order_of_row(row))
        expected = order["invoice_date"] if order["invoice_number"] != "0" else order["date_add"]
        assert invoice.date.isoformat() == expected[:10]


def order_of_row(row) -> int:
    return m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == row.shop_id)).gestan_id
