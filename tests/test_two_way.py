"""The one two-way decision products and special prices share."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from tui_connector.sync.core import Action, two_way
from tui_connector.sync.status import Status

SYNCED = dt.datetime(2026, 11, 1, 12, 0)
LINK = SimpleNamespace(content_hash="abc", synced_at=SYNCED)
BEFORE, AFTER = SYNCED - dt.timedelta(hours=1), SYNCED + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("digest", "edited", "same", "status", "action"),
    [
        ("abc", BEFORE, True, Status.UP_TO_DATE, None),
        ("abc", AFTER, True, Status.UP_TO_DATE, None),  # edited back to what the shop has
        ("xyz", BEFORE, False, Status.UPDATE_GESTAN, Action.UPDATE_GESTAN),
        ("abc", AFTER, False, Status.UPDATE_SHOP, Action.UPDATE_SHOP),
        ("xyz", AFTER, True, Status.UPDATE_GESTAN, Action.UPDATE_GESTAN),  # Gestan has it
        ("xyz", AFTER, False, Status.CONFLICT, None),
    ],
)
def test_which_side_changed_since_the_last_synchronisation(digest, edited, same, status, action):
    change = two_way(LINK, digest, edited, same)
    assert (change.status, change.action) == (status, action)
    assert change.conflict == (status == Status.CONFLICT)
    assert bool(change.reason) == change.conflict
