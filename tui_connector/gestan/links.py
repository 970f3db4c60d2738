"""Which Gestan record is which shop record: the `link` table, read and written here only.

A link is (resource, shop id, sub id) → Gestan id, with the shop's date_upd and the
digest of what was last synchronised (the two-way decision compares them). The sub id
is a combination's, 0 for none. A Gestan contact may stand for several shop customers
(one e-mail); the flows see to it that a product stands for one shop product only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import peewee as pw

from tui_connector.gestan import models as m
from tui_connector.gestan.database import insert_rows, update_rows

Key = tuple[int, int]  # (shop id, sub id)


def _of(resource: str) -> pw.Expression:
    return m.Link.resource == resource


def links(resource: str, shop_ids: Iterable[int] | None = None) -> dict[Key, m.Link]:
    """The resource's links by (shop id, sub id): all, or those of a page's shop ids."""
    where = _of(resource)
    if shop_ids is not None:
        where &= m.Link.shop_id.in_(list(shop_ids) or [0])
    return {(link.shop_id, link.shop_sub_id): link for link in m.Link.select().where(where)}


def links_under(prefix: str) -> dict[int, m.Link]:
    """The links of every resource named `prefix…` by shop id (special prices: one
    resource per territory, one shop id each)."""
    return {
        link.shop_id: link for link in m.Link.select().where(m.Link.resource.startswith(prefix))
    }


def link_of(resource: str, shop_id: int, sub_id: int = 0) -> m.Link | None:
    return m.Link.get_or_none(
        _of(resource) & (m.Link.shop_id == shop_id) & (m.Link.shop_sub_id == sub_id)
    )


def gestan_id_of(resource: str, shop_id: int, sub_id: int = 0) -> int | None:
    link = link_of(resource, shop_id, sub_id)
    return link.gestan_id if link else None


def gestan_ids_of(resource: str, shop_ids: Iterable[int]) -> dict[int, int]:
    """{shop id: Gestan id} of those linked (sub id 0), in one query."""
    shop_ids = list(shop_ids)
    if not shop_ids:
        return {}
    return dict(
        m.Link.select(m.Link.shop_id, m.Link.gestan_id)
        .where(_of(resource) & m.Link.shop_id.in_(shop_ids) & (m.Link.shop_sub_id == 0))
        .tuples()
    )


def pairs(resource: str) -> dict[Key, int]:
    """{(shop id, sub id): Gestan id} of every link of the resource, as tuples (a
    catalogue's links as objects weigh megabytes)."""
    return {
        (shop_id, sub_id): gestan_id
        for shop_id, sub_id, gestan_id in m.Link.select(
            m.Link.shop_id, m.Link.shop_sub_id, m.Link.gestan_id
        )
        .where(_of(resource))
        .tuples()
    }


def linked_gestan_ids(resource: str) -> set[int]:
    return {
        gestan_id for (gestan_id,) in m.Link.select(m.Link.gestan_id).where(_of(resource)).tuples()
    }


def shop_keys_of(resource: str, gestan_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """(shop id, sub id, Gestan id) of the links to these Gestan records."""
    return list(
        m.Link.select(m.Link.shop_id, m.Link.shop_sub_id, m.Link.gestan_id)
        .where(_of(resource) & m.Link.gestan_id.in_(sorted(gestan_ids) or [0]))
        .tuples()
    )


def linked_by(resource: str, field: pw.Field, values: Iterable) -> dict:
    """{value: (shop id, Gestan id)} of the linked Gestan records whose `field` is one
    of `values` (imported orders by reference), in one query."""
    model = field.model
    found = (
        model.select(field, m.Link.shop_id, model.id)
        .join(m.Link, on=(m.Link.gestan_id == model.id))
        .where(_of(resource) & field.in_(list(values) or [""]))
        .tuples()
    )
    return {value: (shop_id, gestan_id) for value, shop_id, gestan_id in found}


def link_to(resource: str, gestan_id: int) -> m.Link | None:
    """A link to this Gestan record (the one, for an order or a product)."""
    return m.Link.get_or_none(_of(resource) & (m.Link.gestan_id == gestan_id))


def linked_elsewhere(resource: str, gestan_id: int, shop_id: int) -> bool:
    """Is this Gestan record linked to another shop record than `shop_id`?"""
    return (
        m.Link.select()
        .where(_of(resource) & (m.Link.gestan_id == gestan_id) & (m.Link.shop_id != shop_id))
        .exists()
    )


def is_linked(resource: str, gestan_id: pw.Field) -> pw.Expression:
    """A condition for a query over Gestan records: this one has a link (the database
    leaves the linked ones out, rather than Python reading every link)."""
    return pw.fn.EXISTS(
        m.Link.select(m.Link.id).where(_of(resource) & (m.Link.gestan_id == gestan_id))
    )


def save_link(
    resource: str,
    shop_id: int,
    shop_sub_id: int,
    gestan_id: int,
    *,
    date_upd: str = "",
    digest: str = "",
) -> m.Link:
    link = link_of(resource, shop_id, shop_sub_id)
    if link is None:
        return m.Link.create(
            resource=resource,
            shop_id=shop_id,
            shop_sub_id=shop_sub_id,
            gestan_id=gestan_id,
            shop_date_upd=date_upd,
            content_hash=digest,
        )
    link.gestan_id = gestan_id
    link.shop_date_upd = date_upd
    link.content_hash = digest
    link.synced_at = m.now()
    link.save()
    return link


def _new_link(resource, shop_id, sub_id, gestan_id, date_upd, digest, stamp) -> dict:
    return {
        "resource": resource,
        "shop_id": shop_id,
        "shop_sub_id": sub_id,
        "gestan_id": gestan_id,
        "shop_date_upd": date_upd,
        "content_hash": digest,
        "synced_at": stamp,
    }


def write_links(
    resource: str,
    saved: dict[Key, tuple[int, str, str]],
    existing: dict[Key, m.Link],
    stamp: dt.datetime,
) -> None:
    """What save_link() does for many, in two statements: {(shop id, sub id): (Gestan id,
    date_upd, digest)}, beside the links of those keys already saved (updated in place)."""
    new, kept = [], []
    for (shop_id, sub_id), (gestan_id, date_upd, digest) in saved.items():
        link = existing.get((shop_id, sub_id))
        if link is None:
            new.append(_new_link(resource, shop_id, sub_id, gestan_id, date_upd, digest, stamp))
        else:
            link.gestan_id, link.shop_date_upd, link.content_hash = gestan_id, date_upd, digest
            link.synced_at = stamp
            kept.append(link)
    insert_rows(m.Link, new)
    update_rows(m.Link, kept, ["gestan_id", "shop_date_upd", "content_hash", "synced_at"])


def add_links(new: list[tuple[str, int, int, str]], stamp: dt.datetime) -> None:
    """Links of records just made (no link of theirs yet), in one insert, in the order
    given: [(resource, shop id, Gestan id, date_upd)], sub id 0."""
    insert_rows(
        m.Link,
        [
            _new_link(resource, shop_id, 0, gestan_id, date_upd, "", stamp)
            for resource, shop_id, gestan_id, date_upd in new
        ],
    )


def mark_synced(resource: str, gestan_ids: Iterable[int], stamp: dt.datetime) -> None:
    """Every link to these Gestan records synchronised at `stamp` (a product written
    from one shop record is in step with the others it stands for)."""
    gestan_ids = sorted(set(gestan_ids))
    if gestan_ids:
        m.Link.update(synced_at=stamp).where(
            _of(resource) & m.Link.gestan_id.in_(gestan_ids)
        ).execute()


def unlink(resource: str, shop_id: int, shop_sub_id: int = 0) -> int:
    return (
        m.Link.delete()
        .where(_of(resource) & (m.Link.shop_id == shop_id) & (m.Link.shop_sub_id == shop_sub_id))
        .execute()
    )
