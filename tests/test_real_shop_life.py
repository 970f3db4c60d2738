"""The real shop's life, replayed: its 51 orders, 7 credit slips and 38 payments (made by
PrestaShop 8.1.2's own code) become exactly the credit notes and payments its database
records (tests/fixtures/prestashop/8.1.2-orders/truth)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.contacts import ContactOptions, ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow

from .captures import shop_from_captures, truth

CENT = Decimal("0.01")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT)


def link_the_catalogue(data) -> None:
    """Each shop product and combination as a Gestan product, linked (the orders need
    nothing else of the catalogue)."""
    rate = m.VatRate.get(m.VatRate.code == "T20")
    for product in data.table("products").values():
        combinations = [
            c for c in data.table("combinations").values() if c["id_product"] == product["id"]
        ]
        for attribute in [c["id"] for c in combinations] or ["0"]:
            gestan = m.Product.create(
                code=f"P{product['id']}-{attribute}",
                label=f"product {product['id']}",
                vat_rate=rate,
            )
            m.Link.create(
                resource="products",
                shop_id=int(product["id"]),
                shop_sub_id=int(attribute),
                gestan_id=gestan.id,
            )


def replay(folder, *, bulk: bool = True):
    """The real shop's orders imported into a fresh Gestan, left open: (the database,
    the orders run's report, the statements it took)."""
    from tests.test_orders_bulk import Counted
    from tui_connector.gestan.database import open_database

    database = open_database(f"sqlite:///{folder / 'gestan.db'}")
    data = shop_from_captures()
    with SimulatedShop(data) as shop, SyncWebservice(shop.url, shop.key) as client:
        settings.set_value("civility.1", "M.")
        settings.set_value("civility.2", "Mme")
        link_the_catalogue(data)
        assert ContactsFlow(client, ContactOptions.from_settings()).stream().ok
        flow = OrdersFlow(
            client, options=OrderOptions(invoices=True, mark_paid=True, accounting=True)
        )
        flow.bulk = bulk
        with Counted(database) as statements:
            report = flow.stream()
    return database, report, statements.count


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    database, report, _ = replay(tmp_path_factory.mktemp("real"))
    yield report
    database.close()


def _order_links() -> dict[int, int]:
    return {
        link.shop_id: link.gestan_id for link in m.Link.select().where(m.Link.resource == "orders")
    }


def test_every_slip_of_an_imported_order_is_its_credit_note(replayed):
    orders = _order_links()
    slips = [s for s in truth("slips")["slips"] if int(s["id_order"]) in orders]
    assert {int(s["id_order"]) for s in slips} >= {12, 13, 22, 28, 41, 43, 45} - {
        o for o in (12, 13, 22, 28, 41, 43, 45) if o not in orders
    }
    assert len(slips) >= 5, "the orders with slips should import"
    for slip in slips:
        link = m.Link.get(
            (m.Link.resource == "order_slip") & (m.Link.shop_id == int(slip["id_order_slip"]))
        )
        note = m.Invoice.get_by_id(link.gestan_id)
        refund = money(slip["total_products_tax_incl"]) + money(slip["total_shipping_tax_incl"])
        assert note.total_incl == -refund, slip["id_order_slip"]
        assert note.order_id == orders[int(slip["id_order"])]
        products = [x for x in note.lines if x.kind == m.LineKind.PRODUCT]
        assert sorted(-x.total_incl for x in products) == sorted(
            money(d["amount_tax_incl"]) for d in slip["details"]
        )
        assert sorted(-x.total_excl for x in products) == sorted(
            money(d["amount_tax_excl"]) for d in slip["details"]
        )
        assert sorted(-x.quantity for x in products) == sorted(
            Decimal(d["product_quantity"]) for d in slip["details"]
        )
        for vat in note.vat_lines:  # the slips are all at 20 %: base x rate
            assert vat.vat_amount == (vat.base_excl * vat.rate / 100).quantize(CENT)


def test_every_payment_is_at_its_own_date_and_amount(replayed):
    orders = _order_links()
    by_reference = {o["reference"]: int(o["id"]) for o in truth("orders")["orders"]}
    payments = [
        p
        for p in truth("payments")["order_payment"]
        if by_reference.get(p["order_reference"]) in orders
    ]
    assert len(payments) >= 30
    for payment in payments:
        link = m.Link.get(
            (m.Link.resource == "order_payments")
            & (m.Link.shop_id == int(payment["id_order_payment"]))
        )
        gestan = m.Payment.get_by_id(link.gestan_id)
        assert gestan.amount == money(payment["amount"])
        assert gestan.date.isoformat() == payment["date_add"][:10]
        (allocation,) = list(gestan.allocations)
        assert allocation.invoice.order_id == orders[by_reference[payment["order_reference"]]]


@pytest.mark.parametrize(
    ("shop_id", "notes", "money_back"),
    [
        (12, 1, True),  # refunded with a full slip: the slip's credit note, nothing more
        (43, 1, True),  # the same, shipping free
        (21, 1, True),  # refunded without a slip: a credit note for all, the money back
        (46, 1, False),  # cancelled after payment: a credit note, no money back recorded
        (18, 1, False),
        (45, 1, True),  # a partial slip on a delivered order
    ],
)
def test_orders_that_ended_in_the_shop_end_in_gestan(replayed, shop_id, notes, money_back):
    orders = _order_links()
    if shop_id not in orders:
        pytest.fail(f"order {shop_id} was not imported: {replayed.summary()}")
    order = m.SalesOrder.get_by_id(orders[shop_id])
    found = list(
        m.Invoice.select().where(
            (m.Invoice.order == order) & (m.Invoice.kind == m.Invoice.CREDIT_NOTE)
        )
    )
    assert len(found) == notes
    refunds = [a for note in found for a in note.allocations]
    assert bool(refunds) is money_back
    for refund in refunds:
        assert refund.amount == refund.invoice.total_incl  # all of it paid back


@pytest.mark.parametrize(("shop_id", "cent"), [(26, "-0.01"), (29, "0.01")])
def test_the_shops_rounding_cent_is_imported_on_a_line_of_its_own(replayed, shop_id, cent):
    """Real orders 26 and 29: lines that add up to a cent more (less) than the order total,
    which the customer paid. Imported with the shop's total, the cent on its own line,
    outside the VAT rows; the entry balances with the cent on 658 or 758."""
    orders = _order_links()
    assert shop_id in orders, replayed.summary()
    shop = next(o for o in truth("orders")["orders"] if o["id"] == str(shop_id))
    order = m.SalesOrder.get_by_id(orders[shop_id])
    invoice = m.Invoice.get((m.Invoice.order == order) & (m.Invoice.kind == m.Invoice.INVOICE))
    assert order.total_incl == invoice.total_incl == money(shop["total_paid_tax_incl"])
    assert invoice.total_excl == money(shop["total_paid_tax_excl"])
    (rounding,) = [x for x in invoice.lines if x.kind == m.LineKind.ROUNDING]
    assert rounding.total_incl == Decimal(cent) and rounding.total_excl == 0
    assert sum(v.vat_amount for v in invoice.vat_lines) == invoice.total_vat
    assert invoice.total_excl + invoice.total_vat + rounding.total_incl == invoice.total_incl
    (entry,) = list(m.AccountingEntry.select().where(m.AccountingEntry.invoice == invoice))
    lines = list(entry.lines)
    assert sum(x.debit for x in lines) == sum(x.credit for x in lines)
    (cent_line,) = [x for x in lines if x.account_number in ("658", "758")]
    assert cent_line.debit - cent_line.credit == -Decimal(cent)


def test_vat_per_rate_is_what_the_shop_charged(replayed):
    """For every order of the real shop that Gestan invoiced, each VAT row equals the
    shop's own VAT for that rate (ps_order_detail_tax after its cart rules, shipping at
    the carrier's rate): the cart-rule orders 7, 8, 11, 22, 31... included."""
    orders = _order_links()
    truth_vat = {
        int(x["id_order"]): {Decimal(r): money(v) for r, v in x["shop_per_rate_vat"].items()}
        for x in truth("vat_by_rate")["orders"]
    }
    checked = []
    for shop_id, gestan_id in orders.items():
        if shop_id <= 5:
            continue  # the installer's raw fixture orders: no VAT on their lines at all
        invoice = m.Invoice.get(
            (m.Invoice.order == gestan_id) & (m.Invoice.kind == m.Invoice.INVOICE)
        )
        ours = {v.rate: v.vat_amount for v in invoice.vat_lines if v.vat_amount}
        assert ours == {r: v for r, v in truth_vat[shop_id].items() if v}, shop_id
        for row in invoice.vat_lines:  # base x rate, but for the shop's own rounding cents
            assert abs(row.base_excl * row.rate / 100 - row.vat_amount) <= CENT, (shop_id, row.rate)
        checked.append(shop_id)
    with_rules = {7, 8, 11, 16, 22, 31, 37, 38, 44}  # discounts, on one rate or two
    assert with_rules <= set(checked), sorted(with_rules - set(checked))
    assert len(checked) >= 40


def test_shipping_at_a_rate_no_goods_have_is_said_not_blocked(replayed):
    """Real order 14: goods at 5.5 %, shipping charged at 20 % (the carrier's rule)."""
    rows = {r.shop_id: r for r in replayed.results if r.key.startswith("order:")}
    assert rows[14].outcome == "created"
    assert "port facturé à 20 %" in rows[14].message and "transporteur" in rows[14].message
    assert "port facturé" not in rows[6].message  # order 6: goods and shipping at 20 %


def _replayed_rows(folder, *, bulk: bool) -> tuple:
    from tests.test_orders_bulk import dump

    database, report, statements = replay(folder, bulk=bulk)
    rows = dump()
    database.close()
    return report, rows, statements


def test_orders_with_a_life_are_written_in_bulk_as_one_by_one(tmp_path):
    """The real orders with their slips, cancellations and refunds behind them (credit
    notes, money back, lettering, stock put back), drafted with their chunk, are what
    apply writes for each alone: the same rows, ids and numbers."""
    (tmp_path / "one").mkdir()
    (tmp_path / "bulk").mkdir()
    one, one_rows, one_statements = _replayed_rows(tmp_path / "one", bulk=False)
    bulk, bulk_rows, bulk_statements = _replayed_rows(tmp_path / "bulk", bulk=True)
    assert [r.as_json() for r in bulk.results] == [r.as_json() for r in one.results]
    credit_notes = [row for row in one_rows["invoice"] if m.Invoice.CREDIT_NOTE in row]
    assert len(credit_notes) >= 7  # (the 7 slips, and the cancellations' and refunds')
    for table, rows in one_rows.items():
        assert bulk_rows[table] == rows, table
    assert bulk_statements * 4 < one_statements, (bulk_statements, one_statements)
