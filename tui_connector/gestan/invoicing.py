"""Invoices: built from lines whose totals come from the shop, numbered on validation.

Rules (docs/ACCOUNTING.md): a number is given when the invoice is validated,
from a continuous series, inside the validating transaction; a validated
invoice is never edited nor deleted, a credit note cancels it; every line,
shipping included, is at the rate the shop charged.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache, settings
from tui_connector.gestan.database import write_transaction
from tui_connector.gestan.money import ZERO, cents
from tui_connector.gestan.numbering import next_value


class InvoiceLocked(ConnectorError):
    """A validated invoice was about to be changed or deleted."""


CREDIT_NOTE_SERIES = "AV"


@dataclass(frozen=True)
class LineInput:
    kind: str
    label: str
    quantity: Decimal
    unit_price_excl: Decimal
    vat_rate: Decimal
    total_excl: Decimal
    total_incl: Decimal
    product: m.Product | int | None = None  # the Gestan product, or its id
    account: str = ""


def guard_invoice_change(invoice: m.Invoice) -> None:
    if invoice.id is None:
        return
    stored = m.Invoice.select(m.Invoice.status).where(m.Invoice.id == invoice.id).scalar()
    if stored == m.Invoice.VALIDATED:
        raise InvoiceLocked(
            f"la facture {invoice.number} est validée et ne peut plus être modifiée",
            hint="émettez un avoir pour l'annuler",
        )


def guard_invoice_delete(invoice: m.Invoice) -> None:
    if invoice.status == m.Invoice.VALIDATED or invoice.number:
        raise InvoiceLocked(
            f"la facture {invoice.number} est validée et ne peut pas être supprimée",
            hint="émettez un avoir pour l'annuler",
        )


def split_pro_rata(amount: Decimal, weights: dict[Decimal, Decimal]) -> dict[Decimal, Decimal]:
    """Split `amount` (cents) over keys in proportion to `weights`, summing exactly.

    Largest remainder: each share is rounded down to the cent, and the cents
    left over go to the largest remainders, so no cent appears or vanishes.
    """
    total_weight = sum(weights.values(), ZERO)
    if not weights or total_weight == 0:
        raise ValueError("rien sur quoi répartir")
    sign = -1 if amount < 0 else 1
    whole_cents = int(abs(cents(amount)) * 100)
    raw = {key: Decimal(whole_cents) * w / total_weight for key, w in weights.items()}
    floors = {key: int(value) for key, value in raw.items()}
    left = whole_cents - sum(floors.values())
    by_remainder = sorted(raw, key=lambda key: (raw[key] - floors[key], key), reverse=True)
    for key in by_remainder[:left]:
        floors[key] += 1
    return {key: sign * Decimal(value) / 100 for key, value in floors.items()}


def vat_breakdown(lines: list[LineInput]) -> dict[Decimal, tuple[Decimal, Decimal]]:
    """{rate: (base excl. VAT, VAT)}: what the customer was charged, rate by rate.

    Amounts are the shop's: each line at its own rate (the goods, the goods' discount
    shared over their rates, shipping at the rate the shop charged it), and a rate's VAT
    is what its lines add up to incl. minus excl., so the invoice's total is the shop's.
    The shop's rounding cent is no VAT and is in no row.
    """
    base: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    incl: dict[Decimal, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        if line.kind == m.LineKind.ROUNDING:
            continue
        rate = Decimal(line.vat_rate).quantize(Decimal("0.001"))
        base[rate] += line.total_excl
        incl[rate] += line.total_incl
    return {
        rate: (base[rate], incl[rate] - base[rate])
        for rate in sorted(base)
        if base[rate] or incl[rate]
    }


@dataclass(frozen=True)
class Totals:
    """A document's totals, summed once from its lines: what an order, its invoice and
    the invoice's VAT rows say."""

    excl: Decimal
    incl: Decimal  # the lines', the shop's rounding cent included
    vat: Decimal  # the VAT rows' (the rounding cent is in none)
    breakdown: dict[Decimal, tuple[Decimal, Decimal]]  # {rate: (base, VAT)}

    @classmethod
    def of(cls, lines: list[LineInput]) -> Totals:
        breakdown = vat_breakdown(lines)
        return cls(
            sum((line.total_excl for line in lines), ZERO),
            sum((line.total_incl for line in lines), ZERO),
            sum((vat for _, vat in breakdown.values()), ZERO),
            breakdown,
        )


def line_rows(lines: list[LineInput], *, account: bool = True, **parent) -> list[dict]:
    """The rows of a document's lines, numbered from 1: an order's (no account) or an
    invoice's, written by one insert."""
    rows = []
    for position, line in enumerate(lines, start=1):
        product = line.product.id if isinstance(line.product, m.Product) else line.product
        row = {
            **parent,
            "position": position,
            "kind": line.kind,
            "product": product,
            "label": line.label,
            "quantity": line.quantity,
            "unit_price_excl": line.unit_price_excl,
            "vat_rate": line.vat_rate,
            "total_excl": line.total_excl,
            "total_incl": line.total_incl,
        }
        if account:
            row["account"] = line.account
        rows.append(row)
    return rows


def vat_rows(totals: Totals, **parent) -> list[dict]:
    return [
        {
            **parent,
            "rate": rate,
            "base_excl": base,
            "vat_amount": vat,
            "account": vat_account_for(rate),
        }
        for rate, (base, vat) in totals.breakdown.items()
    ]


def billing_address(order) -> str:
    """The billing address an invoice prints, from its order (a model or its values)."""
    get = order.get if isinstance(order, dict) else lambda name: getattr(order, name)
    return "\n".join(
        part
        for part in (
            get("billing_company"),
            get("billing_line1"),
            get("billing_line2"),
            f"{get('billing_postcode')} {get('billing_city')}".strip(),
            get("billing_country"),
        )
        if part
    )


def vat_account_for(rate: Decimal) -> str:
    def load() -> str:
        vat = m.VatRate.get_or_none(m.VatRate.rate == rate)
        return vat.account if vat else "44571"

    return refcache.cached(("vat_account", rate), load)


def create_draft(
    contact: m.Contact,
    lines: list[LineInput],
    *,
    date: dt.date,
    series: str = "FA",
    order: m.SalesOrder | None = None,
    external_reference: str = "",
    kind: str = m.Invoice.INVOICE,
    cancels: m.Invoice | None = None,
    customer_vat_number: str = "",
    vat_regime: str = "",
    vat_mention: str = "",
    currency: str = "",
    currency_total: Decimal | None = None,
) -> m.Invoice:
    billing = billing_address(order) if order is not None else ""
    totals = Totals.of(lines)
    invoice = m.Invoice.create(
        series=series,
        kind=kind,
        contact=contact,
        order=order,
        cancels=cancels,
        date=date,
        due_date=date,
        billing_name=(order.billing_name if order else contact.display_name),
        billing_address=billing,
        total_excl=totals.excl,
        total_vat=totals.vat,
        total_incl=totals.incl,  # the VAT rows, and the shop's rounding cent if any
        external_reference=external_reference,
        customer_vat_number=customer_vat_number,
        vat_regime=vat_regime,
        vat_mention=vat_mention,
        currency=currency,
        currency_total=currency_total,
    )
    if lines:
        m.InvoiceLine.insert_many(line_rows(lines, invoice=invoice.id)).execute()
    if totals.breakdown:
        m.InvoiceVat.insert_many(vat_rows(totals, invoice=invoice.id)).execute()
    return invoice


# What an invoice must say of its seller (CGI annexe II art. 242 nonies A, C. com.
# L441-9), as set when it is validated: a later change of address never rewrites it.
SELLER_SETTINGS = (
    "company.name",
    "company.address",
    "company.siren",
    "company.vat_number",
    "company.legal_form",
    "company.capital",
    "company.rcs",
    "invoices.payment_terms",
    "invoices.late_wording",
)


def seller_identity() -> str:
    """The seller's identity and terms, as JSON: {"name": ..., "vat_number": ...}."""

    def load() -> str:
        found = {key.partition(".")[2]: settings.get(key) for key in SELLER_SETTINGS}
        return json.dumps(found, ensure_ascii=False, sort_keys=True)

    return refcache.cached(("seller_identity",), load)


def validate(invoice: m.Invoice, *, number: str | None = None) -> m.Invoice:
    """Give the invoice its number, in the same transaction as the validation: the
    series' next, or `number` where another system (the shop) numbered it."""
    with write_transaction():
        current = m.Invoice.get_by_id(invoice.id)
        if current.status == m.Invoice.VALIDATED:
            raise InvoiceLocked(f"la facture {current.number} est déjà validée")
        if number is None:
            sequence = next_value(f"invoice:{current.series}")
            number = f"{current.series}{sequence:06d}"
        elif m.Invoice.select().where(m.Invoice.number == number).exists():
            raise ConnectorError(
                f"le numéro {number} est déjà celui d'une autre facture Gestan",
                hint="la boutique et Gestan ont tous deux numéroté des factures avec ce préfixe: "
                "donnez un autre préfixe à la série Gestan (invoices.series) ou à celle de la "
                "boutique (PS_INVOICE_PREFIX)",
            )
        current.number = number
        current.status = m.Invoice.VALIDATED
        current.validated_at = m.now()
        current.seller = seller_identity()
        current.save()
    return current


def issue(
    contact: m.Contact, lines: list[LineInput], *, number: str | None = None, **kwargs
) -> m.Invoice:
    """Create and validate at once: a draft never outlives its transaction."""
    with write_transaction():
        return validate(create_draft(contact, lines, **kwargs), number=number)


def product_id(line: m.InvoiceLine | LineInput) -> int | None:
    product = line.product_id if isinstance(line, m.InvoiceLine) else line.product
    return product.id if isinstance(product, m.Product) else product


def line_input(line: m.InvoiceLine) -> LineInput:
    """An invoice's stored line, as the line it was written from."""
    return LineInput(
        kind=line.kind,
        label=line.label,
        quantity=line.quantity,
        unit_price_excl=line.unit_price_excl,
        vat_rate=line.vat_rate,
        total_excl=line.total_excl,
        total_incl=line.total_incl,
        product=line.product_id,
        account=line.account,
    )


def _line_key(line) -> tuple:
    return (
        line.kind,
        product_id(line),
        Decimal(line.vat_rate).quantize(Decimal("0.001")),
        line.label,
    )


def remaining(invoice: m.Invoice) -> list[LineInput]:
    """What the invoice still bills once its credit notes are taken off, line by line."""
    lines = m.InvoiceLine.select().where(m.InvoiceLine.invoice == invoice)
    credited = (
        m.InvoiceLine.select()
        .join(m.Invoice)
        .where((m.Invoice.cancels == invoice) & (m.Invoice.status == m.Invoice.VALIDATED))
    )
    return left_to_credit(
        [line_input(line) for line in lines.order_by(m.InvoiceLine.position)],
        [line_input(line) for line in credited],
    )


def left_to_credit(billed: list[LineInput], credited: list[LineInput]) -> list[LineInput]:
    """What lines `billed` still bill once `credited` (credit notes' lines, negative) are
    taken off, line by line (a line is known by its kind, product, rate and label):
    positive amounts, in the order the lines were billed."""
    left: dict[tuple, list] = {}
    for line in billed:
        key = _line_key(line)
        if key in left:
            for index, value in enumerate(
                (line.quantity, line.total_excl, line.total_incl), start=1
            ):
                left[key][index] += value
        else:
            left[key] = [line, line.quantity, line.total_excl, line.total_incl]
    for line in credited:
        entry = left.get(_line_key(line))
        if entry is not None:  # credit notes carry negative amounts
            entry[1] += line.quantity
            entry[2] += line.total_excl
            entry[3] += line.total_incl
    return [
        replace(
            line,
            quantity=quantity,
            total_excl=excl,
            total_incl=incl,
            product=product_id(line),
        )
        for line, quantity, excl, incl in left.values()
        if excl or incl
    ]


def within_remaining(
    invoice: m.Invoice, lines: list[LineInput], *, tolerance: Decimal = Decimal("0.02")
) -> list[LineInput]:
    """`lines` to credit, converted from another currency: each one within `tolerance`
    of what the invoice still bills for it is that (a conversion's cents), never more;
    when that credits every line still billed, the conversion's cents go with them."""
    left = {_line_key(line): line for line in remaining(invoice)}
    cut, credited = [], set()
    for line in lines:
        key = _line_key(line)
        still = left.get(key)
        if still is not None:
            close = abs(line.total_incl - still.total_incl) <= tolerance
            line = replace(
                line,
                total_excl=still.total_excl if close else min(line.total_excl, still.total_excl),
                total_incl=still.total_incl if close else min(line.total_incl, still.total_incl),
            )
            if close:
                credited.add(key)
        cut.append(line)
    rest = [x for key, x in left.items() if key not in credited]
    if rest and all(x.kind == m.LineKind.ROUNDING for x in rest):
        cut += rest
    return cut


def credit_note(
    invoice: m.Invoice,
    lines: list[LineInput],
    *,
    date: dt.date,
    external_reference: str = "",
    number: str | None = None,
    series: str = CREDIT_NOTE_SERIES,
) -> m.Invoice:
    """A credit note (avoir) for some of a validated invoice: `lines` with the amounts
    credited, positive; never more than the invoice still bills, line by line. It says
    what the invoice said of where the customer is and of the currency."""
    if invoice.status != m.Invoice.VALIDATED:
        raise ConnectorError("seule une facture validée demande un avoir; supprimez le brouillon")
    negative = credit_lines(remaining(invoice), lines, invoice.number)
    return issue(
        invoice.contact,
        negative,
        date=date,
        series=series,
        order=invoice.order,
        kind=m.Invoice.CREDIT_NOTE,
        cancels=invoice,
        external_reference=external_reference or invoice.number,
        number=number,
        customer_vat_number=invoice.customer_vat_number,
        vat_regime=invoice.vat_regime,
        vat_mention=invoice.vat_mention,
        currency=invoice.currency,
        currency_total=in_currency(
            invoice.currency,
            invoice.currency_total,
            invoice.total_incl,
            sum((x.total_incl for x in negative), ZERO),
        ),
    )


def credit_lines(left: list[LineInput], lines: list[LineInput], number: str) -> list[LineInput]:
    """A credit note's lines (negative amounts) for `lines` credited (positive) out of
    what invoice `number` still bills (`left`): never more, line by line."""
    left_by_key = {_line_key(line): line for line in left}
    for line in lines:
        still = left_by_key.get(_line_key(line))
        too_much = still is None or any(
            abs(getattr(line, name)) > abs(getattr(still, name))
            for name in ("total_excl", "total_incl")
        )
        if too_much:
            raise ConnectorError(
                f"un avoir de {line.total_incl:.2f} pour « {line.label} » dépasse ce que la "
                f"facture {number} facture encore pour cette ligne",
                hint="rien n'a été écrit; le remboursement de la boutique et la facture Gestan "
                "diffèrent",
            )
    still = sum((line.total_incl for line in left), ZERO)
    asked = sum((line.total_incl for line in lines), ZERO)
    if asked > still:
        raise ConnectorError(
            f"un avoir de {asked:.2f} dépasse ce que la facture {number} facture "
            f"encore ({still:.2f})",
            hint="rien n'a été écrit; la boutique a remboursé plus que ce qui a été facturé au "
            "client (un bon de réduction oublié dans le remboursement?): refaites le "
            "remboursement dans la boutique",
        )
    negative = [
        replace(
            line, quantity=-line.quantity, total_excl=-line.total_excl, total_incl=-line.total_incl
        )
        for line in lines
        if line.total_excl or line.total_incl
    ]
    if not negative:
        raise ConnectorError(f"rien à créditer sur la facture {number}")
    return negative


def in_currency(
    currency: str, currency_total: Decimal | None, total_incl: Decimal, euros: Decimal
) -> Decimal | None:
    """An amount of an invoice (its `currency_total` in `currency` for `total_incl` euros)
    in the customer's currency, at the invoice's own rate."""
    if not currency or not currency_total or not total_incl:
        return None
    return cents(euros * currency_total / total_incl)


def cancel(invoice: m.Invoice, *, date: dt.date | None = None) -> m.Invoice:
    """Issue the credit note (avoir) that cancels what a validated invoice still bills."""
    if invoice.status != m.Invoice.VALIDATED:
        raise ConnectorError("seule une facture validée demande un avoir; supprimez le brouillon")
    left = remaining(invoice)
    if not left:
        raise ConnectorError(f"la facture {invoice.number} est déjà annulée par un avoir")
    return credit_note(invoice, left, date=date or dt.date.today())
