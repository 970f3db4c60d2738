"""Accounting entries: an invoice posts to VE, a payment to BQ, both balanced.

Invoice: 411 auxiliary (debit, incl. VAT) / sales accounts (credit, excl.
VAT per account: the family's, or the default 707; 7085 for shipping; 709
for discounts) / VAT collected per rate. Payment: bank (debit) / 411
(credit). Entries are numbered continuously per fiscal year, inside the
transaction that writes them; the two 411 lines are lettered together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache, settings
from tui_connector.gestan.database import insert_rows, write_transaction
from tui_connector.gestan.money import ZERO, cents
from tui_connector.gestan.numbering import lettering_code, next_value

CUSTOMERS_ACCOUNT = "411"


class UnbalancedEntry(ConnectorError):
    """An entry whose debits and credits differ: never written."""


@dataclass(frozen=True)
class Posting:
    account: str
    label: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    aux_number: str = ""
    aux_label: str = ""


def _setting(key: str):
    return refcache.cached(("setting", key), lambda: settings.get(key))


def fiscal_year_for(date: dt.date) -> m.FiscalYear:
    """The fiscal year holding `date`; a calendar year is opened when none does."""
    found = (
        m.FiscalYear.select()
        .where((m.FiscalYear.start <= date) & (m.FiscalYear.end >= date))
        .first()
    )
    if found:
        if found.closed:
            raise ConnectorError(
                f"l'exercice {found.code} est clos: rien ne peut être comptabilisé au "
                f"{date:%d/%m/%Y}"
            )
        return found
    code = str(date.year)
    m.FiscalYear.insert(
        code=code, start=dt.date(date.year, 1, 1), end=dt.date(date.year, 12, 31)
    ).on_conflict_ignore().execute()
    return m.FiscalYear.get(m.FiscalYear.code == code)


def open_year(date: dt.date) -> m.FiscalYear:
    """The open fiscal year of `date` (fiscal_year_for), the years read once a run."""
    years = refcache.cached(("fiscal_years",), lambda: list(m.FiscalYear.select()))
    year = next((y for y in years if y.start <= date <= y.end), None)
    if year is None:
        year = fiscal_year_for(date)  # opens the calendar year
        years.append(year)
    if year.closed:
        raise ConnectorError(
            f"l'exercice {year.code} est clos: rien ne peut être comptabilisé au {date:%d/%m/%Y}"
        )
    return year


def account_label(number: str) -> str:
    return refcache.cached(("account_label", number), lambda: _account_label(number))


def _account_label(number: str) -> str:
    account = m.Account.get_or_none(m.Account.number == number)
    if account:
        return account.label
    # a sub-account (512100, 707010) takes the label of its closest parent
    prefixes = [number[:n] for n in range(3, len(number))]
    parents = {a.number: a.label for a in m.Account.select().where(m.Account.number.in_(prefixes))}
    longest = max(parents, key=len, default=None)
    return parents[longest] if longest else number


def _signed(account: str, amount: Decimal, label: str, **aux) -> Posting | None:
    """A credit for a positive amount, a debit for a negative one (credit notes, discounts)."""
    if amount == 0:
        return None
    if amount > 0:
        return Posting(account, label, credit=amount, **aux)
    return Posting(account, label, debit=-amount, **aux)


def write_entry(
    journal_code: str,
    date: dt.date,
    label: str,
    postings: list[Posting],
    *,
    piece_ref: str = "",
    piece_date: dt.date | None = None,
    invoice: m.Invoice | None = None,
    payment: m.Payment | None = None,
    currency: tuple[str, Decimal] | None = None,
) -> m.AccountingEntry:
    """`currency`: (ISO code, its units for one euro) when the customer paid in another
    currency: each line then carries its amount in it (FEC Montantdevise, Idevise)."""
    postings = [p for p in postings if p is not None and (p.debit or p.credit)]
    debit = sum((p.debit for p in postings), ZERO)
    credit = sum((p.credit for p in postings), ZERO)
    if debit != credit or not postings:
        raise UnbalancedEntry(
            f"l'écriture « {label} » n'est pas équilibrée: débit {debit}, crédit {credit}",
            hint="rien n'a été comptabilisé; vérifiez les lignes de TVA de la facture",
        )
    with write_transaction():
        journal = refcache.cached(
            ("journal", journal_code), lambda: m.Journal.get_or_none(m.Journal.code == journal_code)
        )
        if journal is None:
            raise ConnectorError(f"aucun journal {journal_code!r} dans Gestan")
        year = open_year(date)
        entry = m.AccountingEntry.create(
            journal=journal,
            fiscal_year=year,
            number=next_value(f"entry:{year.code}"),
            date=date,
            label=label[:255],
            piece_ref=piece_ref,
            piece_date=piece_date or date,
            invoice=invoice,
            payment=payment,
            validated_at=m.now().date(),  # the day it was validated (FEC ValidDate)
        )
        insert_rows(  # one statement for the entry's lines
            m.AccountingLine,
            [
                {
                    "entry": entry.id,
                    "position": position,
                    "account_number": p.account,
                    "account_label": account_label(p.account),
                    "aux_number": p.aux_number,
                    "aux_label": p.aux_label,
                    "label": p.label[:255],
                    "debit": p.debit,
                    "credit": p.credit,
                    "currency_amount": cents((p.debit or p.credit) * currency[1])
                    if currency
                    else None,
                    "currency": currency[0] if currency else "",
                }
                for position, p in enumerate(postings, start=1)
            ],
        )
    return entry


def currency_of(invoice: m.Invoice | None) -> tuple[str, Decimal] | None:
    """(ISO code, units for one euro) of an invoice billed in another currency."""
    if invoice is None or not invoice.currency or not invoice.currency_total:
        return None
    if not invoice.total_incl:
        return None
    return invoice.currency, invoice.currency_total / invoice.total_incl


# The shop's rounding cent: a charge when the customer paid less, a gain when more.
ROUNDING_DEBIT, ROUNDING_CREDIT = "658", "758"


def sales_account(line, default: str, shipping: str, discount: str, family: str) -> str:
    """Where a line's amount goes: its own account, the rounding accounts, shipping,
    discounts, its product's family's (`family`, "" for none), else the default."""
    if line.account:
        return line.account
    if line.kind == m.LineKind.ROUNDING:
        return ROUNDING_CREDIT if line.total_incl > 0 else ROUNDING_DEBIT
    if line.kind == m.LineKind.SHIPPING:
        return shipping
    if line.kind == m.LineKind.DISCOUNT:
        return discount
    return family or default


def product_accounts(products) -> dict[int, str]:
    """The sales account of each product's family, or of its closest parent with one
    ("" for none), read once per run: {product: account}."""
    families = refcache.cached(
        ("families",),
        lambda: {
            family: (parent, account)
            for family, parent, account in m.Family.select(
                m.Family.id, m.Family.parent, m.Family.sales_account
            ).tuples()
        },
    )
    wanted = {p for p in products if p and not refcache.known(("product_account", p))}
    if wanted:
        query = m.Product.select(m.Product.id, m.Product.family).where(m.Product.id.in_(wanted))
        for product, family in query.tuples():
            account = ""
            while family is not None and family in families and not account:
                family, account = families[family]
            refcache.put(("product_account", product), account)
    return {p: refcache.cached(("product_account", p), lambda: "") for p in products if p}


def invoice_postings(label: str, aux: dict, total_incl: Decimal, lines, vat, families) -> list:
    """An invoice's (or a credit note's) entry: the customer for its total, each sales
    account for its lines, each VAT account for its rows ((account, amount) by rate).
    `families(line)` is the line's product's family account."""
    default = _setting("accounting.default_account")
    shipping = _setting("accounting.shipping_account")
    discount = _setting("accounting.discount_account")
    revenue: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        # a rounding line has no amount excl. VAT: its cent is the line's whole amount
        amount = line.total_incl if line.kind == m.LineKind.ROUNDING else line.total_excl
        revenue[sales_account(line, default, shipping, discount, families(line))] += amount
    postings = [_signed(CUSTOMERS_ACCOUNT, -total_incl, label, **aux)]  # a debit
    postings += [_signed(account, amount, label) for account, amount in revenue.items()]
    postings += [_signed(account or "44571", amount, label) for account, amount in vat]
    return postings


def payment_label(contact: m.Contact, amount: Decimal, method: str) -> str:
    title = "Remboursement" if amount < 0 else "Règlement"
    return f"{title} {contact.display_name} {method}".strip()


def payment_postings(label: str, aux: dict, bank: str, amount: Decimal) -> list:
    return [_signed(bank, -amount, label), _signed(CUSTOMERS_ACCOUNT, amount, label, **aux)]


def contact_account(contact: m.Contact) -> str:
    return contact.account or f"{CUSTOMERS_ACCOUNT}{contact.code}"


def _by_rate(vat: m.InvoiceVat) -> Decimal:
    return vat.rate


def post_invoice(invoice: m.Invoice) -> m.AccountingEntry:
    """Post a validated invoice (or credit note) to the sales journal."""
    if invoice.status != m.Invoice.VALIDATED:
        raise ConnectorError("seule une facture validée peut être comptabilisée")
    if m.AccountingEntry.select().where(m.AccountingEntry.invoice == invoice).exists():
        raise ConnectorError(f"la facture {invoice.number} est déjà comptabilisée")
    contact = invoice.contact
    title = "Avoir" if invoice.kind == m.Invoice.CREDIT_NOTE else "Facture"
    label = f"{title} {invoice.number} {contact.display_name}"
    aux = {"aux_number": contact_account(contact), "aux_label": contact.display_name}
    lines = list(invoice.lines.order_by(m.InvoiceLine.position))
    families = product_accounts([line.product_id for line in lines])
    postings = invoice_postings(
        label,
        aux,
        invoice.total_incl,
        lines,
        # by rate as a number (SQLite would order its text: 20 before 5.5)
        [(vat.account, vat.vat_amount) for vat in sorted(invoice.vat_lines, key=_by_rate)],
        lambda line: families.get(line.product_id, ""),
    )
    return write_entry(
        _setting("accounting.sales_journal"),
        invoice.date,
        label,
        postings,
        piece_ref=invoice.number,
        piece_date=invoice.date,
        invoice=invoice,
        currency=currency_of(invoice),
    )


def record_payment(
    invoice: m.Invoice,
    *,
    date: dt.date,
    amount: Decimal | None = None,
    method: str = "",
    reference: str = "",
) -> m.Payment:
    """A payment allocated to the invoice: its whole amount unless `amount` says what was
    paid (negative: money paid back, allocated to a credit note)."""
    paid = invoice.total_incl if amount is None else amount
    with write_transaction():
        payment = m.Payment.create(
            contact=invoice.contact,
            date=date,
            amount=paid,
            method=method[:128],
            reference=reference[:128],
        )
        m.PaymentAllocation.create(payment=payment, invoice=invoice, amount=paid)
    return payment


def post_payment(payment: m.Payment, *, account: str = "") -> m.AccountingEntry:
    """Bank debit / customer credit, lettered with the invoices it settles in full.

    `account` is where this payment's money went (a payment method's own account,
    e.g. 5112 for cheques); the bank account setting otherwise."""
    contact = payment.contact
    label = payment_label(contact, payment.amount, payment.method)
    aux = {"aux_number": contact_account(contact), "aux_label": contact.display_name}
    bank = account or _setting("accounting.bank_account")
    with write_transaction():
        entry = write_entry(
            _setting("accounting.bank_journal"),
            payment.date,
            label,
            payment_postings(label, aux, bank, payment.amount),
            piece_ref=payment.reference or f"REG{payment.id}",
            payment=payment,
            currency=currency_of(next((a.invoice for a in payment.allocations), None)),
        )
        letter_payment(payment, entry)
    return entry


def letter_payment(payment: m.Payment, entry: m.AccountingEntry) -> str | None:
    """Letter the payment's 411 line with its invoices' 411 lines when they match exactly."""
    invoices = [allocation.invoice for allocation in payment.allocations]
    if not invoices:
        return None
    # every payment of those invoices: the last of partial payments letters them all
    payments = m.PaymentAllocation.select(m.PaymentAllocation.payment).where(
        m.PaymentAllocation.invoice.in_(invoices)
    )
    where = (
        m.AccountingEntry.invoice.in_(invoices)
        | m.AccountingEntry.payment.in_(payments)
        | (m.AccountingEntry.id == entry.id)
    )
    return _letter(payment.contact, where, payment.date)


def letter_credit_note(credit_note: m.Invoice) -> str | None:
    """Letter an unpaid invoice's 411 line with the credit note that cancels it whole."""
    where = m.AccountingEntry.invoice.in_([credit_note.cancels_id, credit_note.id])
    return _letter(credit_note.contact, where, credit_note.date)


def _letter(contact: m.Contact, entries, date: dt.date) -> str | None:
    """One lettering code for the open 411 lines of `entries`, when they net to zero."""
    aux = contact_account(contact)
    customer_lines = list(
        m.AccountingLine.select()
        .join(m.AccountingEntry)
        .where(
            entries
            & (m.AccountingLine.account_number == CUSTOMERS_ACCOUNT)
            & (m.AccountingLine.aux_number == aux)
            & (m.AccountingLine.lettering == "")
        )
    )
    debit = sum((line.debit for line in customer_lines), ZERO)
    credit = sum((line.credit for line in customer_lines), ZERO)
    if debit != credit or len(customer_lines) < 2:
        return None  # a partial payment stays open until the rest arrives
    code = lettering_code(next_value(f"letter:{aux}"))
    ids = [line.id for line in customer_lines]
    m.AccountingLine.update(lettering=code, lettering_date=date).where(
        m.AccountingLine.id.in_(ids)
    ).execute()
    return code


def entry_balances(entry: m.AccountingEntry) -> bool:
    lines = list(entry.lines)
    return sum((x.debit for x in lines), ZERO) == sum((x.credit for x in lines), ZERO)


def balances() -> tuple[dict[str, Decimal], Decimal]:
    """(411 per auxiliary account, the balance of the 51x bank accounts), debit - credit."""
    customers: dict[str, Decimal] = defaultdict(lambda: ZERO)
    bank = ZERO
    lines = m.AccountingLine.select(
        m.AccountingLine.account_number,
        m.AccountingLine.aux_number,
        m.AccountingLine.debit,
        m.AccountingLine.credit,
    ).tuples()
    for account, aux, debit, credit in lines:
        if account == CUSTOMERS_ACCOUNT:
            customers[aux] += debit - credit
        elif account.startswith("51"):
            bank += debit - credit
    return dict(customers), bank


OPENING_JOURNAL = ("AN", "À-nouveaux")
OPENING_ACCOUNT = "890"  # bilan d'ouverture: the counterpart of the balances carried


def close_year(code: str) -> m.AccountingEntry | None:
    """Close a fiscal year: no entry can be posted in it afterwards (the database refuses
    it, gestan/guards.py), and the customers' balances (411, per auxiliary account) open
    the next year, dated its first day, in the AN journal. Returns that opening entry."""
    with write_transaction():
        year = m.FiscalYear.get_or_none(m.FiscalYear.code == code)
        if year is None:
            raise ConnectorError(f"aucun exercice {code!r} dans Gestan")
        if year.closed:
            raise ConnectorError(f"l'exercice {code} est déjà clos")
        balances: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        lines = (
            m.AccountingLine.select(
                m.AccountingLine.aux_number,
                m.AccountingLine.aux_label,
                m.AccountingLine.debit,
                m.AccountingLine.credit,
            )
            .join(m.AccountingEntry)
            .where(
                (m.AccountingEntry.fiscal_year == year)
                & (m.AccountingLine.account_number == CUSTOMERS_ACCOUNT)
            )
            .tuples()
        )
        for aux, aux_label, debit, credit in lines:
            balances[(aux, aux_label)] += debit - credit
        postings = []
        label = f"À-nouveaux {code}"
        for (aux, aux_label), balance in sorted(balances.items()):
            postings.append(
                _signed(CUSTOMERS_ACCOUNT, -balance, label, aux_number=aux, aux_label=aux_label)
            )
        total = sum(balances.values(), ZERO)
        postings.append(_signed(OPENING_ACCOUNT, total, label))
        opening_day = year.end + dt.timedelta(days=1)
        fiscal_year_for(opening_day)  # the next year, opened if need be
        entry = None
        if any(p is not None for p in postings[:-1]):
            if not m.Journal.select().where(m.Journal.code == OPENING_JOURNAL[0]).exists():
                m.Journal.create(code=OPENING_JOURNAL[0], label=OPENING_JOURNAL[1])
            refcache.clear()
            entry = write_entry(
                OPENING_JOURNAL[0], opening_day, label, postings, piece_ref=f"AN{code}"
            )
        m.FiscalYear.update(closed=True).where(m.FiscalYear.id == year.id).execute()
    refcache.clear()  # the years read for this run are not what they were
    return entry
