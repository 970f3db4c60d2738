"""Contacts: shop customers (with addresses, phones, civility) into Gestan contacts.

Statuses: add, update, up to date. A contact with the same e-mail in
Gestan is linked, not duplicated. A customer with several addresses needs
a choice of billing and delivery address: the read proposes those of the
customer's latest order, execute uses what was chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import peewee as pw

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import insert_rows, update_rows
from tui_connector.gestan.links import gestan_id_of, links, save_link, write_links
from tui_connector.prestashop.client import ID_BATCH, SyncWebservice
from tui_connector.prestashop.query import Filter, Query
from tui_connector.sync.bulk import Alone, BulkChunks, ChunkWriter
from tui_connector.sync.core import (
    MAPPING_ERRORS,
    Action,
    Flow,
    Origin,
    Outcome,
    Progress,
    Row,
    RowResult,
    content_hash,
    readable,
    shop_total,
    unreadable_row,
)
from tui_connector.sync.shop_facts import FACTS_NEEDS, FACTS_OPTIONAL, ShopFacts, read_facts
from tui_connector.sync.status import Status

RESOURCE = "customers"


@dataclass
class ContactPayload:
    """What doing a contact row needs: the shop's customer and its addresses, as read."""

    customer: dict
    addresses: list[dict]
    digest: str  # of what the link will say was synchronised
    twin_of: str = ""  # another account of the same e-mail: its row's key


# Customers that stand for no one: the GDPR module's (psgdpr) replaces the customer
# of an erased account in its orders
PLACEHOLDER_EMAILS = {"anonymous@psgdpr.com"}


def is_placeholder(customer: dict) -> bool:
    return customer.get("email", "").strip().lower() in PLACEHOLDER_EMAILS


def first_of_email(customers: list[dict]) -> dict[str, str]:
    """The customer each e-mail's contact is made from: its registered account (the
    oldest), else its oldest guest. {e-mail: customer id}."""
    first: dict[str, tuple] = {}
    for customer in customers:
        email = customer.get("email", "").strip().lower()
        if not email or not str(customer.get("id", "")).isdigit():
            continue
        rank = (customer.get("is_guest") == "1", int(customer["id"]))
        if email not in first or rank < first[email][0]:
            first[email] = (rank, customer["id"])
    return {email: customer_id for email, (_, customer_id) in first.items()}


@dataclass(frozen=True)
class ContactOptions:
    addresses: bool = True
    phones: bool = True
    comments: bool = True
    civilities: dict[str, str] | None = None  # id_gender -> Gestan civility code

    @classmethod
    def from_settings(cls) -> ContactOptions:
        return cls(
            addresses=settings.get_bool("sync.addresses"),
            phones=settings.get_bool("sync.phones"),
            comments=settings.get_bool("sync.comments"),
            civilities=settings.family_keys("civility."),
        )


def contact_code(shop_id: int) -> str:
    return f"C{shop_id:06d}"


def map_address(address: dict, facts: ShopFacts) -> dict:
    """A shop address as Gestan Address values (pure)."""
    return {
        "alias": address.get("alias", "")[:64],
        "company": address.get("company", "")[:128],
        "last_name": address.get("lastname", "")[:128],
        "first_name": address.get("firstname", "")[:128],
        "line1": address.get("address1", "")[:255],
        "line2": address.get("address2", "")[:255],
        "postcode": address.get("postcode", "")[:16],
        "city": address.get("city", "").strip()[:128],
        "country_code": facts.country_iso(address.get("id_country", 0))[:3],
        "country": facts.country_name(address.get("id_country", 0))[:128],
        "phone": address.get("phone", "")[:32],
        "mobile": address.get("phone_mobile", "")[:32],
        "vat_number": address.get("vat_number", "")[:32],
    }


def map_customer(customer: dict, billing: dict | None, options: ContactOptions) -> tuple[dict, str]:
    """Gestan Contact values for a customer, and a warning (pure)."""
    warning = ""
    civility_code = None
    gender = customer.get("id_gender", "") or "0"
    if gender != "0":
        civility_code = (options.civilities or {}).get(gender)
        if civility_code is None:
            warning = f"civilité inconnue: id_gender {gender} (réglez civility.{gender})"
    values = {
        "civility_code": civility_code,
        "last_name": customer.get("lastname", "")[:128],
        "first_name": customer.get("firstname", "")[:128],
        "company": customer.get("company", "")[:128],
        "email": customer.get("email", "").strip().lower()[:255],
        "is_guest": customer.get("is_guest") == "1",
        "comment": customer.get("note", "") if options.comments else "",
        "phone": (billing or {}).get("phone", "")[:32] if options.phones else "",
        "mobile": (billing or {}).get("phone_mobile", "")[:32] if options.phones else "",
    }
    return values, warning


class ContactsFlow(BulkChunks, Flow):
    name = "contacts"
    # orders: the addresses of a customer's latest order are proposed
    NEEDS = {**FACTS_NEEDS, "customers": {"get"}, "addresses": {"get"}, "orders": {"get"}}
    OPTIONAL = FACTS_OPTIONAL

    def __init__(self, client: SyncWebservice, options: ContactOptions | None = None):
        super().__init__(client)
        self.options = options or ContactOptions.from_settings()
        self.facts: ShopFacts | None = None

    # --- read ---------------------------------------------------------------------

    def read(self, progress: Progress | None = None, *, only: list[int] | None = None) -> list[Row]:
        return [row for page in self.read_pages(progress, only=only) for row in page]

    def read_pages(
        self, progress: Progress | None = None, *, only: list[int] | None = None
    ) -> Iterator[list[Row]]:
        """The rows, a page of customers at a time (500), with that page's addresses."""
        self.facts = read_facts(self.client)
        if only:
            pages: Iterable[list[dict]] = [self.client.get_many("customers", only)]
        else:
            pages = self.client.iter_pages("customers")
        total = len(only) if only else shop_total(self.client, "customers", None, progress)
        done = 0
        for customers in pages:
            rows = self._page_rows(customers)
            done += len(rows)
            if progress:
                progress(done, max(total, done), "clients lus")
            yield rows

    def _page_rows(self, customers: list[dict]) -> list[Row]:
        customers, rows = readable(customers, "customer")  # an impossible id: its own row
        ids = [int(c["id"]) for c in customers]
        addresses = self._addresses_of(ids)
        by_customer: dict[str, list[dict]] = {}
        for address in addresses:
            if address.get("deleted") != "1" and address.get("id_customer", "0") != "0":
                by_customer.setdefault(address["id_customer"], []).append(address)
        several = [cid for cid, found in by_customer.items() if len(found) > 1]
        latest = self._latest_order_addresses(several)
        known = links(RESOURCE, ids)
        emails = _contacts_by_email({c.get("email", "") for c in customers})
        first = first_of_email(customers)
        for customer in customers:
            try:
                row = self._row(
                    customer, by_customer.get(customer["id"], []), latest, known, emails
                )
            except MAPPING_ERRORS as exc:
                rows.append(unreadable_row(f"customer:{customer['id']}", customer, exc))
                continue
            email = row.columns["email"]
            if first.get(email, customer["id"]) != customer["id"]:
                self._twin(row, f"le client {first[email]}")
            else:
                self._guest_of_a_contact(row, customer, known)
            rows.append(row)
        return rows

    def _twin(self, row: Row, first: str) -> None:
        """Another account of an e-mail (a guest checkout of a registered customer, or
        again as a guest): the same contact, its addresses added, its data kept."""
        row.payload.twin_of = first
        if row.action == Action.CREATE_GESTAN:
            row.status, row.action = Status.UPDATE, Action.UPDATE_GESTAN
        reasons = [f"même e-mail que {first}: le même contact", row.reason]
        row.reason = "; ".join(r for r in reasons if r and not r.startswith("lié par e-mail"))

    def row_for(self, customer: dict, addresses: list[dict], billing: str, delivery: str) -> Row:
        """The row of one customer met elsewhere (an order's), with its addresses and the
        order's billing and delivery address ids."""
        known = links(RESOURCE, [int(customer["id"])])
        latest = {customer["id"]: (billing, delivery)}
        emails = _contacts_by_email({customer.get("email", "")})
        row = self._row(customer, addresses, latest, known, emails)
        self._guest_of_a_contact(row, customer, known)
        return row

    def _guest_of_a_contact(self, row: Row, customer: dict, known: dict) -> None:
        """A guest checkout of a customer Gestan has already: that contact, never
        overwritten by it."""
        if customer.get("is_guest") == "1" and row.gestan_id and (row.shop_id, 0) not in known:
            self._twin(row, "un contact Gestan")

    def _addresses_of(self, ids: list[int]) -> list[dict]:
        """The addresses of a page of customers: one request for the page's id range."""
        if not ids:
            return []
        if len(ids) <= 2 * ID_BATCH:  # a few customers: by their ids exactly
            return self.client.get_many("addresses", ids, key="id_customer")
        query = Query(
            filters={
                "id_customer": Filter.between(min(ids), max(ids)),
                "deleted": Filter.equals(0),
            }
        )
        wanted = {str(i) for i in ids}
        return [a for a in self.client.list("addresses", query) if a.get("id_customer") in wanted]

    def _latest_order_addresses(self, customer_ids: list[str]) -> dict[str, tuple[str, str]]:
        if not customer_ids:
            return {}
        orders = self.client.get_many(
            "orders",
            customer_ids,
            key="id_customer",
            display=("id", "id_customer", "id_address_delivery", "id_address_invoice"),
        )
        latest: dict[str, tuple[int, str, str]] = {}
        for order in orders:
            customer = order["id_customer"]
            if customer not in latest or int(order["id"]) > latest[customer][0]:
                latest[customer] = (
                    int(order["id"]),
                    order["id_address_invoice"],
                    order["id_address_delivery"],
                )
        return {c: (billing, delivery) for c, (_, billing, delivery) in latest.items()}

    def _row(self, customer, addresses, latest, known, emails) -> Row:
        shop_id = int(customer["id"])
        address_ids = [a["id"] for a in addresses]
        billing, delivery = latest.get(customer["id"], ("", ""))
        if billing not in address_ids:
            billing = address_ids[0] if address_ids else ""
        if delivery not in address_ids:
            delivery = billing
        chosen = next((a for a in addresses if a["id"] == billing), None)
        values, warning = map_customer(customer, chosen, self.options)
        digest = content_hash([values, [map_address(a, self.facts) for a in addresses]])
        link = known.get((shop_id, 0))
        gestan_id = (
            link.gestan_id if link else emails.get(values["email"]) if values["email"] else None
        )
        reason = warning
        if is_placeholder(customer) and link is None:
            status, action = Status.SKIPPED, None
            reason = "client de remplacement du module RGPD (comptes effacés): ignoré"
        elif link and link.content_hash == digest:
            status, action = Status.UP_TO_DATE, None
        elif gestan_id:
            status, action = Status.UPDATE, Action.UPDATE_GESTAN
        else:
            status, action = Status.ADD, Action.CREATE_GESTAN
        if link is None and gestan_id and status != Status.SKIPPED:
            reason = "; ".join(filter(None, ["lié par e-mail à un contact Gestan", warning]))
        return Row(
            key=f"customer:{shop_id}",
            origin=Origin.SHOP,
            status=status,
            action=action,
            shop_id=shop_id,
            gestan_id=gestan_id,
            columns={
                "last_name": values["last_name"],
                "first_name": values["first_name"],
                "email": values["email"],
                "label": f"{values['first_name']} {values['last_name']}".strip(),
            },
            reason=reason,
            payload=ContactPayload(customer, addresses, digest),
            needs_choice=len(addresses) > 1,
            choices={"billing": billing, "delivery": delivery},
        )

    # --- execute ------------------------------------------------------------------

    def _know_the_shop(self) -> None:
        if self.facts is None:  # rows read by another instance (the TUI, a test)
            self.facts = read_facts(self.client)

    def in_bulk(self, row: Row) -> bool:
        return True  # a contact is written in Gestan only

    def chunk_writer(self, rows: list[Row]) -> _ChunkWriter:
        self._know_the_shop()
        return _ChunkWriter(self, rows)

    def mapped(self, row: Row) -> tuple[dict, str, str, str]:
        """A contact row's Gestan values and warning, with the ids of the billing and
        delivery addresses chosen (apply and the bulk writer alike)."""
        billing_id = row.choices.get("billing", "")
        delivery_id = row.choices.get("delivery", "") or billing_id
        billing = next((a for a in row.payload.addresses if a["id"] == billing_id), None)
        values, warning = map_customer(row.payload.customer, billing, self.options)
        return values, warning, billing_id, delivery_id

    def apply(self, row: Row) -> RowResult:
        self._know_the_shop()
        customer, addresses = row.payload.customer, row.payload.addresses
        values, warning, billing_id, delivery_id = self.mapped(row)
        twin = row.payload.twin_of
        if twin:  # the contact of the e-mail, made by its first account or now
            found = _contacts_by_email({values["email"]}).get(values["email"])
            contact = (
                m.Contact.get_by_id(found)
                if found
                else self.upsert_contact(row.shop_id, values, None)
            )
            billing_id = delivery_id = ""  # the first account's addresses keep their roles
        else:
            contact = self.upsert_contact(row.shop_id, values, row.gestan_id)
        if self.options.addresses:
            self._write_addresses(contact, addresses, billing_id, delivery_id)
        save_link(
            RESOURCE,
            row.shop_id,
            0,
            contact.id,
            date_upd=customer.get("date_upd", ""),
            digest=row.payload.digest,
        )
        created = row.action == Action.CREATE_GESTAN
        return RowResult.of(
            row, Outcome.CREATED if created else Outcome.UPDATED, warning, gestan_id=contact.id
        )

    def upsert_contact(self, shop_id: int, values: dict, gestan_id: int | None) -> m.Contact:
        civility_code = values.pop("civility_code")
        civility = (
            m.Civility.get_or_none(m.Civility.code == civility_code) if civility_code else None
        )
        contact = m.Contact.get_or_none(m.Contact.id == gestan_id) if gestan_id else None
        if contact is None:
            code = contact_code(shop_id)
            contact = m.Contact(code=code, account=f"411{code}")
        for name, value in values.items():
            if name == "comment" and not value:
                continue  # an empty shop note does not wipe a Gestan comment
            if name in ("phone", "mobile") and not self.options.phones:
                continue
            setattr(contact, name, value)
        if civility is not None or contact.civility_id is None:
            contact.civility = civility
        contact.updated_at = m.now()
        contact.save()
        return contact

    def _write_addresses(self, contact, addresses, billing_id, delivery_id) -> None:
        ids = [int(a["id"]) for a in addresses]
        known = links("addresses", ids)
        for address in addresses:
            shop_id = int(address["id"])
            values = map_address(address, self.facts)
            kind = (
                m.Address.BILLING
                if address["id"] == billing_id
                else m.Address.DELIVERY
                if address["id"] == delivery_id
                else m.Address.OTHER
            )
            link = known.get((shop_id, 0))
            row = m.Address.get_or_none(m.Address.id == link.gestan_id) if link else None
            if row is None:  # the same address from another account of the contact: merged
                row = _same_address(contact, values) or m.Address(contact=contact)
                if row.id is not None and kind == m.Address.OTHER:
                    kind = row.kind
            for name, value in values.items():
                setattr(row, name, value)
            row.contact = contact
            row.kind = kind
            row.save()
            save_link("addresses", shop_id, 0, row.id, date_upd=address.get("date_upd", ""))


ADDRESS_KEYS = ("last_name", "first_name", "line1", "postcode", "city", "country_code")
CONTACT_FIELDS = [
    "civility",
    "last_name",
    "first_name",
    "company",
    "email",
    "is_guest",
    "comment",
    "phone",
    "mobile",
    "updated_at",
]
# what map_address() gives, and what _write_addresses() sets beside
ADDRESS_FIELDS = [
    "alias",
    "company",
    "last_name",
    "first_name",
    "line1",
    "line2",
    "postcode",
    "city",
    "country_code",
    "country",
    "phone",
    "mobile",
    "vat_number",
    "contact",
    "kind",
]


class _ChunkWriter(ChunkWriter):
    """apply(), upsert_contact() and _write_addresses() for a chunk of customers."""

    def __init__(self, flow: ContactsFlow, rows: list[Row]):
        super().__init__(flow)
        self.stamp = m.now()
        self.links = links(RESOURCE, [row.shop_id for row in rows if row.shop_id])
        ids = {link.gestan_id for link in self.links.values()}
        ids |= {row.gestan_id for row in rows if row.gestan_id}
        codes, emails, address_ids = set(), set(), []
        for row in rows:
            if not isinstance(row.payload, ContactPayload) or row.shop_id is None:
                continue  # (an unreadable record's row has no customer)
            codes.add(contact_code(row.shop_id))
            emails.add(str(row.payload.customer.get("email", "")).strip().lower())
            address_ids += [int(a["id"]) for a in row.payload.addresses]
        found = m.Contact.select().where(
            m.Contact.id.in_(sorted(ids) or [0])
            | m.Contact.code.in_(sorted(codes) or [""])
            | pw.fn.LOWER(m.Contact.email).in_(sorted(emails - {""}) or [""])
        )
        self.by_id = {contact.id: contact for contact in found}
        self.codes = {contact.code for contact in self.by_id.values()}
        self.by_email = {
            contact.email.lower(): contact for contact in self.by_id.values() if contact.email
        }
        self.civilities = dict(m.Civility.select(m.Civility.code, m.Civility.id).tuples())
        self.address_links = links("addresses", address_ids)
        linked = sorted({link.gestan_id for link in self.address_links.values()})
        self.addresses: dict[int, m.Address] = {}
        self.addresses_of: dict[int, list[m.Address]] = {}  # id(contact) -> its addresses
        self.owner: dict[int, m.Contact] = {}  # id(address) -> its contact, as planned
        for address in (
            m.Address.select()
            .where(m.Address.id.in_(linked or [0]) | m.Address.contact.in_(sorted(self.by_id)))
            .order_by(m.Address.id)
        ):
            self.addresses[address.id] = address
            contact = self.by_id.get(address.contact_id)
            if contact is not None:
                self.owner[id(address)] = contact
                self.addresses_of.setdefault(id(contact), []).append(address)
        self.known_addresses = set(self.addresses)
        # what is planned
        self.created: list[m.Contact] = []
        self.changed: dict[int, m.Contact] = {}
        self.new_addresses: list[m.Address] = []
        self.changed_addresses: dict[int, m.Address] = {}
        self.saved: dict[tuple[int, int], tuple[m.Contact, str, str]] = {}
        self.saved_addresses: dict[tuple[int, int], tuple[m.Address, str]] = {}
        self.targets: list[tuple[RowResult, m.Contact]] = []

    def plan_row(self, row: Row) -> RowResult:
        flow = self.flow
        customer, addresses = row.payload.customer, row.payload.addresses
        values, warning, billing_id, delivery_id = flow.mapped(row)
        mapped = [
            (int(a["id"]), a["id"], map_address(a, flow.facts), a.get("date_upd", ""))
            for a in (addresses if flow.options.addresses else [])
        ]
        twin = row.payload.twin_of
        if twin:  # the contact of the e-mail, made by its first account or now
            found = self.by_email.get(values["email"]) if values["email"] else None
            contact = found or self._upsert(row.shop_id, values, None)
            billing_id = delivery_id = ""  # the first account's addresses keep their roles
        else:
            contact = self._upsert(row.shop_id, values, row.gestan_id)
        for shop_id, raw_id, address_values, date_upd in mapped:
            kind = (
                m.Address.BILLING
                if raw_id == billing_id
                else m.Address.DELIVERY
                if raw_id == delivery_id
                else m.Address.OTHER
            )
            self._address(contact, shop_id, address_values, kind, date_upd)
        self.saved[(row.shop_id, 0)] = (
            contact,
            customer.get("date_upd", ""),
            row.payload.digest,
        )
        created = row.action == Action.CREATE_GESTAN
        outcome = Outcome.CREATED if created else Outcome.UPDATED
        result = RowResult.of(row, outcome, warning, gestan_id=contact.id)
        self.targets.append((result, contact))
        return result

    def _upsert(self, shop_id: int, values: dict, gestan_id: int | None) -> m.Contact:
        values = dict(values)
        civility_code = values.pop("civility_code")
        civility = self.civilities.get(civility_code) if civility_code else None
        contact = self.by_id.get(gestan_id) if gestan_id else None
        if contact is None:
            code = contact_code(shop_id)
            if code in self.codes:
                raise Alone  # another contact has the code: upsert_contact() says so
            contact = m.Contact(code=code, account=f"411{code}")
            self.created.append(contact)
            self.codes.add(code)
        else:
            self.changed[contact.id] = contact
            if self.by_email.get(contact.email.lower()) is contact:
                del self.by_email[contact.email.lower()]
        for name, value in values.items():
            if name == "comment" and not value:
                continue  # an empty shop note does not wipe a Gestan comment
            if name in ("phone", "mobile") and not self.flow.options.phones:
                continue
            setattr(contact, name, value)
        if civility is not None or contact.civility_id is None:
            contact.civility_id = civility
        contact.updated_at = m.now()
        if contact.email:
            self.by_email[contact.email.lower()] = contact
        return contact

    def _address(self, contact, shop_id: int, values: dict, kind: str, date_upd: str) -> None:
        key = (shop_id, 0)
        if key in self.saved_addresses:
            row = self.saved_addresses[key][0]
        elif key in self.address_links:
            row = self.addresses.get(self.address_links[key].gestan_id)
        else:
            row = None
        if row is None:  # the same address from another account of the contact: merged
            row = self._same_address(contact, values)
            if row is None:
                row = m.Address()
                self.new_addresses.append(row)
            elif kind == m.Address.OTHER:
                kind = row.kind
        for name, value in values.items():
            setattr(row, name, value)
        row.kind = kind
        before = self.owner.get(id(row))
        if before is not contact:
            if before is not None:
                self.addresses_of[id(before)].remove(row)
            self.addresses_of.setdefault(id(contact), []).append(row)
            self.owner[id(row)] = contact
        if row.id is not None:
            self.changed_addresses[row.id] = row
        self.saved_addresses[key] = (row, date_upd)

    def _same_address(self, contact: m.Contact, values: dict) -> m.Address | None:
        for address in self.addresses_of.get(id(contact), []):
            if all(
                getattr(address, k).strip().lower() == values[k].strip().lower()
                for k in ADDRESS_KEYS
            ):
                return address
        return None

    def write_planned(self) -> None:
        stamp = self.stamp
        if self.created:
            insert_rows(m.Contact, [_contact_values(c) for c in self.created])
            ids = dict(
                m.Contact.select(m.Contact.code, m.Contact.id)
                .where(m.Contact.code.in_([c.code for c in self.created]))
                .tuples()
            )
            for contact in self.created:
                contact.id = ids[contact.code]
        update_rows(m.Contact, self.changed.values(), CONTACT_FIELDS)
        for address in [*self.new_addresses, *self.changed_addresses.values()]:
            address.contact_id = self.owner[id(address)].id
        if self.new_addresses:
            insert_rows(m.Address, [_address_values(a) for a in self.new_addresses])
            # their ids, in the order they were written, contact by contact
            owners = sorted({a.contact_id for a in self.new_addresses})
            made: dict[int, list[int]] = {}
            for address_id, contact_id in (
                m.Address.select(m.Address.id, m.Address.contact)
                .where(m.Address.contact.in_(owners))
                .order_by(m.Address.id)
                .tuples()
            ):
                if address_id not in self.known_addresses:
                    made.setdefault(contact_id, []).append(address_id)
            for address in self.new_addresses:
                address.id = made[address.contact_id].pop(0)
            if any(made.values()):
                raise ValueError("adresses écrites par un autre programme en même temps")
        update_rows(m.Address, self.changed_addresses.values(), ADDRESS_FIELDS)
        write_links(
            "addresses",
            {key: (a.id, date_upd, "") for key, (a, date_upd) in self.saved_addresses.items()},
            self.address_links,
            stamp,
        )
        write_links(
            RESOURCE,
            {key: (c.id, *rest) for key, (c, *rest) in self.saved.items()},
            self.links,
            stamp,
        )
        for result, contact in self.targets:
            result.gestan_id = contact.id


def _contact_values(contact: m.Contact) -> dict:
    data = contact.__data__
    names = ["code", "account", "created_at", *CONTACT_FIELDS]
    return {name: data.get(name, m.Contact._meta.fields[name].default) for name in names} | {
        "created_at": data.get("created_at") or m.now()
    }


def _address_values(address: m.Address) -> dict:
    data = address.__data__
    return {name: data.get(name, m.Address._meta.fields[name].default) for name in ADDRESS_FIELDS}


def _same_address(contact: m.Contact, values: dict) -> m.Address | None:
    keys = ("last_name", "first_name", "line1", "postcode", "city", "country_code")
    for address in m.Address.select().where(m.Address.contact == contact):
        if all(getattr(address, k).strip().lower() == values[k].strip().lower() for k in keys):
            return address
    return None


def _contacts_by_email(emails: set[str]) -> dict[str, int]:
    """Gestan contacts by e-mail, whatever its case: how a shop customer is recognised."""
    wanted = sorted({e.strip().lower() for e in emails} - {""})
    if not wanted:
        return {}
    return {
        c.email.lower(): c.id
        for c in m.Contact.select(m.Contact.id, m.Contact.email).where(
            pw.fn.LOWER(m.Contact.email).in_(wanted)
        )
    }


def import_customer(
    client: SyncWebservice, shop_id: int, options: ContactOptions | None = None
) -> m.Contact:
    """Import one customer now (an order's missing customer); returns its Gestan contact."""
    flow = ContactsFlow(client, options)
    rows = flow.read(only=[shop_id])
    if not rows:
        raise KeyError(f"le client {shop_id} n'est pas dans la boutique")
    row = rows[0]
    if row.action is None:
        return m.Contact.get_by_id(row.gestan_id)
    flow.apply(row)
    return m.Contact.get_by_id(gestan_id_of(RESOURCE, shop_id))
