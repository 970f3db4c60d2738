"""docs/ACCOUNTING.md ends with the test of each of its rules: those tests exist, and
the rules no other file tests are tested here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tui_connector.gestan import models as m
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.orders import OrdersFlow

from .test_orders import ALL_ON, prepare

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "ACCOUNTING.md"


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=40, seed=4)) as running:
        yield running


def _tests_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_rule_names_a_test_that_exists():
    text = RULES.read_text(encoding="utf-8")
    table = text.split("## Each rule, its test", 1)[1]
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", table)
    assert len(named) >= 30
    missing = [f"{path}::{name}" for path, name in named if name not in _tests_of(ROOT / path)]
    assert not missing, missing


def test_paid_is_the_flag_of_the_orders_state_never_its_id(sqlite_gestan, client, shop):
    """A shop that made its 'awaiting transfer' state (10) a paid one: its orders are paid,
    and the shop's payment label is the Gestan order's method."""
    states = shop.data.table("order_states")
    states[10]["paid"] = "1"
    awaiting = [o for o in shop.data.table("orders").values() if o["current_state"] == "10"]
    assert awaiting
    demo_gestan.seed(shop.data)
    prepare(client)
    flow = OrdersFlow(client, options=ALL_ON)
    rows = {row.shop_id: row for row in flow.read()}
    assert all(rows[int(o["id"])].payload.paid for o in awaiting)
    states[10]["paid"] = "0"
    rows = {row.shop_id: row for row in OrdersFlow(client, options=ALL_ON).read()}
    assert not any(rows[int(o["id"])].payload.paid for o in awaiting)
    report = flow.execute(list(rows.values()))
    assert report.ok, report.summary()
    order = awaiting[0]
    link = m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == int(order["id"])))
    assert m.SalesOrder.get_by_id(link.gestan_id).payment_method == order["payment"]
