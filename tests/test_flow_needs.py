"""`check` knows what each flow reads because the flows say it (Flow.NEEDS, OPTIONAL),
and this test holds them to it: every resource and method a flow asks of the simulated
shop, on the demo with every shape and option, is one its flow declares."""

from __future__ import annotations

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.runner import FLOWS, flow_needs, make_flow


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=40, seed=3, real_shapes=True)) as running:
        yield running


def test_every_request_of_every_flow_is_one_it_declares(sqlite_gestan, shop, client):
    demo_gestan.seed(shop.data)
    for key in ("sync.cover_images", "sync.attributes", "invoices.create"):
        settings.set_value(key, "true")
    m.Product.create(  # something to send to the shop
        code="GES-ENVOI",
        label="Envoi",
        price_excl=3,
        vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
        family=m.Family.get(m.Family.code == "ACC"),
        image=b"\xff\xd8image\xff\xd9",
    )
    declared = flow_needs()
    for name in FLOWS:
        shop.engine.asked.clear()
        make_flow(name, client).stream()
        needs, optional = declared[name]
        allowed = {
            (r, verb) for table in (needs, optional) for r, verbs in table.items() for verb in verbs
        }
        assert shop.engine.asked <= allowed, (name, sorted(shop.engine.asked - allowed))
        assert {r for r, _ in shop.engine.asked} >= set(needs) - {"images"}, name
