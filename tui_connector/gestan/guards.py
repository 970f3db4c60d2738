"""Validated means immutable, whatever writes to the database (CGI 286 I-3° bis).

`Invoice.save()` refuses to change a validated invoice, but a bulk `update()`, a
`delete()` or any SQL client goes around the ORM. These triggers are in the
database itself, on SQLite, PostgreSQL and MariaDB alike:
- a validated invoice, its lines and its VAT rows cannot be changed or deleted, and
  no line or VAT row can be added to it;
- a posted entry cannot be changed or deleted; of its lines only the lettering (code
  and date) may change, the rest never, and no line goes away;
- no entry can be posted in a closed fiscal year.
TRUNCATE and DROP TABLE fire no row trigger: a whole database can still be dropped.
"""

from __future__ import annotations

import peewee as pw

# (no apostrophe in them: they are quoted into SQL)
LOCKED = (
    "tui-connector: une facture validée ou une écriture comptabilisée ne change plus; "
    "émettez un avoir"
)
CLOSED = "tui-connector: cet exercice est clos; comptabilisez dans un exercice ouvert"

# (table, event, condition on OLD/NEW, message): one trigger each
INVOICE_VALIDATED = "(SELECT status FROM invoice WHERE id = {row}.invoice_id) = 'validated'"
LINE_FIXED = " OR ".join(
    f"NOT (NEW.{column} <=> OLD.{column})"
    for column in (
        "entry_id",
        "position",
        "account_number",
        "account_label",
        "aux_number",
        "aux_label",
        "label",
        "debit",
        "credit",
        "currency_amount",
        "currency",
    )
)
RULES = [
    ("invoice", "UPDATE", "OLD.status = 'validated'", LOCKED),
    ("invoice", "DELETE", "OLD.status = 'validated'", LOCKED),
    ("invoice_line", "INSERT", INVOICE_VALIDATED.format(row="NEW"), LOCKED),
    ("invoice_line", "UPDATE", INVOICE_VALIDATED.format(row="OLD"), LOCKED),
    ("invoice_line", "DELETE", INVOICE_VALIDATED.format(row="OLD"), LOCKED),
    ("invoice_vat", "INSERT", INVOICE_VALIDATED.format(row="NEW"), LOCKED),
    ("invoice_vat", "UPDATE", INVOICE_VALIDATED.format(row="OLD"), LOCKED),
    ("invoice_vat", "DELETE", INVOICE_VALIDATED.format(row="OLD"), LOCKED),
    ("accounting_entry", "UPDATE", "1 = 1", LOCKED),
    ("accounting_entry", "DELETE", "1 = 1", LOCKED),
    (
        "accounting_entry",
        "INSERT",
        "(SELECT closed FROM fiscal_year WHERE id = NEW.fiscal_year_id) = {true}",
        CLOSED,
    ),
    ("accounting_line", "UPDATE", LINE_FIXED, LOCKED),
    ("accounting_line", "DELETE", "1 = 1", LOCKED),
]


def _name(table: str, event: str) -> str:
    return f"tuic_guard_{table}_{event.lower()}"


def _condition(condition: str, engine: str) -> str:
    # `<=>` is MariaDB's null-safe equality; SQLite says IS, PostgreSQL IS NOT DISTINCT FROM
    if engine == "sqlite":
        condition = condition.replace("<=>", "IS")
    elif engine == "postgresql":
        condition = condition.replace("<=>", "IS NOT DISTINCT FROM")
    return condition.replace("{true}", "1" if engine != "postgresql" else "TRUE")


def statements(engine: str) -> list[str]:
    """The SQL that installs every guard (idempotent: each trigger is made afresh)."""
    found = []
    for table, event, condition, message in RULES:
        name, test = _name(table, event), _condition(condition, engine)
        if engine == "sqlite":
            found.append(f"DROP TRIGGER IF EXISTS {name}")
            found.append(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                f"WHEN {test} BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        elif engine == "postgresql":
            found.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            found.append(
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
                f"IF {test} THEN RAISE EXCEPTION '{message}' USING ERRCODE = 'P0001'; END IF; "
                f"RETURN {'OLD' if event == 'DELETE' else 'NEW'}; END $$ LANGUAGE plpgsql"
            )
            found.append(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                f"EXECUTE FUNCTION {name}()"
            )
        else:
            found.append(f"DROP TRIGGER IF EXISTS {name}")
            found.append(
                f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW BEGIN "
                f"IF {test} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; "
                "END IF; END"
            )
    return found


def install(database: pw.Database, engine: str) -> None:
    for statement in statements(engine):
        database.execute_sql(statement)


def is_guard_error(exc: Exception) -> bool:
    return LOCKED in str(exc) or CLOSED in str(exc)
