"""Special prices: Gestan's territory prices <-> the shop's specific prices, both ways.

A Gestan territory stands for some of the shop's countries and/or customer
groups (`territory.<code>` = "country:FR,group:3"). A Gestan special price
becomes one specific price per country or group; a specific price made in
the shop for a mapped country or group becomes a Gestan special price. A
specific price with no mapped territory (a customer's own price, a
catalogue rule, another country) is listed as not managed and left alone.

Links: one per country or group, resource "specific_prices:<token>", so a
Gestan special price can stand for several shop specific prices.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.links import links_under, save_link
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.query import Filter
from tui_connector.sync.core import (
    MAPPING_ERRORS,
    Action,
    Origin,
    Outcome,
    Row,
    RowResult,
    content_hash,
    two_way,
)
from tui_connector.sync.shop_facts import ShopFacts
from tui_connector.sync.status import Status

SIX = Decimal("0.000001")
NO_DATE = "0000-00-00 00:00:00"
NOT_IN_SHOP = (0, 0)  # the product of a Gestan special price the shop has not yet


@dataclass
class SpecialPricePayload:
    """A special price row: its terms as both sides compare them, and where it comes from."""

    terms: PriceTerms | str  # the words of what could not be read, for a shop record
    token: str | None  # the country or group it is for ("country:BE")
    specific: dict | None = None  # the shop's specific_price, if it has one
    gestan_product: int | None = None  # the Gestan product of the shop record's product


@dataclass(frozen=True)
class PriceTerms:
    """A special price as both sides can compare it."""

    kind: str  # "price" (a fixed price excl. VAT), "percent" or "amount" (off, excl. VAT)
    value: Decimal
    min_quantity: int
    date_from: str  # "YYYY-MM-DD HH:MM:SS" or ""
    date_to: str

    def digest(self) -> str:
        return content_hash(
            [self.kind, str(self.value), self.min_quantity, self.date_from, self.date_to]
        )

    def label(self) -> str:
        percent = format(self.value.normalize(), "f")
        value = {
            "price": f"{self.value:.2f} HT",
            "percent": f"-{percent} %",
            "amount": f"-{self.value:.2f} HT",
        }[self.kind]
        period = ""
        if self.date_from or self.date_to:
            period = f" du {self.date_from[:10] or '…'} au {self.date_to[:10] or '…'}"
        return f"{value} dès {self.min_quantity}{period}"


def territory_tokens() -> dict[str, list[str]]:
    """{territory code: ["country:FR", "group:3", ...]} from the settings."""
    return {
        code: value.split(",")
        for code, value in settings.family_keys("territory.").items()
        if value
    }


def token_of(specific: dict, facts: ShopFacts) -> str | None:
    """The country or group a shop specific price is for, if only that varies (pure)."""
    if any(
        specific.get(k, "0") not in ("0", "")
        for k in ("id_customer", "id_cart", "id_specific_price_rule")
    ):
        return None
    country, group = int(specific.get("id_country") or 0), int(specific.get("id_group") or 0)
    if country and not group:
        iso = facts.country_iso(country)
        return f"country:{iso}" if iso else None
    if group and not country:
        return f"group:{group}"
    return None


def shop_terms(specific: dict) -> PriceTerms | str:
    """The terms of a shop specific price, or why they cannot be carried (pure)."""
    price = Decimal(specific.get("price") or "-1")
    reduction = Decimal(specific.get("reduction") or "0")
    kind = specific.get("reduction_type") or "amount"
    dates = tuple(
        "" if (specific.get(k) or NO_DATE) == NO_DATE else specific[k] for k in ("from", "to")
    )
    quantity = int(specific.get("from_quantity") or 1)
    if price >= 0 and reduction == 0:
        return PriceTerms("price", price.quantize(SIX), quantity, *dates)
    if price >= 0:
        return "prix fixe et réduction à la fois"
    if kind == "percentage":
        return PriceTerms("percent", (reduction * 100).quantize(Decimal("0.001")), quantity, *dates)
    if specific.get("reduction_tax", "1") == "1":
        return "réduction en montant TTC (Gestan tient ses prix HT)"
    return PriceTerms("amount", reduction.quantize(SIX), quantity, *dates)


def gestan_terms(special: m.SpecialPrice) -> PriceTerms:
    def stamp(value) -> str:
        return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""

    if special.price_excl is not None:
        kind, value = "price", special.price_excl.quantize(SIX)
    elif special.discount_percent is not None:
        kind, value = "percent", special.discount_percent.quantize(Decimal("0.001"))
    else:
        kind, value = "amount", (special.discount_amount or Decimal(0)).quantize(SIX)
    return PriceTerms(
        kind, value, int(special.min_quantity), stamp(special.date_from), stamp(special.date_to)
    )


def shop_record(
    terms: PriceTerms, token: str, product_id: int, attribute_id: int, facts: ShopFacts
) -> dict:
    """A specific_prices document for one country or group (pure)."""
    kind, _, value = token.partition(":")
    country = (
        next((cid for cid, c in facts.countries.items() if c["iso"] == value), None)
        if kind == "country"
        else 0
    )
    if country is None:
        raise ConnectorError(f"le pays {value} n'existe pas dans la boutique")
    record = {
        "id_shop_group": "0",
        "id_shop": "0",
        "id_cart": "0",
        "id_product": str(product_id),
        "id_product_attribute": str(attribute_id),
        "id_currency": "0",
        "id_country": str(country),
        "id_group": value if kind == "group" else "0",
        "id_customer": "0",
        "id_specific_price_rule": "0",
        "from_quantity": str(terms.min_quantity),
        "reduction_tax": "0",
        "from": terms.date_from or NO_DATE,
        "to": terms.date_to or NO_DATE,
    }
    if terms.kind == "price":
        record.update(price=str(terms.value), reduction="0.000000", reduction_type="amount")
    elif terms.kind == "percent":
        record.update(
            price="-1.000000",
            reduction=str((terms.value / 100).quantize(SIX)),
            reduction_type="percentage",
        )
    else:
        record.update(price="-1.000000", reduction=str(terms.value), reduction_type="amount")
    return record


def _parse_stamp(value: str):
    return dt.datetime.strptime(value, "%Y-%m-%d %H:%M:%S") if value else None


def resource_for(token: str) -> str:
    return f"specific_prices:{token}"


class SpecialPrices:
    """The special-price part of the products flow."""

    def __init__(self, client: SyncWebservice, facts: ShopFacts):
        self.client, self.facts = client, facts

    def read(self, product_links: dict[tuple[int, int], int]) -> list[Row]:
        tokens = territory_tokens()
        territory_of = {token: code for code, items in tokens.items() for token in items}
        gestan_for_shop = product_links
        shop_for_gestan = {gid: key for key, gid in product_links.items()}
        specifics = [s for page in self.client.iter_pages("specific_prices") for s in page]
        links = links_under("specific_prices:")
        specials = {
            s.id: s for s in m.SpecialPrice.select(m.SpecialPrice, m.Territory).join(m.Territory)
        }
        rows: list[Row] = []
        covered: set[tuple[int, str]] = set()  # (Gestan special price, token) already in shop
        for specific in specifics:
            shop_id = int(specific["id"])
            product = (
                int(specific.get("id_product") or 0),
                int(specific.get("id_product_attribute") or 0),
            )
            token = token_of(specific, self.facts)
            territory = territory_of.get(token or "")
            try:
                terms = shop_terms(specific)
            except MAPPING_ERRORS as exc:
                terms = f"données illisibles ({type(exc).__name__})"
            base = {
                "key": f"sp:shop:{shop_id}",
                "origin": Origin.SHOP,
                "shop_id": product[0],
                "shop_sub_id": product[1],
                "columns": {
                    "code": f"PS {shop_id}",
                    "label": "  prix spécial "
                    + (terms.label() if isinstance(terms, PriceTerms) else ""),
                    "price": "",
                },
                "payload": SpecialPricePayload(terms, token, specific),
                "of_product": product,
                "territory": territory,
            }
            link = links.get(shop_id)
            if territory is None or isinstance(terms, str):
                reason = (
                    terms
                    if isinstance(terms, str)
                    else (
                        "client, règle de catalogue ou pays/groupe sans territoire: laissé tel quel"
                    )
                )
                rows.append(Row(status=Status.UNMANAGED, reason=reason, **base))
                continue
            gestan_product = gestan_for_shop.get(product)
            twin = (
                None
                if link is not None
                else next(
                    (
                        s
                        for s in specials.values()
                        if s.product_id == gestan_product
                        and s.territory.code == territory
                        and (s.id, token) not in covered
                        and gestan_terms(s) == terms
                    ),
                    None,
                )
            )
            if twin is not None:  # made by us before the answer was lost: link, not twice
                covered.add((twin.id, token))
                rows.append(
                    Row(
                        status=Status.UP_TO_DATE,
                        action=Action.LINK,
                        gestan_id=twin.id,
                        reason="lié: mêmes conditions",
                        **base,
                    )
                )
                continue
            if link is not None and link.gestan_id in specials:
                special = specials[link.gestan_id]
                covered.add((special.id, token))
                same = gestan_terms(special) == terms
                change = two_way(link, terms.digest(), special.updated_at, same)
                rows.append(
                    Row(
                        status=change.status,
                        action=change.action,
                        conflict=change.conflict,
                        reason=change.reason,
                        gestan_id=special.id,
                        **base,
                    )
                )
            elif gestan_product is None:
                rows.append(
                    Row(
                        status=Status.BLOCKED,
                        blocked=True,
                        reason="produit pas encore lié à Gestan",
                        **base,
                    )
                )
            else:
                rows.append(
                    Row(
                        status=Status.ADD_GESTAN,
                        action=Action.CREATE_GESTAN,
                        gestan_id=None,
                        **base,
                    )
                )
                base["payload"].gestan_product = gestan_product
        for special in specials.values():
            key = shop_for_gestan.get(special.product_id)
            for token in tokens.get(special.territory.code, []):
                if (special.id, token) in covered:
                    continue
                terms = gestan_terms(special)
                payload = SpecialPricePayload(terms, token)
                columns = {
                    "code": special.territory.code,
                    "price": "",
                    "label": f"  prix spécial {terms.label()} ({token})",
                }
                if key is None:
                    rows.append(
                        Row(
                            key=f"sp:gestan:{special.id}:{token}",
                            origin=Origin.GESTAN,
                            status=Status.BLOCKED,
                            blocked=True,
                            gestan_id=special.id,
                            reason="produit pas encore dans la boutique",
                            columns=columns,
                            payload=payload,
                            territory=special.territory.code,
                            of_product=NOT_IN_SHOP,
                        )
                    )
                    continue
                rows.append(
                    Row(
                        key=f"sp:gestan:{special.id}:{token}",
                        origin=Origin.GESTAN,
                        status=Status.ADD_SHOP,
                        action=Action.CREATE_SHOP,
                        shop_id=key[0],
                        shop_sub_id=key[1],
                        gestan_id=special.id,
                        columns=columns,
                        payload=payload,
                        territory=special.territory.code,
                        of_product=key,
                    )
                )
        return rows

    def apply(self, row: Row) -> RowResult:
        action = row.action
        if row.conflict:
            action = (
                Action.UPDATE_GESTAN if row.choices.get("winner") == "shop" else Action.UPDATE_SHOP
            )
        token = row.payload.token
        territory = row.territory
        message = f"territoire {territory} ({token})"
        if action == Action.LINK:
            terms = row.payload.terms
            save_link(
                resource_for(token),
                int(row.payload.specific["id"]),
                0,
                row.gestan_id,
                digest=terms.digest(),
            )
            return RowResult.of(row, Outcome.UPDATED, message + ": lié")
        if action in (Action.CREATE_GESTAN, Action.UPDATE_GESTAN):
            terms: PriceTerms = row.payload.terms
            special = (
                m.SpecialPrice.get_or_none(m.SpecialPrice.id == row.gestan_id)
                if row.gestan_id
                else None
            )
            if special is None:
                special = m.SpecialPrice(
                    product=row.payload.gestan_product,
                    territory=m.Territory.get(m.Territory.code == territory),
                )
            self._set_terms(special, terms)
            special.save()
            specific = row.payload.specific
            save_link(
                resource_for(token), int(specific["id"]), 0, special.id, digest=terms.digest()
            )
            outcome = Outcome.CREATED if action == Action.CREATE_GESTAN else Outcome.UPDATED
            return RowResult.of(row, outcome, message, gestan_id=special.id)
        special = m.SpecialPrice.get_by_id(row.gestan_id)
        terms = gestan_terms(special)
        record = shop_record(terms, token, row.shop_id, row.shop_sub_id, self.facts)
        if action == Action.CREATE_SHOP:
            same = {
                k: Filter.equals(record[k])
                for k in (
                    "id_product",
                    "id_product_attribute",
                    "id_country",
                    "id_group",
                    "id_customer",
                    "from_quantity",
                )
            }
            created = self.client.create(
                "specific_prices", record, find_existing=same, look_first=True
            )
            shop_id, outcome = int(created["id"]), Outcome.CREATED
        else:
            shop_id = int(row.payload.specific["id"])
            self.client.update("specific_prices", shop_id, record)
            outcome = Outcome.UPDATED
        save_link(resource_for(token), shop_id, 0, special.id, digest=terms.digest())
        return RowResult.of(row, outcome, message, gestan_id=special.id)

    @staticmethod
    def _set_terms(special: m.SpecialPrice, terms: PriceTerms) -> None:
        special.price_excl = terms.value if terms.kind == "price" else None
        special.discount_percent = terms.value if terms.kind == "percent" else None
        special.discount_amount = terms.value if terms.kind == "amount" else None
        special.min_quantity = terms.min_quantity
        special.date_from = _parse_stamp(terms.date_from)
        special.date_to = _parse_stamp(terms.date_to)
        special.updated_at = m.now()
