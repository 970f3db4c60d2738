"""Orders, shop -> Gestan: lines, shipping, discounts; optionally the invoice, its payment
and the accounting entries. Exact to the cent, never twice, never half.

Each order is one transaction: the Gestan order, its stock movements, the
invoice (numbered inside it), the payment, the entries, the link and the
cursor commit together or not at all, so a run stopped or killed resumes
to the same database. Line totals are the shop's, never recomputed.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import peewee as pw

from tui_connector.errors import ConnectorError
from tui_connector.gestan import accounting, invoicing, refcache, settings, vat_regime
from tui_connector.gestan import models as m
from tui_connector.gestan.database import write_transaction
from tui_connector.gestan.documents import InvoiceDraft, OrderDraft, PaymentDraft, write_orders
from tui_connector.gestan.invoicing import LineInput, Totals, line_rows, split_pro_rata
from tui_connector.gestan.links import gestan_id_of, gestan_ids_of, link_to, links, pairs, save_link
from tui_connector.gestan.money import ZERO, cents
from tui_connector.gestan.stock import add_stock_movement, initial_stock_dates
from tui_connector.labels import status_label
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import text
from tui_connector.prestashop.errors import PermissionDenied, UnknownResource
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.core import (
    MAPPING_ERRORS,
    Action,
    Flow,
    Origin,
    Outcome,
    Progress,
    Row,
    RowResult,
    RunState,
    database_trouble,
    is_deadlock,
    read_cursor,
    readable,
    record_run_lines,
    shop_total,
    unreadable_row,
    valid_id,
    write_cursor,
)
from tui_connector.sync.order_changes import ChangeReader, OrderChangePayload
from tui_connector.sync.order_life import (
    ENDINGS,
    PAYMENTS,
    SHOP_SERIES,
    SLIPS,
    Books,
    Documents,
    DraftDocuments,
    OrderLife,
    shop_day,
)
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.shop_facts import FACTS_NEEDS, FACTS_OPTIONAL, ShopFacts, read_facts
from tui_connector.sync.shop_vat import GoodsLine, goods_vat
from tui_connector.sync.status import Status

RESOURCE = "orders"
CURSOR = "orders"
UNWANTED_TEMPLATES = {"order_canceled", "payment_error"}
GENERIC_SHIPPING = "PORT"
ROUNDING_LABEL = "Arrondi de la boutique"
CONVERSION_LABEL = "Écart de conversion"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
RATE = Decimal("0.001")


@dataclass(frozen=True)
class OrderOptions:
    customer_id_only: bool = False
    only_new: bool = False
    comments: bool = True
    invoices: bool = False
    mark_paid: bool = False
    accounting: bool = False
    shipping_product: str = ""
    series: str = "FA"
    lookback_days: int = 2
    invoice_when: str = "import"  # or "paid": the invoice once the shop has the payment
    invoice_date: str = "order"  # or "shop": the shop's invoice_date where it has one
    late: str = "hold"  # an order older than the series' last invoice: "hold" or "today"
    numbering: str = "gestan"  # or "shop": the shop's invoice and credit slip numbers

    @classmethod
    def from_settings(cls) -> OrderOptions:
        return cls(
            lookback_days=int(settings.get("orders.lookback_days")),
            invoice_when=settings.get("invoices.when"),
            invoice_date=settings.get("invoices.date"),
            late=settings.get("invoices.late"),
            numbering=settings.get("invoices.numbering"),
            customer_id_only=settings.get_bool("orders.customer_id_only"),
            only_new=settings.get_bool("display.only_new"),
            comments=settings.get_bool("sync.comments"),
            invoices=settings.get_bool("invoices.create"),
            mark_paid=settings.get_bool("invoices.mark_paid"),
            accounting=settings.get_bool("accounting.enabled"),
            shipping_product=settings.get("shipping.product"),
            series=settings.get("invoices.series"),
        )


@dataclass
class Plan:
    lines: list[LineInput] = field(default_factory=list)  # the order's, then the invoice's
    problems: list[str] = field(default_factory=list)  # what blocks the order
    warnings: list[str] = field(default_factory=list)  # what the user should know, no more


def _d(value) -> Decimal:
    number = Decimal(str(value or "0"))
    if not number.is_finite():
        raise ValueError(f"{value!r} n'est pas un montant")
    return number


@dataclass
class PageData:
    """What the orders of a page need, fetched for the whole page in a few requests."""

    details: dict[str, list[dict]] = field(default_factory=dict)  # by order id
    rules: dict[str, list[dict]] = field(default_factory=dict)
    messages: dict[str, list[dict]] = field(default_factory=dict)
    customers: dict[str, dict] = field(default_factory=dict)  # by id
    addresses: dict[str, dict] = field(default_factory=dict)
    payments: dict[str, list[dict]] = field(default_factory=dict)  # by order reference
    slips: dict[str, list[dict]] = field(default_factory=dict)  # by order id
    _by_customer: dict[str, list[dict]] | None = None

    def addresses_of(self, customer: str) -> list[dict]:
        """The page's addresses of a customer (grouped once for the page)."""
        if self._by_customer is None:
            self._by_customer = _group(list(self.addresses.values()), "id_customer")
        return self._by_customer.get(customer, [])


def rate_from_taxes(detail: dict, tax_rates: dict[int, Decimal]) -> Decimal | None:
    """The VAT rate of an order line, from its tax ids (8.1 hides tax_rate); None: unknown."""
    ids = [int(t.get("id") or 0) for t in detail.get("associations", {}).get("taxes", [])]
    ids = [i for i in ids if i]
    if not ids:
        return Decimal(0)  # a line with no tax is a 0 % line
    rates = [tax_rates.get(i) for i in ids]
    if any(r is None for r in rates):
        return None
    return sum(rates, Decimal(0))


def charged_rate(excl: Decimal, incl: Decimal, rates) -> Decimal | None:
    """The shop's rate that turns `excl` into `incl` to the cent (gift wrapping gives no
    rate of its own); None when none does."""
    for rate in sorted(set(rates) | {Decimal(0)}):
        if cents(excl * (1 + rate / 100)) == cents(incl):
            return rate
    return None


def plan_order(
    order: dict,
    details: list[dict],
    cart_rules: list[dict],
    tax_rates: dict[int, Decimal],
    product_links: dict[tuple[int, int], int],
    shipping_product: int | None,
) -> Plan:
    """The Gestan lines of a shop order, or what stops it (pure, never raises)."""
    try:
        return _plan_order(order, details, cart_rules, tax_rates, product_links, shipping_product)
    except MAPPING_ERRORS as exc:
        return Plan(problems=[f"données illisibles ({type(exc).__name__}: {str(exc)[:80]})"])


def _plan_order(
    order: dict,
    details: list[dict],
    cart_rules: list[dict],
    tax_rates: dict[int, Decimal],
    product_links: dict[tuple[int, int], int],
    shipping_product: int | None,
) -> Plan:
    """The Gestan lines of a shop order, or what stops it (pure).

    Totals come from the shop's lines; their sum must equal the order's
    total to the cent, or the order is blocked, never adjusted.
    """
    plan = Plan()
    if not details:
        plan.problems.append("commande sans ligne de produit")
    for detail in details:
        product = (int(detail.get("product_id") or 0), int(detail.get("product_attribute_id") or 0))
        gestan_id = product_links.get(product)
        if gestan_id is None:
            suffix = f" / déclinaison {product[1]}" if product[1] else ""
            named = detail.get("product_reference") or detail.get("product_name")
            plan.problems.append(f"produit {product[0]}{suffix} non lié ({named})")
        rate = rate_from_taxes(detail, tax_rates)
        if rate is None:
            plan.problems.append(f"taxe inconnue sur la ligne {detail.get('id')}")
            rate = Decimal(0)
        total_excl, total_incl = (
            _d(detail.get("total_price_tax_excl")),
            _d(detail.get("total_price_tax_incl")),
        )
        expected = cents(total_excl * (1 + rate / 100))
        quantity = _d(detail.get("product_quantity"))
        if quantity <= 0 or quantity != quantity.to_integral_value():
            plan.problems.append(f"ligne {detail.get('id')}: quantité {quantity} invalide")
        if abs(expected - cents(total_incl)) > Decimal("0.01") * max(quantity, 1):
            plan.problems.append(
                f"ligne {detail.get('id')}: TTC {total_incl:.2f} ne répond pas "
                f"au taux {rate} % (HT {total_excl:.2f})"
            )
        plan.lines.append(
            LineInput(
                m.LineKind.PRODUCT,
                detail.get("product_name", "")[:255],
                quantity,
                _d(detail.get("unit_price_tax_excl")).quantize(Decimal("0.000001")),
                rate.quantize(RATE),
                cents(total_excl),
                cents(total_incl),
                gestan_id,
            )
        )
    for wrapping, label in (
        ("total_shipping", "Frais de port"),
        ("total_wrapping", "Emballage cadeau"),
    ):
        incl, excl = _d(order.get(f"{wrapping}_tax_incl")), _d(order.get(f"{wrapping}_tax_excl"))
        if not incl and not excl:
            continue
        if wrapping == "total_shipping":
            rate = _d(order.get("carrier_tax_rate"))
        else:
            rate = charged_rate(excl, incl, tax_rates.values())
            if rate is None:
                plan.problems.append(
                    f"emballage cadeau {incl:.2f} TTC / {excl:.2f} HT: aucun taux de la "
                    "boutique ne donne ce montant"
                )
                rate = Decimal(0)
        plan.lines.append(
            LineInput(
                m.LineKind.SHIPPING,
                label,
                Decimal(1),
                excl.quantize(Decimal("0.000001")),
                rate.quantize(RATE),
                cents(excl),
                cents(incl),
                shipping_product,
            )
        )
    plan.lines += _discount_lines(order, cart_rules, plan.lines, plan.problems)
    goods_rates = {x.vat_rate for x in plan.lines if x.kind == m.LineKind.PRODUCT}
    shipping_rates = {
        x.vat_rate for x in plan.lines if x.kind == m.LineKind.SHIPPING and x.total_excl
    }
    if goods_rates and shipping_rates - goods_rates:
        # French practice makes shipping follow the goods; the invoice says what was charged
        plan.warnings.append(
            f"port facturé à {', '.join(f'{r.normalize():f} %' for r in sorted(shipping_rates))} "
            "quand aucun produit n'est à ce taux: la règle de taxe du transporteur, dans la "
            "boutique, peut suivre celle des produits"
        )
    total_incl = sum((line.total_incl for line in plan.lines), ZERO)
    total_excl = sum((line.total_excl for line in plan.lines), ZERO)
    shop_incl, shop_excl = (
        cents(order.get("total_paid_tax_incl")),
        cents(order.get("total_paid_tax_excl")),
    )
    gap = shop_incl - total_incl
    rounded = sum(1 for line in plan.lines if line.kind != m.LineKind.DISCOUNT)
    # PrestaShop rounds each line, then takes the order total from the unrounded lines
    # (real orders 26 and 29): up to half a cent a line apart, never on the total excl.
    if total_excl == shop_excl and gap and abs(gap) * 2 <= Decimal("0.01") * rounded:
        plan.lines.append(
            LineInput(m.LineKind.ROUNDING, ROUNDING_LABEL, Decimal(1), ZERO, ZERO, ZERO, gap)
        )
    elif total_incl != shop_incl or total_excl != shop_excl:
        plan.problems.append(
            f"total incohérent: lignes {total_incl:.2f} TTC / {total_excl:.2f} HT"
            f", commande {shop_incl:.2f} / {shop_excl:.2f}"
        )
    return plan


def _discount_lines(
    order: dict, cart_rules: list[dict], lines: list[LineInput], problems: list[str]
) -> list[LineInput]:
    """The order's cart rules as Gestan lines: free shipping at the shipping's rate, and
    the goods' discount shared over their rates as PrestaShop shares it (sync.shop_vat),
    one line a rate, so that each rate's VAT is what the shop charged. No rate of its own."""
    rules = [r for r in cart_rules if _d(r.get("value")) or _d(r.get("value_tax_excl"))]
    if not rules:
        return []
    found = []
    excl, incl = (
        _d(order.get("total_discounts_tax_excl")),
        _d(order.get("total_discounts_tax_incl")),
    )
    free = [r for r in rules if str(r.get("free_shipping")) == "1"]
    shipping = next((x for x in lines if x.kind == m.LineKind.SHIPPING), None)
    if free and shipping is not None:  # the shop keeps the shipping and discounts all of it
        found.append(
            LineInput(
                m.LineKind.DISCOUNT,
                (free[0].get("name") or "Livraison offerte")[:255],
                Decimal(1),
                -shipping.unit_price_excl,
                shipping.vat_rate,
                -shipping.total_excl,
                -shipping.total_incl,
            )
        )
        excl, incl = excl - shipping.total_excl, incl - shipping.total_incl
    goods = [x for x in lines if x.kind == m.LineKind.PRODUCT]
    if not (excl or incl) or not goods:
        return found
    products_excl = sum((x.total_excl for x in goods), ZERO)
    expected = sum((x.total_incl - x.total_excl for x in goods), ZERO) - (incl - excl)
    vat_after = goods_vat(
        [GoodsLine(x.unit_price_excl, x.quantity, x.vat_rate) for x in goods],
        excl,
        expected,
        int(order.get("round_type") or 2),
    )
    base: dict[Decimal, Decimal] = {}
    vat_before: dict[Decimal, Decimal] = {}
    vat_now: dict[Decimal, Decimal] = {}
    for line, after in zip(goods, vat_after, strict=True):
        base[line.vat_rate] = base.get(line.vat_rate, ZERO) + line.total_excl
        vat_before[line.vat_rate] = vat_before.get(line.vat_rate, ZERO) + (
            line.total_incl - line.total_excl
        )
        vat_now[line.vat_rate] = vat_now.get(line.vat_rate, ZERO) + after
    if not products_excl:
        problems.append("remise sur une commande sans montant de produits")
        return found
    shares = split_pro_rata(cents(excl), {rate: abs(amount) for rate, amount in base.items()})
    label = " + ".join(dict.fromkeys(r.get("name") or "Remise" for r in rules if r not in free))
    for rate in sorted(shares, reverse=True):
        share = shares[rate]
        vat = vat_before[rate] - vat_now[rate]
        found.append(
            LineInput(
                m.LineKind.DISCOUNT,
                (label or "Remise")[:255],
                Decimal(1),
                -share,
                rate,
                -share,
                -(share + vat),
            )
        )
    return found


def in_euros(plan: Plan, order: dict, conversion_rate: Decimal) -> Plan:
    """An order in another currency, in euros at the order's conversion rate (units of
    its currency for one euro), as the books must be kept.

    Each rate's base is converted once, its VAT is that base times the rate, both
    shared over the rate's lines (the largest line takes the cents); what the
    conversion gains or loses on the order's total is a visible line."""
    if not conversion_rate or conversion_rate <= 0:
        return replace(plan, problems=[*plan.problems, "taux de conversion de la devise nul"])
    source = [line for line in plan.lines if line.kind != m.LineKind.ROUNDING]
    converted = [
        replace(
            line,
            unit_price_excl=(line.unit_price_excl / conversion_rate).quantize(Decimal("0.000001")),
            total_excl=cents(line.total_excl / conversion_rate),
            total_incl=cents(line.total_excl / conversion_rate)
            + cents((line.total_incl - line.total_excl) / conversion_rate),
        )
        for line in source
    ]
    groups: dict[Decimal, list[int]] = {}
    for position, line in enumerate(source):
        groups.setdefault(line.vat_rate, []).append(position)
    for rate, positions in groups.items():
        # the base converted once, its VAT the base times the rate: converting the VAT
        # as well would carry the shop's own rounding cent over, enlarged
        base = cents(sum((source[i].total_excl for i in positions), ZERO) / conversion_rate)
        vat = cents(base * rate / 100)
        base_gap = base - sum((converted[i].total_excl for i in positions), ZERO)
        vat_gap = vat - sum(
            (converted[i].total_incl - converted[i].total_excl for i in positions), ZERO
        )
        largest = max(positions, key=lambda i: abs(converted[i].total_excl))
        line = converted[largest]
        converted[largest] = replace(
            line,
            total_excl=line.total_excl + base_gap,
            total_incl=line.total_incl + base_gap + vat_gap,
        )
    total = cents(_d(order.get("total_paid_tax_incl")) / conversion_rate)
    gap = total - sum((line.total_incl for line in converted), ZERO)
    if gap:
        converted.append(
            LineInput(m.LineKind.ROUNDING, CONVERSION_LABEL, Decimal(1), ZERO, ZERO, ZERO, gap)
        )
    return replace(plan, lines=converted)


def cursor_value() -> tuple[str, int] | None:
    value = read_cursor(CURSOR)
    if not value:
        return None
    date, _, order_id = value.partition("|")
    return date, int(order_id or 0)


def reset_cursor() -> None:
    m.Cursor.delete().where(m.Cursor.name == CURSOR).execute()


def _move_cursor(date: str, order_id: int) -> None:
    value = f"{date}|{order_id}"
    current = cursor_value()
    if current is not None and (current[0], current[1]) >= (date, order_id):
        return
    write_cursor(CURSOR, value)


@dataclass
class OrderPayload:
    """A new order's row: the order as read, what it needs, and how it is planned."""

    order: dict
    plan: Plan
    customer: dict | None
    addresses: dict[str, dict | None]  # id_address_invoice and id_address_delivery's
    customer_addresses: list[dict]  # all the customer's (a customer to import)
    messages: list[dict]
    details: list[dict]  # its lines
    payments: list[dict]
    slips: list[dict]
    paid: bool  # its state says paid
    unwanted: bool  # cancelled or in error before it was invoiced: left unless chosen
    ending: str  # Status.CANCELLED or REFUNDED when it already ended so in the shop
    late: bool  # invoiced today, after the run's other orders
    held_late: str  # why it waits for the user's word to be invoiced today, or ""


class OrdersFlow(Flow):
    name = "orders"
    NEEDS = {
        **FACTS_NEEDS,
        **{
            resource: {"get"}
            for resource in (
                "orders",
                "order_details",
                "order_states",
                "order_payments",
                "order_slip",
                "order_histories",
                "order_cart_rules",
                "customers",
                "addresses",
            )
        },
    }
    # customers' messages as comments; the others: facts with defaults
    OPTIONAL = {**FACTS_OPTIONAL, "messages": {"get"}}
    bulk = True  # a chunk's new orders written together (False: each alone, as apply does)
    # A chunk's statements are a few per table whatever its size: 100 orders to a
    # transaction keep the server engines' round trips near SQLite's (bench/README.md),
    # and a process killed mid-chunk still loses only those, whole.
    CHUNK = 100

    def __init__(
        self,
        client: SyncWebservice,
        *,
        date_from: dt.date | None = None,
        date_to: dt.date | None = None,
        since_last: bool = False,
        options: OrderOptions | None = None,
    ):
        super().__init__(client)
        self.date_from, self.date_to, self.since_last = date_from, date_to, since_last
        self.options = options or OrderOptions.from_settings()
        self.facts: ShopFacts | None = None
        self.states: dict[str, dict] = {}
        self._product_links: dict[tuple[int, int], int] = {}  # set by _prepare_read
        self._customer_links: dict[int, int] = {}
        self._shipping: int | None = None
        self._cursor_held = False  # a blocked or failed order keeps the cursor before it
        self._last_dates: dict[str, dt.date] = {}  # each series' latest date, read once
        self._changes = ChangeReader(client)
        self._life: OrderLife | None = None
        self._cancel: threading.Event | None = None  # what stops a stream (stream)
        # the shop orders this run imported, with their life: {id: its state then}
        self.imported: dict[int, str] = {}

    # --- read ---------------------------------------------------------------------

    def _filters(self) -> dict[str, Filter]:
        if self.since_last:
            cursor = cursor_value()
            if cursor is None:
                return {}
            # A window before the cursor: an order the shop made visible late (a later
            # id committed first) is read again, and imported if it has no link yet.
            since = dt.datetime.strptime(cursor[0], DATE_FORMAT) - dt.timedelta(
                days=self.options.lookback_days
            )
            return {"date_add": Filter.between(since, "2999-12-31 23:59:59")}
        low = f"{self.date_from or dt.date(2000, 1, 1)} 00:00:00"
        high = f"{self.date_to or dt.date(2999, 12, 31)} 23:59:59"
        return {"date_add": Filter.between(low, high)}

    def read(self, progress: Progress | None = None) -> list[Row]:
        return [row for page in self.read_pages(progress) for row in page]

    def read_pages(self, progress: Progress | None = None) -> Iterator[list[Row]]:
        """The rows, a page of orders at a time (500), with their dependencies batched, in
        the order they were placed; then what changed in the shop since the last run."""
        self._prepare_read()
        query = Query(filters=self._filters(), sort=("date_add_ASC", "id_ASC"))
        total = shop_total(self.client, RESOURCE, query.filters, progress)
        done = 0
        for page in self.client.iter_pages(RESOURCE, query):
            page, rows = readable(page, "order")  # one impossible id: one blocked row
            ids = [int(o["id"]) for o in page]
            known = links(RESOURCE, ids)
            fresh = [o for o in page if (int(o["id"]), 0) not in known]
            if self.options.only_new:
                page = fresh
            data = self._dependencies(fresh)
            for order in page:
                try:
                    rows.append(self._row(order, known, data))
                except MAPPING_ERRORS as exc:
                    rows.append(unreadable_row(f"order:{order.get('id')}", order, exc))
            done += len(rows)
            if progress:
                progress(done, max(total, done), "commandes lues")
            yield rows
        yield from self._changes.pages(self, progress)

    def _prepare_read(self) -> None:
        """What every row of a read consults: states, links, the shipping product."""
        self.facts = read_facts(self.client)
        self.states = {s["id"]: s for s in self.client.list("order_states", Query(display="full"))}
        self._product_links = pairs("products")
        self._customer_links = {key[0]: link.gestan_id for key, link in links("customers").items()}
        self._shipping = self._shipping_product_id()
        self._changes = ChangeReader(self.client)

    def _dependencies(self, orders: list[dict]) -> PageData:
        """Everything the orders of a page need, a few batched requests for the whole page."""
        if not orders:
            return PageData()
        ids = [o["id"] for o in orders]

        async def fetch():
            import asyncio

            client = self.client.aio

            async def messages() -> list[dict]:
                """The customers' messages, for comments only: without them the orders
                go on, and the report says they were not read."""
                if not self.options.comments or "messages" in self._changes.missing:
                    return []
                try:
                    return await client.get_many("messages", ids, key="id_order")
                except (PermissionDenied, UnknownResource):
                    self._changes.missing.append("messages")
                    return []

            wanted = [
                client.get_many("order_details", ids, key="id_order"),
                client.get_many("order_cart_rules", ids, key="id_order"),
                messages(),
                client.get_many(
                    "order_payments", [o["reference"] for o in orders], key="order_reference"
                ),
                client.get_many("order_slip", ids, key="id_order"),
            ]
            if not self.options.customer_id_only:
                customers = {o.get("id_customer") for o in orders}
                wanted.append(client.get_many("customers", _valid_ids(customers)))
                addresses = {
                    o.get(k) for o in orders for k in ("id_address_invoice", "id_address_delivery")
                }
                wanted.append(client.get_many("addresses", _valid_ids(addresses)))
            return await asyncio.gather(*wanted)

        found = self.client.run(fetch())
        return PageData(
            details=_group(found[0], "id_order"),
            rules=_group(found[1], "id_order"),
            messages=_group(found[2], "id_order"),
            payments=_group(found[3], "order_reference"),
            slips=_group(found[4], "id_order"),
            customers={c["id"]: c for c in found[5]} if len(found) > 5 else {},
            addresses={a["id"]: a for a in found[6]} if len(found) > 6 else {},
        )

    def _shipping_product_id(self) -> int | None:
        code = self.options.shipping_product or GENERIC_SHIPPING
        product = m.Product.get_or_none(m.Product.code == code)
        return product.id if product else None

    def _row(self, order: dict, known: dict, data: PageData) -> Row:
        shop_id = int(order["id"])
        customer = data.customers.get(order["id_customer"])
        name = (
            f"{customer.get('firstname', '')} {customer.get('lastname', '').upper()}".strip()
            if customer
            else ""
        )
        state = self.states.get(order.get("current_state", ""), {})
        columns = {
            "reference": order.get("reference", ""),
            "customer": f"{order['id_customer']} · {name}" if name else order["id_customer"],
            "total": f"{cents(order.get('total_paid_tax_incl')):.2f}",
            "date": order.get("date_add", "")[:10],
            "state": text(state.get("name"), self.facts.language),
            "label": order.get("reference", "") or f"commande {shop_id}",
        }
        link = known.get((shop_id, 0))
        if link is not None:
            return Row(
                key=f"order:{shop_id}",
                origin=Origin.SHOP,
                status=Status.IMPORTED,
                shop_id=shop_id,
                gestan_id=link.gestan_id,
                columns=columns,
            )
        plan = plan_order(
            order,
            data.details.get(order["id"], []),
            data.rules.get(order["id"], []),
            self.facts.tax_rates,
            self._product_links,
            self._shipping,
        )
        if not self.options.customer_id_only:  # (else known at import)
            plan.problems += _missing_parties(order, customer, data.addresses)
        currency = self._currency(order)
        if currency is not None:
            plan = in_euros(plan, order, currency[1])
            if not currency[0]:
                plan.problems.append(
                    f"commande en devise {order.get('id_currency')} inconnue: donnez à la clé "
                    "le droit GET sur currencies"
                )
        if (
            self.options.invoices
            and self.options.numbering == "shop"
            and self._shop_prefix(order) is None
        ):
            plan.problems.append(
                "préfixe des factures de la boutique inconnu (PS_INVOICE_PREFIX): donnez à la "
                "clé le droit GET sur translated_configurations, ou réglez invoices.shop_prefix"
            )
        tax_address = data.addresses.get(order.get(self._tax_address_key()))
        if tax_address is not None:  # (read with customer ids only: known at import)
            warning = self._regime(plan, tax_address).warning
            if warning:
                plan.warnings.append(warning)
        # Cancelled or failed before the shop invoiced it: left out (it can be ticked). One
        # the shop invoiced, then cancelled, comes with its invoice and credit note.
        late = (
            self._late(order)
            if self.options.invoices and self.options.numbering == "gestan" and not plan.problems
            else None
        )
        held = ""
        if late is not None and self.options.late == "hold":
            held = (
                f"plus ancienne que la dernière facture {self.options.series} ({late:%d/%m/%Y}):"
                " gardée pour que les numéros suivent les dates (t: la facturer aujourd'hui;"
                " invoices.late = today pour toutes)"
            )
            plan.problems.append(held)
        unwanted = text(state.get("template"), self.facts.language) in UNWANTED_TEMPLATES and (
            order.get("invoice_number") in ("", "0", None)
        )
        reason = "; ".join(plan.problems)
        row = Row(
            key=f"order:{shop_id}",
            origin=Origin.SHOP,
            status=Status.BLOCKED if plan.problems else Status.ADD,
            action=None if plan.problems else Action.CREATE_GESTAN,
            shop_id=shop_id,
            gestan_id=self._customer_links.get(int(order["id_customer"])),
            columns=columns,
            reason=reason
            or ("annulée ou en erreur: non sélectionnée" if unwanted else "")
            or "; ".join(plan.warnings),
            blocked=bool(plan.problems),
            payload=OrderPayload(
                order=order,
                plan=plan,
                customer=customer,
                addresses={
                    k: data.addresses.get(order[k])
                    for k in ("id_address_invoice", "id_address_delivery")
                },
                customer_addresses=data.addresses_of(order["id_customer"]),
                messages=data.messages.get(order["id"], []),
                details=data.details.get(order["id"], []),
                payments=data.payments.get(order.get("reference", ""), []),
                slips=data.slips.get(order["id"], []),
                paid=state.get("paid") == "1",
                unwanted=unwanted,
                ending=self._ending(order),
                late=late is not None,
                held_late=held,
            ),
        )
        if unwanted:
            row.selected = False
        return row

    @staticmethod
    def awaiting_import(client: SyncWebservice) -> dict[tuple[int, int], list[str]]:
        """Products whose shop quantity moved for orders or changes Gestan has not imported:
        {(product, combination): [order references]}. Stock written from Gestan now would
        undo the shop (a sale counted twice, a restock lost).

        It is the orders flow's own read: new orders (not cancelled before they were
        invoiced) placed after Gestan took the product's stock from the shop, and the
        cancellations and credit slips that put stock back."""
        flow = OrdersFlow(client, since_last=cursor_value() is not None)
        product_of = {link.gestan_id: key for key, link in links("products").items()}
        initial = initial_stock_dates()
        pending: dict[tuple[int, int], list[str]] = {}
        for page in flow.read_pages():
            for row in page:
                payload = row.payload
                order = (
                    payload.order if isinstance(payload, OrderPayload | OrderChangePayload) else {}
                )
                reference = order.get("reference") or f"commande {row.shop_id}"
                if isinstance(payload, OrderChangePayload):
                    if row.status not in (Status.CANCELLED, Status.CREDITED):
                        continue
                    docs = Documents(m.SalesOrder.get_by_id(row.gestan_id), None)
                    cancelled = row.status == Status.CANCELLED
                    returns = flow.life().returns(
                        docs,
                        row.payload.details.values(),
                        row.payload.when,
                        cancelled=cancelled,
                    )
                    touched = [product_of[p] for p, _ in returns if p in product_of]
                elif (row.action or row.blocked) and isinstance(payload, OrderPayload):
                    if payload.unwanted:
                        continue
                    placed = flow.facts.machine_time(order["date_add"])
                    touched = [
                        (int(d.get("product_id") or 0), int(d.get("product_attribute_id") or 0))
                        for d in payload.details
                    ]
                    touched = [
                        key
                        for key in touched
                        if key not in flow._product_links
                        or initial.get(flow._product_links[key], dt.datetime.min) < placed
                    ]
                else:
                    continue
                for key in touched:
                    pending.setdefault(key, []).append(reference)
        return pending

    def invoice_today(self, row: Row) -> str:
        """The user's choice for an order held for its date: invoiced today, after the
        run's other orders, so that it re-dates none of them. Returns what the row says."""
        if not isinstance(row.payload, OrderPayload) or not row.payload.held_late:
            return ""  # (an order imported already, a change, an unreadable record)
        held = row.payload.held_late
        plan: Plan = row.payload.plan
        plan.problems = [problem for problem in plan.problems if problem != held]
        row.payload.held_late = ""
        row.payload.late = True
        if plan.problems:  # something else still holds it
            row.reason = "; ".join(plan.problems)
            return row.reason
        row.status, row.action, row.blocked, row.selected = (
            Status.ADD,
            Action.CREATE_GESTAN,
            False,
            True,
        )
        row.reason = (
            f"facturée aujourd'hui ({m.now():%d/%m/%Y}), après les autres commandes: plus "
            "ancienne que la dernière facture"
        )
        return row.reason

    # --- execute ------------------------------------------------------------------

    def start_run(self):
        self._cursor_held = False
        self.imported = {}
        self._last_dates = {}
        self._life = None
        return super().start_run()

    def _run_one(self, row: Row) -> RowResult:
        result = super()._run_one(row)
        if isinstance(row.payload, OrderChangePayload):
            if result.outcome not in (Outcome.FAILED, Outcome.BLOCKED):
                self._changes.done(row)
        elif result.outcome in (Outcome.FAILED, Outcome.BLOCKED):
            self._cursor_held = True
        return result

    def deferred(self, row: Row) -> bool:
        # invoiced today: after the orders of their day
        return isinstance(row.payload, OrderPayload) and row.payload.late

    def carry_on(self, reader: Flow) -> None:
        """The read's change cursors (what it saw, what it left to do) move with this run."""
        if isinstance(reader, OrdersFlow):
            self._changes = reader._changes

    def stream(self, *, progress=None, cancel=None):
        self._cancel = cancel
        return super().stream(progress=progress, cancel=cancel)

    def finish_run(self, state):
        """The change cursors move once the run's rows are committed (past what was read,
        short of a change that failed or was left out). A stop asked for while the last
        pages were read (their rows done in a moment, in bulk) is a stop all the same:
        the run says so and the next one goes on."""
        report = state.report
        if self._cancel is not None and self._cancel.is_set():
            report.stopped = True
        if not report.error:
            with write_transaction():
                self._changes.commit_cursors(report)
        return super().finish_run(state)

    def _ending(self, order: dict) -> str:
        """CANCELLED or REFUNDED when the order's current state is the shop's own for it."""
        state = int(order.get("current_state") or 0)
        return next(
            (kind for name, kind in ENDINGS.items() if state == self.facts.state_id(name)), ""
        )

    def chunk_memory(self) -> dict[str, dt.date]:
        return dict(self._last_dates)

    def forget_undone(self, memory: dict[str, dt.date]) -> None:
        """The series' dates go back to what they were before the undone documents."""
        super().forget_undone(memory)
        self._last_dates = dict(memory)

    def life(self) -> OrderLife:
        if self._life is None:
            if self.facts is None:
                self.facts = read_facts(self.client)
            books = Books.from_settings(
                invoices=self.options.invoices,
                mark_paid=self.options.mark_paid,
                accounting=self.options.accounting,
            )
            if not self._product_links:
                self._product_links = pairs("products")
            self._life = OrderLife(self.facts, books, self._dated, self._product_links)
            shop_numbered = self.options.numbering == "shop"
            if self.options.invoices and (self.options.invoice_when == "paid" or shop_numbered):
                self._life.invoicer = self._invoice_when_paid
            if shop_numbered:
                self._life.slip_number = self.facts.credit_slip_number
        return self._life

    def apply(self, row: Row) -> RowResult:
        if isinstance(row.payload, OrderChangePayload):
            return self._changes.apply(self, row)
        life = self.life()
        order = row.payload.order
        # a copy: its lines get their products, which a chunk undone takes back
        plan: Plan = replace(row.payload.plan)
        contact = self._contact_for(row)
        placed = dt.datetime.strptime(order["date_add"], DATE_FORMAT)
        sales_order = self._write_order(order, contact, plan, row, placed)
        self._take_stock(sales_order, plan, placed)
        invoice = None
        done = []
        if self._invoiced_now(row):
            invoice = self._invoice(order, sales_order, plan.lines, row.payload.late)
            if self.options.accounting:
                accounting.post_invoice(invoice)
        elif self.options.invoices:
            done.append(
                "facturée quand la boutique la facture"
                if self.options.numbering == "shop"
                else "facturée au paiement"
            )
        docs = Documents(sales_order, invoice)
        if invoice is not None and self.options.mark_paid:
            payments = [p for p in row.payload.payments if not _linked(PAYMENTS, p["id"])]
            for payment in payments:
                life.receive(docs, payment, order)
            if not row.payload.payments and row.payload.paid:
                # a paid state with no payment record (orders the installer wrote raw)
                payment = accounting.record_payment(
                    invoice,
                    date=invoice.date,
                    method=order.get("payment") or order["module"],
                    reference=order.get("reference", ""),
                )
                if self.options.accounting:
                    accounting.post_payment(
                        payment, account=life.books.account_for(order.get("module", ""))
                    )
        return self._acts(row, docs, done)

    def _acts(self, row: Row, docs: Documents, done: list) -> RowResult:
        """What an imported order's life brings (its credit slips, its ending), then its
        link and the cursor: the row's result."""
        order, sales_order, invoice = row.payload.order, docs.order, docs.invoice
        self._life_acts(row, docs, done)
        message = _message(row, done)
        save_link(RESOURCE, row.shop_id, 0, sales_order.id, date_upd=order.get("date_upd", ""))
        if not self._cursor_held:
            _move_cursor(order["date_add"], row.shop_id)
        self.imported[row.shop_id] = order.get("current_state", "")
        return RowResult.of(
            row,
            Outcome.CREATED,
            message,
            gestan_id=sales_order.id,
            invoice=invoice.number if invoice else None,
        )

    def _life_acts(self, row: Row, docs, done: list, linked=None) -> None:
        """An order's credit slips and its ending, on its Documents or its DraftDocuments;
        `done` is added what they did (a credit note stands for "avoir <its number>").
        `linked(resource, shop id)`: whether a record is in Gestan already."""
        life, order = self.life(), row.payload.order
        linked = linked or _linked
        details = {d["id"]: d for d in row.payload.details}
        for slip in sorted(row.payload.slips, key=lambda s: int(s["id"])):
            if not linked(SLIPS, slip["id"]):
                credit_note, said = life.credit_slip(docs, slip, order, details)
                done.append(credit_note or "retour")
                if said:
                    done.append(said)
        ending = row.payload.ending
        if ending:
            credit_note = life.change_state(
                docs,
                ending,
                order.get("date_upd") or order["date_add"],
                order,
                details.values(),
                row.columns.get("state", ""),
            )
            if credit_note is not None:
                done.append(credit_note)

    # --- execute in bulk: the new orders of a chunk written together ------------------

    def _run_chunk(self, state: RunState, rows: list[Row], progress, cancel) -> None:
        """The chunk's new orders, with the acts of a life behind them (credit slips, a
        cancellation, a refund), are drafted in memory and written together (one
        statement per table, gestan.documents); any other row (a change, an order in
        a currency, a customer to import...) is done alone, as apply does it, after
        the drafts before it. Should the drafts' writing fail, they are done again
        one by one, so that a bad order fails alone."""
        if not self.bulk:
            return super()._run_chunk(state, rows, progress, cancel)
        report = state.report
        first = len(report.results)
        self.life()  # (the shop's facts too, when another flow read the rows)
        lookups = _Lookups.of(self, rows)
        pending: list[tuple[Row, OrderDraft, list]] = []
        dates = dict(self._last_dates)  # the series' dates before the pending drafts
        cursor: tuple[str, int] | None = None

        def record(row: Row, result: RowResult) -> bool:
            report.results.append(result)
            state.done += 1
            if progress:
                progress(state.done, state.total, row.columns.get("label", row.key))
            if result.fatal:
                report.error = result.message
            return not result.fatal

        def flush() -> bool:
            nonlocal dates, cursor
            if not pending:
                return True
            done = list(pending)
            pending.clear()
            try:
                with write_transaction():
                    write_orders([d for _, d, _ in done], accounting_on=self.options.accounting)
                    if cursor is not None:
                        _move_cursor(*cursor)
            except (pw.DatabaseError, pw.InterfaceError, ConnectorError) as exc:
                if is_deadlock(exc) or database_trouble(exc):
                    raise  # the chunk's transaction is gone: run_rows says why
                self.forget_undone(dates)  # done again one by one: each fails alone
                return all(record(row, self._run_one(row)) for row, _, _ in done)
            finally:
                cursor = None
            for row, draft, said in done:
                self.imported[row.shop_id] = row.payload.order.get("current_state", "")
                result = RowResult.of(
                    row,
                    Outcome.CREATED,
                    _message(row, said),  # (its credit notes are numbered now)
                    gestan_id=draft.order_id,
                    invoice=draft.invoice_number,
                )
                if not record(row, result):
                    return False
            return True

        for row in rows:
            if (cancel is not None and cancel.is_set()) or state.past_deadline():
                report.stopped = True
                break
            if not pending:
                dates = dict(self._last_dates)
            drafted = self._draft(row, lookups) if lookups.ready(row) else None
            if drafted is not None:
                pending.append((row, *drafted))
                if not self._cursor_held:
                    cursor = (row.payload.order["date_add"], row.shop_id)
                continue
            if not flush() or not record(row, self._run_one(row)):
                break
        if not report.error:
            flush()  # (a stop keeps the rows drafted before it)
        # the run's lines of the chunk, in one insert (an error above undoes the chunk)
        record_run_lines(state.run.id, report.results[first:])

    def _draft(self, row: Row, lookups: _Lookups) -> tuple[OrderDraft, list] | None:
        """What apply writes for a new order, its life's acts too, as plain data, with
        what its result will say; None: let apply do it."""
        dates = dict(self._last_dates)
        try:
            draft, done = self._drafted(row, lookups)
            if _has_life(row):
                docs = DraftDocuments(draft, lookups.taken, lookups.asked)
                self._life_acts(row, docs, done, lookups.has)
        except (ConnectorError, *MAPPING_ERRORS):
            self._last_dates = dates  # apply dates the row again, alone
            return None  # apply says what is wrong, for this row alone
        return draft, done

    def _drafted(self, row: Row, lookups: _Lookups) -> tuple[OrderDraft, list[str]]:
        life = self.life()
        order = row.payload.order
        # a copy: its lines get their products, which a chunk undone takes back
        plan: Plan = replace(row.payload.plan)
        placed = dt.datetime.strptime(order["date_add"], DATE_FORMAT)
        values = self._order_values(order, plan, row, placed, lookups.generic)
        when = self.facts.machine_time(placed.strftime(DATE_FORMAT))
        stock = [
            (line.product, -line.quantity)
            for line in plan.lines
            if line.kind == m.LineKind.PRODUCT
            and line.product is not None
            and lookups.taken.get(line.product, dt.datetime.min) < when
        ]
        draft = OrderDraft(
            lookups.contacts[int(order["id_customer"])],
            values,
            plan.lines,
            stock,
            link=(RESOURCE, row.shop_id, order.get("date_upd", "")),
        )
        done = []
        if self._invoiced_now(row):
            series = self.options.series
            late = row.payload.late
            draft.invoice = InvoiceDraft(
                date=self._dated(series, m.now().date() if late else self._invoice_day(order)),
                series=series,
                external_reference=self._shop_invoice_number(order)
                if _shop_number(order)
                else order.get("reference", ""),
                **_customer_terms(values),
            )
        elif self.options.invoices:
            done.append("facturée au paiement")
        module = order.get("module", "")
        if draft.invoice is not None and self.options.mark_paid:
            for payment in row.payload.payments:
                amount = cents(payment.get("amount"))
                if amount <= 0:
                    continue
                draft.payments.append(
                    PaymentDraft(
                        date=shop_day(payment["date_add"]),
                        amount=amount,
                        method=payment.get("payment_method") or order.get("payment") or "",
                        reference=order.get("reference", ""),
                        account=life.books.account_for(module),
                        link=(PAYMENTS, int(payment["id"]), payment["date_add"]),
                    )
                )
            if not row.payload.payments and row.payload.paid:
                # a paid state with no payment record (orders the installer wrote raw)
                draft.payments.append(
                    PaymentDraft(
                        date=draft.invoice.date,
                        amount=None,
                        method=order.get("payment") or order["module"],
                        reference=order.get("reference", ""),
                        account=life.books.account_for(module),
                    )
                )
        return draft, done

    def _contact_for(self, row: Row) -> m.Contact:
        order = row.payload.order
        customer_id = int(order["id_customer"])
        contact_id = gestan_id_of("customers", customer_id)
        if contact_id is not None:
            return m.Contact.get_by_id(contact_id)
        # the contacts flow does it as its own rows (its options: the settings)
        contacts = FLOWS["contacts"].cls(self.client)
        contacts.facts = self.facts
        customer = row.payload.customer
        if customer is None:  # read with customer ids only: fetch this one now
            rows = contacts.read(only=[customer_id])
            if not rows:
                raise ConnectorError(
                    f"le client {customer_id} n'est pas dans la boutique (supprimé?)",
                    hint="rien n'a été écrit; la commande ne peut être facturée à personne",
                )
        else:
            rows = [
                contacts.row_for(
                    customer,
                    row.payload.customer_addresses,
                    order["id_address_invoice"],
                    order["id_address_delivery"],
                )
            ]
        if rows[0].blocked:  # a customer record the shop sent unreadable
            raise ConnectorError(f"le client {customer_id}: {rows[0].reason}")
        contacts.apply(rows[0])
        return m.Contact.get_by_id(gestan_id_of("customers", customer_id))

    def _address(self, row: Row, key: str) -> dict:
        address = row.payload.addresses.get(key)
        if address is None:
            wanted = _valid_ids([row.payload.order.get(key)])
            found = self.client.get_many("addresses", wanted) if wanted else []
            if not found:
                raise ConnectorError(
                    f"l'adresse {row.payload.order.get(key)} de la commande n'est pas dans "
                    "la boutique",
                    hint="rien n'a été écrit; une facture demande l'adresse du client",
                )
            address = found[0]
        return address

    def _write_order(self, order, contact, plan: Plan, row: Row, placed) -> m.SalesOrder:
        values = self._order_values(order, plan, row, placed, self._generic_shipping_id)
        totals = Totals.of(plan.lines)
        sales_order = m.SalesOrder.create(
            contact=contact,
            total_excl=totals.excl,
            total_incl=totals.incl,
            total_vat=totals.incl - totals.excl,
            **values,
        )
        m.SalesOrderLine.insert_many(
            line_rows(plan.lines, account=False, order=sales_order.id)
        ).execute()
        return sales_order

    def _order_values(self, order, plan: Plan, row: Row, placed, generic) -> dict:
        """The Gestan order's fields (but its contact and totals), from the shop order and
        its plan; the plan's lines get their shipping product (`generic()` when the
        settings name none) and the accounts of the customer's VAT regime."""
        billing = self._address(row, "id_address_invoice")
        delivery = self._address(row, "id_address_delivery")
        tax_address = billing if self._tax_address_key() == "id_address_invoice" else delivery
        regime = self._regime(plan, tax_address)
        currency = self._currency(order)
        comment = ""
        if self.options.comments:
            notes = [mes.get("message", "") for mes in row.payload.messages]
            if order.get("note"):
                notes.append(f"Note boutique: {order['note']}")
            comment = "\n".join(n for n in notes if n)
        values = {
            "date": placed,
            "reference": order.get("reference", ""),
            "number": f"WEB{int(order['id']):07d}",
            "status": row.columns.get("state", "")[:32],
            "payment_method": (order.get("payment") or "")[:128],
            "comment": comment,
            "vat_number": (
                tax_address.get("vat_number") or billing.get("vat_number") or ""
            ).strip()[:32],
            "vat_regime": regime.kind,
            "currency": currency[0] if currency else "",
            "conversion_rate": currency[1] if currency else None,
            "currency_total": cents(order.get("total_paid_tax_incl")) if currency else None,
        }
        for prefix, address in (("billing", billing), ("delivery", delivery)):
            values[f"{prefix}_name"] = (
                f"{address.get('firstname', '')} {address.get('lastname', '')}".strip()[:255]
            )
            values[f"{prefix}_company"] = address.get("company", "")[:128]
            values[f"{prefix}_line1"] = address.get("address1", "")[:255]
            values[f"{prefix}_line2"] = address.get("address2", "")[:255]
            values[f"{prefix}_postcode"] = address.get("postcode", "")[:16]
            values[f"{prefix}_city"] = address.get("city", "").strip()[:128]
            values[f"{prefix}_country"] = self.facts.country_name(address.get("id_country", 0))
        if any(line.kind == m.LineKind.SHIPPING and line.product is None for line in plan.lines):
            # the generic product, made once, carries shipping on the order and the invoice
            generic = generic()
            plan.lines = [
                replace(line, product=generic)
                if line.kind == m.LineKind.SHIPPING and line.product is None
                else line
                for line in plan.lines
            ]
        plan.lines = with_regime_accounts(plan.lines, regime.kind)
        return values

    def _generic_shipping_id(self) -> int:
        return self._generic_shipping_product().id

    def _generic_shipping_product(self) -> m.Product:
        product = m.Product.get_or_none(m.Product.code == GENERIC_SHIPPING)
        if product is None:
            product = m.Product.create(
                code=GENERIC_SHIPPING,
                label="Frais de port",
                is_service=True,
                price_excl=0,
                vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
            )
        return product

    def _take_stock(self, sales_order: m.SalesOrder, plan: Plan, placed: dt.datetime) -> None:
        """One movement out per product line, unless the product's stock was taken from the
        shop after this order was placed: the shop's quantity already counted it."""
        products = [x.product for x in plan.lines if x.kind == m.LineKind.PRODUCT and x.product]
        taken = initial_stock_dates(products)
        # Gestan's clock is this machine's; the shop's dates are in PS_TIMEZONE
        when = self.facts.machine_time(placed.strftime(DATE_FORMAT))
        for line in plan.lines:
            if line.kind != m.LineKind.PRODUCT or line.product is None:
                continue
            if taken.get(line.product, dt.datetime.min) >= when:
                continue
            add_stock_movement(
                m.Product.get_by_id(line.product),
                -line.quantity,
                "order",
                f"Commande {sales_order.reference}",
                order=sales_order,
                date=placed,
            )

    def _invoice_when_paid(self, sales_order: m.SalesOrder, day: dt.date) -> m.Invoice | None:
        """The invoice of an order imported before it was paid, on the day it was; with the
        shop's numbering, once the shop has invoiced it (None until then)."""
        number, date = None, self._dated(self.options.series, day)
        series = self.options.series
        if self.options.numbering == "shop":
            link = link_to(RESOURCE, sales_order.id)
            found = self.client.get_many(RESOURCE, [link.shop_id])
            if not found or not _shop_number(found[0]):
                return None
            number, date, series = (
                self._shop_invoice_number(found[0]),
                self._invoice_day(found[0], shop=True),
                SHOP_SERIES,
            )
        lines = [
            LineInput(
                line.kind,
                line.label,
                line.quantity,
                line.unit_price_excl,
                line.vat_rate,
                line.total_excl,
                line.total_incl,
                line.product_id,
            )
            for line in sales_order.lines.order_by(m.SalesOrderLine.position)
        ]
        invoice = invoicing.issue(
            sales_order.contact,
            with_regime_accounts(lines, sales_order.vat_regime),
            date=date,
            series=series,
            number=number,
            order=sales_order,
            external_reference=sales_order.reference,
            **_customer_terms(sales_order),
        )
        if self.options.accounting:
            accounting.post_invoice(invoice)
        return invoice

    def _invoice_day(self, order: dict, *, shop: bool = False) -> dt.date:
        """The day an order's invoice bears: the order's, or the shop's invoice date (always,
        where the shop numbers the invoices: its numbers follow its dates)."""
        wanted = shop or self.options.invoice_date == "shop"
        shop = order.get("invoice_date") or ""
        if wanted and shop[:4].isdigit() and shop[:4] != "0000":
            return dt.datetime.strptime(shop[:10], "%Y-%m-%d").date()
        return dt.datetime.strptime(order["date_add"][:10], "%Y-%m-%d").date()

    def _late(self, order: dict) -> dt.date | None:
        """The series' last invoice date when the order's invoice would come before it."""
        last = self._last_date(self.options.series)
        return last if self._invoice_day(order) < last else None

    def _last_date(self, series: str) -> dt.date:
        if series not in self._last_dates:
            last = (
                m.Invoice.select(m.Invoice.date)
                .where((m.Invoice.series == series) & (m.Invoice.status == m.Invoice.VALIDATED))
                .order_by(m.Invoice.date.desc())
                .first()
            )
            self._last_dates[series] = last.date if last else dt.date.min
        return self._last_dates[series]

    def _dated(self, series: str, wanted: dt.date) -> dt.date:
        """The date for the series' next number: `wanted`, or the series' latest date if
        that is later, so that numbers follow dates (a credit slip read after a later one)."""
        date = max(wanted, self._last_date(series))
        self._last_dates[series] = date
        return date

    def _invoiced_now(self, row: Row) -> bool:
        """Is the order invoiced as it is imported? With the shop's numbering, when the
        shop has invoiced it; else at import, or once paid (invoices.when)."""
        if not self.options.invoices:
            return False
        if self.options.numbering == "shop":
            return bool(_shop_number(row.payload.order))
        paid = bool(row.payload.payments) or row.payload.paid
        return self.options.invoice_when == "import" or paid

    def _shop_prefix(self, order: dict) -> str | None:
        """The prefix the shop prints its invoice numbers with, in the order's language:
        invoices.shop_prefix, else the shop's PS_INVOICE_PREFIX; None when unknown."""
        prefix = refcache.cached(
            ("setting", "invoices.shop_prefix"), lambda: settings.get("invoices.shop_prefix")
        )
        return prefix or self.facts.translated_setting("PS_INVOICE_PREFIX", order.get("id_lang"))

    def _shop_invoice_number(self, order: dict) -> str:
        return self.facts.invoice_number(
            _shop_number(order), order.get("invoice_date") or "", self._shop_prefix(order) or ""
        )

    def _invoice(
        self, order, sales_order: m.SalesOrder, lines: list[LineInput], late: bool
    ) -> m.Invoice:
        if self.options.numbering == "shop":
            number, series = self._shop_invoice_number(order), SHOP_SERIES
            date = self._invoice_day(order, shop=True)
        else:
            number, series = None, self.options.series
            date = self._dated(series, m.now().date() if late else self._invoice_day(order))
        shop_number = _shop_number(order)
        return invoicing.issue(
            sales_order.contact,
            lines,
            date=date,
            series=series,
            number=number,
            order=sales_order,
            external_reference=self._shop_invoice_number(order)
            if shop_number
            else order.get("reference", ""),
            **_customer_terms(sales_order),
        )

    # --- where the customer is, in which currency ------------------------------------

    def _tax_address_key(self) -> str:
        key = self.facts.configuration.get("PS_TAX_ADDRESS_TYPE") if self.facts else ""
        return (
            key if key in ("id_address_invoice", "id_address_delivery") else ("id_address_delivery")
        )

    def _regime(self, plan: Plan, address: dict) -> vat_regime.Regime:
        charged = any(
            line.total_incl != line.total_excl
            for line in plan.lines
            if line.kind != m.LineKind.ROUNDING
        )
        return vat_regime.regime_for(
            self.facts.country_iso(address.get("id_country", 0)),
            (address.get("vat_number") or "").strip(),
            charged,
        )

    def _currency(self, order: dict) -> tuple[str, Decimal] | None:
        """(ISO code, units for one euro) of an order in another currency than the shop's;
        the code is "" when the key may not read `currencies`."""
        currency = int(order.get("id_currency") or 0)
        if not currency or currency == self.facts.home_currency_id:
            return None
        return self.facts.currency_iso(currency), _d(order.get("conversion_rate") or 1)


@dataclass
class _Lookups:
    """What the new orders of a chunk consult, read once for the chunk."""

    flow: OrdersFlow
    contacts: dict[int, m.Contact]  # by shop customer id: those linked already
    linked: set[tuple[str, int]]  # (resource, shop id) of the orders, payments, slips linked
    taken: dict[int, dt.datetime]  # when each product's stock was taken from the shop
    asked: set[int]  # the products `taken` was read for
    shipping: int | None = None

    @classmethod
    def of(cls, flow: OrdersFlow, rows: list[Row]) -> _Lookups:
        new = [row for row in rows if _new_order(row)]
        customers = gestan_ids_of("customers", {int(r.payload.order["id_customer"]) for r in new})
        contacts = {}
        if customers:
            by_id = {
                contact.id: contact
                for contact in m.Contact.select().where(m.Contact.id.in_(set(customers.values())))
            }
            contacts = {
                shop: by_id[gestan] for shop, gestan in customers.items() if gestan in by_id
            }
        linked = {
            (RESOURCE, shop_id) for shop_id in gestan_ids_of(RESOURCE, [r.shop_id for r in new])
        }
        payments = [int(p["id"]) for row in new for p in row.payload.payments]
        linked |= {(PAYMENTS, shop_id) for shop_id in gestan_ids_of(PAYMENTS, payments)}
        slips = [int(s["id"]) for row in new for s in row.payload.slips]
        if slips:
            linked |= {(SLIPS, shop_id) for shop_id in gestan_ids_of(SLIPS, slips)}
        products = {
            line.product
            for row in new
            for line in row.payload.plan.lines
            if line.kind == m.LineKind.PRODUCT and line.product
        }
        taken = initial_stock_dates(list(products)) if products else {}
        return cls(flow, contacts, linked, taken, set(products))

    def has(self, resource: str, shop_id) -> bool:
        return (resource, int(shop_id)) in self.linked

    def ready(self, row: Row) -> bool:
        """Whether the row is a new order written in bulk: not a change, nor an order in
        another currency, with a customer or an address to read, nor one whose documents
        the shop numbers."""
        if not _new_order(row) or self.flow.options.numbering != "gestan":
            return False
        payload, order = row.payload, row.payload.order
        return (
            self.flow._currency(order) is None
            and all(address is not None for address in payload.addresses.values())
            and int(order["id_customer"]) in self.contacts
            and (RESOURCE, row.shop_id) not in self.linked
            and not any((PAYMENTS, int(p["id"])) in self.linked for p in payload.payments)
        )

    def generic(self) -> int:
        """The generic shipping product, made once (read once a chunk)."""
        if self.shipping is None:
            self.shipping = self.flow._generic_shipping_id()
        return self.shipping


def _has_life(row: Row) -> bool:
    return bool(row.payload.slips or row.payload.ending)


def _message(row: Row, done: list) -> str:
    """What a row's result says: its warnings, or what its life brought (a credit note
    in `done` says "avoir <its number>"), or when it will be invoiced."""
    plan: Plan = row.payload.plan
    message = row.reason if row.payload.unwanted else "; ".join(plan.warnings)
    said = [part if isinstance(part, str) else f"avoir {part.number}" for part in done]
    if said and _has_life(row):
        ending = row.payload.ending
        return f"{status_label(ending).lower() if ending else 'avoir'}: {', '.join(said)}"
    return "; ".join(part for part in (message, ", ".join(said)) if part)


def _new_order(row: Row) -> bool:
    return (
        row.action == Action.CREATE_GESTAN
        and not row.blocked
        and isinstance(row.payload, OrderPayload)
    )


def _missing_parties(order: dict, customer: dict | None, addresses: dict) -> list[str]:
    """What an order lacks to be billed: its customer, its addresses (deleted in the shop)."""
    missing = []
    if customer is None:
        missing.append(
            f"client {order.get('id_customer')} absent de la boutique (supprimé?): "
            "la commande ne peut être facturée à personne"
        )
    for key, role in (("id_address_invoice", "facturation"), ("id_address_delivery", "livraison")):
        if addresses.get(order.get(key)) is None:
            missing.append(f"adresse de {role} {order.get(key)} absente de la boutique")
    return missing


def _valid_ids(values) -> list[str]:
    return sorted({str(valid_id(v)) for v in values if valid_id(v) is not None}, key=int)


def _shop_number(order: dict) -> int:
    number = str(order.get("invoice_number") or "0")
    return int(number) if number.isdigit() else 0


def with_regime_accounts(lines: list[LineInput], regime: str) -> list[LineInput]:
    """Goods sold without VAT to an EU business or for export go to their own sales
    account (accounting.eu_account, accounting.export_account)."""
    key = vat_regime.ACCOUNT_SETTINGS.get(regime)
    if not key:
        return lines
    account = refcache.cached(("setting", key), lambda: settings.get(key))
    return [
        replace(line, account=account)
        if line.kind == m.LineKind.PRODUCT and not line.account
        else line
        for line in lines
    ]


def _customer_terms(sales_order: m.SalesOrder | dict) -> dict:
    """What an invoice says of where its customer is and of the currency paid in (from
    the Gestan order, or the values it is written with)."""
    get = sales_order.get if isinstance(sales_order, dict) else sales_order.__getattribute__
    regime = vat_regime.Regime(get("vat_regime") or vat_regime.DOMESTIC)
    return {
        "customer_vat_number": get("vat_number"),
        "vat_regime": regime.kind,
        "vat_mention": regime.mention,
        "currency": get("currency"),
        "currency_total": get("currency_total"),
    }


def _linked(resource: str, shop_id) -> bool:
    return bool(links(resource, [int(shop_id)]))


def _group(records: list[dict], key: str) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for record in records:
        grouped.setdefault(record.get(key, ""), []).append(record)
    return grouped
