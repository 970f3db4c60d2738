"""Opening a Gestan database from a URL, creating and migrating its schema.

sqlite:///path/to/gestan.db (the default), postgresql://user@host:port/db,
mysql://user:password@host:port/db. The schema version is kept in the
`meta` table; an older database is migrated on open, a newer one refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlparse

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

from tui_connector.errors import DatabaseError
from tui_connector.gestan import guards, refcache
from tui_connector.gestan import models as m
from tui_connector.gestan.fields import FIELD_TYPES, ExactDecimalField

SCHEMA_VERSION = 6


def _mask_url(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return url


def make_database(url: str) -> pw.Database:
    """Build (without connecting) the peewee database a URL names."""
    parsed = urlparse(url)
    scheme = parsed.scheme.split("+")[0]
    if scheme == "sqlite":
        path = unquote(parsed.path)
        if parsed.netloc:  # sqlite://relative/path is a common slip
            path = parsed.netloc + path
        if path.startswith("/") and path != "/:memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if path == "/:memory:":
            path = ":memory:"
        return pw.SqliteDatabase(
            path,
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000},
            field_types=FIELD_TYPES["sqlite"],
            timeout=30,
        )
    common = {
        "host": parsed.hostname or "127.0.0.1",
        "user": unquote(parsed.username) if parsed.username else None,
        "password": unquote(parsed.password) if parsed.password else None,
    }
    if parsed.port:
        common["port"] = parsed.port
    name = parsed.path.lstrip("/")
    if not name:
        raise DatabaseError(
            f"l'adresse de base de données {_mask_url(url)} ne nomme aucune base",
            hint="ajoutez le nom de la base à la fin, par exemple "
            "postgresql://utilisateur@hote/gestan",
        )
    if scheme in ("postgres", "postgresql"):
        common = {k: v for k, v in common.items() if v is not None}
        return pw.PostgresqlDatabase(name, field_types=FIELD_TYPES["postgresql"], **common)
    if scheme in ("mysql", "mariadb"):
        common["password"] = common["password"] or ""
        return pw.MySQLDatabase(name, charset="utf8mb4", field_types=FIELD_TYPES["mysql"], **common)
    raise DatabaseError(
        f"type d'adresse de base de données inconnu {parsed.scheme!r}",
        hint="utilisez sqlite:///chemin, postgresql://utilisateur@hote/base ou "
        "mysql://utilisateur@hote/base",
    )


def engine_of(database: pw.Database) -> str:
    if isinstance(database, pw.SqliteDatabase):
        return "sqlite"
    if isinstance(database, pw.PostgresqlDatabase):
        return "postgresql"
    return "mysql"


# What a database error means for the run, in words: the database is gone for it
TROUBLES = [
    (
        (
            "server closed the connection",
            "connection already closed",
            "lost connection",
            "has gone away",
            "terminating connection",
            "connection refused",
            "broken pipe",
        ),
        "la connexion à la base Gestan a été perdue",
    ),
    (("disk is full", "no space left", "disk full"), "le disque de la base Gestan est plein"),
    (("readonly", "read-only", "read only"), "la base Gestan est en lecture seule"),
    (
        ("database is locked", "lock wait timeout"),
        "la base Gestan est restée verrouillée par un autre programme",
    ),
]


def database_trouble(exc: BaseException | None) -> str | None:
    """The cause, in words, when an error means the database is gone for this run (its
    connection, its disk): None for an error of one row (a constraint, a bad value)."""
    while exc is not None:
        text = str(exc).lower()
        for needles, said in TROUBLES:
            if any(needle in text for needle in needles):
                return said
        if isinstance(exc, pw.InterfaceError):
            return "la connexion à la base Gestan a été perdue"
        exc = exc.__context__  # a failed rollback hides the error that led to it
    return None


def write_transaction(database: pw.Database | None = None):
    """A transaction that takes the write lock at once.

    SQLite's default deferred transaction fails with "database is locked"
    when it reads then writes while another writer holds the lock; an
    IMMEDIATE one waits its turn instead. The other engines lock rows.
    """
    database = database or m.database_proxy.obj
    if isinstance(database, pw.SqliteDatabase) and not database.in_transaction():
        return database.atomic("IMMEDIATE")
    return database.atomic()


def insert_rows(model: type[m.BaseModel], rows: list[dict], *, ids: bool = False):
    """Insert `rows` (dicts with the same keys; the model's defaults fill the others) in
    a few multi-row statements; with `ids`, return their ids in order.

    The SQL is written here, not by peewee, whose building of it costs ten times the
    insert; each value goes through its field's db_value as peewee would send it (exact
    decimals checked). PostgreSQL says the ids (RETURNING). SQLite gives the last: its
    rowids follow one another within a statement while the transaction holds the write
    lock. MariaDB gives the first, and the next ones follow while its auto-increment
    lock mode is 0 or 1 (the default); otherwise each row is inserted alone.
    """
    if not rows:
        return [] if ids else None
    database = m.database_proxy.obj
    engine = engine_of(database)
    if ids and engine == "mysql" and not _consecutive_ids(database):
        return [model.insert(row).execute() for row in rows]
    meta = model._meta
    names = list(rows[0])
    defaults = [
        (field, default)
        for field, default in meta.defaults.items()
        if field.name not in names and not isinstance(field, pw.AutoField)
    ]
    fields = [meta.fields[name] for name in names] + [field for field, _ in defaults]
    converters = [field.db_value for field in fields]

    def quote(name: str) -> str:
        return name.join(database.quote)  # (the engine's two quote characters around it)

    columns = ", ".join(quote(field.column_name) for field in fields)
    one = "(" + ", ".join([database.param] * len(fields)) + ")"
    head = f"INSERT INTO {quote(meta.table_name)} ({columns}) VALUES "
    tail = f" RETURNING {quote(meta.primary_key.column_name)}" if ids else ""
    if engine != "postgresql":
        tail = ""
    found: list[int] = []
    step = max(1, 30000 // len(fields))  # under every engine's limit of bound values
    for start in range(0, len(rows), step):
        batch = rows[start : start + step]
        filled = [default() if callable(default) else default for _, default in defaults]
        params = []
        for row in batch:
            values = [row[name] for name in names] + filled
            params += [convert(value) for convert, value in zip(converters, values, strict=True)]
        cursor = database.execute_sql(head + ", ".join([one] * len(batch)) + tail, params)
        if not ids:
            continue
        if engine == "postgresql":
            found += [row[0] for row in cursor.fetchall()]
        elif engine == "sqlite":
            last = cursor.lastrowid
            found += list(range(last - len(batch) + 1, last + 1))
        else:
            found += list(range(cursor.lastrowid, cursor.lastrowid + len(batch)))
    return found if ids else None


UPDATE_BATCH = 200  # rows per UPDATE: far under every engine's limit of bound values

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


def update_rows(model: type[m.BaseModel], objects: Iterable[m.BaseModel], names: list[str]):
    """Write the fields `names` of saved model instances, one UPDATE per UPDATE_BATCH of them:
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
    for start in range(0, len(objects), UPDATE_BATCH):
        batch = objects[start : start + UPDATE_BATCH]
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


def insert_ids(model: type[m.BaseModel], rows: list[dict]) -> list[int]:
    return insert_rows(model, rows, ids=True)


def _consecutive_ids(database: pw.Database) -> bool:
    def load() -> bool:
        mode, step = database.execute_sql(
            "SELECT @@innodb_autoinc_lock_mode, @@auto_increment_increment"
        ).fetchone()
        return int(mode) <= 1 and int(step) == 1

    return refcache.cached(("consecutive_ids", id(database)), load)


def open_database(url: str, *, create: bool = True) -> pw.Database:
    """Connect, bind the models, create or migrate the schema."""
    database = make_database(url)
    try:
        database.connect(reuse_if_open=True)
    except pw.OperationalError as exc:
        raise DatabaseError(
            f"impossible d'ouvrir la base Gestan {_mask_url(url)}: {_first_line(exc)}",
            hint="vérifiez TUI_CONNECTOR_DATABASE (ou database.url dans le profil) "
            "et que le serveur fonctionne",
        ) from None
    m.database_proxy.initialize(database)
    refcache.clear()  # another database, other reference data
    ensure_schema(database, create=create)
    return database


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def stored_version(database: pw.Database) -> int | None:
    if not database.table_exists(m.Meta._meta.table_name):
        return None
    row = m.Meta.get_or_none(m.Meta.key == "schema_version")
    if row is None:
        raise DatabaseError(
            "cette base a une table meta mais pas de version de schéma",
            hint="elle n'a pas été créée par tui-connector; faites pointer "
            "TUI_CONNECTOR_DATABASE ailleurs",
        )
    return int(row.value)


def ensure_schema(database: pw.Database, *, create: bool = True) -> None:
    version = stored_version(database)
    if version is None:
        if not create:
            raise DatabaseError(
                "la base Gestan est vide", hint="lancez tui-connector une première fois"
            )
        with write_transaction(database):
            database.create_tables(m.ALL_MODELS)
            seed_reference_data()
            guards.install(database, engine_of(database))
            _set_version(SCHEMA_VERSION)
        return
    if version > SCHEMA_VERSION:
        raise DatabaseError(
            f"cette base Gestan a la version de schéma {version}, plus récente que celle "
            f"que ce tui-connector comprend ({SCHEMA_VERSION})",
            hint="mettez tui-connector à jour (pip install -U tui-connector)",
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with write_transaction(database):
            MIGRATIONS[target](database)
            _set_version(target)


def _set_version(version: int) -> None:
    if m.Meta.select().where(m.Meta.key == "schema_version").exists():
        m.Meta.update(value=str(version)).where(m.Meta.key == "schema_version").execute()
    else:
        m.Meta.create(key="schema_version", value=str(version))


def _to_2(database: pw.Database) -> None:
    """Version 2 adds the mapping cache the settings screens fill."""
    database.create_tables([m.MappingCache], safe=True)


def _to_3(database: pw.Database) -> None:
    """Version 3 creates the invoice counters ahead of the first validation."""
    _create_counters()


def _to_4(database: pw.Database) -> None:
    """Version 4 puts the immutability of validated invoices and posted entries into the
    database itself (gestan/guards.py), and the rounding accounts 658 and 758."""
    guards.install(database, engine_of(database))
    for number, label in ACCOUNTS:
        if not m.Account.select().where(m.Account.number == number).exists():
            m.Account.create(number=number, label=label)


def add_columns(database: pw.Database, fields: list[pw.Field]) -> None:
    """The columns of model fields a table lacks, added with playhouse.migrate: each with
    its model's own type for this engine and its default in the column's definition, so
    the rows already there take it without an UPDATE (the guards refuse one on a
    validated invoice)."""
    migrator = SchemaMigrator.from_database(database)
    present: dict[str, set[str]] = {}
    operations = []
    for field in fields:
        table = field.model._meta.table_name
        if table not in present:
            present[table] = {column.name for column in database.get_columns(table)}
        if field.column_name in present[table]:
            continue
        column = field.clone()
        if field.default is not None:
            column.constraints = [*(field.constraints or []), pw.SQL(_default(field.default))]
        operations.append(
            migrator.add_column(table, field.column_name, column, allow_not_null=True)
        )
    migrate(*operations)


def _default(value) -> str:
    if isinstance(value, str):
        return "DEFAULT '" + value.replace("'", "''") + "'"
    if isinstance(value, bool):  # PostgreSQL refuses 0 and 1 for a BOOLEAN
        return f"DEFAULT {'TRUE' if value else 'FALSE'}"
    if isinstance(value, int | Decimal):
        return f"DEFAULT {value}"
    raise TypeError(f"no column default for {value!r}")  # a callable: give the rows a value


# what version 5 adds: every column with its default or nullable, so no row is updated
COLUMNS_5 = [
    m.SalesOrder.vat_number,
    m.SalesOrder.currency,
    m.SalesOrder.vat_regime,
    m.SalesOrder.conversion_rate,
    m.SalesOrder.currency_total,
    m.Invoice.customer_vat_number,
    m.Invoice.vat_regime,
    m.Invoice.vat_mention,
    m.Invoice.currency,
    m.Invoice.currency_total,
    m.Invoice.seller,
    m.AccountingLine.currency_amount,
    m.AccountingLine.currency,
    m.Product.shop_reference,
]


def _to_5(database: pw.Database) -> None:
    """Version 5: where the customer is (VAT number, regime, mention), the customer's
    currency (FEC Montantdevise, Idevise), the seller's identity kept with each invoice;
    a product's shop reference beside its code (a reference the shop shares); one
    contact for several customers; civilities 1 and 2 mapped; the attributes of variants;
    one run of a flow at a time."""
    engine = engine_of(database)
    add_columns(database, COLUMNS_5)
    # a Gestan contact may stand for several shop customers (one e-mail): the index
    # (resource, gestan_id) is no longer unique
    on_table = " ON link" if engine == "mysql" else ""
    database.execute_sql(f"DROP INDEX link_resource_gestan_id{on_table}")
    database.execute_sql("CREATE INDEX link_resource_gestan_id ON link (resource, gestan_id)")
    for gender, civility in DEFAULT_CIVILITIES:
        m.Setting.insert(key=f"civility.{gender}", value=civility).on_conflict_ignore().execute()
    database.create_tables(
        [m.AttributeGroup, m.AttributeValue, m.ProductAttribute, m.RunLock], safe=True
    )
    guards.install(database, engine_of(database))


def _to_6(database: pw.Database) -> None:
    """Version 6: the guards say why they refuse in French (the triggers made afresh)."""
    guards.install(database, engine_of(database))


MIGRATIONS = {2: _to_2, 3: _to_3, 4: _to_4, 5: _to_5, 6: _to_6}


# --- what a new Gestan holds --------------------------------------------------

CIVILITIES = [("M.", "Monsieur"), ("Mme", "Madame"), ("Mlle", "Mademoiselle")]
# PrestaShop's own genders (ps_gender 1 Mr, 2 Mrs): mapped from the start
DEFAULT_CIVILITIES = [("1", "M."), ("2", "Mme")]
VAT_RATES = [
    ("T20", "20.000", "TVA 20 %", "445711"),
    ("T10", "10.000", "TVA 10 %", "445712"),
    ("T5.5", "5.500", "TVA 5,5 %", "445713"),
    ("T2.1", "2.100", "TVA 2,1 %", "445714"),
    ("T0", "0.000", "Exonéré", "445710"),
]
JOURNALS = [("VE", "Ventes"), ("BQ", "Banque")]
ACCOUNTS = [
    ("411", "Clients"),
    ("512", "Banque"),
    ("707", "Ventes de marchandises"),
    ("706", "Prestations de services"),
    ("7085", "Ports et frais accessoires facturés"),
    ("709", "Rabais, remises et ristournes accordés"),
    ("658", "Charges diverses de gestion courante"),
    ("758", "Produits divers de gestion courante"),
    ("890", "Bilan d'ouverture"),
    ("44571", "TVA collectée"),
    ("445710", "TVA collectée exonérée"),
    ("445711", "TVA collectée 20 %"),
    ("445712", "TVA collectée 10 %"),
    ("445713", "TVA collectée 5,5 %"),
    ("445714", "TVA collectée 2,1 %"),
]


def seed_reference_data() -> None:
    for code, label in CIVILITIES:
        m.Civility.create(code=code, label=label)
    for gender, civility in DEFAULT_CIVILITIES:
        m.Setting.create(key=f"civility.{gender}", value=civility)
    for code, rate, label, account in VAT_RATES:
        m.VatRate.create(code=code, rate=Decimal(rate), label=label, account=account)
    for code, label in JOURNALS:
        m.Journal.create(code=code, label=label)
    for number, label in ACCOUNTS:
        m.Account.create(number=number, label=label)
    m.Warehouse.create(code="PRINC", label="Dépôt principal")
    _create_counters()


def _create_counters() -> None:
    """Counters exist before any validation: two first validations racing to create one
    would deadlock on MariaDB (shared locks both upgrading)."""
    for key in ("invoice:FA", "invoice:AV"):
        m.Sequence.insert(key=key, last_value=0).on_conflict_ignore().execute()
