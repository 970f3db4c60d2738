"""Writing many rows with a few statements: what the flows' bulk writers share.

Peewee builds the SQL of each statement in Python, which costs far more than
SQLite's own work for one row: a page of rows goes in one INSERT per table, and
its changes in one UPDATE per table (a CASE on the id per column).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import peewee as pw

from tui_connector.gestan import models as m
from tui_connector.gestan.fields import ExactDecimalField

BATCH = 200  # rows per statement: far under every engine's limit of bound values

# PostgreSQL types a CASE branch's parameter as text (or as nothing for NULL), and will
# not put text into a number, a date or a boolean column without being told
_PG_CASTS = (
    (pw.AutoField, "INTEGER"),
    (pw.ForeignKeyField, "INTEGER"),
    (pw.IntegerField, "INTEGER"),
    (ExactDecimalField, "NUMERIC"),
    (pw.BooleanField, "BOOLEAN"),
    (pw.DateTimeField, "TIMESTAMP"),
    (pw.DateField, "DATE"),
    (pw.BlobField, "BYTEA"),
    (pw.CharField, "TEXT"),
    (pw.TextField, "TEXT"),
)


def _pg_cast(field: pw.Field) -> str | None:
    for kind, name in _PG_CASTS:
        if isinstance(field, kind):
            return name
    return None


def _quoted(database: pw.Database, name: str) -> str:
    return f"{database.quote[0]}{name}{database.quote[1]}"


def insert_rows(model: type[m.BaseModel], rows: Sequence[dict]) -> None:
    """Insert dicts that all have the same keys (field names), BATCH to a statement.

    The SQL is put together here: peewee's building of a many-row INSERT costs more
    than the database's writing it. Each value goes through its field's db_value, as
    peewee would send it (exact decimals checked); absent fields take their defaults.
    """
    if not rows:
        return
    database = m.database_proxy.obj
    meta = model._meta
    names = list(rows[0])
    fields = [meta.fields[name] for name in names]
    defaults = [
        (field, default)
        for field, default in meta.defaults.items()
        if field.name not in names and not isinstance(field, pw.AutoField)
    ]
    columns = ", ".join(_quoted(database, f.column_name) for f in fields + [f for f, _ in defaults])
    one = "(" + ", ".join([database.param] * (len(fields) + len(defaults))) + ")"
    head = f"INSERT INTO {_quoted(database, meta.table_name)} ({columns}) VALUES "
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        filled = [field.db_value(d() if callable(d) else d) for field, d in defaults]
        params = []
        for row in batch:
            params += [field.db_value(row[field.name]) for field in fields]
            params += filled
        database.execute_sql(head + ", ".join([one] * len(batch)), params)


def update_rows(model: type[m.BaseModel], objects: Iterable[m.BaseModel], names: list[str]):
    """Write the fields `names` of saved model instances, one UPDATE per BATCH of them:
    each column a CASE on the id."""
    objects = list(objects)
    if not objects:
        return
    database = m.database_proxy.obj
    postgres = isinstance(database, pw.PostgresqlDatabase)
    meta = model._meta
    pk = _quoted(database, meta.primary_key.column_name)
    fields = [meta.fields[name] for name in names]
    param = database.param
    for start in range(0, len(objects), BATCH):
        batch = objects[start : start + BATCH]
        sets, params = [], []
        for field in fields:
            cast = _pg_cast(field) if postgres else None
            then = f"CAST({param} AS {cast})" if cast else param
            sets.append(
                f"{_quoted(database, field.column_name)} = CASE {pk} "
                + " ".join([f"WHEN {param} THEN {then}"] * len(batch))
                + " END"
            )
            for obj in batch:
                params += [obj._pk, field.db_value(getattr(obj, field.safe_name))]
        ids = [obj._pk for obj in batch]
        sql = (
            f"UPDATE {_quoted(database, meta.table_name)} SET {', '.join(sets)} "
            f"WHERE {pk} IN ({', '.join([param] * len(ids))})"
        )
        database.execute_sql(sql, params + ids)
