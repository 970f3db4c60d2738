"""Every flow, declared once.

The command line (its choices and help), the runner, `check`, the home screen (its row
and key), the import screen (its columns and extra keys) and the fault matrix all read
this table: a new flow is its own module and one `register(FlowSpec(...))` here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui_connector.sync.core import Flow


@dataclass(frozen=True)
class Column:
    """A column of the import screen, after the selection and before the status."""

    key: str  # the row's `columns` key
    title: str
    minimum: int  # below this, the column says nothing useful
    numeric: bool = False  # right-aligned
    most: int = 60  # no column takes more, however long one value is
    money: bool = False  # a Decimal, shown the French way


@dataclass(frozen=True)
class FlowSpec:
    name: str  # on the command line, in the runs' history
    title: str  # on the screens and in the reports
    key: str  # the home screen's key
    # the class, or "module:Class" imported when first needed: the command line's help
    # and a cron line's start do not load every flow
    flow_class: type[Flow] | str
    help: str  # what the command line says of it
    columns: tuple[Column, ...]
    # the import screen's keys that only this flow offers (the screen implements them)
    actions: tuple[str, ...] = ()
    # the options its class takes beyond the client (the orders' dates, say)
    options: tuple[str, ...] = ()
    # the flows whose rows it needs in Gestan first (an order's customer and products)
    after: tuple[str, ...] = ()
    # the flows whose reads it runs (stock asks the orders' read what moved in the shop):
    # what they need of the shop, it needs too
    reads_through: tuple[str, ...] = ()
    # the options the fault matrix runs it with (the orders with their books)
    unattended: Callable[[], Mapping[str, Any]] = lambda: MappingProxyType({})
    # forgets where its incremental reads stopped (`sync --reset-cursor`), if it has one
    reset_cursor: Callable[[], None] | None = None

    @property
    def cls(self) -> type[Flow]:
        if isinstance(self.flow_class, str):
            module, _, name = self.flow_class.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.flow_class

    @property
    def needs(self) -> dict[str, set[str]]:
        """What it cannot do without, {resource: methods}: its class's, and those of the
        flows it reads through."""
        return _merged(self.cls.NEEDS, *(FLOWS[name].needs for name in self.reads_through))

    @property
    def optional(self) -> dict[str, set[str]]:
        """What it goes on without."""
        return _merged(self.cls.OPTIONAL, *(FLOWS[name].optional for name in self.reads_through))

    def make(self, client, **options) -> Flow:
        unknown = set(options) - set(self.options)
        if unknown:
            raise TypeError(f"{self.name} does not take {', '.join(sorted(unknown))}")
        return self.cls(client, **options)


def _merged(*needs: Mapping[str, set[str]]) -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {}
    for each in needs:
        for resource, methods in each.items():
            merged.setdefault(resource, set()).update(methods)
    return merged


FLOWS: dict[str, FlowSpec] = {}


def register(spec: FlowSpec) -> FlowSpec:
    taken = {other.key: other.name for other in FLOWS.values() if other.name != spec.name}
    if spec.key in taken:
        raise ValueError(f"key {spec.key!r} is already {taken[spec.key]}'s")
    FLOWS[spec.name] = spec
    return spec


def _orders_with_their_books() -> Mapping[str, Any]:
    from tui_connector.sync.orders import OrderOptions

    options = OrderOptions(invoices=True, mark_paid=True, accounting=True)
    return {"since_last": True, "options": options}


def _reset_orders_cursor() -> None:
    from tui_connector.sync.orders import reset_cursor

    reset_cursor()


register(
    FlowSpec(
        name="contacts",
        title="Contacts",
        key="1",
        flow_class="tui_connector.sync.contacts:ContactsFlow",
        help="clients de la boutique vers Gestan, avec leurs adresses",
        columns=(
            Column("last_name", "Nom", 8),
            Column("first_name", "Prénom", 6),
            Column("email", "E-mail", 10),
        ),
        actions=("addresses",),
        options=("options",),
    )
)
register(
    FlowSpec(
        name="products",
        title="Produits",
        key="2",
        flow_class="tui_connector.sync.products:ProductsFlow",
        help="produits dans les deux sens, chaque déclinaison un produit Gestan",
        columns=(
            Column("code", "Code", 15),
            Column("label", "Désignation", 10),
            Column("price", "Prix HT", 7, numeric=True, money=True),
        ),
        actions=("conflict_side", "special_prices"),
        options=("cover_images", "attributes"),
        after=("contacts",),
    )
)
register(
    FlowSpec(
        name="stock",
        title="Stock",
        key="3",
        flow_class="tui_connector.sync.stock:StockFlow",
        help="quantités de Gestan vers la boutique",
        columns=(
            Column("code", "Code", 15),
            Column("label", "Désignation", 10),
            Column("shop", "Boutique", 5, numeric=True),
            Column("gestan", "Gestan", 5, numeric=True),
        ),
        actions=("unmanaged",),
        after=("products",),
        reads_through=("orders",),
    )
)
register(
    FlowSpec(
        name="orders",
        title="Commandes",
        key="4",
        flow_class="tui_connector.sync.orders:OrdersFlow",
        help="commandes de la boutique vers Gestan, par dates ou depuis le dernier import",
        columns=(
            Column("reference", "Réf.", 9),
            Column("customer", "Client", 6),
            Column("total", "Total TTC", 8, numeric=True, money=True),
            Column("date", "Date", 10),
        ),
        actions=("reset_cursor", "invoice_today"),
        options=("date_from", "date_to", "since_last", "options"),
        after=("contacts", "products"),
        unattended=_orders_with_their_books,
        reset_cursor=_reset_orders_cursor,
    )
)
