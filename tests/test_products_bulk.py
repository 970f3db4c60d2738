"""The products import written in bulk does what the row-by-row import does, with a few
statements per page: the same products, links, stock and run lines; a row the bulk
writer cannot do goes alone; a stop falls between two rows."""

from __future__ import annotations

import threading
from collections import Counter

import peewee as pw
import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import refcache
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.core import Outcome
from tui_connector.sync.products import ProductsFlow


class RowByRow(ProductsFlow):
    """The flow as it was: every row through apply(), 20 to a transaction."""

    def in_bulk(self, row) -> bool:
        return False


@pytest.fixture
def big_shop():
    with SimulatedShop(build(orders=10, products=260)) as running:
        yield running


def gestan_now() -> dict:
    """What Gestan holds, ids replaced by codes (the two imports number apart)."""
    code = {p.id: p.code for p in m.Product.select()} | {None: ""}
    rate = {v.id: v.code for v in m.VatRate.select()} | {None: ""}
    family = {f.id: f.code for f in m.Family.select()} | {None: ""}
    return {
        "products": sorted(
            (
                *(code[p.parent_id], p.code, p.shop_reference, p.ean13, p.label, p.price_excl),
                *(rate[p.vat_rate_id], family[p.family_id], p.attribute_label, p.active),
            )
            for p in m.Product.select()
        ),
        "links": sorted(
            (k.resource, k.shop_id, k.shop_sub_id, code.get(k.gestan_id), k.content_hash)
            for k in m.Link.select()
        ),
        "stock": sorted((code[s.product_id], s.quantity) for s in m.StockLevel.select()),
        "moves": sorted(
            (code[s.product_id], s.quantity, s.reason, s.label) for s in m.StockMovement.select()
        ),
        "lines": Counter(
            (line.shop_id, line.shop_sub_id, code.get(line.gestan_id), line.status, line.outcome)
            for line in m.SyncRunLine.select()
        ),
    }


def count_statements(database) -> list[int]:
    counted = [0]
    inner = database.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        counted[0] += 1
        return inner(sql, params, *args, **kwargs)

    database.execute_sql = execute_sql
    return counted


def import_twice(flow_class, path=None, database=None) -> tuple[dict, list]:
    """Into a new Gestan (a SQLite file at `path`, or `database`) from a new shop (the
    import writes to the shop too)."""
    if database is None:
        database = open_database(f"sqlite:///{path}")
    else:
        m.database_proxy.initialize(database)
        refcache.clear()
    with SimulatedShop(build(orders=10, products=260)) as shop:
        found = _import_twice(flow_class, shop, database)
    if path is not None:
        database.close()
    return found


def _import_twice(flow_class, shop, database) -> tuple[dict, list]:
    demo_gestan.seed(shop.data)
    # a Gestan product with a shop product's reference and other values: a conflict
    late = next(p for p in shop.data.table("products").values() if int(p["id"]) > 200)
    m.Product.create(code=late["reference"], label="Autre chose")
    counted = count_statements(database)
    reports = []
    try:
        with SyncWebservice(shop.url, shop.key) as client:
            reports.append(flow_class(client).stream())
            statements = counted[0]
            reports.append(flow_class(client).stream())  # nothing left to do
    finally:
        del database.execute_sql  # (the instance's own, counting)
    return gestan_now(), [r.counts for r in reports] + [statements / len(reports[0].results)]


def test_bulk_import_is_the_row_by_row_import_in_fewer_statements(tmp_path):
    bulk, bulk_counts = import_twice(ProductsFlow, tmp_path / "bulk.db")
    alone, alone_counts = import_twice(RowByRow, tmp_path / "alone.db")
    assert bulk_counts[:2] == alone_counts[:2]
    assert bulk_counts[0]["created"] > 600 and bulk_counts[1]["created"] == 0
    for table in bulk:
        assert bulk[table] == alone[table], table
    assert bulk_counts[2] < 0.2 < 10 < alone_counts[2]  # statements per row


def test_bulk_import_on_each_database_is_the_row_by_row_import(gestan, tmp_path):
    alone, alone_counts = import_twice(RowByRow, tmp_path / "alone.db")
    bulk, bulk_counts = import_twice(ProductsFlow, database=gestan)
    assert bulk_counts[:2] == alone_counts[:2]
    for table in bulk:
        assert bulk[table] == alone[table], table


def test_a_code_taken_after_the_read_fails_its_row_alone(big_shop, sqlite_gestan):
    demo_gestan.seed(big_shop.data)
    with SyncWebservice(big_shop.url, big_shop.key) as client:
        flow = ProductsFlow(client)
        rows = [row for page in flow.read_pages() for row in page]
        new = [r for r in rows if r.action == "create_gestan"]
        taken = new[5]
        m.Product.create(code=taken.payload.unit.code, label="créé entre-temps")
        report = flow.execute(rows)
    failed = [r for r in report.results if r.outcome == Outcome.FAILED]
    assert [r.key for r in failed] == [taken.key]
    assert "UNIQUE" in failed[0].message or "unique" in failed[0].message.lower()
    keys = {row.key for row in new}
    created = [r for r in report.results if r.key in keys and r.outcome == Outcome.CREATED]
    assert len(created) == len(new) - 1
    linked = m.Link.select().where(m.Link.resource == "products").count()
    assert linked >= len(new) - 1


def test_a_stop_falls_between_two_rows_of_a_bulk_chunk(big_shop, sqlite_gestan):
    demo_gestan.seed(big_shop.data)
    cancel = threading.Event()

    def progress(done, total, label):
        if done == 7:
            cancel.set()

    with SyncWebservice(big_shop.url, big_shop.key) as client:
        report = ProductsFlow(client).stream(progress=progress, cancel=cancel)
        assert report.stopped and len(report.results) == 7
        assert m.SyncRunLine.select().count() == 7
        assert initial_stocks() == made(report) > 0  # one per product made
        linked = {link.gestan_id for link in m.Link.select().where(m.Link.resource == "products")}
        assert {r.gestan_id for r in report.results} <= linked
        again = ProductsFlow(client).stream()  # the rest, nothing twice
    assert again.counts["failed"] == 0, again.summary()
    codes = [p.code for p in m.Product.select()]
    assert len(codes) == len(set(codes))
    assert initial_stocks() == made(report) + made(again)


def made(report) -> int:
    """Gestan products made from the shop's (not the shop's made from Gestan's)."""
    return sum(
        1 for r in report.results if r.key.startswith("product:") and r.outcome == Outcome.CREATED
    )


def initial_stocks() -> int:
    return (
        m.StockMovement.select()
        .where(m.StockMovement.label == "Stock initial repris de la boutique")
        .count()
    )


def test_a_bulk_statement_that_fails_sends_its_rows_one_by_one(
    big_shop, sqlite_gestan, monkeypatch
):
    from tui_connector.sync import products

    failures = []

    def insert_once_failing(model, rows):
        if model is m.Product and not failures:
            failures.append(len(rows))
            raise pw.IntegrityError("UNIQUE constraint failed: product.code (as if)")
        return bulk_insert(model, rows)

    bulk_insert = products.insert_rows
    monkeypatch.setattr(products, "insert_rows", insert_once_failing)
    demo_gestan.seed(big_shop.data)
    with SyncWebservice(big_shop.url, big_shop.key) as client:
        report = ProductsFlow(client).stream()
    assert failures and report.ok, report.summary()
    assert initial_stocks() == made(report) > 600
    codes = [p.code for p in m.Product.select()]
    assert len(codes) == len(set(codes))
    lines = m.SyncRunLine.select().where(m.SyncRunLine.gestan_id.is_null(False)).count()
    assert lines == len([r for r in report.results if r.gestan_id])
