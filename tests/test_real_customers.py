"""Customers as real shops hold them: a guest with a registered twin, the GDPR
module's placeholder, genders the connector must map without being told."""

from __future__ import annotations

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.contacts import ContactsFlow
from tui_connector.sync.status import Status


def _customer(data, **fields) -> dict:
    customer_id = max(data.table("customers")) + 1
    record = {
        "id": str(customer_id),
        "id_default_group": "2",
        "id_lang": "2",
        "id_gender": "1",
        "company": "",
        "active": "1",
        "is_guest": "1",
        "deleted": "0",
        "date_add": "2026-06-01 10:00:00",
        "date_upd": "2026-06-01 10:00:00",
        **fields,
    }
    return data.insert("customers", record)


@pytest.fixture
def shop():
    data = build(orders=10, seed=6)
    registered = data.table("customers")[1]
    # the same person ordering again as a guest, from the same address and a new one
    twin = _customer(
        data,
        firstname=registered["firstname"],
        lastname=registered["lastname"],
        email=registered["email"].upper(),
        id_gender=registered["id_gender"],
    )
    home = next(a for a in data.table("addresses").values() if a["id_customer"] == "1")
    data.insert("addresses", {**home, "id": None, "id_customer": twin["id"]})
    data.insert(
        "addresses",
        {**home, "id": None, "id_customer": twin["id"], "address1": "3 rue Neuve"},
    )
    # what the GDPR module leaves in place of an erased customer (psgdpr's own values)
    _customer(
        data,
        firstname="Anonymous",
        lastname="Anonymous",
        email="anonymous@psgdpr.com",
        is_guest="0",
        id_gender="0",
    )
    with SimulatedShop(data) as running:
        yield running


def test_a_guest_and_its_registered_twin_are_one_contact_with_both_linked(gestan, shop, client):
    flow = ContactsFlow(client)
    rows = {row.shop_id: row for row in flow.read()}
    twin_id = max(int(i) for i in shop.data.table("customers")) - 1
    assert "même e-mail que le client 1" in rows[twin_id].reason
    report = flow.execute(list(rows.values()))
    assert report.ok, report.summary()
    links = {
        link.shop_id: link.gestan_id
        for link in m.Link.select().where(m.Link.resource == "customers")
    }
    assert links[twin_id] == links[1]
    contact = m.Contact.get_by_id(links[1])
    assert not contact.is_guest  # made from the registered account
    lines = sorted(a.line1 for a in contact.addresses)
    assert "3 rue Neuve" in lines and len(lines) == len(set(lines))  # the same one merged
    emails = [c.email for c in m.Contact.select()]
    assert len(emails) == len(set(emails))
    again = ContactsFlow(client).read()
    assert {row.status for row in again} <= {Status.UP_TO_DATE, Status.SKIPPED}


def test_the_gdpr_placeholder_is_skipped_with_its_reason(gestan, shop, client):
    rows = ContactsFlow(client).read()
    (placeholder,) = [row for row in rows if row.columns["email"] == "anonymous@psgdpr.com"]
    assert placeholder.status == Status.SKIPPED and placeholder.action is None
    assert "RGPD" in placeholder.reason and not placeholder.selected


def test_genders_1_and_2_are_mapped_from_the_start(gestan, shop, client):
    assert settings.family_keys("civility.") == {"1": "M.", "2": "Mme"}
    assert ("civility.1", "M.") in [(k, v) for k, v, _ in settings.listing()]
    flow = ContactsFlow(client)
    assert flow.execute(flow.read()).ok
    for customer in shop.data.table("customers").values():
        link = m.Link.get_or_none(
            (m.Link.resource == "customers") & (m.Link.shop_id == int(customer["id"]))
        )
        if link is None or customer["id_gender"] not in ("1", "2"):
            continue
        contact = m.Contact.get_by_id(link.gestan_id)
        assert contact.civility.code == {"1": "M.", "2": "Mme"}[customer["id_gender"]]


def test_check_says_which_genders_no_civility_stands_for(gestan, shop, client):
    from tui_connector.sync.advice import civility_advice

    assert civility_advice(client) == []
    _customer(shop.data, firstname="Sam", lastname="Doe", email="sam@exemple.fr", id_gender="3")
    (said,) = civility_advice(client)
    assert "genre 3" in said and "civility.3" in said


def test_a_later_guest_checkout_never_overwrites_the_registered_contact(gestan, shop, client):
    flow = ContactsFlow(client)
    customers = shop.data.table("customers")
    registered = customers[1]
    only = [row for row in flow.read() if row.shop_id != max(customers) - 1]  # no twin yet
    assert flow.execute(only).ok
    guest = _customer(
        shop.data,
        firstname="Ines",
        lastname="Autre-Nom",
        email=registered["email"],
        id_gender=registered["id_gender"],
    )
    (row,) = ContactsFlow(client).read(only=[int(guest["id"])])  # a page without its twin
    assert "un contact Gestan" in row.reason
    assert ContactsFlow(client).execute([row]).ok
    link = m.Link.get((m.Link.resource == "customers") & (m.Link.shop_id == 1))
    assert m.Contact.get_by_id(link.gestan_id).last_name == registered["lastname"]


def test_an_orders_guest_checkout_never_overwrites_the_registered_contact(gestan, shop, client):
    """The orders flow imports a customer it meets: a guest twin is that contact too."""
    flow = ContactsFlow(client)
    registered = shop.data.table("customers")[1]
    assert flow.execute([r for r in flow.read() if r.shop_id == 1]).ok
    guest = _customer(shop.data, firstname="X", lastname="Autre", email=registered["email"])
    row = ContactsFlow(client).row_for(guest, [], "", "")
    assert "un contact Gestan" in row.reason
    assert ContactsFlow(client).execute([row]).ok
    link = m.Link.get((m.Link.resource == "customers") & (m.Link.shop_id == 1))
    assert m.Contact.get_by_id(link.gestan_id).last_name == registered["lastname"]
