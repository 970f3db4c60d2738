"""Reading what changed in the shop for the orders already imported: one row per change.

Each of `order_slip`, `order_payments` and `order_histories` is read past its own
cursor (the highest id already dealt with, less `WINDOW` ids read again), a page of
500 at a time, with the orders and order lines those records concern in two more
requests per page. A record about an order Gestan does not have yet gives no row:
the import of that order reads its payments and slips itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan.links import linked_by, links
from tui_connector.gestan.money import ZERO, cents
from tui_connector.labels import status_label
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import text
from tui_connector.prestashop.errors import PermissionDenied, UnknownResource
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.core import (
    Action,
    Origin,
    Outcome,
    Progress,
    Report,
    Row,
    RowResult,
    read_cursor,
    write_cursor,
)
from tui_connector.sync.order_life import (
    CHANGE_RESOURCES,
    ENDINGS,
    HISTORIES,
    PAYMENTS,
    SLIPS,
    WINDOW,
    Documents,
)
from tui_connector.sync.status import Status

CURSOR_PREFIX = "orders:"  # cursor names: orders:order_slip, orders:order_payments, ...


def change_cursor(resource: str) -> int:
    value = read_cursor(CURSOR_PREFIX + resource)
    return int(value) if value.isdigit() else 0


@dataclass
class OrderChangePayload:
    """A change of an imported order: the shop's record of it, and the order it concerns."""

    change: str  # the resource: order_slip, order_payments or order_histories
    record: dict
    order: dict
    details: dict[str, dict]  # the order's lines by id
    kind: Status
    when: str  # the shop's date of the change


class ChangeReader:
    """The change rows of an orders run, and where each resource's cursor may go."""

    def __init__(self, client: SyncWebservice):
        self.client = client
        self.seen: dict[str, int] = {}  # the highest id read, per resource
        self.pending: dict[str, tuple[str, int]] = {}  # row key -> (resource, id), not done
        self.missing: list[str] = []  # resources the key may not read
        self.slipped: dict[str, tuple[int, Decimal]] = {}  # slip row -> (order, refund)

    # --- read ---------------------------------------------------------------------

    def pages(self, flow, progress: Progress | None = None) -> Iterator[list[Row]]:
        for resource in CHANGE_RESOURCES:
            options = flow.options
            recorded = options.mark_paid or options.invoice_when == "paid"
            if resource == PAYMENTS and not (options.invoices and recorded):
                continue  # nothing records payments: they wait, cursor and all, for the option
            since = max(0, change_cursor(resource) - WINDOW)
            filters = {"id": Filter.greater(since)}
            if resource == HISTORIES:  # (the shop leaves out the states that end no order)
                filters["id_order_state"] = Filter.any_of(_endings(flow))
            query = Query(filters=filters)
            try:
                for page in self.client.iter_pages(resource, query):
                    self.seen[resource] = max(
                        [self.seen.get(resource, 0)] + [int(r["id"]) for r in page]
                    )
                    rows = self._rows(flow, resource, page)
                    for row in rows:
                        self.pending[row.key] = (resource, int(row.payload.record["id"]))
                    if rows:
                        if progress:
                            progress(len(rows), len(rows), "changements lus")
                        yield rows
            except (PermissionDenied, UnknownResource):
                self.missing.append(resource)  # said on the report; the rest goes on

    def _rows(self, flow, resource: str, page: list[dict]) -> list[Row]:
        if resource == HISTORIES:  # only the states that end an order ask for an act
            endings = _endings(flow)
            page = [r for r in page if r.get("id_order_state") in endings]
        if resource == PAYMENTS:
            orders = self._orders_by_reference({p.get("order_reference", "") for p in page})
            keyed = [(p, orders.get(p.get("order_reference", ""))) for p in page]
        else:
            orders = self._orders_by_id({int(r.get("id_order") or 0) for r in page})
            keyed = [(r, orders.get(int(r.get("id_order") or 0))) for r in page]
        keyed = [(record, found) for record, found in keyed if found is not None]
        if resource == HISTORIES:  # an order this run imported in that state: done with it
            imported = getattr(flow, "imported", {})
            keyed = [
                (record, found)
                for record, found in keyed
                if imported.get(found[0]) != record.get("id_order_state")
            ]
        if not keyed:
            return []
        if resource != HISTORIES:  # payments and slips are linked once applied: left out
            done = links(resource, [int(record["id"]) for record, _ in keyed])
            keyed = [
                (record, found) for record, found in keyed if (int(record["id"]), 0) not in done
            ]
            if not keyed:  # (an import reads its orders' payments and slips itself)
                return []
        shop_ids = sorted({shop_id for _, (shop_id, _) in keyed})
        shop_orders = {int(o["id"]): o for o in self.client.get_many("orders", shop_ids)}
        details: dict[int, dict[str, dict]] = {}
        if resource != PAYMENTS:
            for detail in self.client.get_many("order_details", shop_ids, key="id_order"):
                details.setdefault(int(detail["id_order"]), {})[detail["id"]] = detail
        names = dict(
            m.SalesOrder.select(m.SalesOrder.id, m.SalesOrder.billing_name)
            .where(m.SalesOrder.id.in_([gestan_id for _, (_, gestan_id) in keyed]))
            .tuples()
        )
        rows = []
        for record, (shop_id, gestan_id) in keyed:
            order = shop_orders.get(shop_id)
            if order is None:
                continue
            name = names.get(gestan_id, "")
            row = self._row(
                flow, resource, record, order, gestan_id, details.get(shop_id, {}), name
            )
            if row is not None:
                rows.append(row)
        return rows

    def _orders_by_id(self, shop_ids: set[int]) -> dict[int, tuple[int, int]]:
        return {key[0]: (key[0], link.gestan_id) for key, link in links("orders", shop_ids).items()}

    def _orders_by_reference(self, references: set[str]) -> dict[str, tuple[int, int]]:
        return linked_by("orders", m.SalesOrder.reference, references)

    def _row(self, flow, resource, record, order, gestan_id, details, name) -> Row | None:
        state = flow.states.get(order.get("current_state", ""), {})
        if resource == HISTORIES:
            kind = flow._ending(order)
            # only the state the order is still in: a cancellation undone is no cancellation
            if not kind or record.get("id_order_state") != order.get("current_state"):
                return None
            docs = Documents.of(m.SalesOrder.get_by_id(gestan_id))
            coming = sum(  # the slips of this read not done yet (stream mode has done them)
                (
                    amount
                    for key, (shop_id, amount) in self.slipped.items()
                    if shop_id == int(order["id"]) and key in self.pending
                ),
                ZERO,
            )
            if not flow.life().has_work(docs, kind, record["date_add"], details.values(), coming):
                return None  # done already (at import, by an earlier run, by a slip read now)
            when, amount = record["date_add"], cents(order.get("total_paid_tax_incl"))
        elif resource == SLIPS:
            kind, when = Status.CREDITED, record["date_add"]
            amount = cents(record.get("total_products_tax_incl")) + cents(
                record.get("total_shipping_tax_incl")
            )
            docs = Documents.of(m.SalesOrder.get_by_id(gestan_id))
            if not self._slip_has_work(flow, docs, record, details):
                return None  # credited in full already (a Refunded state came first)
            self.slipped[f"{resource}:{record['id']}"] = (int(order["id"]), amount)
        else:
            kind, when, amount = Status.PAID, record["date_add"], cents(record.get("amount"))
        columns = {
            "reference": order.get("reference", ""),
            "customer": f"{order.get('id_customer', '')} · {name}" if name else "",
            "total": f"{amount:.2f}",
            "date": when[:10],
            "state": text(state.get("name"), flow.facts.language),
            "label": f"{order.get('reference', '')} · {status_label(kind).lower()}",
        }
        return Row(
            key=f"{resource}:{record['id']}",
            origin=Origin.SHOP,
            status=kind,
            action=Action.UPDATE_GESTAN,
            shop_id=int(order["id"]),
            gestan_id=gestan_id,
            columns=columns,
            payload=OrderChangePayload(resource, record, order, details, kind, when),
        )

    @staticmethod
    def _slip_has_work(flow, docs: Documents, slip: dict, details: dict[str, dict]) -> bool:
        if docs.invoice is not None:
            left = docs.remaining()
            if sum((line.total_incl for line in left), ZERO) > 0:
                return True
        return bool(flow.life().returns(docs, details.values(), slip["date_add"], cancelled=False))

    # --- execute ------------------------------------------------------------------

    def apply(self, flow, row: Row) -> RowResult:
        payload = row.payload
        resource, record, order = payload.change, payload.record, payload.order
        if resource != HISTORIES and links(resource, [int(record["id"])]):
            return RowResult.of(row, Outcome.SKIPPED, "déjà dans Gestan")
        docs = Documents.of(m.SalesOrder.get_by_id(row.gestan_id))
        life = flow.life()
        if resource == PAYMENTS:
            had_invoice = docs.invoice is not None
            payment = life.receive(docs, record, order)
            if payment is None and docs.invoice is not None and not had_invoice:
                number = docs.invoice.number
                return RowResult.of(
                    row, Outcome.UPDATED, f"payée: facture {number}", invoice=number
                )
            if payment is None:
                return RowResult.of(row, Outcome.SKIPPED, "pas de facture à régler")
            return RowResult.of(
                row,
                Outcome.UPDATED,
                f"paiement du {payment.date:%d/%m/%Y}: {payment.amount}",
                invoice=docs.invoice.number,
            )
        if resource == SLIPS:
            note, said = life.credit_slip(docs, record, order, payload.details)
            message = "; ".join(
                part
                for part in (f"avoir {note.number}" if note else "retour en stock", said)
                if part
            )
            return RowResult.of(
                row, Outcome.UPDATED, message, invoice=note.number if note else None
            )
        note = life.change_state(
            docs,
            payload.kind,
            payload.when,
            order,
            payload.details.values(),
            row.columns.get("state", ""),
        )
        if note is None:
            return RowResult.of(row, Outcome.UPDATED, "stock et statut suivis")
        return RowResult.of(row, Outcome.UPDATED, f"avoir {note.number}", invoice=note.number)

    # --- cursors ------------------------------------------------------------------

    def done(self, row: Row) -> None:
        self.pending.pop(row.key, None)

    def commit_cursors(self, report: Report) -> None:
        """Each cursor moves past what was read, short of a change not done (failed,
        blocked, left unticked or not reached)."""
        held: dict[str, int] = {}
        for resource, record_id in self.pending.values():
            held[resource] = min(held.get(resource, record_id), record_id)
        for resource, seen in self.seen.items():
            target = min(seen, held.get(resource, seen + 1) - 1)
            if target > change_cursor(resource):
                write_cursor(CURSOR_PREFIX + resource, str(target))
        if self.missing:
            report.notes.append(
                "non lus (la clé n'y a pas droit): " + ", ".join(sorted(set(self.missing)))
            )


def _endings(flow) -> list[str]:
    """The ids of the shop's states that end an order: cancelled, refunded."""
    return sorted({str(flow.facts.state_id(name)) for name in ENDINGS})
