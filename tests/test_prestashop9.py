"""PrestaShop 9: the same Webservice with a few differences (tests/fixtures/prestashop/
9.0.0/README.md). The simulator's `--version 9` answers as the real 9.0.0 shop did, and
the flows pass on its demo shape (shared combination references, tax rules for the
shop's own country only)."""

from __future__ import annotations

import httpx
import pytest

from tui_connector.gestan import models as m
from tui_connector.prestashop import codec
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.catalogue import create_families_from_categories
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.orders import OrderOptions, OrdersFlow
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import read_facts

from .captures import CAPTURES, V9, shop_from_captures


def _root_names(body: bytes) -> set[str]:
    api = codec._root(codec.parse_xml(body))["api"]
    return {name for name in api if not name.startswith("@")}


@pytest.fixture
def shop():
    data = shop_from_captures(CAPTURES)  # the demo catalogue: combinations share references
    ukraine = max(data.table("countries")) + 1
    data.insert("countries", {"id": str(ukraine), "iso_code": "UA", "active": "1", "name": "UA"})
    for rule in data.table("tax_rules").values():  # rules for the shop's own country only
        rule["id_country"] = str(ukraine)
    data.insert("configurations", {"id": "7", "name": "PS_COUNTRY_DEFAULT", "value": str(ukraine)})
    with SimulatedShop(data, version="9") as running:
        yield running


def test_the_root_lists_what_the_real_9_0_0_lists(shop):
    answer = httpx.get(f"{shop.url}/api/", auth=(shop.key, ""))
    assert answer.headers["PSWS-Version"] == "9.0.0"
    assert _root_names(answer.content) == _root_names((V9 / "api_root.xml").read_bytes())


def test_a_bad_filter_is_a_500_with_its_code_and_four_php_warnings(shop):
    answer = httpx.get(
        f"{shop.url}/api/products", params={"filter[nope]": "[1]"}, auth=(shop.key, "")
    )
    real = (V9 / "error_bad_filter_field.xml").read_bytes()
    assert answer.status_code == 500
    codes = [e.code for e in codec.decode_errors(answer.content)]
    assert codes == [e.code for e in codec.decode_errors(real)] == [32, 3, 3, 3, 3]


def test_the_flows_pass_on_the_demo_shape_of_prestashop_9(gestan, shop, client):
    facts = read_facts(client, catalogue=True)
    assert facts.group_rates  # found by the shop's own country
    create_families_from_categories(facts)
    products = ProductsFlow(client)
    report = products.execute(products.read())
    assert report.ok and report.counts["blocked"] == 0, report.summary()
    contacts = ContactsFlow(client)
    assert contacts.execute(contacts.read()).ok
    rows = OrdersFlow(client, options=OrderOptions()).read()
    assert rows and not [row.reason for row in rows if "non lié" in row.reason]
    assert m.Product.select().count() > len(shop.data.table("products"))
