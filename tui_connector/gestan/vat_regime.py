"""Where the customer is, for French VAT: at home, an EU business, an EU consumer, abroad.

The invoice states what the shop charged; where the customer is decides the
wording an invoice without French VAT must bear, the sales account its goods
go to, and which sales count towards the EU's distance-selling threshold (OSS).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from tui_connector.gestan import models as m
from tui_connector.gestan.money import ZERO

# The 27 member states (ISO 3166-1 alpha-2); Greece's VAT prefix is EL, its ISO code GR.
EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
# Monaco is in the French VAT territory (convention of 1963)
DOMESTIC_COUNTRIES = frozenset({"FR", "MC"})
# Sales to consumers of other EU countries, over this in a calendar year (or the year
# before), bear the VAT of the customer's country, declared through the OSS
OSS_THRESHOLD = Decimal("10000")

DOMESTIC, EU_BUSINESS, EU_CONSUMER, EXPORT = "domestic", "eu_business", "eu_consumer", "export"
MENTIONS = {
    EU_BUSINESS: "Autoliquidation: exonération de TVA, art. 262 ter I du CGI",
    EXPORT: "Exonération de TVA, art. 262 I du CGI (exportation)",
}
ACCOUNT_SETTINGS = {EU_BUSINESS: "accounting.eu_account", EXPORT: "accounting.export_account"}


@dataclass(frozen=True)
class Regime:
    kind: str
    warning: str = ""  # what the shop owner should look at, where the shop's VAT looks wrong

    @property
    def mention(self) -> str:
        return MENTIONS.get(self.kind, "")

    @property
    def account_setting(self) -> str:
        """The setting naming the sales account of its goods ("": the family's, or 707)."""
        return ACCOUNT_SETTINGS.get(self.kind, "")


def regime_for(country_iso: str, vat_number: str, vat_charged: bool) -> Regime:
    """The regime of a sale billed to `country_iso`, from what the shop charged.

    The shop decided the VAT (its tax rules, its B2B setting); Gestan books it as
    charged and says when it does not fit where the customer is."""
    country = (country_iso or "FR").upper()
    if country in DOMESTIC_COUNTRIES:
        return Regime(DOMESTIC)
    if country in EU_COUNTRIES:
        if vat_number and not vat_charged:
            return Regime(EU_BUSINESS)
        if not vat_charged:
            return Regime(
                EU_CONSUMER,
                f"vente sans TVA à un particulier de {country} (pas de n° de TVA): la TVA est "
                "due; vérifier les règles de taxe de la boutique pour ce pays",
            )
        if vat_number:
            return Regime(
                EU_CONSUMER,
                f"client de {country} avec un n° de TVA ({vat_number}) facturé avec TVA: une "
                "vente intracommunautaire entre assujettis est exonérée (autoliquidation); "
                "la boutique l'exonère si son module TVA intracommunautaire est actif",
            )
        return Regime(EU_CONSUMER)
    if not vat_charged:
        return Regime(EXPORT)
    return Regime(
        DOMESTIC,
        f"vente hors de l'UE ({country}) facturée avec TVA française: une exportation est "
        "exonérée; vérifier les règles de taxe de la boutique pour ce pays",
    )


def eu_consumer_sales(year: int) -> Decimal:
    """Sales excl. VAT to consumers of other EU countries in a calendar year, credit
    notes taken off: what the OSS threshold is measured on."""
    invoices = m.Invoice.select(m.Invoice.total_excl).where(
        (m.Invoice.status == m.Invoice.VALIDATED)
        & (m.Invoice.vat_regime == EU_CONSUMER)
        & (m.Invoice.date >= dt.date(year, 1, 1))
        & (m.Invoice.date <= dt.date(year, 12, 31))
    )
    # summed here: SQLite would add the exact decimals as floats
    return sum((invoice.total_excl for invoice in invoices), ZERO)


def oss_warning(today: dt.date) -> str:
    """A warning when this year's or last year's EU consumer sales pass the threshold."""
    for year in (today.year, today.year - 1):
        sales = eu_consumer_sales(year)
        if sales > OSS_THRESHOLD:
            return (
                f"ventes à des particuliers d'autres pays de l'UE en {year}: {sales:.2f} € HT, "
                f"au-delà du seuil de {OSS_THRESHOLD:.0f} €: la TVA du pays du client "
                "s'applique (guichet unique OSS); la boutique doit appliquer ses taux"
            )
    return ""
