"""The real PrestaShop 8.1.2 demo catalogue (tests/fixtures/prestashop/8.1.2): every
combination of a product bears the parent's reference (all of product 1's are
`demo_1`), as in many real shops. Identity is the link, never the reference."""

from __future__ import annotations

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.catalogue import create_families_from_categories
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import read_facts
from tui_connector.sync.status import Status

from .captures import CAPTURES, shop_from_captures


@pytest.fixture
def shop():
    data = shop_from_captures(CAPTURES)
    products = data.table("products")
    combinations = data.table("combinations")
    assert combinations and all(
        c["reference"] == products[int(c["id_product"])]["reference"] for c in combinations.values()
    )  # the shape that broke the real shop
    with SimulatedShop(data) as running:
        yield running


def _catalogue(client) -> dict:
    create_families_from_categories(read_facts(client, catalogue=True))
    flow = ProductsFlow(client)
    report = flow.execute(flow.read())
    assert report.ok, report.summary()
    return {
        (link.shop_id, link.shop_sub_id): m.Product.get_by_id(link.gestan_id).code
        for link in m.Link.select().where(m.Link.resource == "products")
    }


def test_shared_combination_references_all_import_with_stable_codes(gestan, shop, client):
    codes = _catalogue(client)
    combinations = shop.data.table("combinations")
    assert all((int(c["id_product"]), int(c["id"])) in codes for c in combinations.values())
    parent_of_one = [code for (product, sub), code in codes.items() if product == 1 and sub]
    assert len(parent_of_one) == len(set(parent_of_one)) == 8
    assert all(code.startswith("demo_1-") for code in parent_of_one)
    # the shop's reference is kept as it is, and shown
    one = m.Product.get(m.Product.code == parent_of_one[0])
    assert one.shop_reference == "demo_1"
    # a second run changes nothing
    again = [row for row in ProductsFlow(client).read() if row.key.startswith("product:")]
    assert {row.status for row in again} == {Status.UP_TO_DATE}, [
        (row.key, row.status, row.reason) for row in again if row.status != Status.UP_TO_DATE
    ][:5]


def test_the_same_codes_after_a_fresh_database(tmp_path, shop, client):
    from tui_connector.gestan.database import open_database

    first = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    codes = _catalogue(client)
    first.close()
    second = open_database(f"sqlite:///{tmp_path / 'two.db'}")
    assert _catalogue(client) == codes
    second.close()


def test_every_order_of_the_real_catalogue_is_linked(gestan, shop, client):
    _catalogue(client)
    settings.set_value("civility.1", "M.")
    contacts = ContactsFlow(client)
    assert contacts.execute(contacts.read()).ok
    rows = OrdersFlow(client, options=OrderOptions()).read()
    unlinked = [row.reason for row in rows if "non lié" in row.reason]
    assert rows and not unlinked, unlinked[:3]


def test_references_shared_between_products_or_empty_all_import(gestan, client):
    from tui_connector.simulator import demo_gestan
    from tui_connector.simulator.demo_data import build

    data = build(orders=5, seed=3)
    products = data.table("products")
    # (the demo's Gestan holds products 4 to 7 already)
    products[9]["reference"] = products[8]["reference"]  # two products, one reference
    products[10]["reference"] = ""  # and one with none
    products[10]["ean13"] = ""
    with SimulatedShop(data) as running:
        from tui_connector.prestashop.client import SyncWebservice

        with SyncWebservice(running.url, running.key) as shop_client:
            demo_gestan.seed(data)
            flow = ProductsFlow(shop_client)
            report = flow.execute(flow.read())
            assert report.ok, report.summary()
            code = {
                link.shop_id: m.Product.get_by_id(link.gestan_id).code
                for link in m.Link.select().where(
                    (m.Link.resource == "products") & (m.Link.shop_sub_id == 0)
                )
            }
            reference = products[8]["reference"]
            assert code[10] == "PS10"
            assert sorted([code[8], code[9]]) == sorted([reference, f"{reference}-P9"])
            m.Product.create(
                code="GES-NOUVEAU",
                label="Nouveauté de Gestan",
                price_excl=5,
                vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
                family=m.Family.get(m.Family.code == "ACC"),
            )
            rows = ProductsFlow(shop_client).read()
            again = [r for r in rows if r.key.startswith("product:")]
            assert {r.status for r in again} == {Status.UP_TO_DATE}
            # a product made in Gestan goes with its one label in each shop language: said
            to_shop = [r for r in rows if r.key.startswith("gestan:") and not r.blocked]
            assert to_shop and all("2 langues de la boutique" in r.reason for r in to_shop)


def test_a_parent_keeps_its_ean_and_follows_the_shops_price(gestan, shop, client):
    _catalogue(client)
    product = shop.data.table("products")[1]
    link = m.Link.get(
        (m.Link.resource == "products") & (m.Link.shop_id == 1) & (m.Link.shop_sub_id == 0)
    )
    parent = m.Product.get_by_id(link.gestan_id)
    assert (parent.code, parent.ean13) == ("demo_1", product.get("ean13", ""))
    product["price"] = "31.000000"
    product["date_upd"] = "2027-01-01 10:00:00"
    flow = ProductsFlow(client)
    assert flow.execute(flow.read()).ok
    assert m.Product.get_by_id(parent.id).price_excl == 31


def test_a_products_rate_is_its_groups_rule_for_the_shops_own_country(client, shop):
    """A PrestaShop 9 demo shop has tax rules for its own country only."""
    data = shop.data
    assert data.table("countries")[21]["iso_code"] == "US"
    for rule in data.table("tax_rules").values():
        rule["id_country"] = "21"
    data.insert("configurations", {"id": "7", "name": "PS_COUNTRY_DEFAULT", "value": "21"})
    facts = read_facts(client)
    assert facts.group_rates and facts.group_rates[1] == 20


def test_a_made_code_never_becomes_the_shops_reference(gestan, shop, client):
    from tui_connector.sync.catalogue import reference_for_shop

    _catalogue(client)
    combination = shop.data.table("combinations")[1]
    link = m.Link.get((m.Link.resource == "products") & (m.Link.shop_sub_id == 1))
    variant = m.Product.get_by_id(link.gestan_id)
    assert variant.code != variant.shop_reference == combination["reference"]
    assert reference_for_shop(variant, combination["reference"]) == combination["reference"]
    empty = m.Product(code="PS5", shop_reference="")
    assert reference_for_shop(empty, "") == ""  # an empty reference stays empty
    made_in_gestan = m.Product(code="GES-X", shop_reference="")
    assert reference_for_shop(made_in_gestan, "GES-X") == "GES-X"
