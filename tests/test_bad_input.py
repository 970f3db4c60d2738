"""Hostile and broken shop data: typed errors or blocked rows, never a crash, nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui_connector.cli import main
from tui_connector.gestan import models as m
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import Translated
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.catalogue import shop_unit
from tui_connector.sync.contacts import ContactOptions, map_customer
from tui_connector.sync.core import MAPPING_ERRORS
from tui_connector.sync.orders import OrderOptions, OrdersFlow, plan_order
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import ShopFacts
from tui_connector.sync.special_prices import PriceTerms, shop_terms

HOSTILE = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "-5",
            "NaN",
            "Infinity",
            "1e999999",
            "1,5",
            "12.34.56",
            "9" * 400,
            "\x00",
            "<![CDATA[x]]>",
            "&amp;",
            "0000-00-00 00:00:00",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12).map(str),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
)
ORDER_KEYS = [
    "total_paid_tax_incl",
    "total_paid_tax_excl",
    "total_shipping_tax_incl",
    "total_shipping_tax_excl",
    "carrier_tax_rate",
    "total_wrapping_tax_incl",
    "total_wrapping_tax_excl",
]
DETAIL_KEYS = [
    "id",
    "product_id",
    "product_attribute_id",
    "product_quantity",
    "total_price_tax_incl",
    "total_price_tax_excl",
    "unit_price_tax_excl",
    "product_name",
    "product_reference",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.fixed_dictionaries({k: HOSTILE for k in ORDER_KEYS}),
    st.lists(st.fixed_dictionaries({k: HOSTILE for k in DETAIL_KEYS}), max_size=3),
    st.lists(
        st.fixed_dictionaries({"value": HOSTILE, "value_tax_excl": HOSTILE, "name": HOSTILE}),
        max_size=2,
    ),
    st.lists(st.fixed_dictionaries({"id": HOSTILE}), max_size=2),
)
def test_plan_order_never_raises_and_never_passes_garbage(order, details, rules, taxes):
    for detail in details:
        detail["associations"] = {"taxes": taxes}
    plan = plan_order(order, details, rules, {1: Decimal(20)}, {(1, 0): 1}, None)
    if not plan.problems:  # what is accepted adds up, to the cent, to the shop's total
        total = Decimal(order["total_paid_tax_incl"] or "0").quantize(Decimal("0.01"))
        assert sum(line.total_incl for line in plan.lines) == total
        assert all(line.quantity > 0 for line in plan.lines if line.kind == "product")


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "id": HOSTILE,
            "price": HOSTILE,
            "reference": HOSTILE,
            "ean13": HOSTILE,
            "id_tax_rules_group": HOSTILE,
            "id_category_default": HOSTILE,
            "active": HOSTILE,
            "name": HOSTILE | HOSTILE.map(lambda t: Translated({2: t})),
        }
    ),
    st.none()
    | st.fixed_dictionaries(
        {"id": HOSTILE, "price": HOSTILE, "reference": HOSTILE, "ean13": HOSTILE}
    ),
)
def test_product_mapping_gives_a_unit_or_a_typed_error(product, combination):
    try:
        unit = shop_unit(product, combination, ShopFacts(group_rates={1: Decimal(20)}), {})
    except MAPPING_ERRORS:
        return
    assert unit.price_excl.is_finite() and len(unit.code) <= 64 and len(unit.ean13) <= 13


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            k: HOSTILE
            for k in (
                "price",
                "reduction",
                "reduction_type",
                "reduction_tax",
                "from_quantity",
                "from",
                "to",
            )
        }
    )
)
def test_specific_price_terms_or_a_reason(specific):
    try:
        terms = shop_terms(specific)
    except MAPPING_ERRORS:
        return
    assert isinstance(terms, str | PriceTerms)


@settings(max_examples=200, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            k: HOSTILE
            for k in ("id_gender", "lastname", "firstname", "email", "company", "note", "is_guest")
        }
    ),
    st.none() | st.fixed_dictionaries({"phone": HOSTILE, "phone_mobile": HOSTILE}),
)
def test_customer_mapping_never_raises_and_fits_the_columns(customer, billing):
    values, _warning = map_customer(customer, billing, ContactOptions(civilities={"1": "M."}))
    assert len(values["last_name"]) <= 128 and len(values["phone"]) <= 32


@pytest.fixture
def hostile_shop():
    data = build(orders=30)
    data.table("orders")[3]["total_paid_tax_incl"] = "beaucoup"
    data.table("orders")[4]["total_paid_tax_incl"] = "NaN"
    first_detail = next(d for d in data.table("order_details").values() if d["id_order"] == "5")
    first_detail["product_quantity"] = "-2"
    data.table("products")[9]["price"] = "douze"
    with SimulatedShop(data) as shop:
        yield shop


def test_hostile_records_are_blocked_and_the_rest_goes_through(sqlite_gestan, hostile_shop):
    demo_gestan.seed(hostile_shop.data)
    with SyncWebservice(hostile_shop.url, hostile_shop.key) as client:
        products = ProductsFlow(client)
        rows = products.read()
        broken = next(r for r in rows if r.key == "product:9:0")
        assert broken.blocked and "illisibles" in broken.reason
        products.execute(rows)
        flow = OrdersFlow(client, options=OrderOptions(invoices=True))
        rows = {r.shop_id: r for r in flow.read()}
        for shop_id in (3, 4, 5):
            assert rows[shop_id].blocked, rows[shop_id].status
        assert "quantité -2 invalide" in rows[5].reason
        for row in rows.values():
            row.selected = row.selected or row.blocked
        report = flow.execute(list(rows.values()))
        assert report.counts["blocked"] >= 3
    written = {link.shop_id for link in m.Link.select().where(m.Link.resource == "orders")}
    assert not written & {3, 4, 5}  # nothing half-written for them
    assert m.SalesOrder.select().count() == len(written)


@pytest.mark.parametrize(
    "argv",
    [
        ["sync", "orders", "--from", "2026-13-01"],
        ["sync", "orders", "--from", "2026-11-27", "--to", "2026-11-01"],
        ["sync", "orders", "--since-last", "--from", "2026-11-01"],
        ["sync", "stock", "--reset-cursor"],
        ["sync", "nothing"],
        ["export", "fec"],
        ["simulator", "--orders", "-5"],
        ["simulator", "--products", "0"],
        ["demo", "--orders", "many"],
    ],
)
def test_bad_command_lines_are_usage_errors(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUI_CONNECTOR_DATABASE", f"sqlite:///{tmp_path / 'g.db'}")
    assert main(argv) == 2
    assert capsys.readouterr().err.strip()
