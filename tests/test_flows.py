"""Contacts, products and stock against the simulated shop: every status, option and fault."""

from __future__ import annotations

import threading
import time
from collections import Counter
from decimal import Decimal

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.stock import add_stock_movement, gestan_stock
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import Translated
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.contacts import ContactOptions, ContactsFlow
from tui_connector.sync.core import Outcome
from tui_connector.sync.products import ProductsFlow
from tui_connector.sync.status import Status
from tui_connector.sync.stock import StockFlow


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=40)) as running:
        yield running


@pytest.fixture
def demo(sqlite_gestan, shop):
    demo_gestan.seed(shop.data)
    return sqlite_gestan


def statuses(rows) -> Counter:
    """Statuses of the products and contacts themselves (special prices have their own tests)."""
    return Counter(row.status for row in rows if not row.of_product)


def own(rows) -> list:
    return [row for row in rows if not row.of_product]


def run(flow):
    rows = flow.read()
    return rows, flow.execute(rows)


# --- contacts ---------------------------------------------------------------------


def test_contacts_import_then_nothing_to_do(gestan, client, shop):
    settings.set_value("civility.1", "M.")
    settings.set_value("civility.2", "Mme")
    rows, report = run(ContactsFlow(client))
    customers = len(shop.data.table("customers"))
    assert statuses(rows) == {Status.ADD: customers}
    assert report.counts["created"] == customers and report.ok
    assert m.Contact.select().count() == customers
    assert m.Address.select().count() == len(shop.data.table("addresses"))
    guest = next(c for c in shop.data.table("customers").values() if c["is_guest"] == "1")
    assert m.Contact.get(m.Contact.email == guest["email"]).is_guest
    again, report = run(ContactsFlow(client))
    assert statuses(again) == {Status.UP_TO_DATE: customers} and report.results == []
    assert m.Contact.select().count() == customers  # no duplicate


def test_contacts_stream_a_page_at_a_time_with_each_customers_own_addresses(gestan):
    settings.set_value("civility.1", "M.")
    settings.set_value("civility.2", "Mme")
    with SimulatedShop(build(orders=2400)) as big, SyncWebservice(big.url, big.key) as client:
        customers = big.data.table("customers")
        expected = Counter(a["id_customer"] for a in big.data.table("addresses").values())
        pages = list(ContactsFlow(client).read_pages())
        assert len(pages) == -(-len(customers) // 500) > 1
        for row in (row for page in pages for row in page):
            found = row.payload.addresses
            assert {a["id_customer"] for a in found} <= {str(row.shop_id)}
            assert len(found) == expected[str(row.shop_id)]
        report = ContactsFlow(client).stream()
        assert report.counts["created"] == len(customers) == m.Contact.select().count()
        assert m.Address.select().count() == sum(expected.values())
        assert ContactsFlow(client).stream().results == []  # nothing left, nothing twice


def _deadlock() -> Exception:
    import peewee as pw
    import pymysql

    return pw.OperationalError(pymysql.err.OperationalError(1213, "Deadlock found"))


class ContactsRowByRow(ContactsFlow):
    """Every row through apply(), 20 to a chunk (tests/test_contacts_bulk.py has the bulk
    writer's deadlock)."""

    def in_bulk(self, row) -> bool:
        return False


@pytest.mark.parametrize("persistent", [False, True])
def test_a_deadlock_undoes_the_chunk_and_does_it_again(gestan, persistent):
    settings.set_value("civility.1", "M.")
    settings.set_value("civility.2", "Mme")
    with SimulatedShop(build(orders=160)) as forty, SyncWebservice(forty.url, forty.key) as client:
        flow = ContactsRowByRow(client)
        rows = flow.read()
        victim = rows[25]  # the sixth row of the second chunk
        calls = Counter()
        apply = flow.apply

        def deadlocking(row):
            calls[row.key] += 1
            result = apply(row)  # written, then the server undoes the transaction
            if row is victim and (persistent or calls[row.key] == 1):
                raise _deadlock()
            return result

        flow.apply = deadlocking
        report = flow.execute(rows)
        if persistent:
            assert "les a refusées" in report.error and "pas été gardées" in report.error
            assert m.Contact.select().count() == len(report.results) == 20  # the first chunk
            assert calls[victim.key] == ContactsFlow.DEADLOCK_ATTEMPTS
        else:
            assert report.ok and report.counts["created"] == len(rows) == m.Contact.select().count()
            assert calls[rows[20].key] == 2 and calls[rows[19].key] == 1  # its chunk, again
        assert m.SyncRunLine.select().count() == len(report.results)


def test_contacts_update_link_by_email_and_unknown_civility(sqlite_gestan, client, shop):
    settings.set_value("civility.1", "M.")
    customer = shop.data.table("customers")[1]
    existing = m.Contact.create(code="CLI-OLD", email=customer["email"].upper(), last_name="X")
    existing.email = customer["email"]
    existing.save()
    shop.data.table("customers")[2]["id_gender"] = "3"  # no civility.3 (1 and 2 are mapped)
    rows = ContactsFlow(client).read()
    by_id = {row.shop_id: row for row in rows}
    assert by_id[1].status == Status.UPDATE and "e-mail" in by_id[1].reason
    assert "civility.3" in by_id[2].reason
    report = ContactsFlow(client).execute(rows)
    assert m.Contact.get_by_id(existing.id).last_name == customer["lastname"]
    assert m.Contact.select().where(m.Contact.email == customer["email"]).count() == 1
    warned = next(r for r in report.results if r.shop_id == 2)
    assert "civility.3" in warned.message
    assert (
        m.Contact.get(m.Contact.email == shop.data.table("customers")[2]["email"]).civility is None
    )  # reported, never guessed
    shop.data.table("customers")[3]["lastname"] = "Nouveau-Nom"
    rows = ContactsFlow(client).read()
    assert next(r for r in rows if r.shop_id == 3).status == Status.UPDATE


def test_several_addresses_need_a_choice_and_the_choice_is_used(sqlite_gestan, client, shop):
    rows = ContactsFlow(client).read()
    several = next(row for row in rows if row.needs_choice)
    addresses = [a["id"] for a in several.payload.addresses]
    latest = max(
        (o for o in shop.data.table("orders").values() if o["id_customer"] == str(several.shop_id)),
        key=lambda o: int(o["id"]),
        default=None,
    )
    if latest is not None:  # the default is what the latest order used
        assert several.choices["billing"] == latest["id_address_invoice"]
    several.choices = {"billing": addresses[-1], "delivery": addresses[0]}
    ContactsFlow(client).execute([several])
    contact = m.Contact.get_by_id(
        m.Link.get((m.Link.resource == "customers") & (m.Link.shop_id == several.shop_id)).gestan_id
    )
    kinds = {a.line1: a.kind for a in contact.addresses}
    chosen = {a["id"]: a["address1"] for a in several.payload.addresses}
    assert kinds[chosen[addresses[-1]]] == "billing"
    assert kinds[chosen[addresses[0]]] == "delivery"


def test_contact_options_addresses_phones_comments(sqlite_gestan, client, shop):
    shop.data.table("customers")[1]["note"] = "Préfère le papier recyclé"
    options = ContactOptions(addresses=False, phones=False, comments=False, civilities={})
    ContactsFlow(client, options).execute(ContactsFlow(client, options).read())
    assert m.Address.select().count() == 0
    assert all(c.phone == "" and c.comment == "" for c in m.Contact.select())
    m.Link.delete().execute()
    m.Contact.delete().execute()
    options = ContactOptions(addresses=True, phones=True, comments=True, civilities={})
    ContactsFlow(client, options).execute(ContactsFlow(client, options).read())
    first = m.Contact.get(m.Contact.email == shop.data.table("customers")[1]["email"])
    assert first.comment == "Préfère le papier recyclé" and first.phone.startswith("01")


# --- products -----------------------------------------------------------------------


def test_products_every_status(demo, client, shop):
    rows = ProductsFlow(client).read()
    seen = statuses(rows)
    assert (
        seen[Status.ADD_GESTAN] > 0 and seen[Status.UP_TO_DATE] == 4 and seen[Status.ADD_SHOP] == 1
    )
    by_reference = [r for r in rows if r.reason == "lié par référence"]
    assert len(by_reference) == 1 and by_reference[0].action == "link"
    combination_rows = [r for r in rows if r.shop_sub_id]
    assert all(r.columns["label"].endswith(" Attribut") for r in combination_rows)
    report = ProductsFlow(client).execute(rows)
    assert report.ok, report.summary()
    assert statuses(ProductsFlow(client).read()) == {Status.UP_TO_DATE: len(own(rows))}

    # a combination became its own product, with a parent and its attributes
    variant = m.Product.get(m.Product.parent.is_null(False))
    assert "Taille" in variant.attribute_label and variant.parent.variants.count() >= 2
    # its Gestan stock is the shop's quantity, from a dated initial movement
    link = m.Link.get((m.Link.resource == "products") & (m.Link.gestan_id == variant.id))
    shop_quantity = next(
        s["quantity"]
        for s in shop.data.table("stock_availables").values()
        if s["id_product_attribute"] == str(link.shop_sub_id)
    )
    assert gestan_stock(variant.id) == Decimal(shop_quantity)
    movement = m.StockMovement.get(m.StockMovement.product == variant)
    assert movement.reason == "initial_shop"
    # the Gestan-only product now exists in the shop, in the mapped category, with its stock
    created = next(
        p for p in shop.data.table("products").values() if p.get("reference") == "GES-BOUGIE"
    )
    assert created["id_category_default"] == "8" and created["price"] == "12.500000"
    assert created["quantity"] == "24"

    # one side changes: the other follows
    product = shop.data.table("products")[int(link.shop_id)]
    product["price"] = "30.000000"
    rows = ProductsFlow(client).read()
    changed = [r for r in rows if r.shop_id == int(link.shop_id)]
    assert {r.status for r in changed} == {Status.UPDATE_GESTAN}
    ProductsFlow(client).execute(rows)
    assert m.Product.get_by_id(variant.id).price_excl >= Decimal("30")

    time.sleep(1.1)  # a Gestan edit is later than the last sync
    candle = m.Product.get(m.Product.code == "GES-BOUGIE")
    candle.price_excl, candle.updated_at = Decimal("13.000000"), m.now()
    candle.save()
    rows = ProductsFlow(client).read()
    assert next(r for r in rows if r.gestan_id == candle.id).status == Status.UPDATE_SHOP
    ProductsFlow(client).execute(rows)
    assert shop.data.table("products")[int(created["id"])]["price"] == "13.000000"
    assert statuses(ProductsFlow(client).read()) == {Status.UP_TO_DATE: len(own(rows))}


def test_products_stream_a_page_at_a_time_and_offer_nothing_back(sqlite_gestan):
    with SimulatedShop(build(orders=10, products=1200)) as big:
        demo_gestan.seed(big.data)
        late = next(
            p
            for p in big.data.table("products").values()
            if int(p["id"]) > 1000 and not p.get("associations", {}).get("combinations")
        )
        m.Product.create(  # same reference as a product of the third page, other values
            code=late["reference"],
            label="Autre chose",
            vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
        )
        with SyncWebservice(big.url, big.key) as client:
            pages = list(ProductsFlow(client).read_pages())
            assert len(pages) >= 3 + 2  # three pages of the shop, Gestan's, special prices
            rows = [row for page in pages for row in page]
            paired = [r for r in rows if r.columns.get("code") == late["reference"]]
            assert [r.status for r in paired] == [Status.CONFLICT]  # not offered to the shop
            report = ProductsFlow(client).stream()
            assert report.counts["failed"] == 0, report.summary()
            again = ProductsFlow(client).read()
            assert statuses(again) == {Status.UP_TO_DATE: len(own(rows)) - 1, Status.CONFLICT: 1}
            shop_references = Counter(
                p.get("reference") for p in big.data.table("products").values()
            )
            assert shop_references["GES-BOUGIE"] == 1  # sent once, never offered back
            assert m.Product.select().where(m.Product.code == late["reference"]).count() == 1


def test_products_conflict_is_left_alone_until_a_side_is_picked(demo, client, shop):
    ProductsFlow(client).execute(ProductsFlow(client).read())
    time.sleep(1.1)
    item = m.Product.get(m.Product.code == "DEMO-00004")
    item.price_excl, item.updated_at = Decimal("11.000000"), m.now()
    item.save()
    shop_product = next(
        p for p in shop.data.table("products").values() if p["reference"] == "DEMO-00004"
    )
    shop_product["price"] = "12.000000"
    rows = ProductsFlow(client).read()
    conflict = next(r for r in rows if r.gestan_id == item.id)
    assert conflict.status == Status.CONFLICT and not conflict.selected
    conflict.selected = True
    report = ProductsFlow(client).execute([conflict])
    assert report.results[0].outcome == Outcome.SKIPPED
    assert m.Product.get_by_id(item.id).price_excl == Decimal("11")  # nothing overwritten
    assert shop_product["price"] == "12.000000"
    conflict.choices["winner"] = "shop"
    ProductsFlow(client).execute([conflict])
    assert m.Product.get_by_id(item.id).price_excl == Decimal("12")


def test_unmapped_category_blocks_with_the_reason(sqlite_gestan, client):
    rows = ProductsFlow(client).read()
    blocked = [r for r in rows if r.blocked]
    assert blocked and all("non mappée" in r.reason and "family." in r.reason for r in blocked)
    report = ProductsFlow(client).execute([*blocked[:2]])
    assert report.counts["blocked"] == 0  # blocked rows are not selected
    for row in blocked[:2]:
        row.selected = True
    report = ProductsFlow(client).execute(blocked[:2])
    assert report.counts["blocked"] == 2 and m.Product.select().count() == 0


def test_cover_images_option(demo, client, shop):
    product_id = 9  # not in the demo Gestan yet
    image = client.upload_image(product_id, b"\xff\xd8cover\xff\xd9")
    shop.data.table("products")[product_id]["id_default_image"] = image["id"]
    rows = [r for r in ProductsFlow(client, cover_images=True).read() if r.shop_id == product_id]
    ProductsFlow(client, cover_images=True).execute(rows)
    gestan_id = m.Link.get(
        (m.Link.resource == "products") & (m.Link.shop_id == product_id)
    ).gestan_id
    assert bytes(m.Product.get_by_id(gestan_id).image) == b"\xff\xd8cover\xff\xd9"


def test_cover_images_go_to_the_shop_with_a_product_made_in_gestan(demo, client, shop):
    product = m.Product.create(
        code="GES-IMAGE",
        label="Affiche",
        price_excl=12,
        vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
        family=m.Family.get(m.Family.code == "ACC"),
        image=b"\xff\xd8affiche\xff\xd9",
    )
    flow = ProductsFlow(client, cover_images=True)
    rows = [r for r in flow.read() if r.gestan_id == product.id]
    report = flow.execute(rows)
    assert report.ok and "avec son image" in report.results[0].message
    created = shop.data.table("products")[report.results[0].shop_id]
    image = shop.data.table("images")[int(created["id_default_image"])]
    assert image["content"] == b"\xff\xd8affiche\xff\xd9"


# --- stock ----------------------------------------------------------------------------


def test_stock_writes_only_what_differs(demo, client, shop):
    ProductsFlow(client).execute(ProductsFlow(client).read())
    StockFlow(client).execute(StockFlow(client).read())
    assert statuses(StockFlow(client).read()) == {Status.UP_TO_DATE: len(StockFlow(client).read())}
    item = m.Product.get(m.Product.code == "DEMO-00005")
    add_stock_movement(item, Decimal(-2), "adjust", "casse")
    rows = StockFlow(client).read()
    assert [r.gestan_id for r in rows if r.action] == [item.id]
    before = shop.requests
    report = StockFlow(client).execute(rows)
    assert report.counts["updated"] == 1
    assert shop.requests - before <= 2  # the PATCH (and the schema, once)
    stock = next(
        s
        for s in shop.data.table("stock_availables").values()
        if s["id_product"] == "5" and s["id_product_attribute"] == "0"
    )
    assert Decimal(stock["quantity"]) == gestan_stock(item.id)


def test_stock_lists_unmanaged_products_apart(sqlite_gestan, client):
    rows = StockFlow(client).read()
    assert rows and {r.status for r in rows} == {Status.UNMANAGED}
    assert not any(r.selected for r in rows)


# --- stop, faults, resume ------------------------------------------------------------------


def test_a_stop_between_two_rows_then_a_rerun_finishes(sqlite_gestan, client, shop):
    flow = ContactsFlow(client)
    rows = flow.read()
    cancel = threading.Event()

    def progress(done, total, label):
        if done == 3:
            cancel.set()

    report = flow.execute(rows, progress=progress, cancel=cancel)
    assert report.stopped and report.counts["created"] == 3
    assert (
        m.SyncRun.get_by_id(m.SyncRun.select().order_by(m.SyncRun.id.desc()).get().id).status
        == "stopped"
    )
    rows = ContactsFlow(client).read()
    ContactsFlow(client).execute(rows)
    assert m.Contact.select().count() == len(shop.data.table("customers"))


@pytest.mark.parametrize("fault", [{"error_503": 0.3}, {"rate_limit": 40.0}, {"cut_body": 0.2}])
def test_faults_during_each_flow_finish_or_stop_clearly_and_a_rerun_completes(demo, shop, fault):
    for name, value in fault.items():
        setattr(shop.faults, name, value)
    for flow_class in (ContactsFlow, ProductsFlow, StockFlow):
        for _attempt in range(6):
            with SyncWebservice(shop.url, shop.key, backoff=0.01) as faulty:
                try:
                    flow = flow_class(faulty)
                    report = flow.execute(flow.read())
                except Exception as exc:  # only our typed errors may end a run
                    from tui_connector.errors import ConnectorError

                    assert isinstance(exc, ConnectorError), exc
                    continue
                if report.ok:
                    break
    shop.faults.error_503 = shop.faults.cut_body = 0
    shop.faults.rate_limit = None
    with SyncWebservice(shop.url, shop.key) as clean:
        for flow_class in (ContactsFlow, ProductsFlow, StockFlow):
            rows = flow_class(clean).read()
            left = [(r.key, r.status, r.reason) for r in rows if r.action]
            assert not left, (flow_class.name, left)
    assert m.Contact.select().count() == len(shop.data.table("customers"))
    codes = [p.code for p in m.Product.select()]
    assert len(codes) == len(set(codes))
    references = [p.get("reference") for p in shop.data.table("products").values()]
    assert references.count("GES-BOUGIE") == 1  # never created twice in the shop


def test_translated_names_reach_gestan_in_french(demo, client, shop):
    shop.data.table("products")[8]["name"] = Translated({1: "Honey", 2: "Miel de lavande"})
    rows = [r for r in ProductsFlow(client).read() if r.shop_id == 8]
    assert rows[0].columns["label"] == "Miel de lavande"


def test_attributes_come_into_gestan_as_groups_values_and_each_variants_own(demo, client, shop):
    flow = ProductsFlow(client, attributes=True)
    assert flow.execute(flow.read()).ok
    groups = {g.name for g in m.AttributeGroup.select()}
    assert {"Taille", "Couleur"} <= groups
    for combination in shop.data.table("combinations").values():
        link = m.Link.get(
            (m.Link.resource == "products") & (m.Link.shop_sub_id == int(combination["id"]))
        )
        mine = {
            (a.value.group.name, a.value.name)
            for a in m.ProductAttribute.select().where(m.ProductAttribute.product == link.gestan_id)
        }
        wanted = {
            (
                shop.data.table("product_options")[
                    int(
                        shop.data.table("product_option_values")[int(v["id"])]["id_attribute_group"]
                    )
                ]["public_name"].get(2),
                shop.data.table("product_option_values")[int(v["id"])]["name"].get(2),
            )
            for v in combination["associations"]["product_option_values"]
        }
        assert mine == wanted
    values = m.AttributeValue.select().count()
    assert flow.execute(ProductsFlow(client, attributes=True).read()).ok
    assert m.AttributeValue.select().count() == values  # made once
