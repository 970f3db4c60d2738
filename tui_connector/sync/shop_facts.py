"""Reference data read from the shop once per run: languages, countries, taxes, categories.

Mapping functions take these as plain data; they never query the shop.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import Translated, text
from tui_connector.prestashop.errors import PermissionDenied, UnknownResource
from tui_connector.prestashop.query import Filter, Query

FRANCE_ISO = "FR"
SHOP_DATE = "%Y-%m-%d %H:%M:%S"
# The shop's settings the flows follow; a default PrestaShop 8 install's values when the
# key may not read `configurations`.
CONFIGURATION = {
    "PS_TIMEZONE": "Europe/Paris",
    "PS_OS_CANCELED": "6",
    "PS_OS_REFUND": "7",
    "PS_OS_ERROR": "8",
    "PS_ROUND_TYPE": "2",
    "PS_PRICE_ROUND_MODE": "2",
    "PS_COUNTRY_DEFAULT": "8",
    "PS_CURRENCY_DEFAULT": "1",
    "PS_TAX_ADDRESS_TYPE": "id_address_delivery",  # the address whose country sets the tax
    # how the shop prints its invoice numbers (OrderInvoice::getInvoiceNumberFormatted):
    # its prefix, the number on 6 digits, the year where asked
    "PS_INVOICE_USE_YEAR": "0",
    "PS_INVOICE_YEAR_POS": "0",
}
# What read_facts reads: needed, and what it does without (the defaults stand)
FACTS_NEEDS = {"languages": {"get"}, "countries": {"get"}, "taxes": {"get"}, "tax_rules": {"get"}}
FACTS_OPTIONAL = {
    "configurations": {"get"},
    "currencies": {"get"},
    "translated_configurations": {"get"},
}
CATALOGUE_NEEDS = {
    "categories": {"get"},
    "product_options": {"get"},
    "product_option_values": {"get"},
}
# Settings per language: `configurations` never gives them (the real shop's fact 22),
# `translated_configurations` does, to a key allowed to read it.
TRANSLATED = ("PS_INVOICE_PREFIX", "PS_CREDIT_SLIP_PREFIX")


@dataclass
class ShopFacts:
    language: int = 1  # the shop's French language, else its first
    languages: list[int] = field(default_factory=lambda: [1])
    countries: dict[int, dict] = field(default_factory=dict)  # id -> {iso, name}
    tax_rates: dict[int, Decimal] = field(default_factory=dict)  # tax id -> rate
    group_rates: dict[int, Decimal] = field(default_factory=dict)  # tax rule group -> rate
    categories: dict[int, dict] = field(default_factory=dict)  # id -> {name, parent, depth}
    option_values: dict[int, dict] = field(default_factory=dict)  # id -> {name, group}
    option_groups: dict[int, str] = field(default_factory=dict)  # id -> public name
    configuration: dict[str, str] = field(default_factory=lambda: dict(CONFIGURATION))
    currencies: dict[int, dict] = field(default_factory=dict)  # id -> {iso, rate}
    translated: dict[str, Translated | str] | None = None  # None: the key may not read them

    @property
    def timezone(self) -> ZoneInfo:
        """Every date the Webservice gives is the shop's local time in this zone."""
        try:
            return ZoneInfo(self.configuration.get("PS_TIMEZONE") or "Europe/Paris")
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("Europe/Paris")

    def shop_time(self, stamp: str) -> dt.datetime:
        """A shop date (no offset, the shop's zone) as an aware datetime."""
        return dt.datetime.strptime(stamp[:19], SHOP_DATE).replace(tzinfo=self.timezone)

    def machine_time(self, stamp: str) -> dt.datetime:
        """A shop date in this machine's local time, to compare with Gestan's own clock."""
        return self.shop_time(stamp).astimezone().replace(tzinfo=None)

    def state_id(self, name: str) -> int:
        return int(self.configuration.get(name) or CONFIGURATION[name])

    def country_name(self, country_id: str | int) -> str:
        return self.countries.get(int(country_id or 0), {}).get("name", "")

    def country_iso(self, country_id: str | int) -> str:
        return self.countries.get(int(country_id or 0), {}).get("iso", "")

    def currency_iso(self, currency_id: str | int) -> str:
        return self.currencies.get(int(currency_id or 0), {}).get("iso", "")

    @property
    def home_currency_id(self) -> int:
        return int(self.configuration.get("PS_CURRENCY_DEFAULT") or 1)

    def translated_setting(self, name: str, language: int | str | None) -> str | None:
        """A per-language setting in `language`; None when the shop would not say."""
        if self.translated is None:
            return None
        return text(self.translated.get(name, ""), int(language or self.language))

    def invoice_number(self, number: int, date_add: str, prefix: str) -> str:
        """The shop's own invoice number as it prints it, e.g. #IN000012."""
        if self.configuration.get("PS_INVOICE_USE_YEAR") == "1":
            year = date_add[:4]
            if self.configuration.get("PS_INVOICE_YEAR_POS") == "1":
                return f"{prefix}{year}/{number:06d}"
            return f"{prefix}{number:06d}/{year}"
        return f"{prefix}{number:06d}"

    def credit_slip_number(self, slip_id: int, language: int | str | None = None) -> str:
        """The shop's credit slip number as it prints it: its prefix and id on 6 digits."""
        return f"{self.translated_setting('PS_CREDIT_SLIP_PREFIX', language) or ''}{slip_id:06d}"


def _records(client: SyncWebservice, resource: str) -> list[dict]:
    return [r for page in client.iter_pages(resource, Query(display="full")) for r in page]


def read_facts(client: SyncWebservice, *, catalogue: bool = False) -> ShopFacts:
    facts = ShopFacts()
    languages = client.list("languages", Query(display="full"))
    french = [lang for lang in languages if lang.get("iso_code") == "fr"]
    if french or languages:
        facts.language = int((french or languages)[0]["id"])
        facts.languages = sorted(int(lang["id"]) for lang in languages)
    for country in _records(client, "countries"):
        facts.countries[int(country["id"])] = {
            "iso": country.get("iso_code", ""),
            "name": text(country.get("name"), facts.language),
        }
    try:
        wanted = Query(display="full", filters={"name": Filter.any_of(CONFIGURATION)})
        for row in client.list("configurations", wanted):
            value = text(row.get("value"), facts.language)  # some are per language
            if row.get("name") in CONFIGURATION and value:
                facts.configuration[row["name"]] = value
    except (PermissionDenied, UnknownResource):
        pass  # the defaults of a PrestaShop 8 install stand
    try:
        for currency in client.list("currencies", Query(display="full")):
            facts.currencies[int(currency["id"])] = {
                "iso": currency.get("iso_code", ""),
                "rate": Decimal(currency.get("conversion_rate") or 1),
            }
    except (PermissionDenied, UnknownResource):
        pass  # orders in the shop's own currency need none; the others say so
    try:
        wanted = Query(display="full", filters={"name": Filter.any_of(TRANSLATED)})
        facts.translated = {
            row["name"]: row.get("value") or ""
            for row in client.list("translated_configurations", wanted)
            if row.get("name") in TRANSLATED
        }
    except (PermissionDenied, UnknownResource):
        pass
    for tax in client.list("taxes", Query(display="full")):
        facts.tax_rates[int(tax["id"])] = Decimal(tax.get("rate") or 0)
    # a product's rate is its tax group's rule for the shop's own country (a PrestaShop 9
    # demo shop has rules for its country only), France where that country is unknown
    home = int(facts.configuration.get("PS_COUNTRY_DEFAULT") or 0)
    if home not in facts.countries:
        home = next((cid for cid, c in facts.countries.items() if c["iso"] == FRANCE_ISO), 0)
    for rule in _records(client, "tax_rules"):
        if home and int(rule.get("id_country") or 0) not in (home, 0):
            continue
        group = int(rule.get("id_tax_rules_group") or 0)
        rate = facts.tax_rates.get(int(rule.get("id_tax") or 0))
        if rate is not None:
            facts.group_rates.setdefault(group, rate)
    if catalogue:
        for category in _records(client, "categories"):
            facts.categories[int(category["id"])] = {
                "name": text(category.get("name"), facts.language),
                "parent": int(category.get("id_parent") or 0),
                "depth": int(category.get("level_depth") or 0),
            }
        for group in client.list("product_options", Query(display="full")):
            facts.option_groups[int(group["id"])] = text(
                group.get("public_name") or group.get("name"), facts.language
            )
        for value in _records(client, "product_option_values"):
            facts.option_values[int(value["id"])] = {
                "name": text(value.get("name"), facts.language),
                "group": int(value.get("id_attribute_group") or 0),
            }
    return facts
