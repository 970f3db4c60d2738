"""The orders written in bulk are the orders written one by one: the same rows, the same
numbers, the same ids, on every engine; in a few statements per order."""

from __future__ import annotations

import datetime as dt

import peewee as pw
import pytest

from tests.conftest import empty_all_tables
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache
from tui_connector.gestan.database import SCHEMA_VERSION, open_database, seed_reference_data
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.life import ShopLife
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow

ALL_ON = OrderOptions(invoices=True, mark_paid=True, accounting=True)
# what the clock writes: it differs between two runs, whatever writes the rows
CLOCK = {"created_at", "updated_at", "validated_at", "synced_at", "at", "started_at"}
CLOCK |= {"finished_at", "fetched_at"}
SKIPPED = {m.SyncRun, m.RunLock, m.Meta}


def dump() -> dict[str, list[tuple]]:
    """Every row of every table but the runs', ordered by id, without the clock's fields."""
    found = {}
    for model in m.ALL_MODELS:
        if model in SKIPPED:
            continue
        fields = [f for name, f in model._meta.fields.items() if name not in CLOCK]
        if model is m.AccountingEntry:  # its validation day is today's
            fields = [f for f in fields if f.name != "validated_at"]
        order = model._meta.primary_key
        if model is m.Sequence:  # a chunk makes its counters together: by key
            fields, order = [m.Sequence.key, m.Sequence.last_value], m.Sequence.key
        rows = model.select(*fields).order_by(order).tuples()
        rows = [tuple(row) for row in rows]
        if model is m.StockMovement:  # the stock taken from the shop is dated by the clock
            rows = [(*row[:3], None, *row[4:]) if row[5] != "order" else row for row in rows]
        if model is m.Link:  # the shop dates the products the flow wrote to it by its clock
            rows = [row if row[1].startswith("order") else row[:5] + row[6:] for row in rows]
        found[model._meta.table_name] = rows
    return found


class Counted:
    def __init__(self, database):
        self.count, self.database = 0, database
        self.execute = database.execute_sql

    def __enter__(self):
        def counted(sql, params=None, *args, **kwargs):
            self.count += 1
            return self.execute(sql, params, *args, **kwargs)

        self.database.execute_sql = counted
        return self

    def __exit__(self, *exc):
        del self.database.execute_sql


def import_all(
    bulk: bool, options: OrderOptions = ALL_ON, orders: int = 120, life=None, books=None
) -> dict:
    """`life(data)`: what happens to the shop's orders before they are imported;
    `books()`: what Gestan holds before they are (then some rows may fail)."""
    data = build(orders=orders, seed=5)
    if life is not None:
        life(data)
    with (
        SimulatedShop(data) as shop,
        SyncWebservice(shop.url, shop.key, backoff=0.01) as client,
    ):
        demo_gestan.seed(shop.data)
        if books is not None:
            books()
        for flow_class in (ContactsFlow, ProductsFlow):
            flow = flow_class(client)
            assert flow.execute(flow.read()).ok
        flow = OrdersFlow(client, since_last=True, options=options)
        flow.bulk = bulk
        with Counted(m.database_proxy.obj) as statements:
            report = flow.stream()
        assert report.ok or books is not None, report.summary()
        return {"report": report, "rows": dump(), "statements": statements.count}


def fresh(backend: str, database, tmp_path, name: str):
    if backend == "sqlite":
        return open_database(f"sqlite:///{tmp_path / name}.db")
    empty_all_tables(database)
    refcache.clear()
    with database.atomic():
        seed_reference_data()
        m.Meta.create(key="schema_version", value=str(SCHEMA_VERSION))
    return database


@pytest.mark.parametrize(
    "options",
    [
        ALL_ON,
        OrderOptions(invoices=True, mark_paid=True),
        OrderOptions(invoices=True, invoice_when="paid", mark_paid=True, accounting=True),
    ],
    ids=["all", "no entries", "invoiced when paid"],
)
def test_bulk_writes_what_one_by_one_writes(gestan, tmp_path, options, request):
    backend = request.node.callspec.params["gestan"]
    one = import_all(False, options)
    fresh(backend, gestan, tmp_path, "bulk")
    bulk = import_all(True, options)
    assert [r.as_json() for r in bulk["report"].results] == [
        r.as_json() for r in one["report"].results
    ]
    for table, rows in one["rows"].items():
        assert bulk["rows"][table] == rows, table
    assert bulk["statements"] * 3 < one["statements"]  # (written in bulk, not one by one)
    assert (one["rows"]["invoice"] and one["rows"]["accounting_line"]) or not options.accounting


LATER = dt.datetime(2027, 1, 15, 10, 0)


def lived(data) -> None:
    """Orders with a life before their import, one of each kind the acts know: unpaid
    and refunded in full (its credit note lettered with the invoice), unpaid with a
    partial slip then cancelled, paid with a partial slip put back in stock, paid and
    refunded in full (the refund lettered with its credit note), paid with a partial
    slip then Refunded, paid then cancelled (no money back)."""
    orders = data.table("orders")

    def in_state(*states: str) -> list[int]:
        return sorted(int(o["id"]) for o in orders.values() if o["current_state"] in states)

    def first_line(order_id: int) -> int:
        return min(
            int(d["id"])
            for d in data.table("order_details").values()
            if d["id_order"] == str(order_id)
        )

    life = ShopLife(data)
    unpaid, paid = in_state("1", "10"), in_state("2", "3", "4", "5")
    life.refund(unpaid[0], LATER)
    life.refund(unpaid[1], LATER, {first_line(unpaid[1]): 1})
    life.cancel(unpaid[1], LATER + dt.timedelta(hours=1))
    life.refund(paid[0], LATER, {first_line(paid[0]): 1}, restock=True)
    life.refund(paid[1], LATER)
    life.refund(paid[2], LATER, {first_line(paid[2]): 1})
    life.change_state(paid[2], 7, LATER + dt.timedelta(hours=2))
    life.cancel(paid[3], LATER)


def test_orders_with_a_life_are_written_in_bulk_as_one_by_one(gestan, tmp_path, request):
    backend = request.node.callspec.params["gestan"]
    one = import_all(False, life=lived)
    fresh(backend, gestan, tmp_path, "bulk")
    bulk = import_all(True, life=lived)
    assert [r.as_json() for r in bulk["report"].results] == [
        r.as_json() for r in one["report"].results
    ]
    for table, rows in one["rows"].items():
        assert bulk["rows"][table] == rows, table
    said = " ".join(r.message for r in bulk["report"].results)
    assert said.count("avoir AV") >= 6, said  # (every life above gave its credit notes)
    # the unpaid order refunded in full: its invoice and credit note lettered together
    credited = m.Invoice.select(m.Invoice.cancels).where(m.Invoice.kind == m.Invoice.CREDIT_NOTE)
    unpaid = (
        m.Invoice.select()
        .where(m.Invoice.id.in_(credited))
        .where(~m.Invoice.id.in_(m.PaymentAllocation.select(m.PaymentAllocation.invoice)))
    )
    codes = [
        {
            line.lettering
            for line in m.AccountingLine.select()
            .join(m.AccountingEntry)
            .join(m.Invoice)
            .where((m.Invoice.id == invoice.id) | (m.Invoice.cancels == invoice.id))
            .where(m.AccountingLine.account_number == "411")
        }
        for invoice in unpaid
    ]
    assert any(len(found) == 1 and "" not in found for found in codes), codes


def same_after_an_undone_write(one: dict, bulk: dict, backend: str) -> None:
    """The bulk import whose write was undone is the one-by-one import: row for row on
    SQLite, which gives undone ids back; the server engines keep the ids an undone
    insert took (no number is an id: the invoices and entries are numbered alike)."""

    def said(report, ids: bool) -> list[dict]:
        found = [r.as_json() for r in report.results]
        return found if ids else [{**r, "gestan_id": None} for r in found]

    exact = backend == "sqlite"
    assert said(bulk["report"], exact) == said(one["report"], exact)
    for table, rows in one["rows"].items():
        if exact:
            assert bulk["rows"][table] == rows, table
        else:
            assert len(bulk["rows"][table]) == len(rows), table
    # gap-free numbers, one document for each of the one-by-one import's
    numbers = [number for (number,) in m.Invoice.select(m.Invoice.number).tuples()]
    assert len(numbers) == len(one["rows"]["invoice"])
    for series in ("FA", "AV"):
        taken = sorted(n for n in numbers if n.startswith(series))
        assert taken == [f"{series}{i:06d}" for i in range(1, len(taken) + 1)], series


def closed_2025() -> None:
    m.FiscalYear.create(
        code="2025", start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), closed=True
    )


def test_a_refused_bulk_write_fails_its_refused_orders_only(gestan, tmp_path, request):
    """A closed fiscal year refuses the orders of 2025 (found by review): the chunk's
    drafts, written together, are refused, then done again one by one, and only those
    fail. The orders of 2024 before them, whose credit notes opened 2027 in the write
    that was undone, are imported as one by one imports them (the years it opened are
    not remembered), as one by one writes them."""
    backend = request.node.callspec.params["gestan"]
    one = import_all(False, life=lived, books=closed_2025)
    fresh(backend, gestan, tmp_path, "bulk")
    bulk = import_all(True, life=lived, books=closed_2025)
    failed = [r for r in bulk["report"].results if r.outcome == "failed"]
    assert failed and all("2025 est clos" in r.message for r in failed), failed[:3]
    assert bulk["report"].counts["created"] >= 5
    same_after_an_undone_write(one, bulk, backend)


def test_a_chunk_undone_by_a_deadlock_is_done_again_as_the_first_time(
    gestan, tmp_path, request, monkeypatch
):
    """Another writer's deadlock undoes a whole chunk once it is written (found by
    review): done again, it is what one by one writes, although the undone chunk had
    opened the fiscal years of its credit notes and moved the series' dates."""
    from tui_connector.sync import core

    backend = request.node.callspec.params["gestan"]
    one = import_all(False, life=lived)
    fresh(backend, gestan, tmp_path, "bulk")
    written = OrdersFlow._run_chunk
    undone = []

    def deadlocked_once(self, state, rows, progress, cancel):
        written(self, state, rows, progress, cancel)
        if not undone:
            undone.append(len(rows))
            raise pw.OperationalError("deadlock (simulated)")

    monkeypatch.setattr(OrdersFlow, "_run_chunk", deadlocked_once)
    monkeypatch.setattr(core, "is_deadlock", lambda exc: "deadlock (simulated)" in str(exc))
    monkeypatch.setattr(core.time, "sleep", lambda seconds: None)
    bulk = import_all(True, life=lived)
    assert undone == [100]
    same_after_an_undone_write(one, bulk, backend)


def test_a_few_statements_per_order(sqlite_gestan):
    with (
        SimulatedShop(build(orders=300, seed=7)) as shop,
        SyncWebservice(shop.url, shop.key, backoff=0.01) as client,
    ):
        if True:
            demo_gestan.seed(shop.data)
            for flow_class in (ContactsFlow, ProductsFlow):
                flow_class(client).stream()
            flow = OrdersFlow(client, since_last=True, options=ALL_ON)
            with Counted(sqlite_gestan) as statements:
                report = flow.stream()
    created = report.counts["created"]
    assert report.ok and created > 200
    assert statements.count / created <= 12, statements.count / created
    lettered = m.AccountingLine.select().where(m.AccountingLine.lettering != "").count()
    assert lettered >= 2 * m.Payment.select().where(m.Payment.amount > 0).count() - 10
    assert m.Invoice.select().where(m.Invoice.date > dt.date(2999, 1, 1)).count() == 0
