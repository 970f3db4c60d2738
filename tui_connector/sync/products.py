"""Products, both ways. Each combination is its own Gestan product (with a parent).

Statuses: ADD_GESTAN, UPDATE_GESTAN, UPDATE_SHOP, ADD_SHOP, UP_TO_DATE, CONFLICT
(both sides changed since the last sync, or an unlinked pair that differ: nothing is
overwritten until the user picks a side), and BLOCKED (an unmapped category, an
unknown VAT).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

import peewee as pw

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import insert_rows, update_rows
from tui_connector.gestan.links import (
    is_linked,
    link_of,
    linked_elsewhere,
    linked_gestan_ids,
    links,
    mark_synced,
    pairs,
    save_link,
    shop_keys_of,
    write_links,
)
from tui_connector.gestan.stock import (
    INITIAL_STOCK,
    Movement,
    add_stock_movement,
    gestan_stock,
    move_stock,
)
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import Translated, text
from tui_connector.prestashop.errors import NotFound
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.bulk import Alone, BulkChunks, ChunkWriter
from tui_connector.sync.catalogue import (
    RESOURCE,
    SIX,
    Unit,
    as_linked,
    gestan_unit,
    reference_for_shop,
    shop_price,
    shop_unit,
    slug,
    unique_code,
    valid_ean13,
)
from tui_connector.sync.core import (
    MAPPING_ERRORS,
    Action,
    Flow,
    Origin,
    Outcome,
    Progress,
    Row,
    RowResult,
    readable,
    shop_total,
    two_way,
    unreadable_row,
)
from tui_connector.sync.shop_facts import (
    CATALOGUE_NEEDS,
    FACTS_NEEDS,
    FACTS_OPTIONAL,
    ShopFacts,
    read_facts,
)
from tui_connector.sync.special_prices import SpecialPrices
from tui_connector.sync.status import Status


def shop_stock(stock_rows: list[dict]) -> dict[tuple[int, int], dict]:
    return {(int(s["id_product"]), int(s.get("id_product_attribute") or 0)): s for s in stock_rows}


@dataclass
class ShopProductPayload:
    """A shop product or combination row: what the shop sent, and the unit it maps to."""

    unit: Unit
    digest: str  # of the unit, for the link
    product: dict
    combination: dict | None
    quantity: str  # the shop's stock, taken as Gestan's first


@dataclass
class GestanProductPayload:
    """A Gestan product for the shop: its unit, and where the shop will file it."""

    unit: Unit
    category: str | None  # the shop category of its family
    tax_group: str | None  # the shop tax rules group of its VAT rate


@dataclass
class GestanSide:
    """What a page of shop products is compared with: their links and Gestan products."""

    links: dict[tuple[int, int], m.Link]
    products: dict[int, m.Product]
    claimed: set[int]  # Gestan products paired so far, across pages
    taken: set[str] = field(default_factory=set)  # codes given to new products, across pages

    def __post_init__(self) -> None:
        self.by_code = {p.code: p for p in self.products.values()}
        self.by_ean = {p.ean13: p for p in self.products.values() if p.ean13}


def _linked_or_made(resource: str, shop_id: int, model, **fields):
    """The Gestan record linked to a shop record, or one found or made now and linked."""
    link = link_of(resource, shop_id)
    found = model.get_or_none(model.id == link.gestan_id) if link else None
    if found is None:
        found = model.get_or_create(**fields)[0]
        save_link(resource, shop_id, 0, found.id)
    return found


def with_references(query: pw.ModelSelect) -> pw.ModelSelect:
    """Products with their VAT rate and family joined: gestan_unit() reads both, and
    would otherwise ask for them one product at a time."""
    return (
        query.select_extend(m.VatRate, m.Family)
        .join_from(m.Product, m.VatRate, pw.JOIN.LEFT_OUTER)
        .join_from(m.Product, m.Family, pw.JOIN.LEFT_OUTER)
    )


class ProductsFlow(BulkChunks, Flow):
    name = "products"
    NEEDS = {
        **FACTS_NEEDS,
        **CATALOGUE_NEEDS,
        "products": {"get", "post", "put"},
        "combinations": {"get", "put"},
        "stock_availables": {"get", "put"},
    }
    OPTIONAL = {
        **FACTS_OPTIONAL,
        "specific_prices": {"get", "post", "put"},  # special prices, both ways
        "images": {"get", "post"},  # cover images (sync.cover_images)
    }

    def __init__(
        self,
        client: SyncWebservice,
        *,
        cover_images: bool | None = None,
        attributes: bool | None = None,
    ):
        super().__init__(client)
        self.cover_images = (
            settings.get_bool("sync.cover_images") if cover_images is None else cover_images
        )
        self.attributes = settings.get_bool("sync.attributes") if attributes is None else attributes
        self.facts: ShopFacts | None = None
        self.families: dict[str, str] = {}
        self._taken: set[str] = set()
        self._rates: set[Decimal] = set()  # Gestan's VAT rates, read once per page

    # --- read ---------------------------------------------------------------------

    def read(self, progress: Progress | None = None) -> list[Row]:
        return [row for page in self.read_pages(progress) for row in page]

    def read_pages(self, progress: Progress | None = None) -> Iterator[list[Row]]:
        """The shop's products a page at a time (500, with their combinations and stock),
        then the Gestan products the shop lacks, then the special prices.

        Only the page in hand is in memory, on both sides: the Gestan products a page
        needs are looked up by link, code and EAN. When a page is done before the next
        is read (stream), what it created in Gestan is linked, so never offered back.
        """
        self.facts = read_facts(self.client, catalogue=True)
        self.families = settings.family_keys("family.")
        self._taken = set()
        # Gestan products already paired with a shop product, by link or by reference
        claimed: set[int] = set(linked_gestan_ids(RESOURCE))
        total = shop_total(self.client, "products", None, progress)
        done = 0
        for products in self.client.iter_pages("products"):
            rows = self._page_rows(products, claimed)
            done += len(products)
            if progress:
                progress(done, max(total, done), "produits lus")
            yield rows
        claimed |= linked_gestan_ids(RESOURCE)  # and those a streamed run has just created
        yield from self._gestan_pages(claimed)
        yield SpecialPrices(self.client, self.facts).read(pairs(RESOURCE))

    def _page_rows(self, products: list[dict], claimed: set[int]) -> list[Row]:
        products, rows = readable(products, "product")  # an impossible id: its own row
        ids = [int(p["id"]) for p in products]
        combinations = self._of_products("combinations", ids)
        stock = shop_stock(self._of_products("stock_availables", ids))
        by_product: dict[str, list[dict]] = {}
        for combination in combinations:
            by_product.setdefault(combination.get("id_product", "0"), []).append(combination)
        units: list[tuple[dict, dict | None, Unit | Exception]] = []
        for product in products:
            for combination in by_product.get(product.get("id"), []) or [None]:
                try:
                    unit = shop_unit(product, combination, self.facts, self.families)
                except MAPPING_ERRORS as exc:
                    unit = exc
                units.append((product, combination, unit))
        known = links(RESOURCE, ids)
        found = [u for _, _, u in units if isinstance(u, Unit)]
        codes = sorted({u.code for u in found}) or [""]
        eans = sorted({u.ean13 for u in found if u.ean13}) or [""]
        linked = sorted({link.gestan_id for link in known.values()}) or [0]
        gestan = {
            p.id: p
            for p in with_references(m.Product.select()).where(
                m.Product.id.in_(linked) | m.Product.code.in_(codes) | m.Product.ean13.in_(eans)
            )
        }
        side = GestanSide(known, gestan, claimed, self._taken)
        self._rates = {rate for (rate,) in m.VatRate.select(m.VatRate.rate).tuples()}
        for product, combination, unit in units:
            try:
                if isinstance(unit, Exception):
                    raise unit
                sub_id = int(combination["id"]) if combination else 0
                quantity = stock.get((int(product["id"]), sub_id), {}).get("quantity", "0")
                rows.append(self._shop_row(product, combination, unit, quantity, side))
            except MAPPING_ERRORS as exc:
                key = f"product:{product.get('id')}:{(combination or {}).get('id', 0)}"
                rows.append(unreadable_row(key, product, exc))
        return rows

    def _of_products(self, resource: str, ids: list[int]) -> list[dict]:
        """A page of products' combinations or stock rows: one request for the id range."""
        if not ids:
            return []
        query = Query(filters={"id_product": Filter.between(min(ids), max(ids))})
        wanted = {str(i) for i in ids}
        return [r for r in self.client.list(resource, query) if r.get("id_product") in wanted]

    def _shop_row(self, product, combination, unit: Unit, quantity, side: GestanSide) -> Row:
        shop_id = int(product["id"])
        sub_id = int(combination["id"]) if combination else 0
        link = side.links.get((shop_id, sub_id))
        target = side.products.get(link.gestan_id) if link else None
        if target is not None:
            unit = as_linked(unit, target)
        action, status, reason, conflict = None, Status.UP_TO_DATE, "", False
        if target is not None:
            same = gestan_unit(target).same_as(unit)
            change = two_way(link, unit.digest(), target.updated_at, same)
            status, action, conflict, reason = (
                change.status,
                change.action,
                change.conflict,
                change.reason,
            )
        else:
            target = side.by_code.get(unit.code) or (
                side.by_ean.get(unit.ean13) if unit.ean13 else None
            )
            if target is not None and target.id not in side.claimed:
                side.claimed.add(target.id)
                if gestan_unit(target).same_as(unit):
                    action, reason = Action.LINK, "lié par référence"
                else:
                    status, conflict = Status.CONFLICT, True
                    reason = "même référence dans Gestan, valeurs différentes: choisissez"
            else:
                # (every Gestan product with a code of this page is in side.by_code)
                if target is not None or unit.code in side.taken or unit.code in side.by_code:
                    # another product has this reference: a code of its own
                    unit = replace(unit, code=unique_code(unit, shop_id, sub_id))
                target = None
                status, action = Status.ADD_GESTAN, Action.CREATE_GESTAN
                side.taken.add(unit.code)
        if unit.code != (unit.shop_reference or unit.code) and not reason:
            reason = f"référence de la boutique {unit.shop_reference} partagée: code {unit.code}"
        digest = unit.digest()
        blocked = False
        if action in (Action.CREATE_GESTAN, Action.UPDATE_GESTAN) or conflict:
            missing = self._missing(product, unit)
            if missing:
                status, blocked, reason, action = Status.BLOCKED, True, missing, None
        name = unit.label
        if combination:  # "T-shirt colibri S, Blanc Attribut": the values, short, for the list
            values = [part.split(" - ", 1)[-1] for part in unit.attribute_label.split(", ")]
            base = (
                unit.label[: -len(unit.attribute_label) - 3] if unit.attribute_label else unit.label
            )
            name = f"{base} {', '.join(values)} Attribut"
        return Row(
            key=f"product:{shop_id}:{sub_id}",
            origin=Origin.SHOP,
            status=status,
            action=action,
            shop_id=shop_id,
            shop_sub_id=sub_id,
            gestan_id=target.id if target else None,
            columns={"label": name, "code": unit.code, "price": f"{unit.price_excl:.2f}"},
            reason=reason,
            blocked=blocked,
            conflict=conflict,
            payload=ShopProductPayload(unit, digest, product, combination, quantity),
        )

    def _missing(self, product: dict, unit: Unit) -> str:
        if unit.family is None:
            category = int(product.get("id_category_default") or 0)
            name = (self.facts.categories.get(category) or {}).get("name", "")
            return f"catégorie {category} {name} non mappée (réglez family.{category})".replace(
                "  ", " "
            )
        if unit.vat_rate is None:
            return f"taux de TVA du groupe {product.get('id_tax_rules_group')} inconnu"
        if unit.vat_rate not in self._rates:
            return f"aucun taux de TVA {unit.vat_rate} % dans Gestan"
        return ""

    def _gestan_pages(self, claimed: set[int], size: int = 500) -> Iterator[list[Row]]:
        """Gestan products no shop product has claimed, a page at a time."""
        parents = {
            p.parent_id
            for p in m.Product.select(m.Product.parent).where(m.Product.parent.is_null(False))
        }
        # a linked product is claimed: the database leaves those out (the bulk of them)
        unlinked = with_references(m.Product.select()).where(~is_linked(RESOURCE, m.Product.id))
        page: list[m.Product] = []
        for product in unlinked.order_by(m.Product.id).iterator():
            if product.id in claimed or product.id in parents or product.is_service:
                continue
            page.append(product)
            if len(page) == size:
                yield self._gestan_rows(page)
                page = []
        if page:
            yield self._gestan_rows(page)

    def _gestan_rows(self, products: list[m.Product]) -> list[Row]:
        category_of = {code: category for category, code in self.families.items()}
        rate_groups = {
            rate.quantize(Decimal("0.001")): group
            for group, rate in sorted(self.facts.group_rates.items(), reverse=True)
        }
        languages_note = (
            f"libellé de Gestan envoyé dans les {len(self.facts.languages)} langues de la "
            "boutique: à traduire dans la boutique"
            if len(self.facts.languages) > 1
            else ""
        )
        rows = []
        for product in products:
            unit = gestan_unit(product)
            reason = ""
            if product.parent_id:
                reason = "déclinaison créée dans Gestan: créez-la dans la boutique puis liez-la"
            elif unit.family is None or unit.family not in category_of:
                reason = f"famille {unit.family or '(aucune)'} sans catégorie de la boutique"
            elif unit.vat_rate not in rate_groups:
                reason = f"aucune règle de taxe à {unit.vat_rate} % dans la boutique"
            rows.append(
                Row(
                    key=f"gestan:{product.id}",
                    origin=Origin.GESTAN,
                    status=Status.BLOCKED if reason else Status.ADD_SHOP,
                    action=None if reason else Action.CREATE_SHOP,
                    gestan_id=product.id,
                    columns={
                        "label": unit.label,
                        "code": unit.code,
                        "price": f"{unit.price_excl:.2f}",
                    },
                    reason=reason or languages_note,
                    blocked=bool(reason),
                    payload=GestanProductPayload(
                        unit, category_of.get(unit.family or ""), rate_groups.get(unit.vat_rate)
                    ),
                )
            )
        return rows

    # --- execute ------------------------------------------------------------------

    def _know_the_shop(self) -> None:
        if self.facts is None:  # rows read by another instance (the TUI, a test)
            self.facts = read_facts(self.client, catalogue=True)
            self.families = settings.family_keys("family.")

    @staticmethod
    def _action(row: Row) -> str | None:
        """What a row does, a conflict's by the side the user chose."""
        if row.conflict:
            return (
                Action.UPDATE_GESTAN if row.choices.get("winner") == "shop" else Action.UPDATE_SHOP
            )
        return row.action

    def in_bulk(self, row: Row) -> bool:
        """Whether doing a row writes Gestan only, or nothing at all (blocked, a conflict
        left as it is): such rows are planned in memory and written in bulk. A cover image
        to fetch, attributes to write: apply() does the row, in a small chunk (a chunk's
        transaction never waits long on the shop)."""
        if row.blocked or (row.conflict and not row.choices.get("winner")):
            return True
        if row.of_product:
            return False
        action = self._action(row)
        if action in (Action.CREATE_GESTAN, Action.UPDATE_GESTAN):
            shop: ShopProductPayload = row.payload
            if self.cover_images and shop.product.get("id_default_image"):
                return False
            if self.attributes and shop.combination:
                return False
        return action in (Action.CREATE_GESTAN, Action.UPDATE_GESTAN, Action.LINK)

    def chunk_writer(self, rows: list[Row]) -> _ChunkWriter:
        self._know_the_shop()
        return _ChunkWriter(self, rows)

    def apply(self, row: Row) -> RowResult:
        self._know_the_shop()
        if row.of_product:
            return SpecialPrices(self.client, self.facts).apply(row)
        action = self._action(row)
        if action == Action.CREATE_SHOP:
            return self._create_in_shop(row)
        if action == Action.UPDATE_SHOP:
            return self._update_shop(row)
        if action == Action.LINK:
            save_link(
                RESOURCE,
                row.shop_id,
                row.shop_sub_id,
                row.gestan_id,
                date_upd=row.payload.product.get("date_upd", ""),
                digest=row.payload.digest,
            )
            return self._result(row, Outcome.UPDATED, "lié", row.gestan_id)
        return self._into_gestan(row, create=action == Action.CREATE_GESTAN)

    def _result(self, row: Row, outcome: str, message: str, gestan_id: int | None) -> RowResult:
        return RowResult.of(row, outcome, message, gestan_id=gestan_id)

    def _into_gestan(self, row: Row, *, create: bool) -> RowResult:
        unit, product = row.payload.unit, row.payload.product
        stamp = m.now()
        target = m.Product.get_or_none(m.Product.id == row.gestan_id) if row.gestan_id else None
        if target is None:
            target = m.Product(created_at=stamp)
        parent = self._parent_for(product, unit) if row.shop_sub_id else None
        target.code, target.ean13, target.label = unit.code, unit.ean13, unit.label
        target.shop_reference = unit.shop_reference
        target.attribute_label, target.price_excl = unit.attribute_label, unit.price_excl
        target.vat_rate = m.VatRate.get(m.VatRate.rate == unit.vat_rate)
        target.family = m.Family.get(m.Family.code == unit.family)
        target.active, target.parent, target.updated_at = unit.active, parent, stamp
        if self.cover_images and product.get("id_default_image"):
            target.image = self._cover(product)
        target.save()
        if self.attributes and row.payload.combination:
            self._write_attributes(target, row.payload.combination)
        if create:
            quantity = Decimal(row.payload.quantity or 0)
            add_stock_movement(
                target, quantity, INITIAL_STOCK, "Stock initial repris de la boutique", date=stamp
            )
        save_link(
            RESOURCE,
            row.shop_id,
            row.shop_sub_id,
            target.id,
            date_upd=product.get("date_upd", ""),
            digest=row.payload.digest,
        )
        mark_synced(RESOURCE, [target.id], stamp)
        return self._result(row, Outcome.CREATED if create else Outcome.UPDATED, "", target.id)

    def _write_attributes(self, target: m.Product, combination: dict) -> None:
        """The combination's values (Taille S, Couleur Blanc) as Gestan data: its groups
        and values made once each, linked to the shop's, and the variant's own set."""
        values = []
        for item in combination.get("associations", {}).get("product_option_values", []):
            value_id = int(item.get("id") or 0)
            option = self.facts.option_values.get(value_id)
            if option is None:
                continue
            name = self.facts.option_groups.get(option["group"]) or "Attribut"
            group = _linked_or_made(
                "product_options", option["group"], m.AttributeGroup, name=name[:128]
            )
            values.append(
                _linked_or_made(
                    "product_option_values",
                    value_id,
                    m.AttributeValue,
                    group=group,
                    name=option["name"][:128],
                )
            )
        m.ProductAttribute.delete().where(m.ProductAttribute.product == target).execute()
        for value in values:
            m.ProductAttribute.create(product=target, value=value)

    def _cover(self, product: dict) -> bytes | None:
        try:
            return self.client.get_image(int(product["id"]), int(product["id_default_image"]))
        except NotFound:
            return None

    def _parent_for(self, product: dict, unit: Unit) -> m.Product:
        """The Gestan product standing for a shop product with combinations."""
        shop_id = int(product["id"])
        link = link_of(RESOURCE, shop_id)
        reference = product.get("reference", "").strip()
        values = {
            "shop_reference": reference[:64],
            "label": (text(product.get("name"), self.facts.language) or reference)[:255],
            "ean13": product.get("ean13", "").strip()[:13],
            "price_excl": shop_price(product.get("price")),
            "vat_rate": m.VatRate.get(m.VatRate.rate == unit.vat_rate),
            "family": m.Family.get(m.Family.code == unit.family),
        }
        if link is not None:  # it follows the shop's product: its name, EAN, price
            parent = m.Product.get_by_id(link.gestan_id)
            changed = {k: v for k, v in values.items() if getattr(parent, k) != v}
            if changed:
                m.Product.update(updated_at=m.now(), **changed).where(
                    m.Product.id == parent.id
                ).execute()
            return parent
        code = reference or f"PS{shop_id}"
        parent = m.Product.get_or_none(m.Product.code == code)
        if parent is not None and linked_elsewhere(RESOURCE, parent.id, shop_id):
            code, parent = f"{code[:60]}-P{shop_id}", None  # another product's reference
        if parent is None:
            parent = m.Product.create(code=code, active=False, **values)
        save_link(RESOURCE, shop_id, 0, parent.id, date_upd=product.get("date_upd", ""))
        return parent

    def _update_shop(self, row: Row) -> RowResult:
        target = m.Product.get_by_id(row.gestan_id)
        ours = gestan_unit(target)
        if row.shop_sub_id:
            product = self.client.get("products", row.shop_id, complete=True)
            combination = self.client.get("combinations", row.shop_sub_id, complete=True)
            combination.update(
                reference=reference_for_shop(target, combination.get("reference", "")),
                ean13=ours.ean13 if valid_ean13(ours.ean13) else "",
                price=str((ours.price_excl - shop_price(product.get("price"))).quantize(SIX)),
            )
            combination = self.client.update("combinations", row.shop_sub_id, combination)
        else:
            product = self.client.get("products", row.shop_id, complete=True)
            name = product.get("name")
            if isinstance(name, Translated):
                name = Translated({**name, self.facts.language: ours.label})
            product.update(
                reference=reference_for_shop(target, product.get("reference", "")),
                price=str(ours.price_excl),
                active="1" if ours.active else "0",
                name=name or ours.label,
                ean13=ours.ean13 if valid_ean13(ours.ean13) else "",
            )
            product.pop("position_in_category", None)  # the shop refuses it back
            product = self.client.update("products", row.shop_id, product)
            combination = None
            if self.cover_images and target.image and not product.get("id_default_image"):
                self.client.upload_image(row.shop_id, bytes(target.image))  # a cover at last
        # the shop's reply is what it holds now: the next read compares against it
        unit = as_linked(shop_unit(product, combination, self.facts, self.families), target)
        digest = unit.digest()
        save_link(RESOURCE, row.shop_id, row.shop_sub_id, target.id, digest=digest)
        return self._result(row, Outcome.UPDATED, "boutique mise à jour", target.id)

    def _create_in_shop(self, row: Row) -> RowResult:
        target = m.Product.get_by_id(row.gestan_id)
        unit: Unit = row.payload.unit
        problems = []
        if not unit.label.strip():
            problems.append("libellé vide")
        if unit.price_excl < 0:
            problems.append("prix négatif")
        if unit.ean13 and not valid_ean13(unit.ean13):
            problems.append(f"EAN13 {unit.ean13} invalide")
        if not re.fullmatch(r"[^<>;={}]{1,64}", unit.code):
            problems.append(f"référence {unit.code!r} refusée par la boutique")
        if problems:
            raise ConnectorError("produit non envoyé: " + ", ".join(problems))
        category = row.payload.category
        names = Translated(dict.fromkeys(self.facts.languages, unit.label))
        record = {
            "id_category_default": category,
            "id_tax_rules_group": str(row.payload.tax_group),
            "reference": unit.code,
            "ean13": unit.ean13,
            "price": str(unit.price_excl),
            "active": "1" if unit.active else "0",
            "state": "1",
            "minimal_quantity": "1",
            "available_for_order": "1",
            "show_price": "1",
            "visibility": "both",
            "condition": "new",
            "product_type": "standard",
            "name": names,
            "link_rewrite": Translated(dict.fromkeys(self.facts.languages, slug(unit.label))),
            "associations": {"categories": [{"id": category}]},
        }
        created = self.client.create(
            "products",
            record,
            find_existing={"reference": Filter.equals(unit.code)},
            look_first=True,  # a row done again (a deadlock's retry) finds its product
        )
        shop_id = int(created["id"])
        quantity = gestan_stock(target.id)
        stock = self.client.list(
            "stock_availables",
            Query(
                filters={
                    "id_product": Filter.equals(shop_id),
                    "id_product_attribute": Filter.equals(0),
                }
            ),
        )
        if stock:
            self.client.patch(
                "stock_availables", int(stock[0]["id"]), {"quantity": str(int(quantity))}
            )
        said = f"produit {shop_id}"
        if self.cover_images and target.image:  # its picture goes with it
            self.client.upload_image(shop_id, bytes(target.image))
            said += ", avec son image"
        # the shop's reply to the create is the product as it holds it (stock aside)
        save_link(
            RESOURCE,
            shop_id,
            0,
            target.id,
            date_upd=created.get("date_upd", ""),
            digest=shop_unit(created, None, self.facts, self.families).digest(),
        )
        return RowResult.of(row, Outcome.CREATED, said, shop_id=shop_id, gestan_id=target.id)


# what _into_gestan() writes of a product
PRODUCT_FIELDS = [
    "code",
    "ean13",
    "label",
    "shop_reference",
    "attribute_label",
    "price_excl",
    "vat_rate",
    "family",
    "active",
    "parent",
    "updated_at",
]


class _ChunkWriter(ChunkWriter):
    """_into_gestan(), _parent_for() and the LINK rows of apply(), for a chunk."""

    def __init__(self, flow: ProductsFlow, rows: list[Row]):
        super().__init__(flow)
        self.stamp = m.now()
        shop_ids = sorted({row.shop_id for row in rows if row.shop_id})
        self.links = links(RESOURCE, shop_ids)  # as saved, then as planned
        ids = {link.gestan_id for link in self.links.values()}
        codes: set[str] = set()
        for row in rows:
            ids.add(row.gestan_id or 0)
            payload = row.payload
            if isinstance(payload, ShopProductPayload | GestanProductPayload):
                codes.add(payload.unit.code)
            if row.shop_sub_id and isinstance(payload, ShopProductPayload):
                code = payload.product.get("reference", "").strip() or f"PS{row.shop_id}"
                codes |= {code, f"{code[:60]}-P{row.shop_id}"}
        found = m.Product.select().where(
            m.Product.id.in_(sorted(ids)) | m.Product.code.in_(sorted(codes) or [""])
        )
        self.by_id = {product.id: product for product in found}
        self.by_code = {product.code: product for product in self.by_id.values()}
        # the shop records each of these products stands for: {id(product): {(shop, sub)}}
        self.linked: dict[int, set[tuple[int, int]]] = {}
        for shop_id, sub_id, gestan_id in shop_keys_of(RESOURCE, self.by_id):
            self.linked.setdefault(id(self.by_id[gestan_id]), set()).add((shop_id, sub_id))
        self.vat = {
            rate: vat_id for vat_id, rate in m.VatRate.select(m.VatRate.id, m.VatRate.rate).tuples()
        }
        self.family = {
            code: family_id
            for family_id, code in m.Family.select(m.Family.id, m.Family.code).tuples()
        }
        # what is planned
        self.created: list[m.Product] = []
        self.changed: dict[int, m.Product] = {}  # saved products to update, by id
        self.parent_of: dict[int, m.Product] = {}  # id(product) -> its parent
        self.saved: dict[tuple[int, int], tuple[m.Product, str, str]] = {}  # links
        self.stock: list[tuple[m.Product, Decimal]] = []
        self.synced: list[m.Product] = []  # products whose links all take the stamp
        self.targets: list[tuple[RowResult, m.Product]] = []

    # --- planning: what apply() does, in memory ----------------------------------

    def plan_row(self, row: Row) -> RowResult:
        flow = self.flow
        if flow._action(row) == Action.LINK:
            target = self.by_id[row.gestan_id]
            self._link(
                row.shop_id,
                row.shop_sub_id,
                target,
                row.payload.product.get("date_upd", ""),
                row.payload.digest,
            )
            result = flow._result(row, Outcome.UPDATED, "lié", row.gestan_id)
        else:
            create = flow._action(row) == Action.CREATE_GESTAN
            target = self._into_gestan(row, create=create)
            outcome = Outcome.CREATED if create else Outcome.UPDATED
            result = flow._result(row, outcome, "", target.id)
        self.targets.append((result, target))
        return result

    def _into_gestan(self, row: Row, *, create: bool) -> m.Product:
        """_into_gestan() and _parent_for(): everything that can fail is asked first,
        then the plan changes."""
        flow = self.flow
        unit, product = row.payload.unit, row.payload.product
        if not flow.in_bulk(row) or (create and row.gestan_id):
            raise Alone
        vat, family = self.vat[unit.vat_rate], self.family[unit.family]
        quantity = Decimal(row.payload.quantity or 0) if create else None
        target = self.by_id[row.gestan_id] if row.gestan_id else None
        holder = self.by_code.get(unit.code)
        if holder is not None and holder is not target:
            raise Alone  # another product's code: the row fails, as apply() says
        parent = self._parent(product, vat, family) if row.shop_sub_id else None
        if target is None:
            target = m.Product(created_at=self.stamp)
            self.created.append(target)
        else:
            self.changed[target.id] = target
            if self.by_code.get(target.code) is target:
                del self.by_code[target.code]
        target.code, target.ean13, target.label = unit.code, unit.ean13, unit.label
        target.shop_reference = unit.shop_reference
        target.attribute_label, target.price_excl = unit.attribute_label, unit.price_excl
        target.vat_rate_id, target.family_id = vat, family
        target.active, target.updated_at = unit.active, self.stamp
        target.parent_id = parent.id if parent is not None else None
        if parent is not None:
            self.parent_of[id(target)] = parent
        else:
            self.parent_of.pop(id(target), None)
        self.by_code[target.code] = target
        if create:
            self.stock.append((target, quantity))
        self._link(
            row.shop_id, row.shop_sub_id, target, product.get("date_upd", ""), row.payload.digest
        )
        self.synced.append(target)
        return target

    def _parent(self, product: dict, vat: int, family: int) -> m.Product:
        shop_id = int(product["id"])
        reference = product.get("reference", "").strip()
        values = {
            "shop_reference": reference[:64],
            "label": (text(product.get("name"), self.flow.facts.language) or reference)[:255],
            "ean13": product.get("ean13", "").strip()[:13],
            "price_excl": shop_price(product.get("price")),
            "vat_rate_id": vat,
            "family_id": family,
        }
        if (shop_id, 0) in self.saved:
            parent = self.saved[(shop_id, 0)][0]
        elif (shop_id, 0) in self.links:
            parent = self.by_id[self.links[(shop_id, 0)].gestan_id]
        else:
            parent = None
        if parent is not None:  # it follows the shop's product: its name, EAN, price
            changed = {k: v for k, v in values.items() if getattr(parent, k) != v}
            if changed:
                for name, value in changed.items():
                    setattr(parent, name, value)
                parent.updated_at = m.now()
                if parent.id is not None:
                    self.changed[parent.id] = parent
            return parent
        code = reference or f"PS{shop_id}"
        parent = self.by_code.get(code)
        if parent is not None and any(s != shop_id for s, _ in self.linked.get(id(parent), ())):
            code, parent = f"{code[:60]}-P{shop_id}", None  # another product's reference
        if parent is None:
            if code in self.by_code:
                raise Alone
            parent = m.Product(code=code, active=False, created_at=self.stamp, **values)
            self.created.append(parent)
            self.by_code[code] = parent
        self._link(shop_id, 0, parent, product.get("date_upd", ""), "")
        return parent

    def _link(self, shop_id: int, sub_id: int, target: m.Product, date_upd: str, digest: str):
        key = (shop_id, sub_id)
        if key in self.saved:
            before = self.saved[key][0]
        elif key in self.links:
            before = self.by_id.get(self.links[key].gestan_id)
        else:
            before = None
        if before is not None:
            self.linked.get(id(before), set()).discard(key)
        self.linked.setdefault(id(target), set()).add(key)
        self.saved[key] = (target, date_upd, digest)

    # --- writing -----------------------------------------------------------------

    def write_planned(self) -> None:
        stamp = self.stamp
        waiting = list(self.created)
        while waiting:  # parents first: their variants point at them
            wave = [
                p for p in waiting if self.parent_of.get(id(p)) is None or self.parent_of[id(p)].id
            ]
            if not wave:
                raise ValueError("déclinaisons sans produit parent")
            for product in wave:
                parent = self.parent_of.get(id(product))
                product.parent_id = parent.id if parent is not None else None
            insert_rows(m.Product, [_product_values(p) for p in wave])
            codes = [p.code for p in wave]
            ids = dict(
                m.Product.select(m.Product.code, m.Product.id)
                .where(m.Product.code.in_(codes))
                .tuples()
            )
            for product in wave:
                product.id = ids[product.code]
            waiting = [p for p in waiting if p.id is None]
        for product in self.changed.values():
            parent = self.parent_of.get(id(product))
            if parent is not None:
                product.parent_id = parent.id
        update_rows(m.Product, self.changed.values(), PRODUCT_FIELDS)
        move_stock(
            [
                Movement(
                    product=product.id,
                    quantity=quantity,
                    reason=INITIAL_STOCK,
                    label="Stock initial repris de la boutique",
                    date=stamp,
                )
                for product, quantity in self.stock
            ]
        )
        saved = {key: (target.id, *rest) for key, (target, *rest) in self.saved.items()}
        write_links(RESOURCE, saved, self.links, stamp)
        mark_synced(RESOURCE, [product.id for product in self.synced], stamp)
        for result, target in self.targets:
            result.gestan_id = target.id


def _product_values(product: m.Product) -> dict:
    data = product.__data__
    return {
        "code": data["code"],
        "shop_reference": data.get("shop_reference", ""),
        "ean13": data.get("ean13", ""),
        "label": data["label"],
        "price_excl": data.get("price_excl", Decimal(0)),
        "vat_rate": data.get("vat_rate"),
        "family": data.get("family"),
        "parent": data.get("parent"),
        "attribute_label": data.get("attribute_label", ""),
        "is_service": data.get("is_service", False),
        "active": data.get("active", True),
        "image": data.get("image"),
        "created_at": data.get("created_at") or m.now(),
        "updated_at": data.get("updated_at") or m.now(),
    }
