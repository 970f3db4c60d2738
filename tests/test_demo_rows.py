"""The demo lets a user try every screen: `tui-connector demo`'s shop and Gestan, built as
the command builds them, read as the screens read them (the flows' rows, nothing done),
hold a product conflict (key c), a stock row Gestan does not manage (key h), a contact
whose addresses ask for a choice (key e) and an order the shop changed after Gestan
imported it."""

from __future__ import annotations

import pytest

from tui_connector.cli import _start_simulator
from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.sync.order_changes import OrderChangePayload
from tui_connector.sync.order_life import CHANGE_RESOURCES
from tui_connector.sync.runner import make_flow
from tui_connector.sync.status import Status

DEMO_ORDERS = 200  # the demo command's default (--orders)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo's shop and its Gestan, as `tui-connector demo` makes them (cli._demo)."""
    shop = _start_simulator(DEMO_ORDERS).start()
    database = open_database(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo-gestan.db'}")
    demo_gestan.seed(shop.data)
    yield shop
    shop.stop()
    database.close()


@pytest.fixture(scope="module")
def rows(demo):
    """Each flow's rows, read once, as its screen reads them."""
    read = {}
    with SyncWebservice(demo.url, demo.key, backoff=0.01, on_notice=lambda said: None) as client:
        for name in ("products", "stock", "contacts", "orders"):
            read[name] = make_flow(name, client).read()
    return read


def test_a_product_changed_on_both_sides_is_a_conflict(rows):
    conflicts = [r for r in rows["products"] if r.conflict]
    assert conflicts, "no product in conflict: key c has nothing to choose"
    linked = [r for r in conflicts if r.key.startswith("product:") and r.gestan_id]
    assert linked, [(r.key, r.reason) for r in conflicts]


def test_a_shop_product_with_stock_is_not_managed_by_gestan(rows):
    unmanaged = [r for r in rows["stock"] if r.status == Status.UNMANAGED]
    assert unmanaged, "no stock row Gestan does not manage: key h shows nothing"
    assert any(int(r.columns["shop"]) > 0 for r in unmanaged)


def test_a_contact_asks_which_address_bills_and_which_delivers(rows):
    # what the contacts screen's address picker (key e) needs: addresses to choose from,
    # and a choice to make (the ⌂ of the status)
    asking = [r for r in rows["contacts"] if r.payload.addresses and r.needs_choice]
    assert asking, "no contact with addresses to choose: key e opens nothing"
    assert all(len(r.payload.addresses) > 1 for r in asking)


def test_an_imported_order_changed_in_the_shop_since(rows):
    changes = [r for r in rows["orders"] if isinstance(r.payload, OrderChangePayload)]
    assert changes, "no order changed in the shop after its import: nothing to follow"
    imported = {link.gestan_id for link in m.Link.select().where(m.Link.resource == "orders")}
    assert all(r.gestan_id in imported for r in changes)
    assert all(r.key.startswith(f"{r.payload.change}:") for r in changes)
    assert {r.payload.change for r in changes} <= set(CHANGE_RESOURCES)
