"""Validated means immutable for real: raw SQL, bulk queries and deletes are refused by
the database itself, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import peewee as pw
import pytest

from tui_connector.errors import ConnectorError
from tui_connector.gestan import accounting, fec, guards, invoicing, settings
from tui_connector.gestan import models as m
from tui_connector.gestan.invoicing import LineInput

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def books(gestan):
    customer = m.Contact.create(code="C1", lastname="Martin")
    line = LineInput(m.LineKind.PRODUCT, "Mug", D(1), D("10"), D("20.000"), D("10.00"), D("12.00"))
    invoice = invoicing.issue(customer, [line], date=DAY)
    entry = accounting.post_invoice(invoice)
    payment = accounting.record_payment(invoice, date=DAY)
    accounting.post_payment(payment)  # letters the two 411 lines: lettering may change
    return gestan, invoice, entry


ATTEMPTS = [
    "UPDATE invoice SET total_incl = 1 WHERE id = {invoice}",
    "UPDATE invoice SET number = 'FA999999' WHERE id = {invoice}",
    "DELETE FROM invoice WHERE id = {invoice}",
    "UPDATE invoice_line SET total_incl = 1 WHERE invoice_id = {invoice}",
    "DELETE FROM invoice_line WHERE invoice_id = {invoice}",
    "INSERT INTO invoice_line (invoice_id, position, kind, label, quantity, unit_price_excl,"
    " vat_rate, total_excl, total_incl, account) VALUES ({invoice}, 9, 'product', 'x', 1, 1,"
    " 0, 1, 1, '')",
    "UPDATE invoice_vat SET vat_amount = 0 WHERE invoice_id = {invoice}",
    "DELETE FROM invoice_vat WHERE invoice_id = {invoice}",
    "UPDATE accounting_entry SET date = '2026-01-01' WHERE id = {entry}",
    "DELETE FROM accounting_entry WHERE id = {entry}",
    "UPDATE accounting_line SET debit = 0 WHERE entry_id = {entry}",
    "UPDATE accounting_line SET account_number = '706' WHERE entry_id = {entry}",
    "DELETE FROM accounting_line WHERE entry_id = {entry}",
]


@pytest.mark.parametrize("statement", ATTEMPTS, ids=lambda s: " ".join(s.split()[:3]))
def test_raw_sql_cannot_change_what_is_validated(books, statement):
    database, invoice, entry = books
    before = (
        m.Invoice.get_by_id(invoice.id).total_incl,
        m.InvoiceLine.select().where(m.InvoiceLine.invoice == invoice).count(),
        m.AccountingLine.select().where(m.AccountingLine.entry == entry).count(),
    )
    with pytest.raises(pw.DatabaseError) as refused, database.atomic():
        database.execute_sql(statement.format(invoice=invoice.id, entry=entry.id))
    assert guards.is_guard_error(refused.value)
    after = (
        m.Invoice.get_by_id(invoice.id).total_incl,
        m.InvoiceLine.select().where(m.InvoiceLine.invoice == invoice).count(),
        m.AccountingLine.select().where(m.AccountingLine.entry == entry).count(),
    )
    assert before == after


def test_bulk_queries_of_the_orm_are_refused_too(books):
    database, invoice, entry = books
    for query in (
        m.Invoice.update(total_incl=D("1.00")).where(m.Invoice.id == invoice.id),
        m.InvoiceVat.delete().where(m.InvoiceVat.invoice == invoice),
        m.AccountingLine.update(credit=D("0")).where(m.AccountingLine.entry == entry),
    ):
        with pytest.raises(pw.DatabaseError), database.atomic():
            query.execute()
    assert m.Invoice.get_by_id(invoice.id).total_incl == D("12.00")


def test_lettering_still_moves_and_drafts_stay_editable(books):
    _, invoice, entry = books
    lines = m.AccountingLine.select().where(m.AccountingLine.account_number == "411")
    assert {line.lettering for line in lines} != {""}  # lettered after posting: allowed
    m.AccountingLine.update(lettering="", lettering_date=None).where(
        m.AccountingLine.entry == entry
    ).execute()  # unlettering, e.g. to letter again
    draft = invoicing.create_draft(
        invoice.contact,
        [LineInput(m.LineKind.PRODUCT, "Bol", D(1), D("5"), D("20.000"), D("5.00"), D("6.00"))],
        date=DAY,
    )
    m.InvoiceLine.update(label="Bol bleu").where(m.InvoiceLine.invoice == draft).execute()
    m.InvoiceLine.delete().where(m.InvoiceLine.invoice == draft).execute()
    m.InvoiceVat.delete().where(m.InvoiceVat.invoice == draft).execute()
    m.Invoice.delete().where(m.Invoice.id == draft.id).execute()  # a draft has no number


def test_no_entry_is_posted_in_a_closed_year(books):
    database, _, entry = books
    year = entry.fiscal_year
    m.FiscalYear.update(closed=True).where(m.FiscalYear.id == year.id).execute()
    journal = m.Journal.get(m.Journal.code == "VE")
    with pytest.raises(pw.DatabaseError) as refused, database.atomic():
        m.AccountingEntry.insert(
            journal=journal,
            fiscal_year=year,
            number=999,
            date=DAY,
            label="late",
            piece_ref="",
            piece_date=DAY,
            validated_at=DAY,
        ).execute()
    assert guards.is_guard_error(refused.value)


def test_an_entry_is_validated_the_day_it_is_posted_not_the_day_it_is_dated(books):
    _, _, entry = books
    assert entry.date == DAY  # the invoice's day, in 2026-03
    assert m.AccountingEntry.get_by_id(entry.id).validated_at == m.now().date()


def test_closing_a_year_opens_the_next_with_the_customers_balances(gestan, tmp_path):
    settings.set_value("company.siren", "732829320")
    paid, owing = (m.Contact.create(code=c, lastname=c) for c in ("C1", "C2"))
    for customer, amount in ((paid, "12.00"), (owing, "24.00")):
        line = LineInput(
            m.LineKind.PRODUCT,
            "Mug",
            D(1),
            D(amount) / D("1.2"),
            D("20.000"),
            (D(amount) / D("1.2")).quantize(D("0.01")),
            D(amount),
        )
        invoice = invoicing.issue(customer, [line], date=DAY)
        accounting.post_invoice(invoice)
        if customer is paid:
            accounting.post_payment(accounting.record_payment(invoice, date=DAY))
    before = fec.export("2026", tmp_path / "before.txt").read_text()
    opening = accounting.close_year("2026")
    assert opening.date == dt.date(2027, 1, 1) and opening.fiscal_year.code == "2027"
    lines = {(x.account_number, x.aux_number): (x.debit, x.credit) for x in opening.lines}
    assert lines == {("411", "411C2"): (D("24.00"), D(0)), ("890", ""): (D(0), D("24.00"))}
    with pytest.raises(ConnectorError, match="est clos"):  # the ORM's way in
        accounting.post_invoice(invoicing.issue(owing, [line], date=DAY))
    assert fec.export("2026", tmp_path / "after.txt").read_text() == before
    with pytest.raises(ConnectorError, match="déjà clos"):
        accounting.close_year("2026")
