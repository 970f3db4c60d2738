"""One bad record is one blocked row, never the end of the run: a product the shop
cannot render in JSON, a customer with bytes that are not UTF-8, an order whose
customer or addresses are gone, impossible ids. The rest of the page goes on."""

from __future__ import annotations

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import JSON_BREAKS, SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import read_facts

from .test_orders import prepare


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=30, seed=8)) as running:
        yield running


def test_a_product_the_shop_cannot_render_in_json_is_read_in_xml(gestan, shop, client):
    shop.data.table("products")[5][JSON_BREAKS] = True
    demo_gestan.seed(shop.data)
    flow = ProductsFlow(client)
    rows = flow.read()
    assert any(row.shop_id == 5 for row in rows)
    report = flow.execute(rows)
    assert report.ok, report.summary()
    assert m.Link.select().where((m.Link.resource == "products") & (m.Link.shop_id == 5)).exists()


def test_a_customer_with_bytes_that_are_not_utf8_is_one_blocked_row(gestan, shop, client):
    customers = shop.data.table("customers")
    customers[3]["lastname"] = "Dupont\udce9"  # a Latin-1 é, sent as the raw byte 0xE9
    flow = ContactsFlow(client)
    rows = flow.read()
    (bad,) = [row for row in rows if row.blocked]
    assert bad.shop_id == 3 and "lastname" in bad.reason and "UTF-8" in bad.reason
    report = flow.execute(rows)
    assert report.counts["created"] == len(customers) - 1
    run = m.SyncRun.select().order_by(m.SyncRun.id.desc()).get()
    assert run.status != "running" and run.created == len(customers) - 1


@pytest.mark.parametrize("bad_id", ["", str(2**63), "-4", "1.5", None])
def test_an_impossible_id_is_one_blocked_row(gestan, shop, client, bad_id):
    """A hostile shop's page (no real one can hold such ids): the others go on."""
    customers = list(shop.data.table("customers").values())[:6]
    products = list(shop.data.table("products").values())[:6]
    contacts, catalogue = ContactsFlow(client), ProductsFlow(client)
    contacts.facts = read_facts(client)
    catalogue.facts = read_facts(client, catalogue=True)
    for rows in (
        contacts._page_rows([*customers, {**customers[1], "id": bad_id}]),
        catalogue._page_rows([*products, {**products[1], "id": bad_id}], set()),
    ):
        bad = [row for row in rows if row.blocked and "illisible" in row.columns["label"]]
        assert len(bad) == 1 and "id" in bad[0].reason and bad[0].shop_id is None
        assert {row.shop_id for row in rows} >= {1, 2, 3, 4, 5}


def test_an_order_whose_customer_or_addresses_are_gone_is_blocked(gestan, shop, client):
    demo_gestan.seed(shop.data)
    prepare(client)
    orders = shop.data.table("orders")
    gone_customer, gone_address = 3, 4
    orders[gone_customer]["id_customer"] = "987654"
    orders[gone_address]["id_address_invoice"] = "876543"
    flow = OrdersFlow(client, options=OrderOptions(invoices=True))
    rows = {row.shop_id: row for row in flow.read()}
    assert rows[gone_customer].blocked and "client 987654 absent" in rows[gone_customer].reason
    assert rows[gone_address].blocked
    assert "adresse de facturation 876543 absente" in rows[gone_address].reason
    report = flow.execute(list(rows.values()))
    assert report.counts["created"] == len([r for r in rows.values() if r.selected])
    assert not m.Invoice.select().where(m.Invoice.billing_address == "").exists()


def test_with_customer_ids_only_a_gone_customer_fails_its_row_with_words(gestan, shop, client):
    demo_gestan.seed(shop.data)
    prepare(client)
    options = OrderOptions(customer_id_only=True)
    read = OrdersFlow(client, options=options).read()
    first, second = [row.shop_id for row in read if row.selected][:2]
    shop.data.table("orders")[second]["id_customer"] = "987654"
    flow = OrdersFlow(client, options=options)
    rows = [row for row in flow.read() if row.shop_id in (first, second)]
    report = flow.execute(rows)
    failed = [r for r in report.results if r.outcome == "failed"]
    assert [r.shop_id for r in failed] == [second] and "n'est pas dans la boutique" in failed[
        0
    ].message
    assert [r.shop_id for r in report.results if r.outcome == "created"] == [first]


# --- whole pages with one hostile record among good ones ----------------------------

from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

FIELDS = ("lastname", "firstname", "email", "company", "note", "id_gender", "is_guest")
HOSTILE = st.one_of(
    st.builds(
        lambda value: {"id": value},
        st.sampled_from(["", "0", "-1", "1.5", str(2**63), "abc", None, " 7"]),
    ),
    st.builds(lambda field: {field: "Dupont\ufffd"}, st.sampled_from(FIELDS)),
    st.builds(
        lambda field, value: {field: value},
        st.sampled_from(FIELDS),
        st.one_of(
            st.none(),
            st.integers(),
            st.lists(st.text(max_size=5), max_size=3),
            st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
            st.text(max_size=300),
        ),
    ),
)


@hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(0, 6), hostile=HOSTILE)
def test_the_good_customers_of_a_page_are_always_imported(
    tmp_path_factory, shop, client, position, hostile
):
    from tui_connector.gestan.database import open_database

    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('page') / 'gestan.db'}")
    good = [dict(c) for c in list(shop.data.table("customers").values())[:6]]
    page = list(good)
    page.insert(position, {**good[1], "id": "5000", "email": "autre@exemple.fr", **hostile})
    flow = ContactsFlow(client)
    flow.facts = read_facts(client)
    rows = flow._page_rows(page)
    flow.execute(rows)
    linked = {link.shop_id for link in m.Link.select().where(m.Link.resource == "customers")}
    assert {int(c["id"]) for c in good} <= linked
    assert len(rows) == len(page)  # the hostile one is a row too, never dropped silently
    database.close()


def test_a_key_that_may_not_read_messages_imports_orders_without_comments(gestan, shop, client):
    from tui_connector.prestashop.errors import PermissionDenied

    demo_gestan.seed(shop.data)
    prepare(client)
    allowed = shop.engine.root_permissions()
    shop.engine.permissions = {**allowed, "messages": set()}
    with pytest.raises(PermissionDenied) as refused:  # the true cause, said once
        client.list("messages")
    assert "pas le droit GET sur messages" in str(refused.value)
    assert "cochez GET pour messages" in str(refused.value)
    assert "Authorization" not in str(refused.value)
    report = OrdersFlow(client, options=OrderOptions()).stream()
    assert report.ok and report.counts["created"] > 0
    assert any("messages" in note for note in report.notes)


PRODUCT_FIELDS = ("reference", "ean13", "price", "id_tax_rules_group", "id_category_default")
HOSTILE_PRODUCT = st.one_of(
    st.builds(lambda value: {"id": value}, st.sampled_from(["", "0", "-2", "9.5", str(2**40)])),
    st.builds(lambda field: {field: "x\ufffdy"}, st.sampled_from(PRODUCT_FIELDS)),
    st.builds(
        lambda field, value: {field: value},
        st.sampled_from(PRODUCT_FIELDS),
        st.one_of(st.none(), st.integers(), st.text(max_size=40), st.lists(st.text(), max_size=2)),
    ),
)


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(0, 6), hostile=HOSTILE_PRODUCT)
def test_the_good_products_of_a_page_are_always_imported(
    tmp_path_factory, shop, client, position, hostile
):
    from tui_connector.gestan.database import open_database

    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('page') / 'gestan.db'}")
    demo_gestan.seed(shop.data)
    simple = [p for p in shop.data.table("products").values() if p["product_type"] == "standard"]
    good = [dict(p) for p in simple[:5]]
    page = list(good)
    page.insert(position, {**good[1], "id": "4000", "reference": "AUTRE-REF", **hostile})
    flow = ProductsFlow(client)
    flow.facts = read_facts(client, catalogue=True)
    flow.families = settings.family_keys("family.")
    rows = flow._page_rows(page, set())
    flow.execute(rows)
    linked = {link.shop_id for link in m.Link.select().where(m.Link.resource == "products")}
    assert {int(p["id"]) for p in good} <= linked
    database.close()
