"""Stock, Gestan -> shop: each linked product's Gestan quantity, written where it differs.

Statuses: UP_TO_DATE, UPDATE_SHOP, UNMANAGED (no link: listed apart), BLOCKED (the
shop's quantity moved for orders, cancellations or credit slips Gestan has not imported
yet: writing Gestan's quantity would undo the shop).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan.links import links
from tui_connector.gestan.stock import gestan_quantities
from tui_connector.prestashop.errors import PermissionDenied, UnknownResource
from tui_connector.sync.core import Action, Flow, Origin, Outcome, Progress, Row, RowResult
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.status import Status


@dataclass(frozen=True)
class StockPayload:
    stock_id: int  # the shop's stock_available
    quantity: Decimal | None = None  # Gestan's, to write; None: a product Gestan does not follow


class StockFlow(Flow):
    name = "stock"
    # and, through the registry (reads_through), what the orders' read needs: the shop's
    # quantities moved for orders Gestan has not imported yet must not be undone
    NEEDS = {"stock_availables": {"get", "put"}}

    def read(self, progress: Progress | None = None) -> list[Row]:
        rows_of_shop = [s for page in self.client.iter_pages("stock_availables") for s in page]
        with_combinations = {
            s["id_product"] for s in rows_of_shop if s.get("id_product_attribute", "0") != "0"
        }
        known = links("products")
        try:
            pending = FLOWS["orders"].cls.awaiting_import(self.client)
        except (PermissionDenied, UnknownResource):
            pending = {}  # a key without the orders: nothing to compare with
        quantities = gestan_quantities()
        labels = {
            p.id: (p.code, p.label)
            for p in m.Product.select(m.Product.id, m.Product.code, m.Product.label)
        }
        rows = []
        for stock in rows_of_shop:
            product_id = int(stock["id_product"])
            attribute = int(stock.get("id_product_attribute") or 0)
            if attribute == 0 and stock["id_product"] in with_combinations:
                continue  # the shop sums its combinations there itself
            shop_quantity = int(stock.get("quantity") or 0)
            link = known.get((product_id, attribute))
            if link is None or link.gestan_id not in labels:
                rows.append(
                    Row(
                        key=f"stock:{stock['id']}",
                        origin=Origin.SHOP,
                        status=Status.UNMANAGED,
                        shop_id=product_id,
                        shop_sub_id=attribute,
                        columns={
                            "label": f"produit {product_id}"
                            + (f" / {attribute}" if attribute else ""),
                            "shop": str(shop_quantity),
                            "gestan": "",
                        },
                        payload=StockPayload(int(stock["id"])),
                    )
                )
                continue
            ours = quantities.get(link.gestan_id, Decimal(0))
            wanted = int(ours)  # the shop counts whole units
            code, label = labels[link.gestan_id]
            differs = wanted != shop_quantity
            waiting = pending.get((product_id, attribute), []) if differs else []
            row = Row(
                key=f"stock:{stock['id']}",
                origin=Origin.GESTAN,
                status=Status.UPDATE_SHOP if differs else Status.UP_TO_DATE,
                action=Action.UPDATE_SHOP if differs else None,
                shop_id=product_id,
                shop_sub_id=attribute,
                gestan_id=link.gestan_id,
                columns={
                    "label": label,
                    "code": code,
                    "shop": str(shop_quantity),
                    "gestan": str(wanted),
                },
                payload=StockPayload(int(stock["id"]), wanted),
            )
            if waiting:  # writing Gestan's quantity now would undo what the shop did
                shown = ", ".join(sorted(set(waiting))[:5]) + ("…" if len(set(waiting)) > 5 else "")
                row.status, row.action, row.blocked, row.selected = (
                    Status.BLOCKED,
                    None,
                    True,
                    False,
                )
                row.reason = (
                    f"la boutique a bougé pour des commandes pas encore importées ({shown}):"
                    " importez les commandes d'abord (sync orders)"
                )
            rows.append(row)
        if progress:
            progress(len(rows), len(rows), "stock lu")
        return rows

    def apply(self, row: Row) -> RowResult:
        stock: StockPayload = row.payload
        self.client.patch("stock_availables", stock.stock_id, {"quantity": str(stock.quantity)})
        return RowResult.of(row, Outcome.UPDATED, f"quantité {stock.quantity}")
