"""The Gestan model on SQLite, PostgreSQL and MariaDB: exact money, constraints, migrations."""

from __future__ import annotations

from decimal import Decimal

import peewee as pw
import pytest

from tui_connector.errors import DatabaseError
from tui_connector.gestan import models as m
from tui_connector.gestan.database import SCHEMA_VERSION, make_database, open_database


def make_product(code="REF-1", price="12.345678", **kwargs) -> m.Product:
    vat = m.VatRate.get(m.VatRate.code == "T20")
    return m.Product.create(
        code=code, label=f"Produit {code}", price_excl=Decimal(price), vat_rate=vat, **kwargs
    )


def make_contact(code="C000001", **kwargs) -> m.Contact:
    return m.Contact.create(
        code=code,
        last_name="Doe",
        first_name="John",
        email=f"{code.lower()}@example.fr",
        account=f"411{code}",
        **kwargs,
    )


@pytest.mark.parametrize(
    "price", ["0.1", "0.000001", "999999999999.999999", "19.999999", "-3.333333", "1234567.89"]
)
def test_unit_prices_round_trip_exactly(gestan, price):
    make_product(price=price)
    stored = m.Product.get(m.Product.code == "REF-1").price_excl
    assert stored == Decimal(price)
    assert isinstance(stored, Decimal)


def test_amounts_keep_their_cents_where_floats_would_not(gestan):
    contact = make_contact()
    # 0.1 + 0.2 in floating point is 0.30000000000000004; stored amounts must not drift
    order = m.SalesOrder.create(
        number="CMD1",
        contact=contact,
        date=m.now(),
        total_excl=Decimal("0.10"),
        total_vat=Decimal("0.20"),
        total_incl=Decimal("9999999999999.99"),
    )
    again = m.SalesOrder.get_by_id(order.id)
    assert again.total_excl + again.total_vat == Decimal("0.30")
    assert again.total_incl == Decimal("9999999999999.99")
    assert str(again.total_excl) == "0.10"


def test_too_many_decimals_is_refused_not_rounded(gestan):
    contact = make_contact()
    with pytest.raises(ValueError, match="plus de 2 décimales"):
        m.SalesOrder.create(
            number="CMD1", contact=contact, date=m.now(), total_incl=Decimal("10.005")
        )
    with pytest.raises(TypeError, match="inexact"):
        m.SalesOrder.create(number="CMD2", contact=contact, date=m.now(), total_incl=0.1)


def test_unique_codes_are_database_constraints(gestan):
    make_product(code="SAME")
    with pytest.raises(pw.IntegrityError), gestan.atomic():
        # an insert that bypasses any Python check still fails in the database
        m.Product.insert(code="SAME", label="again", price_excl="1").execute()
    make_contact("C1")
    with pytest.raises(pw.IntegrityError), gestan.atomic():
        m.Contact.insert(code="C1").execute()


def test_a_shop_record_has_one_link_a_gestan_record_may_stand_for_several(gestan):
    m.Link.create(resource="products", shop_id=1, shop_sub_id=3, gestan_id=10)
    # another combination of the same product
    m.Link.create(resource="products", shop_id=1, shop_sub_id=4, gestan_id=11)
    m.Link.create(resource="customers", shop_id=1, gestan_id=10)  # another resource
    with pytest.raises(pw.IntegrityError), gestan.atomic():
        m.Link.create(resource="products", shop_id=1, shop_sub_id=3, gestan_id=12)
    # a guest and its registered twin: one contact (the flows keep products one to one)
    m.Link.create(resource="customers", shop_id=2, gestan_id=10)
    customers = m.Link.select().where(m.Link.resource == "customers")
    assert [link.gestan_id for link in customers] == [10, 10]


def test_combination_is_its_own_product_with_a_parent(gestan):
    parent = make_product(code="TSHIRT")
    variant = make_product(
        code="TSHIRT-M-W", parent=parent, attribute_label="Taille - M, Couleur - Blanc"
    )
    assert [p.code for p in parent.variants] == [variant.code]
    assert m.Product.get(m.Product.code == "TSHIRT-M-W").parent.code == "TSHIRT"


def test_reference_data_is_seeded(gestan):
    assert {c.code for c in m.Civility.select()} >= {"M.", "Mme"}
    assert {str(v.rate) for v in m.VatRate.select()} >= {"20.000", "10.000", "5.500", "2.100"}
    assert {j.code for j in m.Journal.select()} == {"VE", "BQ"}


def test_fresh_database_stores_the_schema_version(gestan_url):
    database = open_database(gestan_url)
    assert m.Meta.get(m.Meta.key == "schema_version").value == str(SCHEMA_VERSION)
    database.close()


def test_older_database_is_migrated_on_open(gestan_url):
    database = open_database(gestan_url)
    # make it look like a version 1 database: no mapping cache yet
    database.drop_tables([m.MappingCache])
    m.Meta.update(value="1").where(m.Meta.key == "schema_version").execute()
    database.close()

    database = open_database(gestan_url)
    assert database.table_exists("mapping_cache")
    assert m.Meta.get(m.Meta.key == "schema_version").value == str(SCHEMA_VERSION)
    m.MappingCache.create(resource="categories", shop_id=3, label="Vêtements")
    database.close()


def test_a_version_4_database_gets_the_columns_of_version_5_its_invoices_untouched(gestan_url):
    from tui_connector.gestan import guards, invoicing
    from tui_connector.gestan.database import COLUMNS_5, engine_of
    from tui_connector.gestan.invoicing import LineInput

    database = open_database(gestan_url)
    contact = make_contact()
    invoice = invoicing.issue(
        contact,
        [
            LineInput(
                m.LineKind.PRODUCT,
                "Tasse",
                Decimal(1),
                Decimal(10),
                Decimal(20),
                Decimal("10.00"),
                Decimal("12.00"),
            )
        ],
        date=__import__("datetime").date(2026, 3, 1),
    )
    engine = engine_of(database)
    tables = {field.model._meta.table_name for field in COLUMNS_5}

    def columns():
        return {
            table: sorted(
                (c.name, c.data_type.lower(), c.null) for c in database.get_columns(table)
            )
            for table in tables
        }

    fresh = columns()
    # a version 4 database: neither the version 5 columns nor the guards that name them
    for table, event, *_ in guards.RULES:
        clause = f" ON {table}" if engine == "postgresql" else ""
        database.execute_sql(f"DROP TRIGGER IF EXISTS {guards._name(table, event)}{clause}")
    for field in COLUMNS_5:
        table = field.model._meta.table_name
        database.execute_sql(f"ALTER TABLE {table} DROP COLUMN {field.column_name}")
    m.Meta.update(value="4").where(m.Meta.key == "schema_version").execute()
    database.close()

    database = open_database(gestan_url)
    assert m.Meta.get(m.Meta.key == "schema_version").value == str(SCHEMA_VERSION)
    assert columns() == fresh  # the model's own types, nullability and all
    kept = m.Invoice.get_by_id(invoice.id)
    assert (kept.number, kept.total_incl, kept.vat_mention, kept.currency_total) == (
        invoice.number,
        Decimal("12.00"),
        "",
        None,
    )
    with pytest.raises(pw.DatabaseError):  # the guards are back
        m.Invoice.update(total_incl=0).where(m.Invoice.id == invoice.id).execute()
    database.close()


def test_newer_database_is_refused_with_a_clear_message(gestan_url):
    database = open_database(gestan_url)
    m.Meta.update(value=str(SCHEMA_VERSION + 1)).where(m.Meta.key == "schema_version").execute()
    database.close()
    with pytest.raises(DatabaseError, match="plus récente que celle") as caught:
        open_database(gestan_url)
    assert "mettez tui-connector à jour" in caught.value.hint


def test_sqlite_runs_with_wal_and_foreign_keys(sqlite_gestan):
    assert sqlite_gestan.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sqlite_gestan.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_default_database_lives_in_the_user_data_folder(tmp_path):
    from tui_connector import paths

    assert paths.default_database_url().startswith(f"sqlite:///{tmp_path / 'data'}")


def test_unreachable_server_says_what_to_fix_without_the_password():
    with pytest.raises(DatabaseError) as caught:
        open_database("postgresql://user:s3cr3tpass@127.0.0.1:1/gestan")
    assert "s3cr3tpass" not in str(caught.value)
    assert "TUI_CONNECTOR_DATABASE" in caught.value.hint


def test_unknown_scheme_is_refused():
    with pytest.raises(DatabaseError, match="type d'adresse de base de données inconnu"):
        make_database("oracle://x/y")


def test_a_column_added_later_takes_its_default_on_every_engine(gestan):
    """add_columns() writes each default as the engine reads it (a boolean too: PostgreSQL
    refuses 0 and 1 for one), and the rows already there take it."""
    from tui_connector.gestan.database import add_columns

    class Probe(m.BaseModel):
        name = pw.CharField(default="")

        class Meta:
            table_name = "tuic_probe_columns"

    gestan.drop_tables([Probe], safe=True)
    gestan.create_tables([Probe])
    try:
        Probe.create(name="before")
        flag = pw.BooleanField(default=False)
        count = pw.IntegerField(default=3)
        flag.bind(Probe, "flag")
        count.bind(Probe, "count")
        add_columns(gestan, [flag, count])
        assert list(Probe.select(Probe.name, Probe.flag, Probe.count).tuples()) == [
            ("before", False, 3)
        ]
    finally:
        gestan.drop_tables([Probe], safe=True)
