"""Gap-free counters: the next invoice number, the next entry number.

The counter row is incremented by an UPDATE inside the caller's write
transaction: the row (PostgreSQL, MariaDB) or the database (SQLite,
IMMEDIATE transaction) stays locked until that transaction commits, so two
validations never share a number, and a rolled-back validation gives its
number back with everything else it wrote: no gap.
"""

from __future__ import annotations

from tui_connector.gestan import models as m


def next_value(key: str) -> int:
    database = m.database_proxy.obj
    if not database.in_transaction():
        raise RuntimeError("les numéros sont donnés dans la transaction qui les utilise")
    increment = m.Sequence.update(last_value=m.Sequence.last_value + 1).where(m.Sequence.key == key)
    # Update first: an INSERT IGNORE on an existing row takes a shared lock on
    # MariaDB, and two such shared locks upgrading to write locks deadlock.
    if not increment.execute():
        m.Sequence.insert(key=key, last_value=0).on_conflict_ignore().execute()
        increment.execute()
    return m.Sequence.select(m.Sequence.last_value).where(m.Sequence.key == key).scalar()


def reserve(counts: dict[str, int]) -> dict[str, int]:
    """Take `counts[key]` numbers of each counter at once, inside the caller's write
    transaction (as next_value does): {key: the first of them}. Counters that share a
    count move in one statement."""
    database = m.database_proxy.obj
    if not database.in_transaction():
        raise RuntimeError("les numéros sont donnés dans la transaction qui les utilise")
    counts = {key: count for key, count in counts.items() if count > 0}
    if not counts:
        return {}
    keys = list(counts)
    known = {
        key for (key,) in m.Sequence.select(m.Sequence.key).where(m.Sequence.key.in_(keys)).tuples()
    }
    missing = [{"key": key, "last_value": 0} for key in keys if key not in known]
    if missing:  # (a plain insert: no shared lock to upgrade on MariaDB, see next_value)
        m.Sequence.insert_many(missing).execute()
    by_count: dict[int, list[str]] = {}
    for key, count in counts.items():
        by_count.setdefault(count, []).append(key)
    for count, same in by_count.items():
        m.Sequence.update(last_value=m.Sequence.last_value + count).where(
            m.Sequence.key.in_(same)
        ).execute()
    last = dict(
        m.Sequence.select(m.Sequence.key, m.Sequence.last_value)
        .where(m.Sequence.key.in_(keys))
        .tuples()
    )
    return {key: last[key] - counts[key] + 1 for key in keys}


def lettering_code(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: the letters accountants use to pair lines."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
