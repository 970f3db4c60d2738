"""What `tui-connector check` tells the shop owner beyond the key's rights: the shop's
VAT choices that French practice would make otherwise, and what the books show."""

from __future__ import annotations

import datetime as dt

from tui_connector.gestan import vat_regime
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import text
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.mapping import genders_in_use
from tui_connector.sync.shop_facts import ShopFacts, read_facts


def _percent(rate) -> str:
    return f"{rate.normalize():f} %".replace(".", ",")


def shipping_advice(client: SyncWebservice, facts: ShopFacts | None = None) -> list[str]:
    """A carrier whose tax rule charges shipping at a rate some of the goods do not have.

    French practice makes shipping follow the goods (pro rata when rates are mixed);
    PrestaShop charges it at the carrier's own rule; orders of those goods alone then
    carry shipping at another rate: Gestan books it as charged and says so. (The
    cart's average rate, PS_ATCP_SHIPWRAP, would give a rate of no law: not advised.)"""
    facts = facts or read_facts(client)
    products = client.list(
        "products",
        Query(display=("id", "id_tax_rules_group"), filters={"active": Filter.equals(1)}),
    )
    goods = {
        facts.group_rates[int(p.get("id_tax_rules_group") or 0)]
        for p in products
        if int(p.get("id_tax_rules_group") or 0) in facts.group_rates
    }
    said = []
    for carrier in client.list("carriers", Query(display="full")):
        if str(carrier.get("deleted")) == "1" or str(carrier.get("active", "1")) == "0":
            continue
        rate = facts.group_rates.get(int(carrier.get("id_tax_rules_group") or 0))
        others = sorted(goods - {rate}) if rate is not None else []
        if rate is None or not others:
            continue
        said.append(
            f"le transporteur « {text(carrier.get('name'), facts.language)} » facture le port à "
            f"{_percent(rate)} quand des produits sont à {', '.join(map(_percent, others))}: "
            "en France le port suit le taux des produits. Gestan garde ce que la boutique a "
            "facturé; dans la boutique, la règle de taxe du transporteur peut suivre celle "
            "de ses produits (Transport > Transporteurs)"
        )
    return said


def civility_advice(client: SyncWebservice) -> list[str]:
    """Genders of the shop's customers no Gestan civility stands for: those customers
    would get none."""
    return [
        f"{use.customers} client(s) ont le genre {use.id_gender}, sans civilité Gestan: "
        f"réglez civility.{use.id_gender} (onglet Civilités)"
        for use in genders_in_use(client)
        if use.id_gender != "0" and not use.civility
    ]


def books_advice(today: dt.date) -> list[str]:
    """What the Gestan books say the shop owner must look at."""
    return [warning for warning in (vat_regime.oss_warning(today),) if warning]
