"""A row whose data a flow cannot use fails alone; a key pressed on a row it does not
concern says so."""

from __future__ import annotations

from tui_connector.sync.core import Flow, Origin, Outcome, Row, unreadable_row
from tui_connector.sync.order_changes import OrderChangePayload
from tui_connector.sync.orders import OrdersFlow
from tui_connector.sync.status import Status


class Odd(Flow):
    name = "odd"

    def read(self, progress=None):
        return []

    def apply(self, row):
        return row.payload.customer  # a dict has no such attribute


def test_a_row_whose_payload_lacks_what_apply_reads_fails_alone(sqlite_gestan):
    row = Row(key="odd:1", origin=Origin.SHOP, status=Status.ADD, action="create_gestan")
    result = Odd(client=None)._run_one(row)
    assert result.outcome == Outcome.FAILED and "AttributeError" in result.message


def test_invoice_today_on_a_row_that_is_no_held_order_does_nothing():
    flow = OrdersFlow.__new__(OrdersFlow)  # (invoice_today reads the row only)
    imported = Row(key="order:60", origin=Origin.SHOP, status=Status.IMPORTED)
    change = Row(
        key="order_slip:3",
        origin=Origin.SHOP,
        status=Status.CREDITED,
        payload=OrderChangePayload("order_slip", {}, {}, {}, Status.CREDITED, ""),
    )
    unreadable = unreadable_row("order:7", {"id": "7"}, ValueError("x"))
    assert [flow.invoice_today(row) for row in (imported, change, unreadable)] == ["", "", ""]
