"""Sales documents written in bulk: a chunk of orders with their lines, stock movements,
invoices and VAT rows, the credit notes and refunds of a life behind them, payments,
accounting entries, lettering and links, a few statements per table, inside the caller's
transaction.

It writes what invoicing.issue and credit_note, accounting.post_invoice, record_payment,
post_payment and the lettering write one document at a time, in the same order, with
the same numbers: invoice and entry numbers are taken from their counters for the whole
chunk at once (no gap: they are used in the same transaction), the ids of new rows are
known as they are inserted (database.insert_ids), and nothing is read per line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

import peewee as pw

from tui_connector.errors import ConnectorError
from tui_connector.gestan import accounting, invoicing, refcache
from tui_connector.gestan import models as m
from tui_connector.gestan.accounting import CUSTOMERS_ACCOUNT, UnbalancedEntry
from tui_connector.gestan.database import insert_ids, insert_rows
from tui_connector.gestan.invoicing import (
    CREDIT_NOTE_SERIES,
    LineInput,
    Totals,
    billing_address,
    line_rows,
    seller_identity,
    vat_rows,
)
from tui_connector.gestan.links import add_links
from tui_connector.gestan.money import ZERO
from tui_connector.gestan.numbering import lettering_code, reserve
from tui_connector.gestan.stock import Movement, move_stock

ORDER_MOVEMENT = "order"  # the reason of a stock movement out for an order


@dataclass
class PaymentDraft:
    date: dt.date
    amount: Decimal | None  # None: the invoice's total
    method: str
    reference: str
    account: str = ""  # where the money went; "" for the bank account setting
    link: tuple[str, int, str] | None = None  # (resource, shop id, date_upd)


@dataclass
class InvoiceDraft:
    date: dt.date
    series: str
    external_reference: str
    customer_vat_number: str = ""
    vat_regime: str = ""
    vat_mention: str = ""
    currency: str = ""
    currency_total: Decimal | None = None


@dataclass
class CreditNoteDraft:
    """A credit note of a drafted order's invoice (an act of the order's life)."""

    lines: list[LineInput]  # negative amounts, as the credit note bills them
    date: dt.date
    external_reference: str = ""  # "" for the invoice's number
    refund: PaymentDraft | None = None  # the money paid back (a negative amount)
    letters_invoice: bool = False  # an unpaid invoice's 411 line lettered with its own
    link: tuple[str, int, str] | None = None  # (resource, shop id, date_upd)
    invoice_id: int | None = None
    number: str | None = None

    @cached_property
    def totals(self) -> Totals:
        return Totals.of(self.lines)  # (its lines are set once, by credit_lines)

    @property
    def total_incl(self) -> Decimal:
        return self.totals.incl


@dataclass
class OrderDraft:
    """A new order and what it brings, as plain data; `write_orders` fills the ids."""

    contact: m.Contact
    values: dict  # the SalesOrder's fields but its contact and totals
    lines: list[LineInput]
    stock: list[tuple[int, Decimal]] = field(default_factory=list)  # (product, signed qty)
    invoice: InvoiceDraft | None = None
    payments: list[PaymentDraft] = field(default_factory=list)
    # its life before the import: credit notes of its invoice, stock the shop put back
    credit_notes: list[CreditNoteDraft] = field(default_factory=list)
    returns: list[Movement] = field(default_factory=list)  # (their order: the draft's)
    link: tuple[str, int, str] | None = None  # (resource, shop id, date_upd)
    order_id: int | None = None
    invoice_id: int | None = None
    invoice_number: str | None = None


@dataclass
class _Entry:
    journal: str
    date: dt.date
    label: str
    postings: list
    piece_ref: str
    invoice: int | None = None
    payment: int | None = None
    letter: tuple[str, dt.date | None] = ("", None)  # its 411 line's code and date


def write_orders(drafts: list[OrderDraft], *, accounting_on: bool) -> None:
    """Write the drafts, in their order, as one document at a time would have."""
    if not drafts:
        return
    totals = [Totals.of(draft.lines) for draft in drafts]
    order_ids = insert_ids(
        m.SalesOrder,
        [
            {
                **draft.values,
                "contact": draft.contact.id,
                "total_excl": total.excl,
                "total_incl": total.incl,
                "total_vat": total.incl - total.excl,
            }
            for draft, total in zip(drafts, totals, strict=True)
        ],
    )
    lines = []
    for draft, order_id in zip(drafts, order_ids, strict=True):
        draft.order_id = order_id
        lines += line_rows(draft.lines, account=False, order=order_id)
    insert_rows(m.SalesOrderLine, lines)
    _take_stock(drafts)
    invoiced = [(d, t) for d, t in zip(drafts, totals, strict=True) if d.invoice is not None]
    _write_invoices(invoiced)
    payments = _write_payments(invoiced)
    if accounting_on:
        _write_entries(invoiced, payments)
    made = []  # (resource, shop id, Gestan id, date_upd), in the order one by one makes them

    def linked(link: tuple[str, int, str] | None, gestan_id: int | None) -> None:
        if link is not None:
            resource, shop_id, date_upd = link
            made.append((resource, shop_id, gestan_id, date_upd))

    for draft in drafts:
        for payment, payment_id in payments.get(id(draft), []):
            linked(payment.link, payment_id)
        for note in draft.credit_notes:
            linked(note.link, note.invoice_id)
        linked(draft.link, draft.order_id)
    add_links(made, m.now())


def _take_stock(drafts: list[OrderDraft]) -> None:
    """The movements out of a chunk's orders and back in (returns), and the levels they
    move, in bulk."""
    movements = []
    for draft in drafts:
        movements += [
            Movement(
                product=product,
                quantity=quantity,
                reason=ORDER_MOVEMENT,
                label=f"Commande {draft.values['reference']}",
                date=draft.values["date"],
                order=draft.order_id,
            )
            for product, quantity in draft.stock
        ]
        movements += [replace(move, order=draft.order_id) for move in draft.returns]
    move_stock(movements)


def _write_invoices(invoiced: list[tuple[OrderDraft, Totals]]) -> None:
    """Drafts with their numbers, their lines and VAT rows, then validated at once (a
    validated invoice takes no line: the guards refuse it). Each invoice is followed by
    its credit notes, as one document at a time writes them."""
    if not invoiced:
        return
    counts: dict[str, int] = {}
    for draft, _ in invoiced:
        for series in [draft.invoice.series] + [CREDIT_NOTE_SERIES] * len(draft.credit_notes):
            counts[f"invoice:{series}"] = counts.get(f"invoice:{series}", 0) + 1
    first = reserve(counts)

    def numbered(series: str) -> str:
        number = f"{series}{first[f'invoice:{series}']:06d}"
        first[f"invoice:{series}"] += 1
        return number

    rows, documents = [], []  # (lines, totals, the draft or credit note) of each row
    for draft, total in invoiced:
        spec, values = draft.invoice, draft.values
        draft.invoice_number = numbered(spec.series)
        common = {
            "status": m.Invoice.DRAFT,
            "contact": draft.contact.id,
            "order": draft.order_id,
            "billing_name": values["billing_name"],
            "billing_address": billing_address(values),
            "customer_vat_number": spec.customer_vat_number,
            "vat_regime": spec.vat_regime,
            "vat_mention": spec.vat_mention,
            "currency": spec.currency,
        }
        rows.append(
            {
                **common,
                "series": spec.series,
                "number": draft.invoice_number,
                "kind": m.Invoice.INVOICE,
                "date": spec.date,
                "due_date": spec.date,
                "total_excl": total.excl,
                "total_vat": total.vat,
                "total_incl": total.incl,
                "external_reference": spec.external_reference,
                "currency_total": spec.currency_total,
            }
        )
        documents.append((draft.lines, total, draft))
        for note in draft.credit_notes:
            note.number = numbered(CREDIT_NOTE_SERIES)
            note_total = note.totals
            rows.append(
                {
                    **common,
                    "series": CREDIT_NOTE_SERIES,
                    "number": note.number,
                    "kind": m.Invoice.CREDIT_NOTE,
                    "date": note.date,
                    "due_date": note.date,
                    "total_excl": note_total.excl,
                    "total_vat": note_total.vat,
                    "total_incl": note_total.incl,
                    "external_reference": note.external_reference or draft.invoice_number,
                    "currency_total": invoicing.in_currency(
                        spec.currency, spec.currency_total, total.incl, note_total.incl
                    ),
                }
            )
            documents.append((note.lines, note_total, note))
    ids = insert_ids(m.Invoice, rows)
    lines, vat, cancels = [], [], {}
    for (document_lines, total, document), invoice_id in zip(documents, ids, strict=True):
        document.invoice_id = invoice_id
        lines += line_rows(document_lines, invoice=invoice_id)
        vat += vat_rows(total, invoice=invoice_id)
    for draft, _ in invoiced:
        cancels.update((note.invoice_id, draft.invoice_id) for note in draft.credit_notes)
    insert_rows(m.InvoiceLine, lines)
    insert_rows(m.InvoiceVat, vat)
    if cancels:  # (the invoices' ids are known once inserted)
        m.Invoice.update(cancels=pw.Case(m.Invoice.id, list(cancels.items()))).where(
            m.Invoice.id.in_(list(cancels))
        ).execute()
    m.Invoice.update(
        status=m.Invoice.VALIDATED, validated_at=m.now(), seller=seller_identity()
    ).where(m.Invoice.id.in_(ids)).execute()


def _write_payments(invoiced) -> dict[int, list[tuple[PaymentDraft, int]]]:
    """The payments and their allocations, each invoice's followed by its credit notes'
    refunds: {id(draft or credit note): [(payment, its id)]}."""
    rows, allocations, owners = [], [], []
    for draft, total in invoiced:
        for payment in draft.payments:
            if payment.amount is None:
                payment.amount = total.incl
            owners.append((draft, draft.contact.id, draft.invoice_id, payment))
        for note in draft.credit_notes:
            if note.refund is not None:
                owners.append((note, draft.contact.id, note.invoice_id, note.refund))
    for _, contact_id, _, payment in owners:
        rows.append(
            {
                "contact": contact_id,
                "date": payment.date,
                "amount": payment.amount,
                "method": payment.method[:128],
                "reference": payment.reference[:128],
            }
        )
    if not rows:
        return {}
    ids = insert_ids(m.Payment, rows)
    found: dict[int, list[tuple[PaymentDraft, int]]] = {}
    for (owner, _, invoice_id, payment), payment_id in zip(owners, ids, strict=True):
        allocations.append({"payment": payment_id, "invoice": invoice_id, "amount": payment.amount})
        found.setdefault(id(owner), []).append((payment, payment_id))
    insert_rows(m.PaymentAllocation, allocations)
    return found


def _write_entries(invoiced, payments) -> None:
    """Each invoice's entry, then its payments' entries, then each credit note's with its
    refund's, numbered per fiscal year; a payment that settles its invoice letters the
    411 lines, as post_payment does, and so does a refund its credit note's; a credit
    note cancelling an unpaid invoice whole is lettered with it (letter_credit_note)."""
    sales = accounting._setting("accounting.sales_journal")
    bank_journal = accounting._setting("accounting.bank_journal")
    bank = accounting._setting("accounting.bank_account")
    families = accounting.product_accounts(
        {
            invoicing.product_id(line)
            for draft, _ in invoiced
            for line in draft.lines
            if invoicing.product_id(line)
        }
    )

    def family(line) -> str:
        product = invoicing.product_id(line)
        return families.get(product, "") if product else ""

    entries: list[_Entry] = []
    settled: list[tuple[str, dt.date, list[_Entry]]] = []  # (411 aux, date, entries)

    def sale(title: str, number: str, day: dt.date, lines, total: Totals, aux, invoice_id):
        label = f"{title} {number} {aux['aux_label']}"
        postings = accounting.invoice_postings(
            label,
            aux,
            total.incl,
            lines,
            [(row["account"], row["vat_amount"]) for row in vat_rows(total)],
            family,
        )
        entry = _Entry(sales, day, label, postings, number, invoice=invoice_id)
        entries.append(entry)
        return entry

    def receipt(contact, aux, payment: PaymentDraft, payment_id: int) -> _Entry:
        label = accounting.payment_label(contact, payment.amount, payment.method[:128])
        entry = _Entry(
            bank_journal,
            payment.date,
            label,
            accounting.payment_postings(label, aux, payment.account or bank, payment.amount),
            payment.reference[:128] or f"REG{payment_id}",
            payment=payment_id,
        )
        entries.append(entry)
        return entry

    for draft, total in invoiced:
        contact = draft.contact
        aux = {
            "aux_number": accounting.contact_account(contact),
            "aux_label": contact.display_name,
        }
        invoice_entry = sale(
            "Facture",
            draft.invoice_number,
            draft.invoice.date,
            draft.lines,
            total,
            aux,
            draft.invoice_id,
        )
        # the open 411 lines (entry, debit - credit): lettered together once they net to 0
        open_lines = [(invoice_entry, total.incl)]
        invoice_open = True
        for payment, payment_id in payments.get(id(draft), []):
            open_lines.append((receipt(contact, aux, payment, payment_id), -payment.amount))
            if len(open_lines) >= 2 and sum((x for _, x in open_lines), ZERO) == 0:
                settled.append((aux["aux_number"], payment.date, [e for e, _ in open_lines]))
                invoice_open = False  # (the first group lettered holds the invoice's line)
                open_lines = []
        for note in draft.credit_notes:
            note_total = note.totals
            note_entry = sale(
                "Avoir", note.number, note.date, note.lines, note_total, aux, note.invoice_id
            )
            for refund, refund_id in payments.get(id(note), []):
                refund_entry = receipt(contact, aux, refund, refund_id)
                if note_total.incl - refund.amount == 0:
                    settled.append((aux["aux_number"], refund.date, [note_entry, refund_entry]))
            if note.letters_invoice and invoice_open and total.incl + note_total.incl == 0:
                settled.append((aux["aux_number"], note.date, [invoice_entry, note_entry]))
                invoice_open = False
    _insert_entries(entries, settled)


def _insert_entries(entries: list[_Entry], settled) -> None:
    journals = {}
    for code in {entry.journal for entry in entries}:
        journal = refcache.cached(
            ("journal", code), lambda code=code: m.Journal.get_or_none(m.Journal.code == code)
        )
        if journal is None:
            raise ConnectorError(f"aucun journal {code!r} dans Gestan")
        journals[code] = journal.id
    years = {entry.date: accounting.open_year(entry.date) for entry in entries}
    counts: dict[str, int] = {}
    for entry in entries:
        entry.postings = [p for p in entry.postings if p is not None and (p.debit or p.credit)]
        debit = sum((p.debit for p in entry.postings), ZERO)
        credit = sum((p.credit for p in entry.postings), ZERO)
        if debit != credit or not entry.postings:
            raise UnbalancedEntry(
                f"l'écriture « {entry.label} » n'est pas équilibrée: débit {debit}, "
                f"crédit {credit}",
                hint="rien n'a été comptabilisé; vérifiez les lignes de TVA de la facture",
            )
        key = f"entry:{years[entry.date].code}"
        counts[key] = counts.get(key, 0) + 1
    first = reserve(counts)
    wanted: dict[str, int] = {}
    for aux, _, _ in settled:
        wanted[f"letter:{aux}"] = wanted.get(f"letter:{aux}", 0) + 1
    codes = reserve(wanted)
    for aux, when, group in settled:  # in the order the payments settled them
        code = lettering_code(codes[f"letter:{aux}"])
        codes[f"letter:{aux}"] += 1
        for entry in group:
            entry.letter = (code, when)
    today = m.now().date()
    rows = []
    for entry in entries:
        key = f"entry:{years[entry.date].code}"
        rows.append(
            {
                "journal": journals[entry.journal],
                "fiscal_year": years[entry.date].id,
                "number": first[key],
                "date": entry.date,
                "label": entry.label[:255],
                "piece_ref": entry.piece_ref,
                "piece_date": entry.date,
                "invoice": entry.invoice,
                "payment": entry.payment,
                "validated_at": today,
            }
        )
        first[key] += 1
    ids = insert_ids(m.AccountingEntry, rows)
    lines = []
    for entry, entry_id in zip(entries, ids, strict=True):
        code, when = entry.letter
        for position, p in enumerate(entry.postings, start=1):
            customer = p.account == CUSTOMERS_ACCOUNT
            lines.append(
                {
                    "entry": entry_id,
                    "position": position,
                    "account_number": p.account,
                    "account_label": accounting.account_label(p.account),
                    "aux_number": p.aux_number,
                    "aux_label": p.aux_label,
                    "label": p.label[:255],
                    "debit": p.debit,
                    "credit": p.credit,
                    "lettering": code if customer else "",
                    "lettering_date": when if customer else None,
                    "currency_amount": None,
                    "currency": "",
                }
            )
    insert_rows(m.AccountingLine, lines)
