"""Every mix a French shop sells: where the customer is, the currency, gift wrapping.

The orders are placed in the simulated shop by `simulator.checkout`, which prices a
cart the way PrestaShop does (tax by the delivery country's rule, none for a
business of another EU country with a VAT number, none outside the EU where the
shop has no rule, prices converted before tax in another currency). Then the
books must say what the shop charged, rate by rate, and why a sale bears no VAT.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from tui_connector.gestan import fec, settings, vat_regime
from tui_connector.gestan import models as m
from tui_connector.gestan.money import ZERO, cents
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.checkout import Cart, item, place
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.orders import CONVERSION_LABEL, OrdersFlow

from .test_orders import ALL_ON, prepare

BELGIUM, LUXEMBOURG, SWITZERLAND = "3", "12", "19"
CHF = "2"
WHEN = dt.datetime(2026, 11, 20, 10, 0)


def customer_at(data, country: str, *, company: str = "", vat_number: str = "") -> tuple:
    """A new customer with one address in `country`: (customer id, address id)."""
    customer_id = max(data.table("customers")) + 1
    data.insert(
        "customers",
        {
            "id": str(customer_id),
            "id_default_group": "3",
            "id_lang": "2",
            "lastname": f"Client{customer_id}",
            "firstname": "Anne",
            "email": f"anne.{customer_id}@exemple.eu",
            "id_gender": "2",
            "company": company,
            "active": "1",
            "is_guest": "0",
            "deleted": "0",
            "date_add": "2026-01-05 09:00:00",
            "date_upd": "2026-01-05 09:00:00",
            "associations": {"groups": [{"id": "3"}]},
        },
    )
    address = data.insert(
        "addresses",
        {
            "id_customer": str(customer_id),
            "id_country": country,
            "id_state": "0",
            "alias": "Bureau",
            "company": company,
            "lastname": f"Client{customer_id}",
            "firstname": "Anne",
            "vat_number": vat_number,
            "address1": "1 Grand-Place",
            "address2": "",
            "postcode": "1000",
            "city": "Ville",
            "phone": "",
            "phone_mobile": "",
            "deleted": "0",
            "date_add": "2026-01-05 09:00:00",
            "date_upd": "2026-01-05 09:00:00",
        },
    )
    return str(customer_id), address["id"]


def order_for(data, customer, *, minutes: int, **choices) -> dict:
    """A paid order of two products at different rates (20 % and 5.5 %)."""
    customer_id, address_id = customer
    lines = choices.pop("lines", [(item(data, 4), 2), (item(data, 8), 3)])
    return place(
        data,
        Cart(
            customer=customer_id,
            delivery=address_id,
            invoice=address_id,
            lines=lines,
            placed=WHEN + dt.timedelta(minutes=minutes),
            state=2,
            reference=f"MIX{minutes:06d}",
            received=WHEN + dt.timedelta(minutes=minutes, hours=1),
            **choices,
        ),
    )


@pytest.fixture
def placed():
    """The demo shop's data, and one order of each mix placed after its own orders."""
    data = build(orders=30, seed=11)
    assert data.table("products")[4]["id_tax_rules_group"] == "1"  # 20 %
    assert data.table("products")[8]["id_tax_rules_group"] == "3"  # 5.5 %
    placed = {
        "eu_business": order_for(
            data,
            customer_at(data, BELGIUM, company="Brasserie SA", vat_number="BE0123456749"),
            minutes=1,
        ),
        "eu_consumer": order_for(data, customer_at(data, LUXEMBOURG), minutes=2),
        "export": order_for(data, customer_at(data, SWITZERLAND), minutes=3),
        "export_chf": order_for(data, customer_at(data, SWITZERLAND), minutes=4, currency=CHF),
        "home_chf_wrapped_voucher": order_for(
            data,
            (data.table("customers")[1]["id"], _address_of(data, "1")),
            minutes=5,
            currency=CHF,
            wrapping=True,
            voucher=True,
        ),
        "home_food_only": order_for(  # goods at 5.5 % only, shipping at the carrier's 20 %
            data,
            (data.table("customers")[3]["id"], _address_of(data, "3")),
            minutes=7,
            lines=[(item(data, 8), 1)],
        ),
        "home_wrapped": order_for(
            data,
            (data.table("customers")[2]["id"], _address_of(data, "2")),
            minutes=6,
            wrapping=True,
        ),
    }
    return data, {name: int(order["id"]) for name, order in placed.items()}


@pytest.fixture
def shop(placed):
    with SimulatedShop(placed[0]) as running:
        yield running


@pytest.fixture
def ids(placed):
    return placed[1]


def _address_of(data, customer_id: str) -> str:
    return next(
        a["id"] for a in data.table("addresses").values() if a["id_customer"] == customer_id
    )


@pytest.fixture
def imported(sqlite_gestan, shop, ids, client):
    demo_gestan.seed(shop.data)
    prepare(client)
    flow = OrdersFlow(client, since_last=True, options=ALL_ON)
    rows = flow.read()
    report = flow.execute(rows)
    assert report.ok, report.summary()
    return ids


def invoice_of(shop_id: int) -> m.Invoice:
    link = m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == shop_id))
    return m.Invoice.get(
        (m.Invoice.order == link.gestan_id) & (m.Invoice.kind == m.Invoice.INVOICE)
    )


def test_the_simulated_shop_prices_each_mix_as_prestashop_does(shop, ids):
    orders = shop.data.table("orders")
    details = defaultdict(list)
    for detail in shop.data.table("order_details").values():
        details[int(detail["id_order"])].append(detail)
    business = details[ids["eu_business"]]
    assert all(not d["associations"]["taxes"] for d in business)  # B2B: no tax at all
    assert all(d["total_price_tax_incl"] == d["total_price_tax_excl"] for d in business)
    assert orders[ids["eu_consumer"]]["carrier_tax_rate"] == "20.000"  # French VAT in the EU
    export = orders[ids["export"]]
    assert export["total_paid_tax_incl"] == export["total_paid_tax_excl"]  # no rule: no tax
    chf, eur = orders[ids["export_chf"]], orders[ids["export"]]
    assert chf["id_currency"] == CHF and chf["conversion_rate"] == "0.940000"
    # each price converted, then taxed and rounded: a cent a line from the converted total
    converted = Decimal(eur["total_products"]) * Decimal("0.94")
    assert abs(Decimal(chf["total_products"]) - converted) <= Decimal("0.02")
    wrapped = orders[ids["home_wrapped"]]
    assert (wrapped["gift"], wrapped["total_wrapping_tax_excl"]) == ("1", "2.500000")
    assert wrapped["total_wrapping_tax_incl"] == "3.000000"  # at the wrapping's 20 %
    payment = next(
        p
        for p in shop.data.table("order_payments").values()
        if p["order_reference"] == chf["reference"]
    )
    assert (payment["id_currency"], payment["amount"]) == (CHF, chf["total_paid_tax_incl"])


def test_an_eu_business_with_a_vat_number_is_billed_without_vat_on_its_own_account(imported):
    ids = imported
    invoice = invoice_of(ids["eu_business"])
    assert invoice.vat_regime == vat_regime.EU_BUSINESS
    assert "262 ter I" in invoice.vat_mention and "Autoliquidation" in invoice.vat_mention
    assert invoice.customer_vat_number == "BE0123456749"
    assert invoice.order.vat_number == "BE0123456749"
    assert [(v.rate, v.vat_amount) for v in invoice.vat_lines] == [(Decimal("0.000"), ZERO)]
    goods = [x for x in invoice.lines if x.kind == m.LineKind.PRODUCT]
    assert goods and {x.account for x in goods} == {"7071"}
    credited = {
        line.account_number: line.credit
        for line in m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where(m.AccountingEntry.invoice == invoice)
    }
    assert credited["7071"] == sum(x.total_excl for x in goods)
    assert not any(number.startswith("4457") for number, amount in credited.items() if amount)


def test_an_export_is_billed_without_vat_with_its_mention_and_account(imported):
    ids = imported
    invoice = invoice_of(ids["export"])
    assert invoice.vat_regime == vat_regime.EXPORT and "262 I" in invoice.vat_mention
    assert invoice.total_vat == 0 and invoice.total_incl == invoice.total_excl
    assert {x.account for x in invoice.lines if x.kind == m.LineKind.PRODUCT} == {"7072"}


def test_an_eu_consumer_pays_the_vat_the_shop_charged_and_counts_towards_the_oss(imported):
    ids = imported
    invoice = invoice_of(ids["eu_consumer"])
    assert invoice.vat_regime == vat_regime.EU_CONSUMER and invoice.vat_mention == ""
    assert {v.rate for v in invoice.vat_lines} == {Decimal("20.000"), Decimal("5.500")}
    assert vat_regime.eu_consumer_sales(invoice.date.year) == invoice.total_excl
    assert vat_regime.oss_warning(invoice.date) == ""  # one order: far below 10,000 EUR


def test_past_the_oss_threshold_check_and_the_oss_warning_say_so(imported, client):
    from tui_connector.sync.advice import books_advice as gestan_warnings

    ids = imported
    invoice = invoice_of(ids["eu_consumer"])
    assert not any("OSS" in w for w in gestan_warnings(invoice.date))
    m.Invoice.insert(  # a year of such sales, as the books would hold them
        series="FA",
        number="FA-OSS-1",
        kind=m.Invoice.INVOICE,
        status=m.Invoice.VALIDATED,
        contact=invoice.contact,
        date=invoice.date,
        total_excl=Decimal("9990.00"),
        total_vat=Decimal("1998.00"),
        total_incl=Decimal("11988.00"),
        vat_regime=vat_regime.EU_CONSUMER,
    ).execute()
    warning = vat_regime.oss_warning(invoice.date)
    assert "OSS" in warning and "10000" in warning
    assert any("OSS" in w for w in gestan_warnings(invoice.date))


def test_another_currency_is_booked_in_euros_with_the_fec_currency_columns(
    imported, shop, tmp_path
):
    ids = imported
    order = shop.data.table("orders")[ids["home_chf_wrapped_voucher"]]
    rate = Decimal(order["conversion_rate"])
    invoice = invoice_of(ids["home_chf_wrapped_voucher"])
    assert (invoice.currency, invoice.currency_total) == (
        "CHF",
        cents(order["total_paid_tax_incl"]),
    )
    assert invoice.total_incl == cents(Decimal(order["total_paid_tax_incl"]) / rate)
    assert invoice.order.conversion_rate == rate
    for vat in invoice.vat_lines:  # converted once per rate: still base times rate
        assert abs(cents(vat.base_excl * vat.rate / 100) - vat.vat_amount) <= Decimal("0.01")
    labels = {x.label for x in invoice.lines if x.kind == m.LineKind.ROUNDING}
    assert labels <= {CONVERSION_LABEL}
    payment = (
        m.Payment.select()
        .join(m.PaymentAllocation)
        .where(m.PaymentAllocation.invoice == invoice)
        .get()
    )
    assert payment.amount == invoice.total_incl  # the CHF payment, converted the same way
    path = fec.export(str(invoice.date.year), tmp_path)
    rows = [line.rstrip("\r\n").split("\t") for line in path.open(encoding="utf-8")]
    header, lines = rows[0], rows[1:]
    mine = [dict(zip(header, row, strict=True)) for row in lines if row[8] == invoice.number]
    assert mine and all(row["Idevise"] == "CHF" for row in mine)
    receivable = next(row for row in mine if row["CompteNum"] == "411")
    assert receivable["Montantdevise"] == fec.fec_amount(invoice.currency_total)
    euro_only = [dict(zip(header, row, strict=True)) for row in lines if row[8] != invoice.number]
    assert all(row["Idevise"] == "" and row["Montantdevise"] == "" for row in euro_only[:20])


def test_a_refund_in_another_currency_cancels_the_invoice_at_its_own_rate(imported, shop, client):
    """The franc moved between the sale and the refund: the slip bears the day's rate,
    the credit note corrects the invoice at the invoice's, to the cent."""
    from tui_connector.simulator.life import ShopLife

    order_id = imported["export_chf"]
    shop.data.table("currencies")[int(CHF)]["conversion_rate"] = "1.050000"
    slip = ShopLife(shop.data).refund(order_id, WHEN + dt.timedelta(days=3))
    assert slip["conversion_rate"] == "1.050000"
    report = OrdersFlow(client, since_last=True, options=ALL_ON).stream()
    assert report.ok, report.summary()
    invoice = invoice_of(order_id)
    notes = list(m.Invoice.select().where(m.Invoice.cancels == invoice))
    assert len(notes) == 1 and notes[0].total_incl == -invoice.total_incl
    assert notes[0].currency == "CHF"


def test_shipping_at_a_rate_none_of_the_goods_has_is_its_own_row_and_said(imported):
    invoice = invoice_of(imported["home_food_only"])
    assert [(v.rate, v.vat_amount) for v in invoice.vat_lines] == [
        (Decimal("5.500"), cents(invoice.vat_lines[0].base_excl * Decimal("0.055"))),
        (Decimal("20.000"), Decimal("1.17")),  # 5.83 at 20 %
    ]
    said = m.SyncRunLine.get(m.SyncRunLine.shop_id == imported["home_food_only"]).message
    assert "port facturé à 20 %" in said and "règle de taxe du transporteur" in said


def test_gift_wrapping_is_its_own_line_at_the_rate_the_shop_charged(imported):
    ids = imported
    invoice = invoice_of(ids["home_wrapped"])
    wrapping = [x for x in invoice.lines if x.label == "Emballage cadeau"]
    assert [(x.vat_rate, x.total_excl, x.total_incl) for x in wrapping] == [
        (Decimal("20.000"), Decimal("2.50"), Decimal("3.00"))
    ]


def test_every_mix_every_vat_row_is_base_times_rate_and_the_books_hold(imported, shop, tmp_path):
    ids = imported
    orders = shop.data.table("orders")
    shop_vat: dict[str, Decimal] = defaultdict(lambda: ZERO)  # VAT account -> the shop's VAT
    accounts = {v.rate: v.account for v in m.VatRate.select()}
    for name, shop_id in ids.items():
        invoice = invoice_of(shop_id)
        order = orders[shop_id]
        for vat in invoice.vat_lines:
            assert abs(cents(vat.base_excl * vat.rate / 100) - vat.vat_amount) <= Decimal("0.01"), (
                name,
                vat.rate,
            )
            assert vat.account == accounts[vat.rate]  # never the 44571 catch-all
        assert invoice.total_incl == invoice.order.total_incl
        if order["id_currency"] == "1":
            assert invoice.total_incl == cents(order["total_paid_tax_incl"]), name
            for detail in shop.data.table("order_details").values():
                if detail["id_order"] == str(shop_id):
                    rate = sum(
                        Decimal(shop.data.table("taxes")[int(t["id"])]["rate"])
                        for t in detail["associations"]["taxes"]
                    )
                    vat = Decimal(detail["total_price_tax_incl"]) - Decimal(
                        detail["total_price_tax_excl"]
                    )
                    shop_vat[accounts[Decimal(rate).quantize(Decimal("0.001"))]] += cents(vat)
            for part in ("shipping", "wrapping"):
                vat = cents(order[f"total_{part}_tax_incl"]) - cents(
                    order[f"total_{part}_tax_excl"]
                )
                shop_vat[accounts[Decimal("20.000")]] += vat
    path = fec.export(str(WHEN.year), tmp_path)
    rows = [line.rstrip("\r\n").split("\t") for line in path.open(encoding="utf-8")][1:]
    fec_vat: dict[str, Decimal] = defaultdict(lambda: ZERO)
    euro_pieces = {invoice_of(i).number for n, i in ids.items() if orders[i]["id_currency"] == "1"}
    for row in rows:
        if row[8] in euro_pieces and row[4].startswith("4457"):
            fec_vat[row[4]] += Decimal(row[12].replace(",", ".")) - Decimal(
                row[11].replace(",", ".")
            )
    assert {k: v for k, v in fec_vat.items() if v} == {k: v for k, v in shop_vat.items() if v}


def test_each_invoice_keeps_the_sellers_identity_it_was_issued_with(imported):
    ids = imported
    invoice = invoice_of(ids["export"])
    seller = json.loads(invoice.seller)
    assert seller["name"] == "Boutique démo" and seller["vat_number"] == "FR44732829320"
    assert seller["rcs"] and seller["legal_form"] == "SARL" and seller["payment_terms"]
    assert "40 €" in seller["late_wording"]
    settings.set_value("company.address", "1 place Neuve, 75001 Paris")
    assert json.loads(m.Invoice.get_by_id(invoice.id).seller)["address"] != (
        "1 place Neuve, 75001 Paris"
    )


def test_a_seller_vat_number_is_checked_against_its_siren(sqlite_gestan):
    from tui_connector.errors import SettingsError

    assert settings.set_value("company.vat_number", "fr 44 732 829 320") == "FR44732829320"
    with pytest.raises(SettingsError, match="ne correspondent pas au SIREN"):
        settings.set_value("company.vat_number", "FR45732829320")


@pytest.mark.parametrize(
    ("country", "vat_number", "charged", "kind", "warned"),
    [
        ("FR", "", True, vat_regime.DOMESTIC, False),
        ("MC", "", True, vat_regime.DOMESTIC, False),
        ("BE", "BE0123456749", False, vat_regime.EU_BUSINESS, False),
        ("DE", "DE123456789", True, vat_regime.EU_CONSUMER, True),  # a company billed 20 %
        ("DE", "", False, vat_regime.EU_CONSUMER, True),  # a consumer billed no VAT
        ("CH", "", False, vat_regime.EXPORT, False),
        ("GB", "", True, vat_regime.DOMESTIC, True),  # the real shop's rule for GB: 20 %
    ],
)
def test_the_regime_of_each_place_and_what_is_said_of_it(
    country, vat_number, charged, kind, warned
):
    regime = vat_regime.regime_for(country, vat_number, charged)
    assert regime.kind == kind
    assert bool(regime.warning) == warned


def test_the_orders_screen_warns_of_vat_that_does_not_fit_where_the_customer_is(
    sqlite_gestan, client, shop
):
    customer = customer_at(shop.data, BELGIUM, company="Bureau SPRL")
    order = order_for(shop.data, customer, minutes=9)  # no VAT number yet: billed 20 %
    shop.data.table("addresses")[int(customer[1])]["vat_number"] = "BE0999999999"
    demo_gestan.seed(shop.data)
    prepare(client)
    rows = {row.shop_id: row for row in OrdersFlow(client, options=ALL_ON).read()}
    reason = rows[int(order["id"])].reason
    assert "BE0999999999" in reason and "autoliquidation" in reason
    assert rows[int(order["id"])].action is not None  # a warning, not a block
