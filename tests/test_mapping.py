"""The settings screens' helpers: the mapping cache, links by hand, genders, families."""

from __future__ import annotations

import pytest

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync import mapping
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.status import Status


@pytest.fixture
def client():
    with SimulatedShop(build(orders=20)) as shop, SyncWebservice(shop.url, shop.key) as ws:
        ws.shop = shop
        yield ws


def test_reading_fills_the_cache_and_imports_nothing(sqlite_gestan, client):
    counts = mapping.refresh_cache(client)
    assert counts["categories"] == 9 and counts["products"] > 10
    assert m.Product.select().count() == 0 and m.Family.select().count() == 0
    categories = mapping.cached_categories()
    assert (3, "Vêtements", 2) in categories
    assert mapping.attribute_labels()["Taille"] == ["S", "M", "L", "XL"]
    found = mapping.cached_products("colibri")
    assert found and all("colibri" in p.label for p in found)


def test_create_missing_families_maps_every_category(sqlite_gestan, client):
    made = mapping.create_missing_families(client)
    assert len(made) == 7
    child = m.Family.get(m.Family.code == settings.get("family.4"))
    assert child.parent.code == settings.get("family.3")  # Homme under Vêtements
    assert mapping.create_missing_families(client) == []  # nothing twice


def test_link_by_hand_then_undo(sqlite_gestan, client):
    mapping.create_missing_families(client)
    other = m.Product.create(
        code="ANCIEN-CODE",
        label="Carnet",
        price_excl="10.75",
        vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
        family=m.Family.get(m.Family.code == settings.get("family.7")),
    )
    mapping.refresh_cache(client)
    mapping.link_product_by_hand(client, 4, 0, "ANCIEN-CODE")
    assert next(p for p in mapping.cached_products() if p.shop_id == 4).linked_to == "ANCIEN-CODE"
    rows = {r.key: r for r in ProductsFlow(client).read()}
    assert rows["product:4:0"].gestan_id == other.id
    assert rows["product:4:0"].status == Status.UP_TO_DATE  # the link overwrote nothing
    assert "gestan:" + str(other.id) not in rows  # no longer offered to the shop
    with pytest.raises(ConnectorError, match="déjà lié"):
        mapping.link_product_by_hand(client, 5, 0, "ANCIEN-CODE")
    with pytest.raises(ConnectorError, match="aucun produit"):
        mapping.link_product_by_hand(client, 5, 0, "NOPE")
    assert mapping.unlink_product(4, 0)
    assert m.Product.get_by_id(other.id).code == "ANCIEN-CODE"


def test_genders_in_use_beside_the_mapping(sqlite_gestan, client):
    settings.unset("civility.2")
    uses = {g.id_gender: g for g in mapping.genders_in_use(client)}
    assert uses["1"].civility == "M." and uses["2"].civility == ""  # 1 mapped from the start
    assert sum(g.customers for g in uses.values()) == len(client.shop.data.table("customers"))
