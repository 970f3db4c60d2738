"""User settings kept in the Gestan database: typed, validated, one registry.

Every key is declared once, below (`tui-connector settings list` shows them).
A key is either fixed (`invoices.create`) or a family with an id
(`civility.<id_gender>`, `family.<ps_category_id>`, `territory.<code>`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tui_connector.errors import SettingsError
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache

TRUE_WORDS = {"1", "true", "yes", "on", "oui", "vrai"}
FALSE_WORDS = {"0", "false", "no", "off", "non", "faux"}


def _bool(raw: str) -> str:
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise ValueError("expected true or false (oui/non, 1/0 also work)")


def _account(raw: str) -> str:
    number = raw.strip().upper()
    if not re.fullmatch(r"[1-8][0-9]{2}[0-9A-Z]{0,17}", number):
        raise ValueError(
            "expected an account number of the plan comptable, starting with its "
            "3 digits (e.g. 512000)"
        )
    return number


def _exists(model, field, what: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        code = raw.strip()
        if code and not model.select().where(field == code).exists():
            raise ValueError(f"no Gestan {what} has the code {code!r}")
        return code

    return check


def _required(check: Callable[[str], str]) -> Callable[[str], str]:
    def run(raw: str) -> str:
        if not raw.strip():
            raise ValueError("a value is needed (unset the key to remove it)")
        return check(raw)

    return run


def _territory(raw: str) -> str:
    """`country:FR,country:BE,group:3` -> the shop's countries (ISO) and customer groups (ids)."""
    tokens = [t.strip() for t in raw.split(",") if t.strip()]
    if not tokens:
        raise ValueError("expected country:<ISO code> and/or group:<id>, comma separated")
    canonical = []
    for token in tokens:
        kind, _, value = token.partition(":")
        kind = kind.strip().lower()
        value = value.strip()
        if kind == "country" and re.fullmatch(r"[A-Za-z]{2}", value):
            canonical.append(f"country:{value.upper()}")
        elif kind == "group" and value.isdigit() and int(value) > 0:
            canonical.append(f"group:{int(value)}")
        else:
            raise ValueError(
                f"{token!r} is not country:<ISO code> (e.g. country:FR) or group:<id> (group:3)"
            )
    return ",".join(dict.fromkeys(canonical))


def _siren(raw: str) -> str:
    digits = re.sub(r"\s", "", raw)
    if not digits:
        return ""  # not set
    if not re.fullmatch(r"\d{9}", digits):
        raise ValueError("a SIREN has 9 digits")
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    if total % 10:
        raise ValueError("this SIREN fails its check digit (Luhn): check for a typo")
    return digits


def _vat_number(raw: str) -> str:
    """A French VAT number: FR, a 2-digit key, the SIREN (the key checks the SIREN)."""
    value = re.sub(r"[\s.-]", "", raw).upper()
    if not value:
        return ""  # not set
    found = re.fullmatch(r"FR(\d{2})(\d{9})", value)
    if not found:
        raise ValueError("a French VAT number is FR, 2 digits and the 9 digits of the SIREN")
    key, siren = int(found.group(1)), int(found.group(2))
    if key != (12 + 3 * (siren % 97)) % 97:
        raise ValueError("the 2 digits after FR do not match the SIREN: check for a typo")
    return value


def _days(raw: str) -> str:
    value = raw.strip()
    if not value.isdigit() or int(value) > 60:
        raise ValueError("a whole number of days, from 0 to 60")
    return str(int(value))


def _minutes(raw: str) -> str:
    value = raw.strip()
    if not value.isdigit() or int(value) > 24 * 60:
        raise ValueError("a whole number of minutes, from 0 (no limit) to 1440")
    return str(int(value))


def _one_of(*choices: str) -> Callable[[str], str]:
    def check(raw: str) -> str:
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError(f"one of {', '.join(choices)}")
        return value

    return check


def _text(raw: str) -> str:
    return raw.strip()


def _series(raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z0-9-]{1,8}", value):
        raise ValueError("1 to 8 capitals, digits or dashes")
    return value


@dataclass(frozen=True)
class SettingSpec:
    pattern: str  # the key, or its family with <...>
    kind: str  # bool, text
    default: str
    description: str
    normalise: Callable[[str], str]

    @property
    def regex(self) -> re.Pattern:
        prefix, bracket, _ = self.pattern.partition("<")
        tail = r"[A-Za-z0-9_-]+" if bracket else ""
        return re.compile(re.escape(prefix) + tail + r"\Z")


def _spec(pattern, kind, default, description, normalise=None) -> SettingSpec:
    default_check = _bool if kind == "bool" else _text
    return SettingSpec(pattern, kind, default, description, normalise or default_check)


SPECS: list[SettingSpec] = [
    _spec("sync.addresses", "bool", "true", "import the customers' addresses"),
    _spec("sync.comments", "bool", "true", "copy customer messages and notes"),
    _spec("sync.phones", "bool", "true", "take phone numbers from the addresses"),
    _spec("sync.cover_images", "bool", "false", "import the products' cover images"),
    _spec("sync.attributes", "bool", "false", "import attribute groups and values"),
    _spec(
        "shipping.product",
        "text",
        "",
        "Gestan product code used for shipping lines (empty: the generic 'Frais de port' product)",
        _exists(m.Product, m.Product.code, "product"),
    ),
    _spec(
        "civility.<id_gender>",
        "text",
        "",
        "Gestan civility for a shop id_gender",
        _required(_exists(m.Civility, m.Civility.code, "civility")),
    ),
    _spec(
        "family.<ps_category_id>",
        "text",
        "",
        "Gestan family for a shop category",
        _required(_exists(m.Family, m.Family.code, "family")),
    ),
    _spec(
        "territory.<code>", "text", "", "shop countries/groups of a Gestan territory", _territory
    ),
    _spec(
        "sync.max_minutes",
        "text",
        "120",
        "a run stops between two rows after this many minutes (0: never); the next goes on",
        _minutes,
    ),
    _spec("display.only_new", "bool", "false", "list only rows not yet imported"),
    _spec("orders.customer_id_only", "bool", "false", "read orders without customer names"),
    _spec("invoices.create", "bool", "false", "validate an invoice for each imported order"),
    _spec("invoices.mark_paid", "bool", "false", "record the payment of paid orders"),
    _spec("invoices.series", "text", "FA", "invoice number prefix (series)", _series),
    _spec(
        "invoices.when",
        "text",
        "import",
        "when an order is invoiced: import (at once) or paid (once the shop has its payment)",
        _one_of("import", "paid"),
    ),
    _spec(
        "invoices.numbering",
        "text",
        "gestan",
        "who numbers invoices: gestan (its own series) or shop (the shop's invoice and credit"
        " slip numbers, when the shop is the invoicing system: Gestan issues no invoice of its"
        " own, only the credit note of a cancellation the shop made no slip for)",
        _one_of("gestan", "shop"),
    ),
    _spec(
        "invoices.shop_prefix",
        "text",
        "",
        "the prefix the shop prints its invoice numbers with (empty: the shop's"
        " PS_INVOICE_PREFIX, read from translated_configurations)",
    ),
    _spec(
        "invoices.date",
        "text",
        "order",
        "an invoice's date: order (the day it was placed) or shop (the shop's invoice date)",
        _one_of("order", "shop"),
    ),
    _spec(
        "invoices.late",
        "text",
        "hold",
        "an order older than the series' last invoice: hold (left, with the reason) or today"
        " (invoiced today, after the run's other orders)",
        _one_of("hold", "today"),
    ),
    _spec(
        "orders.lookback_days",
        "text",
        "2",
        "days before the last import that each orders run reads again for orders not yet linked",
        _days,
    ),
    _spec("accounting.enabled", "bool", "false", "post sales and bank entries"),
    _spec("accounting.bank_account", "text", "512", "bank account for payments", _account),
    _spec(
        "accounting.default_account",
        "text",
        "707",
        "sales account where no family account applies",
        _account,
    ),
    _spec(
        "payment.<module>",
        "text",
        "",
        "account for the money of a shop payment module (e.g. payment.ps_checkpayment = 5112);"
        " the bank account otherwise",
        _required(_account),
    ),
    _spec(
        "accounting.eu_account",
        "text",
        "7071",
        "sales account of goods sold without VAT to businesses of other EU countries",
        _account,
    ),
    _spec(
        "accounting.export_account",
        "text",
        "7072",
        "sales account of goods exported outside the EU, without VAT",
        _account,
    ),
    _spec("accounting.shipping_account", "text", "7085", "account for shipping", _account),
    _spec("accounting.discount_account", "text", "709", "account for discounts", _account),
    _spec(
        "accounting.sales_journal",
        "text",
        "VE",
        "sales journal code",
        _required(_exists(m.Journal, m.Journal.code, "journal")),
    ),
    _spec(
        "accounting.bank_journal",
        "text",
        "BQ",
        "bank journal code",
        _required(_exists(m.Journal, m.Journal.code, "journal")),
    ),
    _spec("company.name", "text", "", "the seller's name, printed on invoices"),
    _spec("company.siren", "text", "", "the seller's SIREN (FEC file name)", _siren),
    _spec("company.address", "text", "", "the seller's address, printed on invoices"),
    _spec(
        "company.vat_number", "text", "", "the seller's VAT number (FR + key + SIREN)", _vat_number
    ),
    _spec("company.legal_form", "text", "", "the seller's legal form (SARL, SAS, EI...)"),
    _spec("company.capital", "text", "", "the seller's share capital (e.g. 10 000 €)"),
    _spec("company.rcs", "text", "", "the seller's registration (e.g. RCS Lyon 123 456 789)"),
    _spec(
        "invoices.payment_terms",
        "text",
        "Payée à la commande",
        "payment terms printed on invoices",
    ),
    _spec(
        "invoices.late_wording",
        "text",
        "En cas de retard de paiement: pénalités au taux de trois fois l'intérêt légal et"
        " indemnité forfaitaire de 40 € pour frais de recouvrement (C. com. L441-10)",
        "late-payment wording printed on invoices",
    ),
]


def spec_for(key: str) -> SettingSpec:
    for spec in SPECS:
        if spec.regex.match(key):
            return spec
    known = ", ".join(s.pattern for s in SPECS)
    raise SettingsError(f"unknown setting {key!r}", hint=f"known keys: {known}")


def parse(spec: SettingSpec, stored: str) -> Any:
    return stored == "true" if spec.kind == "bool" else stored


def get(key: str) -> Any:
    spec = spec_for(key)
    row = m.Setting.get_or_none(m.Setting.key == key)
    return parse(spec, row.value if row else spec.default)


def get_bool(key: str) -> bool:
    value = get(key)
    if not isinstance(value, bool):
        raise SettingsError(f"{key} is not a yes/no setting")
    return value


def set_value(key: str, raw: str) -> str:
    """Validate and store a value; returns what was stored."""
    spec = spec_for(key)
    try:
        value = spec.normalise(str(raw))
    except ValueError as exc:
        raise SettingsError(f"invalid value for {key}: {exc}") from None
    with m.database_proxy.atomic():
        # Select first: MariaDB counts changed rows, not matched ones, on UPDATE.
        if m.Setting.select().where(m.Setting.key == key).exists():
            m.Setting.update(value=value).where(m.Setting.key == key).execute()
        else:
            m.Setting.create(key=key, value=value)
    refcache.clear()  # a run's cached answers may depend on it
    if key == "invoices.series":  # its counter exists before the first validation
        m.Sequence.insert(key=f"invoice:{value}", last_value=0).on_conflict_ignore().execute()
    return value


def set_many(values: list[tuple[str, str]], *, unset_keys: list[str] = ()) -> None:
    """Set several keys (and unset others) at once: every value is checked first, and
    nothing is written unless all are right (a settings screen saved in one go)."""
    checked = []
    for key, raw in values:
        spec = spec_for(key)
        try:
            checked.append((key, spec.normalise(str(raw))))
        except ValueError as exc:
            raise SettingsError(f"invalid value for {key}: {exc}") from None
    for key in unset_keys:
        spec_for(key)
    with m.database_proxy.atomic():
        for key, value in checked:
            set_value(key, value)
        for key in unset_keys:
            unset(key)


def unset(key: str) -> None:
    spec_for(key)
    m.Setting.delete().where(m.Setting.key == key).execute()
    refcache.clear()


def family_keys(prefix: str) -> dict[str, str]:
    """All stored keys of a family, e.g. prefix 'civility.' -> {'1': 'M.', ...}."""
    rows = m.Setting.select().where(m.Setting.key.startswith(prefix))
    return {row.key[len(prefix) :]: row.value for row in rows}


def listing() -> list[tuple[str, str, str]]:
    """(key, value, description) for every fixed key and every stored key."""
    stored = {row.key: row.value for row in m.Setting.select()}
    rows = []
    for spec in SPECS:
        if "<" in spec.pattern:
            for key in sorted(k for k in stored if spec.regex.match(k)):
                rows.append((key, stored[key], spec.description))
        else:
            rows.append((spec.pattern, stored.get(spec.pattern, spec.default), spec.description))
    return rows
