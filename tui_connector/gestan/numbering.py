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
    transaction (as next_value does): {key: the first of them}. The counters that share
    a count move in one statement (the row, or SQLite's database, stays locked until
    the transaction ends); those that do not exist yet are made with their count."""
    database = m.database_proxy.obj
    if not database.in_transaction():
        raise RuntimeError("les numéros sont donnés dans la transaction qui les utilise")
    counts = {key: count for key, count in counts.items() if count > 0}
    if not counts:
        return {}
    table, key, last = (name.join(database.quote) for name in ("sequence", "key", "last_value"))

    def among(keys) -> str:
        return f"{key} IN ({', '.join([database.param] * len(keys))})"

    by_count: dict[int, list[str]] = {}
    for name, count in counts.items():
        by_count.setdefault(count, []).append(name)
    for count, names in by_count.items():  # (update first: see next_value on MariaDB)
        database.execute_sql(
            f"UPDATE {table} SET {last} = {last} + {database.param} WHERE {among(names)}",
            [count, *names],
        )
    found = dict(
        database.execute_sql(
            f"SELECT {key}, {last} FROM {table} WHERE {among(counts)}", list(counts)
        ).fetchall()
    )
    missing = [{"key": name, "last_value": counts[name]} for name in counts if name not in found]
    if missing:
        m.Sequence.insert_many(missing).execute()
        found.update((row["key"], row["last_value"]) for row in missing)
    return {name: int(found[name]) - counts[name] + 1 for name in counts}


def lettering_code(number: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA: the letters accountants use to pair lines."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters
