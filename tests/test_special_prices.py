"""Special prices per territory <-> the shop's specific prices, against the simulated shop."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.shop_facts import ShopFacts
from tui_connector.sync.special_prices import PriceTerms, shop_record, shop_terms, token_of
from tui_connector.sync.status import Status


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=20)) as running:
        yield running


@pytest.fixture
def client(shop):
    with SyncWebservice(shop.url, shop.key) as connected:
        yield connected


@pytest.fixture
def ready(sqlite_gestan, shop, client):
    demo_gestan.seed(shop.data)
    ProductsFlow(client).execute(ProductsFlow(client).read())
    return sqlite_gestan


def special_rows(client) -> dict[str, object]:
    return {r.key: r for r in ProductsFlow(client).read() if r.of_product}


def shop_price(shop, product_id: int, **options) -> Decimal:
    query = "&".join(f"price[p][{k}]={v}" for k, v in {**options, "use_tax": 0}.items())
    response = httpx.get(
        f"{shop.url}/api/products/{product_id}?{query}&output_format=JSON", auth=(shop.key, "")
    )
    return Decimal(response.json()["product"]["p"])


def test_a_territory_price_reaches_the_shop_and_is_its_price(ready, shop, client):
    notebook = m.Product.get(m.Product.code == "DEMO-00004")
    specific = next(
        s for s in shop.data.table("specific_prices").values() if s["id_product"] == "4"
    )
    assert specific["id_group"] == "3" and specific["price"] == "9.500000"
    assert specific["from_quantity"] == "5"
    assert shop_price(shop, 4, group=3, quantity=5) == Decimal("9.500000")
    assert shop_price(shop, 4, group=3, quantity=4) == notebook.price_excl  # below 5: no
    assert shop_price(shop, 4, group=1, quantity=5) == notebook.price_excl  # other group: no
    assert Counter(r.status for r in special_rows(client).values()) == {
        Status.UP_TO_DATE: 2,
        Status.UNMANAGED: 1,
    }


def test_a_shop_price_for_a_mapped_country_comes_into_gestan(ready, shop):
    belgian = m.SpecialPrice.get(
        m.SpecialPrice.territory == m.Territory.get(m.Territory.code == "BE")
    )
    assert belgian.discount_percent == Decimal("10.000") and belgian.price_excl is None
    assert belgian.product.code == "DEMO-00005"


def test_unmapped_prices_are_listed_and_left_alone(ready, shop, client):
    rows = special_rows(client)
    customer_price = next(r for r in rows.values() if r.status == Status.UNMANAGED)
    assert "laissé tel quel" in customer_price.reason and not customer_price.selected
    assert len(shop.data.table("specific_prices")) == 3  # nothing deleted


def test_updates_both_ways_and_a_rerun_changes_nothing(ready, shop, client):
    time.sleep(1.1)
    special = m.SpecialPrice.get(
        m.SpecialPrice.territory == m.Territory.get(m.Territory.code == "PRO")
    )
    special.price_excl, special.updated_at = Decimal("9.000000"), m.now()
    special.date_from = dt.datetime(2026, 1, 1)
    special.date_to = dt.datetime(2026, 12, 31, 23, 59, 59)
    special.save()
    belgian = next(s for s in shop.data.table("specific_prices").values() if s["id_country"] == "3")
    belgian["reduction"] = "0.150000"
    rows = special_rows(client)
    assert Counter(r.status for r in rows.values()) == {
        Status.UPDATE_SHOP: 1,
        Status.UPDATE_GESTAN: 1,
        Status.UNMANAGED: 1,
    }
    report = ProductsFlow(client).execute(list(rows.values()))
    assert report.ok and all(r.territory for r in report.results)
    pro = next(s for s in shop.data.table("specific_prices").values() if s["id_group"] == "3")
    assert pro["price"] == "9.000000" and pro["from"].startswith("2026-01-01")
    assert m.SpecialPrice.get(
        m.SpecialPrice.territory == m.Territory.get(m.Territory.code == "BE")
    ).discount_percent == Decimal("15.000")
    assert Counter(r.status for r in special_rows(client).values()) == {
        Status.UP_TO_DATE: 2,
        Status.UNMANAGED: 1,
    }


def test_a_combination_price_for_two_countries(ready, shop, client):
    settings.set_value("territory.BENELUX", "country:BE,country:LU")
    territory = m.Territory.create(code="BENELUX", label="Benelux")
    variant = m.Product.get(m.Product.parent.is_null(False))
    link = m.Link.get((m.Link.resource == "products") & (m.Link.gestan_id == variant.id))
    m.SpecialPrice.create(
        product=variant, territory=territory, min_quantity=2, discount_amount=Decimal("1.500000")
    )
    rows = special_rows(client)
    new = [r for r in rows.values() if r.status == Status.ADD_SHOP]
    assert len(new) == 2 and {r.payload.token for r in new} == {"country:BE", "country:LU"}
    ProductsFlow(client).execute(new)
    made = [
        s
        for s in shop.data.table("specific_prices").values()
        if s["id_product_attribute"] == str(link.shop_sub_id)
    ]
    assert {s["id_country"] for s in made} == {"3", "12"}
    assert all(s["reduction"] == "1.500000" and s["reduction_tax"] == "0" for s in made)
    base = Decimal(shop.data.table("products")[link.shop_id]["price"]) + Decimal(
        shop.data.table("combinations")[link.shop_sub_id]["price"]
    )
    price = shop_price(
        shop, link.shop_id, country=12, quantity=2, product_attribute=link.shop_sub_id
    )
    assert price == base - Decimal("1.5")
    assert not [r for r in special_rows(client).values() if r.action]


def test_terms_mapping_is_pure_and_exact():
    facts = ShopFacts(countries={8: {"iso": "FR", "name": "France"}})
    fixed = shop_terms(
        {
            "price": "12.000000",
            "reduction": "0",
            "from_quantity": "3",
            "from": "2026-01-01 00:00:00",
            "to": "0000-00-00 00:00:00",
        }
    )
    assert fixed == PriceTerms("price", Decimal("12.000000"), 3, "2026-01-01 00:00:00", "")
    assert "TTC" in shop_terms(
        {"price": "-1", "reduction": "2.0", "reduction_type": "amount", "reduction_tax": "1"}
    )
    record = shop_record(fixed, "country:FR", 4, 0, facts)
    assert record["id_country"] == "8" and record["to"] == "0000-00-00 00:00:00"
    assert shop_terms(record) == fixed  # and back
    assert token_of({"id_country": "8", "id_group": "0", "id_customer": "0"}, facts) == "country:FR"
    assert token_of({"id_country": "8", "id_group": "3", "id_customer": "0"}, facts) is None
    assert token_of({"id_country": "0", "id_group": "0", "id_customer": "5"}, facts) is None
