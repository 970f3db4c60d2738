"""Invoices, postings and the FEC, checked against figures computed by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from tui_connector.errors import ConnectorError, SettingsError
from tui_connector.gestan import accounting, fec, invoicing, settings
from tui_connector.gestan import models as m
from tui_connector.gestan.invoicing import LineInput, split_pro_rata, vat_breakdown

DAY = dt.date(2026, 11, 20)


def contact(code="C000123") -> m.Contact:
    return m.Contact.create(code=code, last_name="Doe", first_name="John", account=f"411{code}")


def goods(total_excl, rate="20.000", total_incl=None, label="Article") -> LineInput:
    total_excl = D(total_excl)
    rate = D(rate)
    if total_incl is None:
        total_incl = (total_excl * (1 + rate / 100)).quantize(D("0.01"))
    return LineInput(m.LineKind.PRODUCT, label, D(1), total_excl, rate, total_excl, D(total_incl))


def shipping(excl, incl, rate="20.000") -> LineInput:
    return LineInput(m.LineKind.SHIPPING, "Frais de port", D(1), D(excl), D(rate), D(excl), D(incl))


def lines_of(entry):
    return [
        (line.account_number, line.debit, line.credit)
        for line in entry.lines.order_by(m.AccountingLine.position)
    ]


def test_the_worked_example_of_accounting_md(gestan):
    """100.00 goods + 8.33 shipping excl. VAT at 20 %: 411 130.00 = 707 100 + 7085 8.33 + 21.67."""
    invoice = invoicing.issue(
        contact(), [goods("100.00", total_incl="120.00"), shipping("8.33", "10.00")], date=DAY
    )
    assert invoice.number == "FA000001"
    assert (invoice.total_excl, invoice.total_vat, invoice.total_incl) == (
        D("108.33"),
        D("21.67"),
        D("130.00"),
    )
    entry = accounting.post_invoice(invoice)
    assert entry.journal.code == "VE"
    assert sorted(lines_of(entry)) == sorted(
        [
            ("411", D("130.00"), D("0.00")),
            ("707", D("0.00"), D("100.00")),
            ("7085", D("0.00"), D("8.33")),
            ("445711", D("0.00"), D("21.67")),
        ]
    )
    customer_line = entry.lines.where(m.AccountingLine.account_number == "411").get()
    assert customer_line.aux_number == "411C000123"

    payment = accounting.record_payment(invoice, date=DAY, method="ps_wirepayment")
    bank = accounting.post_payment(payment)
    assert bank.journal.code == "BQ"
    assert sorted(lines_of(bank)) == [("411", D("0.00"), D("130.00")), ("512", D("130.00"), D("0"))]
    letters = {
        (line.lettering, line.lettering_date)
        for line in m.AccountingLine.select().where(m.AccountingLine.account_number == "411")
    }
    assert letters == {("A", DAY)}
    assert (entry.number, bank.number) == (1, 2)


def test_shipping_is_a_row_at_the_rate_the_shop_charged(gestan):
    # goods: 60.00 at 20 % and 40.00 at 5.5 %; shipping 10.00 excl. charged at 20 %
    # (the carrier's tax rule): the invoice states that, each row base x rate
    lines = [
        goods("60.00", "20.000", "72.00"),
        goods("40.00", "5.500", "42.20"),
        shipping("10.00", "12.00"),
    ]
    breakdown = vat_breakdown(lines)
    assert breakdown == {D("5.500"): (D("40.00"), D("2.20")), D("20.000"): (D("70.00"), D("14.00"))}
    for rate, (base, vat) in breakdown.items():
        assert (base * rate / 100).quantize(D("0.01")) == vat
    total = sum(base + vat for base, vat in breakdown.values())
    assert total == D("72.00") + D("42.20") + D("12.00")  # the shop's total


def test_free_shipping_and_a_discount_on_two_rates_leave_no_rate_of_their_own():
    free = LineInput(
        m.LineKind.DISCOUNT,
        "Livraison offerte",
        D(1),
        D("-7.00"),
        D("20.000"),
        D("-7.00"),
        D("-8.40"),
    )
    share_20 = LineInput(
        m.LineKind.DISCOUNT, "Bienvenue -10%", D(1), D("-2.87"), D("20.000"), D("-2.87"), D("-3.47")
    )
    share_55 = LineInput(
        m.LineKind.DISCOUNT, "Bienvenue -10%", D(1), D("-6.47"), D("5.500"), D("-6.47"), D("-6.80")
    )
    lines = [
        goods("28.72", "20.000", "34.46"),
        goods("64.70", "5.500", "68.26"),
        shipping("7.00", "8.40"),
        free,
        share_20,
        share_55,
    ]
    breakdown = vat_breakdown(lines)
    assert set(breakdown) == {D("20.000"), D("5.500")}
    assert breakdown[D("20.000")] == (D("25.85"), D("5.14"))
    assert breakdown[D("5.500")] == (D("58.23"), D("3.23"))


def test_pro_rata_split_never_loses_a_cent():
    shares = split_pro_rata(D("10.00"), {D("20"): D("1"), D("10"): D("1"), D("5.5"): D("1")})
    assert sum(shares.values()) == D("10.00")
    assert sorted(shares.values()) == [D("3.33"), D("3.33"), D("3.34")]
    negative = split_pro_rata(D("-0.01"), {D("20"): D("1"), D("10"): D("1")})
    assert sum(negative.values()) == D("-0.01")


def test_mixed_rate_invoice_posts_balanced_per_vat_account(gestan):
    invoice = invoicing.issue(
        contact(),
        [
            goods("60.00", "20.000", "72.00"),
            goods("40.00", "5.500", "42.20"),
            shipping("10.00", "12.00"),
        ],
        date=DAY,
    )
    entry = accounting.post_invoice(invoice)
    assert accounting.entry_balances(entry)
    by_account = {a: (d, c) for a, d, c in lines_of(entry)}
    assert by_account["445711"] == (D("0"), D("14.00"))  # goods 12.00 + shipping 2.00
    assert by_account["445713"] == (D("0"), D("2.20"))
    assert by_account["7085"] == (D("0"), D("10.00"))
    assert by_account["411"] == (D("126.20"), D("0"))


def test_discount_lines_post_to_709_on_the_debit_side(gestan):
    discount = LineInput(
        m.LineKind.DISCOUNT,
        "Bon de réduction",
        D(1),
        D("-5.00"),
        D("20.000"),
        D("-5.00"),
        D("-6.00"),
    )
    invoice = invoicing.issue(contact(), [goods("50.00", total_incl="60.00"), discount], date=DAY)
    entry = accounting.post_invoice(invoice)
    assert ("709", D("5.00"), D("0")) in lines_of(entry)
    assert ("411", D("54.00"), D("0")) in lines_of(entry)
    assert accounting.entry_balances(entry)


def test_family_sales_account_is_used_for_its_products(gestan):
    parent = m.Family.create(code="VET", label="Vêtements", sales_account="707100")
    child = m.Family.create(code="VET-H", label="Homme", parent=parent)
    product = m.Product.create(code="P1", label="Pull", price_excl=D("10"), family=child)
    line = LineInput(
        m.LineKind.PRODUCT,
        "Pull",
        D(2),
        D("10"),
        D("20.000"),
        D("20.00"),
        D("24.00"),
        product=product,
    )
    entry = accounting.post_invoice(invoicing.issue(contact(), [line], date=DAY))
    assert ("707100", D("0"), D("20.00")) in lines_of(entry)
    label = entry.lines.where(m.AccountingLine.account_number == "707100").get().account_label
    assert label == "Ventes de marchandises"  # the closest parent account's label


def test_validated_invoice_cannot_be_changed_or_deleted_and_a_credit_note_cancels(gestan):
    invoice = invoicing.issue(contact(), [goods("10.00", total_incl="12.00")], date=DAY)
    invoice.total_incl = D("1.00")
    with pytest.raises(invoicing.InvoiceLocked, match="émettez un avoir"):
        invoice.save()
    with pytest.raises(invoicing.InvoiceLocked):
        m.Invoice.get_by_id(invoice.id).delete_instance()
    assert m.Invoice.get_by_id(invoice.id).total_incl == D("12.00")

    credit = invoicing.cancel(m.Invoice.get_by_id(invoice.id), date=DAY)
    assert credit.number == "AV000001"
    assert credit.total_incl == D("-12.00")
    assert credit.cancels_id == invoice.id
    entry = accounting.post_invoice(credit)
    assert ("411", D("0"), D("12.00")) in lines_of(entry)
    assert ("707", D("10.00"), D("0")) in lines_of(entry)
    with pytest.raises(ConnectorError, match="déjà annulée"):
        invoicing.cancel(m.Invoice.get_by_id(invoice.id))


def test_a_failed_validation_gives_its_number_back(gestan):
    customer = contact()
    invoicing.issue(customer, [goods("10.00")], date=DAY)
    with pytest.raises(RuntimeError), gestan.atomic():
        invoicing.issue(customer, [goods("10.00")], date=DAY)
        raise RuntimeError("the order import failed after the invoice")
    third = invoicing.issue(customer, [goods("10.00")], date=DAY)
    assert third.number == "FA000002"
    assert [i.number for i in m.Invoice.select().order_by(m.Invoice.id)] == ["FA000001", "FA000002"]


def test_an_unbalanced_entry_is_never_written(gestan):
    with pytest.raises(accounting.UnbalancedEntry):
        accounting.write_entry(
            "VE",
            DAY,
            "faux",
            [
                accounting.Posting("411", "x", debit=D("10.00")),
                accounting.Posting("707", "x", credit=D("9.99")),
            ],
        )
    assert m.AccountingEntry.select().count() == 0


def test_entries_are_numbered_per_fiscal_year(gestan):
    customer = contact()
    numbers = []
    for day in (dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 1, 2)):
        invoice = invoicing.issue(customer, [goods("1.00")], date=day)
        numbers.append(
            (
                accounting.post_invoice(invoice).fiscal_year.code,
                m.AccountingEntry.get(m.AccountingEntry.invoice == invoice).number,
            )
        )
    assert numbers == [("2025", 1), ("2026", 1), ("2026", 2)]


def test_fec_has_the_legal_columns_and_formats(gestan, tmp_path):
    invoice = invoicing.issue(
        contact(), [goods("100.00", total_incl="120.00"), shipping("8.33", "10.00")], date=DAY
    )
    accounting.post_invoice(invoice)
    accounting.post_payment(accounting.record_payment(invoice, date=dt.date(2026, 11, 21)))
    with pytest.raises(SettingsError, match="SIREN"):
        fec.export("2026", tmp_path)
    settings.set_value("company.siren", "732 829 320")
    path = fec.export("2026", tmp_path)
    assert path.name == "732829320FEC20261231.txt"
    raw = path.read_bytes().decode("utf-8")
    rows = [line.split("\t") for line in raw.split("\r\n") if line]
    assert rows[0] == fec.COLUMNS
    assert all(len(row) == 18 for row in rows)
    body = [dict(zip(fec.COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(body) == 6  # 4 sales lines + 2 bank lines
    customer = next(r for r in body if r["CompteNum"] == "411" and r["JournalCode"] == "VE")
    assert customer["Debit"] == "130,00" and customer["Credit"] == "0,00"
    assert customer["EcritureDate"] == "20261120"
    assert customer["CompAuxNum"] == "411C000123"
    assert customer["PieceRef"] == "FA000001"
    assert customer["EcritureLet"] == "A" and customer["DateLet"] == "20261121"
    assert [r["EcritureNum"] for r in body] == ["1"] * 4 + ["2"] * 2
    debit = sum(D(r["Debit"].replace(",", ".")) for r in body)
    credit = sum(D(r["Credit"].replace(",", ".")) for r in body)
    assert debit == credit == D("260.00")


def test_siren_is_checked(gestan):
    with pytest.raises(SettingsError, match="clé de contrôle"):
        settings.set_value("company.siren", "732829321")


def test_a_partial_payment_stays_open_until_the_rest_arrives(gestan):
    invoice = invoicing.issue(contact(), [goods("100.00")], date=DAY)
    accounting.post_invoice(invoice)
    first = accounting.record_payment(invoice, date=DAY, amount=D("50.00"))
    accounting.post_payment(first)

    def customer_lines():
        return m.AccountingLine.select().where(m.AccountingLine.account_number == "411")

    assert {line.lettering for line in customer_lines()} == {""}
    rest = accounting.record_payment(invoice, date=DAY + dt.timedelta(days=3), amount=D("70.00"))
    accounting.post_payment(rest)
    assert {(x.lettering, x.lettering_date) for x in customer_lines()} == {
        ("A", DAY + dt.timedelta(days=3))
    }


def test_a_line_takes_the_rate_of_its_tax_ids_and_no_tax_is_zero():
    from tui_connector.sync.orders import rate_from_taxes

    rates = {1: D("20.000"), 3: D("5.500")}
    assert rate_from_taxes({"associations": {"taxes": [{"id": "3"}]}}, rates) == D("5.500")
    assert rate_from_taxes({"associations": {"taxes": []}}, rates) == 0  # the demo orders
    assert rate_from_taxes({}, rates) == 0
    assert rate_from_taxes({"associations": {"taxes": [{"id": "9"}]}}, rates) is None  # unknown
