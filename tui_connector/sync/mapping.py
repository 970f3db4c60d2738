"""Helpers for the settings screens: what the shop has, kept in a local mapping cache
(reading imports nothing into Gestan), and the links a user makes or undoes by hand.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import insert_rows
from tui_connector.gestan.links import link_to, pairs, save_link, unlink
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.catalogue import RESOURCE as PRODUCTS
from tui_connector.sync.catalogue import create_families_from_categories, shop_unit
from tui_connector.sync.shop_facts import read_facts


def _entry(resource: str, shop_id: int, shop_sub_id: int, label: str, data: dict) -> dict:
    return {
        "resource": resource,
        "shop_id": shop_id,
        "shop_sub_id": shop_sub_id,
        "label": label[:255],
        "data": json.dumps(data, ensure_ascii=False),
        "fetched_at": m.now(),
    }


def _store(entries: dict[tuple[str, int, int], dict]) -> None:
    """A page of cache entries in a few statements (the cache was emptied first)."""
    insert_rows(m.MappingCache, list(entries.values()))


def refresh_cache(client: SyncWebservice) -> Counter:
    """Read the shop's categories, products, combinations and attributes into the cache,
    a page of products (with their combinations) at a time."""
    facts = read_facts(client, catalogue=True)
    counts: Counter = Counter()
    with m.database_proxy.atomic():
        m.MappingCache.delete().execute()
        entries: dict[tuple[str, int, int], dict] = {}
        for cid, category in facts.categories.items():
            entries["categories", cid, 0] = _entry("categories", cid, 0, category["name"], category)
        for gid, name in facts.option_groups.items():
            entries["product_options", gid, 0] = _entry(
                "product_options", gid, 0, name, {"name": name}
            )
        for vid, value in facts.option_values.items():
            entries["product_option_values", vid, 0] = _entry(
                "product_option_values", vid, 0, value["name"], value
            )
        counts.update(resource for resource, _, _ in entries)
        _store(entries)
        families = settings.family_keys("family.")
        seen: set[tuple[str, int, int]] = set()
        for products in client.iter_pages("products"):
            ids = [int(p["id"]) for p in products if str(p.get("id", "")).isdigit()]
            variants: dict[str, list[dict]] = {}
            if ids:  # the page's combinations: one request for its id range
                wanted = {str(i) for i in ids}
                query = Query(filters={"id_product": Filter.between(min(ids), max(ids))})
                for combination in client.list("combinations", query):
                    if combination.get("id_product") in wanted:
                        variants.setdefault(combination["id_product"], []).append(combination)
            entries = {}
            for product in products:
                for combination in variants.get(product["id"], [None]):
                    unit = shop_unit(product, combination, facts, families)
                    sub_id = int(combination["id"]) if combination else 0
                    entries["products", int(product["id"]), sub_id] = _entry(
                        "products",
                        int(product["id"]),
                        sub_id,
                        unit.label,
                        {"code": unit.code, "ean13": unit.ean13, "price": str(unit.price_excl)},
                    )
            entries = {key: entry for key, entry in entries.items() if key not in seen}
            seen.update(entries)  # (a product read twice is kept once, as before)
            counts["products"] += len(entries)
            _store(entries)
    return counts


@dataclass
class CachedProduct:
    shop_id: int
    shop_sub_id: int
    label: str
    code: str
    linked_to: str  # the Gestan product code, or ""


def cached_products(search: str = "") -> list[CachedProduct]:
    linked = pairs(PRODUCTS)
    codes = {p.id: p.code for p in m.Product.select(m.Product.id, m.Product.code)}
    query = m.MappingCache.select().where(m.MappingCache.resource == "products")
    if search:
        query = query.where(
            m.MappingCache.label.contains(search) | m.MappingCache.data.contains(search)
        )
    result = []
    for row in query.order_by(m.MappingCache.shop_id, m.MappingCache.shop_sub_id):
        data = json.loads(row.data)
        gestan_id = linked.get((row.shop_id, row.shop_sub_id))
        result.append(
            CachedProduct(
                row.shop_id,
                row.shop_sub_id,
                row.label,
                data["code"],
                codes.get(gestan_id, "") if gestan_id else "",
            )
        )
    return result


def cached_categories() -> list[tuple[int, str, int]]:
    rows = m.MappingCache.select().where(m.MappingCache.resource == "categories")
    return sorted((r.shop_id, r.label, json.loads(r.data).get("depth", 0)) for r in rows)


def link_product_by_hand(
    client: SyncWebservice, shop_id: int, shop_sub_id: int, gestan_code: str
) -> None:
    """Link a shop product (or combination) to a Gestan product whose code differs.

    Both sides are taken as they are now: nothing is overwritten by the link; what
    changes afterwards on either side is proposed by the next read.
    """
    product = m.Product.get_or_none(m.Product.code == gestan_code)
    if product is None:
        raise ConnectorError(f"aucun produit Gestan de code {gestan_code!r}")
    taken = link_to(PRODUCTS, product.id)
    if taken is not None and (taken.shop_id, taken.shop_sub_id) != (shop_id, shop_sub_id):
        raise ConnectorError(
            f"{gestan_code} est déjà lié au produit {taken.shop_id}"
            + (f" / {taken.shop_sub_id}" if taken.shop_sub_id else ""),
            hint="défaites d'abord ce lien",
        )
    facts = read_facts(client, catalogue=True)
    shop_product = client.get("products", shop_id, complete=True)
    combination = client.get("combinations", shop_sub_id, complete=True) if shop_sub_id else None
    digest = shop_unit(shop_product, combination, facts, settings.family_keys("family.")).digest()
    with m.database_proxy.atomic():
        save_link(
            PRODUCTS,
            shop_id,
            shop_sub_id,
            product.id,
            date_upd=shop_product.get("date_upd", ""),
            digest=digest,
        )


def unlink_product(shop_id: int, shop_sub_id: int = 0) -> bool:
    return bool(unlink(PRODUCTS, shop_id, shop_sub_id))


@dataclass
class GenderUse:
    id_gender: str
    customers: int
    civility: str  # the mapped Gestan civility, "" when none


def genders_in_use(client: SyncWebservice) -> list[GenderUse]:
    """The shop's id_gender values in use (it has no genders resource), beside the mapping."""
    counts: Counter = Counter()
    for page in client.iter_pages("customers", Query(display=("id", "id_gender"))):
        counts.update(c.get("id_gender") or "0" for c in page)
    mapping = settings.family_keys("civility.")
    return [GenderUse(g, n, mapping.get(g, "")) for g, n in sorted(counts.items())]


def create_missing_families(client: SyncWebservice) -> list[str]:
    return create_families_from_categories(read_facts(client, catalogue=True))


def attribute_labels() -> dict[str, list[str]]:
    """The shop's attribute groups and their values, as last read into the cache."""
    groups = {
        r.shop_id: r.label
        for r in m.MappingCache.select().where(m.MappingCache.resource == "product_options")
    }
    values: dict[str, list[str]] = {name: [] for name in groups.values()}
    for row in m.MappingCache.select().where(m.MappingCache.resource == "product_option_values"):
        group = groups.get(json.loads(row.data).get("group"))
        if group:
            values[group].append(row.label)
    return values
