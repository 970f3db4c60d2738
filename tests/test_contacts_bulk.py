"""The contacts import written in bulk does what the row-by-row import does (links by
e-mail, a customer's accounts as one contact, merged addresses, updates), with a few
statements per page; a deadlock undoes the chunk, which is done again."""

from __future__ import annotations

from collections import Counter

import peewee as pw
import pymysql
import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync import contacts
from tui_connector.sync.contacts import ContactsFlow


class RowByRow(ContactsFlow):
    def in_bulk(self, row) -> bool:
        return False


class SmallChunks(ContactsFlow):
    BULK_CHUNK = 20


CONTACT = ("code", "civility_id", "last_name", "first_name", "email", "phone", "mobile")
CONTACT += ("account", "is_guest", "comment", "company")
ADDRESS = ("kind", "alias", "last_name", "line1", "postcode", "city", "country_code", "phone")


def values(record, names) -> tuple:
    return tuple(str(getattr(record, name)) for name in names)


def gestan_now() -> dict:
    """What Gestan holds, ids replaced by codes (the two imports number apart)."""
    code = {c.id: c.code for c in m.Contact.select()}
    place = {a.id: (code[a.contact_id], a.line1, a.kind) for a in m.Address.select()}
    return {
        "contacts": sorted(values(c, CONTACT) for c in m.Contact.select()),
        "addresses": sorted((code[a.contact_id], *values(a, ADDRESS)) for a in m.Address.select()),
        "links": sorted(
            (
                *values(k, ("resource", "shop_id", "content_hash", "shop_date_upd")),
                str((code if k.resource == "customers" else place).get(k.gestan_id)),
            )
            for k in m.Link.select()
        ),
        "lines": Counter(
            (line.shop_id, code.get(line.gestan_id), line.status, line.outcome, line.message)
            for line in m.SyncRunLine.select()
        ),
    }


def count_statements(database) -> list[int]:
    counted = [0]
    inner = database.execute_sql

    def execute_sql(sql, params=None, *args, **kwargs):
        counted[0] += 1
        return inner(sql, params, *args, **kwargs)

    database.execute_sql = execute_sql
    return counted


def import_and_follow(flow_class, path) -> tuple[dict, list]:
    """A new Gestan that knows one customer's e-mail; the import; the shop changes (names,
    notes, cities); the import again; then nothing left to do."""
    with SimulatedShop(build(orders=1600)) as shop:
        database = open_database(f"sqlite:///{path}")
        settings.set_value("civility.1", "M.")  # (2 unmapped: a warning)
        customers = shop.data.table("customers")
        first = customers[min(customers)]
        m.Contact.create(code="G0001", email=first["email"].upper(), comment="gardé")
        # guests who are registered customers too: one contact per e-mail
        registered = [c for c in customers.values() if c["is_guest"] != "1"]
        guests = [c for c in customers.values() if c["is_guest"] == "1"]
        for guest, customer in zip(guests[-6:], registered[1:7], strict=True):
            guest["email"] = customer["email"]
        # a customer with the same address twice: one Gestan address
        addresses = shop.data.table("addresses")
        of_customer = Counter(a["id_customer"] for a in addresses.values())
        twice = [a for a in addresses.values() if of_customer[a["id_customer"]] > 1]
        copy = next(a for a in twice[1:] if a["id_customer"] == twice[0]["id_customer"])
        for key in ("lastname", "firstname", "address1", "postcode", "city", "id_country"):
            copy[key] = twice[0][key]
        counted = count_statements(database)
        reports = []
        with SyncWebservice(shop.url, shop.key) as client:
            reports.append(flow_class(client).stream())
            per_row = counted[0] / len(reports[0].results)
            assert m.Contact.select().count() == len(customers) - 6  # (and G0001 is linked)
            assert m.Address.select().count() == len(addresses) - 1
            for customer_id in sorted(customers)[::7]:
                customers[customer_id]["lastname"] += " Bis"
                customers[customer_id]["note"] = "changé"
            for address_id in sorted(addresses)[::5]:
                addresses[address_id]["city"] = "Ailleurs"
            reports.append(flow_class(client).stream())
            reports.append(flow_class(client).stream())
        found = gestan_now()
        database.close()
    return found, [r.counts for r in reports] + [per_row]


def test_bulk_import_is_the_row_by_row_import_in_fewer_statements(tmp_path):
    bulk, bulk_counts = import_and_follow(ContactsFlow, tmp_path / "bulk.db")
    alone, alone_counts = import_and_follow(RowByRow, tmp_path / "alone.db")
    assert bulk_counts[:3] == alone_counts[:3]
    assert bulk_counts[0]["created"] > 300 and bulk_counts[1]["updated"] > 50
    assert bulk_counts[2]["created"] == bulk_counts[2]["updated"] == 0
    for table in bulk:
        assert bulk[table] == alone[table], table
    assert bulk_counts[3] < 0.3 < 5 < alone_counts[3]  # statements per row


def _deadlock() -> Exception:
    return pw.OperationalError(pymysql.err.OperationalError(1213, "Deadlock found"))


@pytest.mark.parametrize("persistent", [False, True])
def test_a_deadlock_in_a_bulk_write_undoes_the_chunk_and_does_it_again(
    gestan, persistent, monkeypatch
):
    writes = Counter()
    write_planned = contacts._ChunkWriter.write_planned

    def deadlocking(writer):
        writes["all"] += 1
        write_planned(writer)  # written, then the server undoes the transaction
        if writes["all"] == 2 or (persistent and writes["all"] > 2):
            raise _deadlock()

    monkeypatch.setattr(contacts._ChunkWriter, "write_planned", deadlocking)
    settings.set_value("civility.1", "M.")
    with SimulatedShop(build(orders=160)) as forty, SyncWebservice(forty.url, forty.key) as client:
        flow = SmallChunks(client)
        rows = flow.read()
        report = flow.execute(rows)
    if persistent:
        assert "les a refusées" in report.error and "pas été gardées" in report.error
        assert m.Contact.select().count() == len(report.results) == 20  # the first chunk
    else:
        assert report.ok and report.counts["created"] == len(rows) == m.Contact.select().count()
        assert writes["all"] == -(-len(rows) // 20) + 1  # the second chunk, twice
    assert m.SyncRunLine.select().count() == len(report.results)
    emails = [c.email for c in m.Contact.select()]
    assert len(emails) == len(set(emails))
