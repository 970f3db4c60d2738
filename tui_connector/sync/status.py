"""What a row is, as a code: the flows decide it, tests compare it, and the words a user
reads are in one table (`tui_connector.labels`)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    # rows every flow can have
    UP_TO_DATE = "up_to_date"
    BLOCKED = "blocked"
    CONFLICT = "conflict"
    UNMANAGED = "unmanaged"  # a product whose stock or price the shop does not follow
    # contacts and orders: into Gestan
    ADD = "add"
    UPDATE = "update"
    SKIPPED = "skipped"  # a guest, or a contact the settings leave out
    IMPORTED = "imported"  # an order already in Gestan
    # products and special prices: either way
    ADD_GESTAN = "add_gestan"
    ADD_SHOP = "add_shop"
    UPDATE_GESTAN = "update_gestan"
    UPDATE_SHOP = "update_shop"
    # what happens to an order after its import
    PAID = "paid"
    CANCELLED = "cancelled"
    CREDITED = "credited"  # a credit slip
    REFUNDED = "refunded"
