"""What happens to an order after it was imported, and how it reaches Gestan once.

The shop records an order's life in three resources of its own, each with ids that
only grow: `order_payments` (money received, linked to the order by its reference
only), `order_slip` (credit slips, full or partial; they do not move the order's
`date_upd`) and `order_histories` (state changes: a cancellation, a refund). Each
orders run reads those records past a cursor per resource (less a window, so that a
record committed late by the shop is not missed), and each one that concerns an
imported order becomes its Gestan act, in the transaction of its row:

- a payment: the Gestan payment at the shop's date and amount, allocated to the
  invoice, posted on the payment method's account and lettered (`Paiement reçu`);
- a credit slip: a credit note for exactly its lines and shipping, linked to the
  invoice, and the money paid back when the order had been paid (`Avoir`);
- a cancellation: a credit note for what the invoice still bills, and the stock put
  back (`Annulée`); a refund without a slip: the same, with the money back
  (`Remboursement`).

Payments and slips are linked (table `link`), so they are applied once; a state's act
is what is left to do (what the invoice still bills, the stock not yet put back), so
doing it twice does nothing the second time. The same acts run when an order is
imported with a life already behind it: on its Documents when apply writes it alone, on
its DraftDocuments when its chunk is written in bulk (gestan.documents).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from tui_connector.errors import ConnectorError
from tui_connector.gestan import accounting, invoicing, settings
from tui_connector.gestan import models as m
from tui_connector.gestan.documents import CreditNoteDraft, OrderDraft, PaymentDraft
from tui_connector.gestan.invoicing import LineInput, Totals
from tui_connector.gestan.links import save_link
from tui_connector.gestan.money import ZERO, cents
from tui_connector.gestan.stock import Movement, initial_stock_dates, move_stock
from tui_connector.sync.shop_facts import ShopFacts
from tui_connector.sync.status import Status

PAYMENTS, SLIPS, HISTORIES = "order_payments", "order_slip", "order_histories"
# The shop's states that end an order (its configuration keys), and what each asks
ENDINGS = {"PS_OS_CANCELED": Status.CANCELLED, "PS_OS_REFUND": Status.REFUNDED}
SHOP_SERIES = "SHOP"  # invoices and credit notes the shop numbered (invoices.numbering)
# Payments first: a slip then knows the order was paid and pays the money back. Slips
# before states: a Refunded state then finds the slip that refunded the order.
CHANGE_RESOURCES = (PAYMENTS, SLIPS, HISTORIES)
RETURN = "return"  # the reason of a stock movement put back by the shop
# Ids read again before each cursor: a record the shop commits after a later one
# (two transactions) still has its chance.
WINDOW = 200


def shop_day(stamp: str) -> dt.date:
    return dt.datetime.strptime(stamp[:10], "%Y-%m-%d").date()


@dataclass
class Documents:
    """What Gestan holds for an imported order, and the acts of its life written at once
    (inside the caller's transaction). DraftDocuments answers the same for an order
    still being drafted, whose acts are written with it by gestan.documents."""

    order: m.SalesOrder
    invoice: m.Invoice | None

    @classmethod
    def of(cls, order: m.SalesOrder) -> Documents:
        invoice = (
            m.Invoice.select()
            .where((m.Invoice.order == order) & (m.Invoice.kind == m.Invoice.INVOICE))
            .first()
        )
        return cls(order, invoice)

    def billed(self) -> list[LineInput]:
        """The invoice's lines, in their order."""
        return [
            invoicing.line_input(line)
            for line in self.invoice.lines.order_by(m.InvoiceLine.position)
        ]

    def remaining(self) -> list[LineInput]:
        return invoicing.remaining(self.invoice)

    def paid(self) -> Decimal:
        """What the customer paid against the invoice, less what was paid back."""
        if self.invoice is None:
            return ZERO
        invoices = [self.invoice.id] + [
            note.id for note in m.Invoice.select().where(m.Invoice.cancels == self.invoice)
        ]
        total = (
            m.PaymentAllocation.select(m.PaymentAllocation.amount)
            .where(m.PaymentAllocation.invoice.in_(invoices))
            .tuples()
        )
        return sum((amount for (amount,) in total), ZERO)

    def credit_note(self, lines: list[LineInput], **kwargs) -> m.Invoice:
        return invoicing.credit_note(self.invoice, lines, **kwargs)

    def post(self, credit_note: m.Invoice) -> None:
        accounting.post_invoice(credit_note)

    def pay_back(self, credit_note: m.Invoice, payment: PaymentDraft, *, post: bool) -> None:
        refund = accounting.record_payment(
            credit_note,
            date=payment.date,
            amount=payment.amount,
            method=payment.method,
            reference=payment.reference,
        )
        if post:
            accounting.post_payment(refund, account=payment.account)

    def letter(self, credit_note: m.Invoice) -> None:
        accounting.letter_credit_note(credit_note)

    def link_slip(self, slip: dict, credit_note: m.Invoice) -> None:
        save_link(SLIPS, int(slip["id"]), 0, credit_note.id, date_upd=slip["date_add"])

    def returned(self) -> dict[int, Decimal]:
        """What Gestan has put back into stock for the order, by product."""
        return _by_product(  # (summed here: SQLite would sum exact TEXT decimals as floats)
            m.StockMovement.select(m.StockMovement.product, m.StockMovement.quantity)
            .where((m.StockMovement.order == self.order) & (m.StockMovement.reason == RETURN))
            .tuples()
        )

    def stock_taken(self, products: list[int]) -> dict[int, dt.datetime]:
        return initial_stock_dates(products)

    def put_back(self, product: int, quantity: Decimal, date: dt.datetime) -> None:
        move_stock([replace(_return(self.order, product, quantity, date), order=self.order.id)])

    def set_status(self, status: str) -> None:
        m.SalesOrder.update(status=status).where(m.SalesOrder.id == self.order.id).execute()


class DraftDocuments:
    """An order drafted for gestan.documents, as Documents: its invoice's lines and what
    its credit notes took off are known in memory, its acts go into the draft."""

    def __init__(self, draft: OrderDraft, taken: dict[int, dt.datetime], asked: set[int]):
        self.draft = draft
        self.order = m.SalesOrder(**draft.values)  # (never saved: the writer inserts it)
        self.invoice = draft.invoice
        # when each product's stock was taken from the shop, for the products `asked`
        # already (read once for a chunk, shared by its drafts)
        self._taken, self._asked = taken, asked

    def billed(self) -> list[LineInput]:
        return list(self.draft.lines)

    def remaining(self) -> list[LineInput]:
        credited = [line for note in self.draft.credit_notes for line in note.lines]
        return invoicing.left_to_credit(self.draft.lines, credited)

    def paid(self) -> Decimal:
        total = Totals.of(self.draft.lines).incl
        paid = sum((total if p.amount is None else p.amount for p in self.draft.payments), ZERO)
        return paid + sum(
            (note.refund.amount for note in self.draft.credit_notes if note.refund), ZERO
        )

    def credit_note(
        self, lines: list[LineInput], *, date: dt.date, external_reference: str = ""
    ) -> CreditNoteDraft:
        note = CreditNoteDraft(
            invoicing.credit_lines(self.remaining(), lines, ""),
            date=date,
            external_reference=external_reference,
        )
        self.draft.credit_notes.append(note)
        return note

    def post(self, credit_note: CreditNoteDraft) -> None:
        pass  # the writer posts a draft's credit notes with its invoice (accounting_on)

    def pay_back(self, credit_note: CreditNoteDraft, payment: PaymentDraft, *, post: bool) -> None:
        credit_note.refund = payment  # (posted with the credit note, as the writer's options say)

    def letter(self, credit_note: CreditNoteDraft) -> None:
        credit_note.letters_invoice = True

    def link_slip(self, slip: dict, credit_note: CreditNoteDraft) -> None:
        credit_note.link = (SLIPS, int(slip["id"]), slip["date_add"])

    def returned(self) -> dict[int, Decimal]:
        return _by_product((move.product, move.quantity) for move in self.draft.returns)

    def stock_taken(self, products: list[int]) -> dict[int, dt.datetime]:
        unknown = [product for product in products if product not in self._asked]
        if unknown:
            self._taken.update(initial_stock_dates(unknown))
            self._asked.update(unknown)
        return {product: self._taken[product] for product in products if product in self._taken}

    def put_back(self, product: int, quantity: Decimal, date: dt.datetime) -> None:
        self.draft.returns.append(_return(self.order, product, quantity, date))

    def set_status(self, status: str) -> None:
        self.draft.values["status"] = status
        self.order.status = status


def _return(order: m.SalesOrder, product: int, quantity: Decimal, date: dt.datetime) -> Movement:
    """A movement back into stock of what the shop put back (the writer sets its order)."""
    return Movement(
        product=product,
        quantity=quantity,
        reason=RETURN,
        label=f"Retour boutique {order.reference}",
        date=date,
    )


def _by_product(quantities: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    summed: dict[int, Decimal] = {}
    for product, quantity in quantities:
        summed[product] = summed.get(product, ZERO) + quantity
    return summed


@dataclass
class Books:
    """How the acts are written: the run's options and accounts, read once per run."""

    invoices: bool = False
    mark_paid: bool = False
    accounting: bool = False
    accounts: dict[str, str] = field(default_factory=dict)  # payment module -> account

    @classmethod
    def from_settings(cls, *, invoices: bool, mark_paid: bool, accounting: bool) -> Books:
        return cls(invoices, mark_paid, accounting, settings.family_keys("payment."))

    def account_for(self, module: str) -> str:
        return self.accounts.get(module, "")


class OrderLife:
    """The acts of an order's life, written into Gestan (inside the caller's transaction)."""

    def __init__(self, facts: ShopFacts, books: Books, dated, products: dict[tuple[int, int], int]):
        self.facts, self.books = facts, books
        self._dated = dated  # (series, wanted date) -> the date the series allows
        self.products = products  # (shop product, combination) -> Gestan product
        # set when orders are invoiced once paid: (order, day) -> its invoice
        self.invoicer: Callable[[m.SalesOrder, dt.date], m.Invoice | None] | None = None
        # set when the shop numbers the invoices: a credit slip's id -> the shop's number
        self.slip_number: Callable[[int], str] | None = None

    def product_of(self, detail: dict) -> int | None:
        """An order line's Gestan product, by the shop's product and combination ids (an
        order line keeps the reference it was sold with, so never by reference)."""
        key = (int(detail.get("product_id") or 0), int(detail.get("product_attribute_id") or 0))
        return self.products.get(key)

    # --- payments -----------------------------------------------------------------

    def receive(self, docs: Documents, payment: dict, order: dict) -> m.Payment | None:
        """A payment the shop recorded: in Gestan at its own date and amount; an order
        imported unpaid and invoiced when paid (`invoices.when = paid`) is invoiced now."""
        amount = self._in_euros(payment, payment.get("amount"), docs.order)
        if amount <= 0:
            return None
        if docs.invoice is None and self.invoicer is not None:
            docs.invoice = self.invoicer(docs.order, shop_day(payment["date_add"]))
        if docs.invoice is None or not self.books.mark_paid:
            return None
        gestan = accounting.record_payment(
            docs.invoice,
            date=shop_day(payment["date_add"]),
            amount=amount,
            method=payment.get("payment_method") or order.get("payment") or "",
            reference=order.get("reference", ""),
        )
        if self.books.accounting:
            accounting.post_payment(gestan, account=self.books.account_for(order.get("module", "")))
        save_link(PAYMENTS, int(payment["id"]), 0, gestan.id, date_upd=payment["date_add"])
        return gestan

    # --- credit slips -------------------------------------------------------------

    def credit_slip(self, docs, slip: dict, order: dict, details: dict[str, dict]) -> tuple:
        """A credit slip: a credit note for exactly its lines and shipping, the money
        back when the order was paid, and the stock the shop put back; with what the
        user should know (a slip that refunds more than the invoice still bills).
        `docs`: the order's Documents, or its DraftDocuments.

        PrestaShop refunds a line at its price before the order's vouchers (real order
        22): on a small order with a voucher, a slip can refund more than was billed.
        The credit note then cancels what the invoice still bills, never more."""
        when = slip["date_add"]
        credit_note, said = None, ""
        if docs.invoice is not None:
            lines = self._slip_lines(docs, slip, details)
            if docs.order.currency:
                lines = invoicing.within_remaining(docs.invoice, lines)
            left = docs.remaining()
            asked = sum((line.total_incl for line in lines), ZERO)
            still = sum((line.total_incl for line in left), ZERO)
            if still <= 0:  # a Refunded state came first and credited it all (real order 12)
                self.put_back(docs, details.values(), when, cancelled=False)
                return None, "déjà créditée en entier: rien de plus à créditer"
            if asked > still:
                lines = left
                said = (
                    f"la boutique rembourse {asked:.2f}, plus que la facture ne porte encore "
                    f"({still:.2f}): l'avoir s'en tient là"
                )
            numbered = {}
            if self.slip_number is not None and docs.invoice.series == SHOP_SERIES:
                # the shop's numbers follow the shop's dates
                date = max(shop_day(when), docs.invoice.date)
                numbered = {"number": self.slip_number(int(slip["id"])), "series": SHOP_SERIES}
            else:
                date = self._dated(
                    invoicing.CREDIT_NOTE_SERIES, max(shop_day(when), docs.invoice.date)
                )
            credit_note = docs.credit_note(
                lines, date=date, external_reference=f"SLIP{int(slip['id'])}", **numbered
            )
            self._post_and_pay_back(docs, credit_note, order, f"RMB-SLIP{int(slip['id'])}")
            docs.link_slip(slip, credit_note)
        self.put_back(docs, details.values(), when, cancelled=False)
        return credit_note, said

    def _in_euros(self, record: dict, amount, order: m.SalesOrder) -> Decimal:
        """An amount of a payment or a slip, in euros where the order was in another
        currency: at the order's own rate, the invoice's. (The record's conversion_rate
        says nothing sure: PrestaShop writes 1 on the payment validateOrder makes, and a
        slip takes the day's rate, while a credit note corrects the invoice at its own.)"""
        # a payment says its currency; a slip has none: it is in the order's
        if not order.currency or str(record.get("id_currency")) == str(self.facts.home_currency_id):
            return cents(amount)
        return cents(Decimal(str(amount or 0)) / (order.conversion_rate or 1))

    def _slip_lines(self, docs, slip: dict, details: dict[str, dict]) -> list[LineInput]:
        def euros(value) -> Decimal:
            return self._in_euros(slip, value, docs.order)

        lines = []
        billed = docs.billed()  # read once a slip
        for item in slip.get("associations", {}).get("order_slip_details", []):
            detail = details.get(str(item.get("id_order_detail")))
            if detail is None:
                raise ConnectorError(
                    f"avoir boutique {slip['id']}: la ligne de commande "
                    f"{item.get('id_order_detail')} n'est pas dans sa commande"
                )
            line = self._invoice_line(docs, detail, billed)
            lines.append(
                replace(
                    line,
                    quantity=Decimal(str(item.get("product_quantity") or 0)),
                    total_excl=euros(item.get("amount_tax_excl")),
                    total_incl=euros(item.get("amount_tax_incl")),
                )
            )
        shipping_excl = euros(slip.get("total_shipping_tax_excl"))
        shipping_incl = euros(slip.get("total_shipping_tax_incl"))
        if shipping_excl or shipping_incl:
            carrier = next((x for x in billed if x.kind == m.LineKind.SHIPPING and x.label), None)
            if carrier is None:
                raise ConnectorError(f"l'avoir boutique {slip['id']} rembourse un port non facturé")
            lines.append(
                replace(
                    carrier,
                    quantity=Decimal(1),
                    unit_price_excl=shipping_excl,
                    total_excl=shipping_excl,
                    total_incl=shipping_incl,
                )
            )
        return lines

    def _invoice_line(self, docs, detail: dict, billed: list[LineInput]) -> LineInput:
        """The invoice line a slip's order line refunds (among the invoice's lines, in
        their order): by its product, else its label."""
        product = self.product_of(detail)
        label = (detail.get("product_name") or "")[:255]
        lines = [line for line in billed if line.kind == m.LineKind.PRODUCT]
        for candidates in (
            [x for x in lines if product is not None and invoicing.product_id(x) == product],
            [x for x in lines if x.label == label],
        ):
            if candidates:
                return next((x for x in candidates if x.label == label), candidates[0])
        number = getattr(docs.invoice, "number", "")  # (a draft's has none yet)
        raise ConnectorError(
            f"la ligne de commande « {label} » d'un avoir boutique n'est pas sur la facture "
            f"{number}"
        )

    # --- states -------------------------------------------------------------------

    def change_state(
        self,
        docs,
        kind: str,
        when: str,
        order: dict,
        details: Iterable[dict],
        status: str = "",
    ):
        """A cancellation or a refund the shop recorded as the order's state: a credit note
        for what the invoice still bills (with the money back for a refund) and, for a
        cancellation, the stock put back. Nothing when it is all done already."""
        credit_note = None
        if docs.invoice is not None:
            left = docs.remaining()
            if sum((line.total_incl for line in left), ZERO) > 0:
                date = self._dated(
                    invoicing.CREDIT_NOTE_SERIES, max(shop_day(when), docs.invoice.date)
                )
                credit_note = docs.credit_note(left, date=date)
                reference = f"RMB-{order.get('reference', '')}"
                self._post_and_pay_back(
                    docs, credit_note, order, reference, pay_back=kind == Status.REFUNDED
                )
        self.put_back(docs, details, when, cancelled=kind == Status.CANCELLED)
        if status and docs.order.status != status[:32]:
            docs.set_status(status[:32])
        return credit_note

    def _post_and_pay_back(
        self, docs, credit_note, order: dict, reference: str, *, pay_back: bool = True
    ) -> None:
        if self.books.accounting:
            docs.post(credit_note)
        paid = docs.paid() if self.books.mark_paid else ZERO
        if pay_back and paid > 0:
            back = min(paid, -credit_note.total_incl)
            refund = PaymentDraft(
                date=credit_note.date,
                amount=-back,
                method=order.get("payment") or order.get("module", ""),
                reference=reference,
                account=self.books.account_for(order.get("module", "")),
            )
            docs.pay_back(credit_note, refund, post=self.books.accounting)
        elif self.books.accounting and paid == 0:
            docs.letter(credit_note)

    # --- stock --------------------------------------------------------------------

    def put_back(self, docs, details: Iterable[dict], when: str, *, cancelled: bool) -> None:
        """Stock movements for what the shop put back into its stock and Gestan has not."""
        for product, quantity in self.returns(docs, details, when, cancelled=cancelled):
            docs.put_back(product, quantity, self.facts.machine_time(when))

    def returns(
        self, docs, details: Iterable[dict], when: str, *, cancelled: bool
    ) -> list[tuple[int, Decimal]]:
        """(product, quantity) the shop put back and Gestan has not: everything ordered once
        the order is cancelled, else what credit slips restocked (`product_quantity_reinjected`)."""
        event = self.facts.machine_time(when)
        returned = docs.returned()
        back_to: dict[int, int] = {}  # product -> what the shop has put back, all lines
        for detail in details:
            product = self.product_of(detail)
            if product is None:
                continue
            back = int(detail.get("product_quantity_reinjected") or 0)
            if cancelled:
                back = int(detail.get("product_quantity") or 0)
            back_to[product] = back_to.get(product, 0) + back
        taken = docs.stock_taken(list(back_to))
        wanted = []
        for product, back in back_to.items():
            missing = Decimal(back) - returned.get(product, ZERO)
            if missing > 0 and taken.get(product, dt.datetime.min) < event:
                wanted.append((product, missing))
        return wanted

    def has_work(
        self,
        docs: Documents,
        kind: str,
        when: str,
        details: Iterable[dict],
        coming: Decimal = ZERO,
    ) -> bool:
        """Whether a cancellation or refund still has something to do in Gestan, once the
        credit slips of the same read (`coming`, incl. VAT) are applied."""
        if docs.invoice is not None:
            left = docs.remaining()
            if sum((line.total_incl for line in left), ZERO) - coming > 0:
                return True
        return bool(self.returns(docs, details, when, cancelled=kind == Status.CANCELLED))
