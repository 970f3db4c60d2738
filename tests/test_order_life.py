"""Orders live on after import: payments, cancellations, credit slips reach Gestan, once.

The shop's life is made by the simulator the way the real PrestaShop 8.1.2 records it
(tui_connector/simulator/life.py, checked against the captures); the flow follows it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.order_changes import OrderChangePayload, change_cursor
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.status import Status
from tui_connector.sync.stock import StockFlow

from .test_orders import prepare

ALL_ON = OrderOptions(invoices=True, mark_paid=True, accounting=True)
LATER = dt.datetime(2027, 1, 15, 10, 0)


def order_of(shop_id: int) -> m.SalesOrder:
    link = m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == shop_id))
    return m.SalesOrder.get_by_id(link.gestan_id)


def invoice_of(order: m.SalesOrder) -> m.Invoice:
    return m.Invoice.get((m.Invoice.order == order) & (m.Invoice.kind == m.Invoice.INVOICE))


def credit_notes_of(order: m.SalesOrder) -> list[m.Invoice]:
    return list(
        m.Invoice.select()
        .where((m.Invoice.order == order) & (m.Invoice.kind == m.Invoice.CREDIT_NOTE))
        .order_by(m.Invoice.id)
    )


def receivable(order: m.SalesOrder) -> Decimal:
    """What the customer still owes on this order's documents (411, debit - credit)."""
    docs = [invoice.id for invoice in m.Invoice.select().where(m.Invoice.order == order)]
    payments = [
        a.payment_id
        for a in m.PaymentAllocation.select().where(m.PaymentAllocation.invoice.in_(docs))
    ]
    lines = (
        m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where(
            (m.AccountingLine.account_number == "411")
            & (m.AccountingEntry.invoice.in_(docs) | m.AccountingEntry.payment.in_(payments))
        )
    )
    return sum((x.debit - x.credit for x in lines), Decimal(0))


def stock_of(product_id: int) -> Decimal:
    moves = m.StockMovement.select().where(m.StockMovement.product == product_id)
    return sum((x.quantity for x in moves), Decimal(0))


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=80, seed=11)) as running:
        yield running


@pytest.fixture
def imported(gestan, shop, client):
    """A Gestan database on each engine with the shop's orders imported once."""
    demo_gestan.seed(shop.data)
    prepare(client)
    flow = OrdersFlow(client, since_last=True, options=ALL_ON)
    report = flow.stream()
    assert report.ok, report.summary()
    return gestan


def _orders_in(shop, *states: str) -> list[int]:
    return sorted(
        int(o["id"]) for o in shop.data.table("orders").values() if o["current_state"] in states
    )


def test_the_simulator_records_life_as_the_real_shop_does(shop):
    life = ShopLife(shop.data)
    orders = shop.data.table("orders")
    awaiting, delivered = _orders_in(shop, "10")[0], _orders_in(shop, "5")[:3]
    before = orders[delivered[1]]["date_upd"]
    payments = len(shop.data.table("order_payments"))
    life.pay(awaiting, LATER)
    assert orders[awaiting]["date_upd"] == "2027-01-15 10:00:00"  # a state change moves it
    assert orders[awaiting]["valid"] == "1" and orders[awaiting]["invoice_number"] != "0"
    assert len(shop.data.table("order_payments")) == payments + 1
    line = min(
        int(d["id"])
        for d in shop.data.table("order_details").values()
        if d["id_order"] == str(delivered[1])
    )
    slip = life.refund(delivered[1], LATER, {line: 1})
    assert orders[delivered[1]]["date_upd"] == before  # a slip does not (real order 45)
    assert orders[delivered[1]]["current_state"] == "5"
    assert slip["amount"] == slip["total_products_tax_excl"]  # products excl. VAT
    assert slip["shipping_cost_amount"] == "0.000000" and slip["order_slip_type"] == "0"
    assert len(shop.data.table("order_payments")) == payments + 1  # no negative payment
    full = life.refund(delivered[2], LATER)
    assert orders[delivered[2]]["current_state"] == "7"
    assert full["associations"]["order_slip_details"][0]["id"] == full["id"]


def test_slips_and_payments_are_read_in_the_real_shapes(shop):
    """The simulator's order_slip list has the real <order_slips> element and hrefs."""
    import httpx

    response = httpx.get(f"{shop.url}/api/order_slip", auth=(shop.key, ""))
    assert b"<order_slips>" in response.content
    assert b"/api/order_slips/" in response.content  # the real shop's href, which is a 400
    wrong = httpx.get(f"{shop.url}/api/order_slips/1", auth=(shop.key, ""))
    assert wrong.status_code == 400 and b'Did you mean: "order_slip"' in wrong.content
    listed = httpx.get(
        f"{shop.url}/api/order_slip?display=full&output_format=JSON", auth=(shop.key, "")
    ).json()
    assert "order_slips" in listed


def test_each_change_after_import_becomes_its_act_once(imported, shop, client):
    life = ShopLife(shop.data)
    awaiting = _orders_in(shop, "10", "1")[0]
    delivered = _orders_in(shop, "5", "4")
    cancelled, refunded, partial, no_slip = delivered[0], delivered[1], delivered[2], delivered[3]
    life.pay(awaiting, LATER)
    life.change_state(no_slip, 7, LATER + dt.timedelta(hours=4))  # Refunded, no slip (order 21)
    life.cancel(cancelled, LATER + dt.timedelta(hours=1))
    life.refund(refunded, LATER + dt.timedelta(hours=2))
    details = [
        d for d in shop.data.table("order_details").values() if d["id_order"] == str(partial)
    ]
    first = min(details, key=lambda d: int(d["id"]))
    slip = life.refund(partial, LATER + dt.timedelta(hours=3), {int(first["id"]): 1}, restock=True)
    first_product = order_of(partial).lines.where(m.SalesOrderLine.position == 1).get().product_id
    stock_before = stock_of(first_product)
    cancelled_lines = {
        line.product_id: line.quantity
        for line in order_of(cancelled).lines
        if line.kind == m.LineKind.PRODUCT
    }
    cancelled_stock = {p: stock_of(p) for p in cancelled_lines}

    # the shop put stock back: writing Gestan's quantities now would undo it
    touched = {
        (r.shop_id, r.shop_sub_id): r
        for r in StockFlow(client).read()
        if r.gestan_id in cancelled_lines
    }
    assert touched and all(r.status == Status.BLOCKED for r in touched.values())
    reference = shop.data.table("orders")[cancelled]["reference"]
    assert all(reference in r.reason for r in touched.values())

    flow = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = [r for r in flow.read() if isinstance(r.payload, OrderChangePayload)]
    kinds = Counter(r.status for r in rows)
    # the full refund's Refunded state is no row of its own: its slip says it all
    assert kinds == {Status.PAID: 1, Status.CANCELLED: 1, Status.CREDITED: 2, Status.REFUNDED: 1}, (
        kinds
    )
    report = flow.execute(rows)
    assert report.ok, report.summary()

    # the payment: at the shop's date and amount, allocated, lettered, nothing owed
    paid = order_of(awaiting)
    payment = m.PaymentAllocation.get(m.PaymentAllocation.invoice == invoice_of(paid)).payment
    assert payment.date == LATER.date()
    assert payment.amount == Decimal(shop.data.table("orders")[awaiting]["total_paid_tax_incl"])
    assert receivable(paid) == 0
    lettered = (
        m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where(
            (m.AccountingLine.account_number == "411")
            & (m.AccountingEntry.invoice == invoice_of(paid))
        )
    )
    (invoice_line,) = list(lettered)
    (payment_line,) = list(
        m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where((m.AccountingLine.account_number == "411") & (m.AccountingEntry.payment == payment))
    )
    assert invoice_line.lettering and invoice_line.lettering == payment_line.lettering
    assert payment_line.lettering_date == LATER.date()
    # the cancellation: a credit note for the whole invoice, the stock put back
    notes = credit_notes_of(order_of(cancelled))
    assert [n.total_incl for n in notes] == [-invoice_of(order_of(cancelled)).total_incl]
    for product, quantity in cancelled_lines.items():
        assert stock_of(product) == cancelled_stock[product] + quantity
    # the full refund: one credit note (the slip's), the money back, nothing owed either way
    notes = credit_notes_of(order_of(refunded))
    assert [n.total_incl for n in notes] == [-invoice_of(order_of(refunded)).total_incl]
    assert receivable(order_of(refunded)) == 0
    # refunded without a slip: a credit note for all of it, and all the money back
    (note,) = credit_notes_of(order_of(no_slip))
    assert note.total_incl == -invoice_of(order_of(no_slip)).total_incl
    assert m.PaymentAllocation.get(m.PaymentAllocation.invoice == note).amount == note.total_incl
    assert receivable(order_of(no_slip)) == 0
    # the partial slip: exactly its line, its VAT, the money back, the unit back in stock
    (note,) = credit_notes_of(order_of(partial))
    (line,) = list(note.lines)
    detail = slip["associations"]["order_slip_details"][0]
    assert line.total_excl == -Decimal(detail["amount_tax_excl"]).quantize(Decimal("0.01"))
    assert line.total_incl == -Decimal(detail["amount_tax_incl"]).quantize(Decimal("0.01"))
    assert line.quantity == -1
    (vat,) = list(note.vat_lines)
    assert vat.base_excl == line.total_excl and vat.vat_amount == line.total_incl - line.total_excl
    refund = m.PaymentAllocation.get(m.PaymentAllocation.invoice == note).payment
    assert (
        refund.amount == note.total_incl and refund.date == (LATER + dt.timedelta(hours=3)).date()
    )
    letters = {
        x.lettering
        for x in m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where(
            (m.AccountingLine.account_number == "411")
            & ((m.AccountingEntry.invoice == note) | (m.AccountingEntry.payment == refund))
        )
    }
    assert len(letters) == 1 and "" not in letters  # the credit note lettered with its refund
    assert stock_of(first_product) == stock_before + 1
    # once imported, the shop's quantities and Gestan's agree again: stock writes nothing
    after = {(r.shop_id, r.shop_sub_id): r for r in StockFlow(client).read()}
    assert all(after[key].status == Status.UP_TO_DATE for key in touched), [
        after[k].status for k in touched
    ]
    # every entry balances, each series has no gap
    for entry in m.AccountingEntry.select():
        assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines)
    for series in ("FA", "AV"):
        numbers = sorted(
            int(i.number[2:]) for i in m.Invoice.select().where(m.Invoice.series == series)
        )
        assert numbers == list(range(1, len(numbers) + 1))
    assert change_cursor("order_slip") == max(shop.data.table("order_slip"))

    # a run with nothing new changes nothing
    counts = {
        model: model.select().count()
        for model in (m.Invoice, m.Payment, m.StockMovement, m.AccountingEntry)
    }
    again = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = again.read()
    assert not [r for r in rows if isinstance(r.payload, OrderChangePayload)]
    assert again.execute(rows).ok
    assert counts == {model: model.select().count() for model in counts}


def _books() -> dict:
    """Everything the changes write, in a form two databases can be compared by."""
    return {
        "notes": sorted(
            (i.number, i.order.reference, str(i.total_incl), str(i.date))
            for i in m.Invoice.select().where(m.Invoice.kind == m.Invoice.CREDIT_NOTE)
        ),
        "payments": sorted((str(p.date), str(p.amount), p.reference) for p in m.Payment.select()),
        "stock": sorted(
            (x.product_id, str(x.quantity), x.reason) for x in m.StockMovement.select()
        ),
        "entries": sorted(
            (e.number, e.journal.code, str(sum(x.debit for x in e.lines)))
            for e in m.AccountingEntry.select()
        ),
        "lettered": m.AccountingLine.select().where(m.AccountingLine.lettering != "").count(),
    }


@pytest.mark.slow
def test_changes_killed_at_any_point_are_applied_once(tmp_path):
    import os
    import random
    import shutil
    import time

    from tui_connector.gestan.database import open_database
    from tui_connector.simulator.server import Faults

    from .test_orders import _sync_orders

    shop = SimulatedShop(build(orders=150, seed=9), faults=Faults(latency_ms=2)).start()
    try:
        first = tmp_path / "imported.db"
        open_database(f"sqlite:///{first}")
        demo_gestan.seed(shop.data)
        with SyncWebservice(shop.url, shop.key) as client:
            prepare(client)
            assert OrdersFlow(client, since_last=True).stream().ok
        m.database_proxy.obj.close()
        done = ShopLife(shop.data).live(random.Random(4), LATER, share=0.5)
        assert all(done.values()), done  # payments, cancellations, full and partial refunds
        results, duration, landed = {}, 0.0, []
        for name in ("straight", "killed"):
            shutil.copy(first, tmp_path / f"{name}.db")
            url = f"sqlite:///{tmp_path / name}.db"
            env = dict(
                os.environ,
                TUI_CONNECTOR_SHOP_URL=shop.url,
                TUI_CONNECTOR_API_KEY=shop.key,
                TUI_CONNECTOR_DATABASE=url,
            )
            if name == "straight":
                started = time.perf_counter()
            else:
                for step in range(8):
                    _sync_orders(env, kill_after=duration * (0.4 + 0.6 * step / 7))
                    database = open_database(url)
                    landed.append(m.Link.select().where(m.Link.resource == "order_slip").count())
                    database.close()
            assert _sync_orders(env) == 0
            if name == "straight":
                duration = time.perf_counter() - started
            database = open_database(url)
            results[name] = _books()
            database.close()
        assert results["straight"]["notes"] and results["straight"] == results["killed"]
        # the kills landed before, between and after the run's commits
        database = open_database(f"sqlite:///{first}")
        before = m.Link.select().where(m.Link.resource == "order_slip").count()
        database.close()
        after = before + len(done["refunded"]) + len(done["partial"])
        assert min(landed) == before and max(landed) == after, (before, landed, after)
        assert any(before < n < after for n in landed) or len(set(landed)) > 1, landed
    finally:
        shop.stop()


def test_shop_dates_are_compared_in_the_shops_time_zone(sqlite_gestan, monkeypatch):
    """A UTC machine, a Paris shop: an order placed at 10:30 Paris time came before a
    stock taken at 10:00 UTC, so Gestan must not take it out of its stock again."""
    import time as clock
    from zoneinfo import ZoneInfo

    from tui_connector.sync.shop_facts import ShopFacts

    monkeypatch.setenv("TZ", "UTC")
    clock.tzset()
    try:
        facts = ShopFacts()
        assert facts.machine_time("2026-12-01 22:32:38") == dt.datetime(2026, 12, 1, 21, 32, 38)
        assert facts.machine_time("2026-07-01 12:00:00") == dt.datetime(2026, 7, 1, 10, 0, 0)
        data = build(orders=6, seed=2)
        with SimulatedShop(data) as shop, SyncWebservice(shop.url, shop.key) as client:
            demo_gestan.seed(shop.data)
            assert ProductsFlow(client).execute(ProductsFlow(client).read()).ok
            taken = m.now()  # Gestan took the shop's stock now, machine (UTC) time
            paris = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(tzinfo=None, microsecond=0)
            orders = sorted(data.table("orders"))
            before, after = orders[0], orders[1]
            # before the stock in fact (UTC - 30 min), though later on the wall clock
            data.table("orders")[before]["date_add"] = (
                f"{taken + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}"
            )
            data.table("orders")[after]["date_add"] = (
                f"{paris + dt.timedelta(minutes=30):%Y-%m-%d %H:%M:%S}"
            )
            flow = OrdersFlow(client, options=ALL_ON)
            rows = [r for r in flow.read() if r.shop_id in (before, after) and r.selected]
            assert len(rows) == 2 and flow.execute(rows).ok
            moved = {
                link.shop_id: m.StockMovement.select()
                .where(
                    (m.StockMovement.order == link.gestan_id) & (m.StockMovement.reason == "order")
                )
                .count()
                for link in m.Link.select().where(m.Link.resource == "orders")
            }
            assert moved[before] == 0  # the shop's count had it already
            assert moved[after] > 0
    finally:
        monkeypatch.delenv("TZ")
        clock.tzset()


def test_sync_stock_refuses_to_undo_the_shop_or_imports_the_orders_first(
    tmp_path, monkeypatch, capsys
):
    from tui_connector.cli import main
    from tui_connector.gestan.database import open_database

    url = f"sqlite:///{tmp_path / 'gestan.db'}"
    with SimulatedShop(build(orders=40, seed=11)) as shop:
        for name, value in (("SHOP_URL", shop.url), ("API_KEY", shop.key), ("DATABASE", url)):
            monkeypatch.setenv(f"TUI_CONNECTOR_{name}", value)
        open_database(url)
        demo_gestan.seed(shop.data)
        with SyncWebservice(shop.url, shop.key) as client:
            prepare(client)
            assert OrdersFlow(client, since_last=True).stream().ok
        m.database_proxy.obj.close()
        order_id = _orders_in(shop, "5", "4")[0]
        ShopLife(shop.data).cancel(order_id, LATER)  # the shop puts its stock back
        stock = {s["id"]: s["quantity"] for s in shop.data.table("stock_availables").values()}
        reference = shop.data.table("orders")[order_id]["reference"]

        assert main(["sync", "stock", "--json"]) == 1
        blocked = [
            row
            for row in json.loads(capsys.readouterr().out)["rows"]
            if row["status"] == Status.BLOCKED
        ]
        assert blocked and all(reference in r["message"] for r in blocked)
        assert all("sync orders" in r["message"] for r in blocked)
        lines = {
            (d["product_id"], d["product_attribute_id"])
            for d in shop.data.table("order_details").values()
            if d["id_order"] == str(order_id)
        }
        ours = {
            s["id"]
            for s in shop.data.table("stock_availables").values()
            if (s["id_product"], s["id_product_attribute"]) in lines
        }
        assert ours and all(  # nothing the shop put back was written over
            shop.data.table("stock_availables")[int(i)]["quantity"] == stock[i] for i in ours
        )

        main(["sync", "stock", "--orders-first", "--json"])
        out = capsys.readouterr().out
        assert reference not in out  # imported first: nothing left to block
        open_database(url)
        order = order_of(order_id)
        assert credit_notes_of(order)  # the cancellation came in before the stock
        assert (
            m.StockMovement.select()
            .where((m.StockMovement.order == order) & (m.StockMovement.reason == "return"))
            .exists()
        )


def test_changes_in_any_order_are_applied_once(imported, shop, client):
    """Found by review: a payment and its refund in one run; a slip, then Refunded; the
    Refunded state before its slip (real order 12); a read and an execution apart."""
    life = ShopLife(shop.data)
    paid_then_refunded = _orders_in(shop, "10", "1")[0]
    delivered = _orders_in(shop, "5", "4")
    slip_then_state, state_then_slip = delivered[0], delivered[1]
    life.pay(paid_then_refunded, LATER)
    life.refund(paid_then_refunded, LATER + dt.timedelta(hours=1))
    first = min(
        int(d["id"])
        for d in shop.data.table("order_details").values()
        if d["id_order"] == str(slip_then_state)
    )
    life.refund(slip_then_state, LATER, {first: 1})
    life.change_state(slip_then_state, 7, LATER + dt.timedelta(hours=2))
    life.change_state(state_then_slip, 7, LATER)
    life.refund(state_then_slip, LATER + dt.timedelta(days=8), refunded_state=False)

    report = OrdersFlow(client, since_last=True, options=ALL_ON).stream()
    assert report.ok, report.summary()
    for shop_id in (paid_then_refunded, slip_then_state, state_then_slip):
        order = order_of(shop_id)
        invoice = invoice_of(order)
        notes = credit_notes_of(order)
        assert -sum(n.total_incl for n in notes) == invoice.total_incl, shop_id  # all of it
        assert receivable(order) == 0, shop_id  # paid, and all paid back
    assert len(credit_notes_of(order_of(state_then_slip))) == 1  # the slip adds nothing

    counts = {model: model.select().count() for model in (m.Invoice, m.Payment, m.Link)}
    assert OrdersFlow(client, since_last=True, options=ALL_ON).stream().ok
    assert counts == {model: model.select().count() for model in counts}

    # read with one flow, execute with another (as the Orders screen does): cursors move
    life.cancel(delivered[2], LATER + dt.timedelta(days=9))
    reader = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = [r for r in reader.read() if isinstance(r.payload, OrderChangePayload)]
    assert [r.status for r in rows] == [Status.CANCELLED]
    executor = OrdersFlow(client, since_last=True, options=ALL_ON)
    executor.carry_on(reader)
    assert executor.execute(rows).ok
    assert change_cursor("order_histories") == max(shop.data.table("order_histories"))


def test_stock_put_back_counts_every_line_of_a_product(gestan):
    """Two order lines of one product (two customisations): all of both go back."""
    from tui_connector.sync.order_life import Books, Documents, OrderLife
    from tui_connector.sync.shop_facts import ShopFacts

    product = m.Product.create(code="P1", label="Mug")
    contact = m.Contact.create(code="C1", lastname="Martin")
    order = m.SalesOrder.create(contact=contact, date=LATER, reference="ABC", number="WEB1")
    for position, quantity in ((1, 2), (2, 3)):
        m.SalesOrderLine.create(
            order=order, position=position, product=product, label="Mug", quantity=quantity
        )
    life = OrderLife(ShopFacts(), Books(), lambda series, date: date, {(5, 0): product.id})
    details = [
        {
            "product_id": "5",
            "product_attribute_id": "0",
            "product_quantity": str(q),
            "product_name": "Mug",
            "product_quantity_reinjected": "0",
        }
        for q in (2, 3)
    ]
    docs = Documents(order, None)
    assert life.returns(docs, details, "2027-01-15 10:00:00", cancelled=True) == [
        (product.id, Decimal(5))
    ]


def test_invoiced_once_paid_an_awaiting_order_gets_its_invoice_with_its_payment(
    gestan, shop, client
):
    """invoices.when = paid: the Gestan order now, the invoice the day the money comes."""
    demo_gestan.seed(shop.data)
    prepare(client)
    options = OrderOptions(invoices=True, mark_paid=True, accounting=True, invoice_when="paid")
    assert OrdersFlow(client, since_last=True, options=options).stream().ok
    awaiting = _orders_in(shop, "10", "1")[0]
    order = order_of(awaiting)
    assert not m.Invoice.select().where(m.Invoice.order == order).exists()
    paid_at_import = order_of(_orders_in(shop, "5")[0])
    assert invoice_of(paid_at_import).date <= LATER.date()  # paid ones: invoiced at import
    ShopLife(shop.data).pay(awaiting, LATER)
    report = OrdersFlow(client, since_last=True, options=options).stream()
    assert report.ok, report.summary()
    invoice = invoice_of(order)
    assert invoice.date == LATER.date() and invoice.total_incl == order.total_incl
    (allocation,) = list(invoice.allocations)
    assert allocation.payment.date == LATER.date() and receivable(order) == 0


def test_with_the_shops_numbering_gestan_records_the_shops_numbers_and_issues_none(
    gestan, shop, client
):
    """invoices.numbering = shop: the shop is the invoicing system. Each Gestan invoice
    bears the shop's number and date, an order the shop has not invoiced waits for it,
    a credit slip's credit note bears the slip's number; Gestan's series never moves."""
    demo_gestan.seed(shop.data)
    prepare(client)
    settings.set_value("invoices.numbering", "shop")
    options = replace(ALL_ON, numbering="shop")
    rows = OrdersFlow(client, since_last=True, options=options).read()
    report = OrdersFlow(client, since_last=True, options=options).execute(rows)
    assert report.ok, report.summary()
    orders = shop.data.table("orders")
    invoiced = [o for o in orders.values() if o["invoice_number"] != "0"]
    assert invoiced
    for shop_order in invoiced:
        if shop_order["current_state"] in ("6", "8"):
            continue
        invoice = invoice_of(order_of(int(shop_order["id"])))
        assert invoice.number == f"#IN{int(shop_order['invoice_number']):06d}"
        assert invoice.date == dt.date.fromisoformat(shop_order["invoice_date"][:10])
    awaiting = _orders_in(shop, "10", "1")[0]
    assert not m.Invoice.select().where(m.Invoice.order == order_of(awaiting)).exists()
    said = {r.shop_id: r.message for r in report.results}
    assert said[awaiting].startswith("facturée quand la boutique la facture")  # (no "avoir:")

    life = ShopLife(shop.data)
    life.pay(awaiting, LATER)
    refunded = int(invoiced[0]["id"])
    slip = life.refund(refunded, LATER + dt.timedelta(minutes=5))
    report = OrdersFlow(client, since_last=True, options=options).stream()
    assert report.ok, report.summary()
    invoice = invoice_of(order_of(awaiting))
    assert invoice.number == f"#IN{int(orders[awaiting]['invoice_number']):06d}"
    assert invoice.date == LATER.date() and list(invoice.allocations)
    (credit_note,) = credit_notes_of(order_of(refunded))
    assert credit_note.number == f"{int(slip['id']):06d}"  # PS_CREDIT_SLIP_PREFIX is empty
    # Gestan numbered nothing of its own
    assert m.Sequence.get(m.Sequence.key == "invoice:FA").last_value == 0
    assert m.Sequence.get(m.Sequence.key == "invoice:AV").last_value == 0


def test_with_the_shops_numbering_an_unknown_prefix_holds_the_orders(gestan, shop, client):
    """The prefix is per language: a key that may not read translated_configurations
    cannot know it; orders wait, saying so, until the key may or the setting says it."""
    demo_gestan.seed(shop.data)
    prepare(client)
    shop.data.table("translated_configurations").clear()
    options = replace(ALL_ON, numbering="shop")
    assert OrdersFlow(client, options=options).read()  # the shop says nothing: an empty prefix
    allowed = shop.engine.root_permissions()
    shop.engine.permissions = {**allowed, "translated_configurations": set()}
    rows = OrdersFlow(client, options=options).read()
    assert rows and all("PS_INVOICE_PREFIX" in row.reason and row.blocked for row in rows)
    settings.set_value("invoices.shop_prefix", "#FA")
    invoiced = next(o for o in shop.data.table("orders").values() if o["current_state"] == "5")
    rows = {row.shop_id: row for row in OrdersFlow(client, options=options).read()}
    row = rows[int(invoiced["id"])]
    assert not row.blocked
    report = OrdersFlow(client, options=options).execute([row])
    assert report.ok, report.summary()
    number = invoice_of(order_of(int(invoiced["id"]))).number
    assert number == f"#FA{int(invoiced['invoice_number']):06d}"


def test_only_the_states_that_end_an_order_are_read(imported, shop, client, monkeypatch):
    """Order histories past the cursor: the shop is asked for its cancellations and refunds
    only (the other states ask nothing of Gestan), not for every state an order went by."""
    read = []
    pages = client.iter_pages

    def recording(resource, query=None, **kwargs):
        for page in pages(resource, query, **kwargs):
            if resource == "order_histories":
                read.extend(page)
            yield page

    monkeypatch.setattr(client, "iter_pages", recording)
    cancelled = _orders_in(shop, "5")[0]
    ShopLife(shop.data).cancel(cancelled, LATER)
    assert OrdersFlow(client, since_last=True, options=ALL_ON).stream().ok
    assert credit_notes_of(order_of(cancelled))
    assert read and {r["id_order_state"] for r in read} <= {"6", "7"}, read
