"""The Gestan data model, as a French user of the program knows it.

Tables are bound at run time through `database_proxy` (see database.py),
so the same models serve SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import datetime as dt

import peewee as pw

from tui_connector.gestan.fields import MoneyField, QuantityField, RateField, UnitPriceField

database_proxy = pw.DatabaseProxy()


def now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


class BaseModel(pw.Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


# --- bookkeeping of the database itself ------------------------------------


class Meta(BaseModel):
    """Key/value facts about the database (schema version)."""

    key = pw.CharField(max_length=64, primary_key=True)
    value = pw.CharField(max_length=255)


class Setting(BaseModel):
    """User settings, typed and validated by gestan.settings."""

    key = pw.CharField(max_length=128, primary_key=True)
    value = pw.TextField()


class Sequence(BaseModel):
    """Counters for gap-free numbering (invoices per series, entries per fiscal year)."""

    key = pw.CharField(max_length=64, unique=True)
    last_value = pw.IntegerField(default=0)


# --- contacts -----------------------------------------------------------------


class Civility(BaseModel):
    code = pw.CharField(max_length=16, unique=True)  # "M.", "Mme"
    label = pw.CharField(max_length=64)


class Contact(BaseModel):
    code = pw.CharField(max_length=32, unique=True)  # code client, e.g. C000123
    civility = pw.ForeignKeyField(Civility, null=True, on_delete="SET NULL")
    last_name = pw.CharField(max_length=128, default="")
    first_name = pw.CharField(max_length=128, default="")
    company = pw.CharField(max_length=128, default="")
    email = pw.CharField(max_length=255, default="", index=True)
    phone = pw.CharField(max_length=32, default="")
    mobile = pw.CharField(max_length=32, default="")
    account = pw.CharField(max_length=32, default="")  # auxiliary account, 411C000123
    is_guest = pw.BooleanField(default=False)
    comment = pw.TextField(default="")
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)

    @property
    def display_name(self) -> str:
        name = f"{self.first_name} {self.last_name.upper()}".strip()
        return name or self.company


class Address(BaseModel):
    BILLING = "billing"
    DELIVERY = "delivery"
    OTHER = "other"

    contact = pw.ForeignKeyField(Contact, backref="addresses", on_delete="CASCADE")
    kind = pw.CharField(max_length=16, default=OTHER)
    alias = pw.CharField(max_length=64, default="")
    company = pw.CharField(max_length=128, default="")
    last_name = pw.CharField(max_length=128, default="")
    first_name = pw.CharField(max_length=128, default="")
    line1 = pw.CharField(max_length=255, default="")
    line2 = pw.CharField(max_length=255, default="")
    postcode = pw.CharField(max_length=16, default="")
    city = pw.CharField(max_length=128, default="")
    state = pw.CharField(max_length=128, default="")
    country_code = pw.CharField(max_length=3, default="")
    country = pw.CharField(max_length=128, default="")
    phone = pw.CharField(max_length=32, default="")
    mobile = pw.CharField(max_length=32, default="")
    vat_number = pw.CharField(max_length=32, default="")


# --- catalogue -------------------------------------------------------------------


class Family(BaseModel):
    """A family, or a sub-family when it has a parent."""

    code = pw.CharField(max_length=32, unique=True)
    label = pw.CharField(max_length=128)
    parent = pw.ForeignKeyField("self", null=True, backref="children", on_delete="RESTRICT")
    sales_account = pw.CharField(max_length=32, default="")  # empty: the default 707


class VatRate(BaseModel):
    code = pw.CharField(max_length=16, unique=True)  # "T20", "T10", "T5.5", "T0"
    rate = RateField()
    label = pw.CharField(max_length=64)
    account = pw.CharField(max_length=32)  # VAT collected, 445711...


class Product(BaseModel):
    code = pw.CharField(max_length=64, unique=True)  # the shop's reference where unique
    shop_reference = pw.CharField(max_length=64, default="")  # the shop's, as it is
    ean13 = pw.CharField(max_length=13, default="", index=True)
    label = pw.CharField(max_length=255)
    price_excl = UnitPriceField(default=0)
    vat_rate = pw.ForeignKeyField(VatRate, null=True, on_delete="RESTRICT")
    family = pw.ForeignKeyField(Family, null=True, on_delete="SET NULL")
    parent = pw.ForeignKeyField("self", null=True, backref="variants", on_delete="RESTRICT")
    attribute_label = pw.CharField(max_length=255, default="")  # "Taille - M, Couleur - Blanc"
    is_service = pw.BooleanField(default=False)
    active = pw.BooleanField(default=True)
    image = pw.BlobField(null=True)
    created_at = pw.DateTimeField(default=now)
    updated_at = pw.DateTimeField(default=now)


class AttributeGroup(BaseModel):
    """A kind of variation (Taille, Couleur): the shop's product_options."""

    name = pw.CharField(max_length=128, unique=True)


class AttributeValue(BaseModel):
    group = pw.ForeignKeyField(AttributeGroup, backref="values", on_delete="CASCADE")
    name = pw.CharField(max_length=128)

    class Meta:
        indexes = ((("group", "name"), True),)


class ProductAttribute(BaseModel):
    """What makes a variant itself: its value in each group (a combination's)."""

    product = pw.ForeignKeyField(Product, backref="attributes", on_delete="CASCADE")
    value = pw.ForeignKeyField(AttributeValue, on_delete="RESTRICT")

    class Meta:
        indexes = ((("product", "value"), True),)


class Territory(BaseModel):
    code = pw.CharField(max_length=32, unique=True)
    label = pw.CharField(max_length=128)


class SpecialPrice(BaseModel):
    """A price, or a discount, for a territory, from a quantity, over a period."""

    product = pw.ForeignKeyField(Product, backref="special_prices", on_delete="CASCADE")
    territory = pw.ForeignKeyField(Territory, on_delete="CASCADE")
    min_quantity = QuantityField(default=1)
    price_excl = UnitPriceField(null=True)  # a fixed price, or
    discount_amount = UnitPriceField(null=True)  # an amount off, or
    discount_percent = RateField(null=True)  # a percentage off
    date_from = pw.DateTimeField(null=True)
    date_to = pw.DateTimeField(null=True)
    updated_at = pw.DateTimeField(default=now)


# --- stock ------------------------------------------------------------------------


class Warehouse(BaseModel):
    code = pw.CharField(max_length=16, unique=True)
    label = pw.CharField(max_length=128)


class StockLevel(BaseModel):
    product = pw.ForeignKeyField(Product, on_delete="CASCADE")
    warehouse = pw.ForeignKeyField(Warehouse, on_delete="CASCADE")
    quantity = QuantityField(default=0)

    class Meta:
        indexes = ((("product", "warehouse"), True),)


# --- sales ----------------------------------------------------------------------


class SalesOrder(BaseModel):
    number = pw.CharField(max_length=32, unique=True)
    contact = pw.ForeignKeyField(Contact, backref="orders", on_delete="RESTRICT")
    date = pw.DateTimeField()
    reference = pw.CharField(max_length=64, default="")  # the shop's order reference
    status = pw.CharField(max_length=32, default="")
    payment_method = pw.CharField(max_length=128, default="")
    billing_name = pw.CharField(max_length=255, default="")
    billing_company = pw.CharField(max_length=128, default="")
    billing_line1 = pw.CharField(max_length=255, default="")
    billing_line2 = pw.CharField(max_length=255, default="")
    billing_postcode = pw.CharField(max_length=16, default="")
    billing_city = pw.CharField(max_length=128, default="")
    billing_country = pw.CharField(max_length=128, default="")
    delivery_name = pw.CharField(max_length=255, default="")
    delivery_company = pw.CharField(max_length=128, default="")
    delivery_line1 = pw.CharField(max_length=255, default="")
    delivery_line2 = pw.CharField(max_length=255, default="")
    delivery_postcode = pw.CharField(max_length=16, default="")
    delivery_city = pw.CharField(max_length=128, default="")
    delivery_country = pw.CharField(max_length=128, default="")
    total_excl = MoneyField(default=0)
    total_vat = MoneyField(default=0)
    total_incl = MoneyField(default=0)
    comment = pw.TextField(default="")
    vat_number = pw.CharField(max_length=32, default="")  # the customer's
    vat_regime = pw.CharField(max_length=16, default="")  # gestan.vat_regime: domestic, ...
    currency = pw.CharField(max_length=3, default="")  # the order's, where not euros (ISO)
    conversion_rate = UnitPriceField(null=True)  # the shop's: units of it for one euro
    currency_total = MoneyField(null=True)  # total incl. VAT in that currency
    created_at = pw.DateTimeField(default=now)


class LineKind:
    PRODUCT = "product"
    SHIPPING = "shipping"
    DISCOUNT = "discount"
    # The shop's own rounding: its order total is the rounded sum of unrounded lines, a
    # cent off the sum of its rounded lines. Carried on its own line, outside every VAT row.
    ROUNDING = "rounding"


class SalesOrderLine(BaseModel):
    order = pw.ForeignKeyField(SalesOrder, backref="lines", on_delete="CASCADE")
    position = pw.IntegerField()
    kind = pw.CharField(max_length=16, default=LineKind.PRODUCT)
    product = pw.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    label = pw.CharField(max_length=255)
    quantity = QuantityField(default=1)
    unit_price_excl = UnitPriceField(default=0)
    vat_rate = RateField(default=0)
    total_excl = MoneyField(default=0)
    total_incl = MoneyField(default=0)


class StockMovement(BaseModel):
    product = pw.ForeignKeyField(Product, on_delete="RESTRICT")
    warehouse = pw.ForeignKeyField(Warehouse, on_delete="RESTRICT")
    date = pw.DateTimeField(default=now)
    quantity = QuantityField()  # signed: + in, - out
    reason = pw.CharField(max_length=64)
    order = pw.ForeignKeyField(SalesOrder, null=True, on_delete="RESTRICT")
    label = pw.CharField(max_length=255, default="")


class Invoice(BaseModel):
    DRAFT = "draft"
    VALIDATED = "validated"
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"

    series = pw.CharField(max_length=16)
    number = pw.CharField(max_length=32, null=True, unique=True)  # given on validation only
    kind = pw.CharField(max_length=16, default=INVOICE)
    status = pw.CharField(max_length=16, default=DRAFT)
    contact = pw.ForeignKeyField(Contact, on_delete="RESTRICT")
    order = pw.ForeignKeyField(SalesOrder, null=True, on_delete="RESTRICT")
    cancels = pw.ForeignKeyField("self", null=True, on_delete="RESTRICT")
    date = pw.DateField()
    due_date = pw.DateField(null=True)
    billing_name = pw.CharField(max_length=255, default="")
    billing_address = pw.TextField(default="")
    total_excl = MoneyField(default=0)
    total_vat = MoneyField(default=0)
    total_incl = MoneyField(default=0)
    external_reference = pw.CharField(max_length=64, default="")  # the shop's invoice number
    validated_at = pw.DateTimeField(null=True)
    customer_vat_number = pw.CharField(max_length=32, default="")
    vat_regime = pw.CharField(max_length=16, default="")  # gestan.vat_regime: domestic, ...
    vat_mention = pw.CharField(max_length=255, default="")  # why no French VAT, where none
    currency = pw.CharField(max_length=3, default="")  # the customer's currency, not euros
    currency_total = MoneyField(null=True)  # total incl. VAT in that currency
    seller = pw.TextField(default="")  # the seller's identity when validated (JSON)

    def save(self, *args, **kwargs):
        from tui_connector.gestan.invoicing import guard_invoice_change

        guard_invoice_change(self)
        return super().save(*args, **kwargs)

    def delete_instance(self, *args, **kwargs):
        from tui_connector.gestan.invoicing import guard_invoice_delete

        guard_invoice_delete(self)
        return super().delete_instance(*args, **kwargs)


class InvoiceLine(BaseModel):
    invoice = pw.ForeignKeyField(Invoice, backref="lines", on_delete="RESTRICT")
    position = pw.IntegerField()
    kind = pw.CharField(max_length=16, default=LineKind.PRODUCT)
    product = pw.ForeignKeyField(Product, null=True, on_delete="RESTRICT")
    label = pw.CharField(max_length=255)
    quantity = QuantityField(default=1)
    unit_price_excl = UnitPriceField(default=0)
    vat_rate = RateField(default=0)
    total_excl = MoneyField(default=0)
    total_incl = MoneyField(default=0)
    account = pw.CharField(max_length=32, default="")


class InvoiceVat(BaseModel):
    """One row per VAT rate of an invoice; shipping is already spread over the rates."""

    invoice = pw.ForeignKeyField(Invoice, backref="vat_lines", on_delete="RESTRICT")
    rate = RateField()
    base_excl = MoneyField()
    vat_amount = MoneyField()
    account = pw.CharField(max_length=32, default="")

    class Meta:
        indexes = ((("invoice", "rate"), True),)


class Payment(BaseModel):
    contact = pw.ForeignKeyField(Contact, on_delete="RESTRICT")
    date = pw.DateField()
    amount = MoneyField()
    method = pw.CharField(max_length=128, default="")
    reference = pw.CharField(max_length=128, default="")
    created_at = pw.DateTimeField(default=now)


class PaymentAllocation(BaseModel):
    payment = pw.ForeignKeyField(Payment, backref="allocations", on_delete="CASCADE")
    invoice = pw.ForeignKeyField(Invoice, backref="allocations", on_delete="RESTRICT")
    amount = MoneyField()

    class Meta:
        indexes = ((("payment", "invoice"), True),)


# --- accounting ------------------------------------------------------------------


class Journal(BaseModel):
    code = pw.CharField(max_length=8, unique=True)  # VE, BQ
    label = pw.CharField(max_length=64)


class Account(BaseModel):
    number = pw.CharField(max_length=32, unique=True)
    label = pw.CharField(max_length=128)


class FiscalYear(BaseModel):
    code = pw.CharField(max_length=16, unique=True)  # "2026"
    start = pw.DateField()
    end = pw.DateField()
    closed = pw.BooleanField(default=False)


class AccountingEntry(BaseModel):
    journal = pw.ForeignKeyField(Journal, on_delete="RESTRICT")
    fiscal_year = pw.ForeignKeyField(FiscalYear, on_delete="RESTRICT")
    number = pw.IntegerField()  # continuous per fiscal year
    date = pw.DateField()
    label = pw.CharField(max_length=255)
    piece_ref = pw.CharField(max_length=64, default="")
    piece_date = pw.DateField()
    invoice = pw.ForeignKeyField(Invoice, null=True, on_delete="RESTRICT")
    payment = pw.ForeignKeyField(Payment, null=True, on_delete="RESTRICT")
    validated_at = pw.DateField()

    class Meta:
        indexes = ((("fiscal_year", "number"), True),)


class AccountingLine(BaseModel):
    entry = pw.ForeignKeyField(AccountingEntry, backref="lines", on_delete="CASCADE")
    position = pw.IntegerField()
    account_number = pw.CharField(max_length=32)
    account_label = pw.CharField(max_length=128)
    aux_number = pw.CharField(max_length=32, default="")
    aux_label = pw.CharField(max_length=128, default="")
    label = pw.CharField(max_length=255)
    debit = MoneyField(default=0)
    credit = MoneyField(default=0)
    lettering = pw.CharField(max_length=8, default="")
    lettering_date = pw.DateField(null=True)
    currency_amount = MoneyField(null=True)  # FEC Montantdevise, in `currency`
    currency = pw.CharField(max_length=3, default="")  # FEC Idevise


# --- sync bookkeeping -------------------------------------------------------------


class Link(BaseModel):
    """Which Gestan record is this shop record? One per shop record; a Gestan record may
    stand for several (a guest and the registered account of one e-mail are one contact),
    the flows see to it that a product stands for one only."""

    resource = pw.CharField(max_length=32)  # customers, products, orders...
    shop_id = pw.IntegerField()
    shop_sub_id = pw.IntegerField(default=0)  # the combination id, 0 for none
    gestan_id = pw.IntegerField()
    shop_date_upd = pw.CharField(max_length=32, default="")
    content_hash = pw.CharField(max_length=64, default="")
    synced_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = (
            (("resource", "shop_id", "shop_sub_id"), True),
            (("resource", "gestan_id"), False),
        )


class Cursor(BaseModel):
    """Where an incremental read stopped; moved only after its rows are committed."""

    name = pw.CharField(max_length=64, unique=True)
    value = pw.CharField(max_length=255, default="")
    updated_at = pw.DateTimeField(default=now)


class SyncRun(BaseModel):
    flow = pw.CharField(max_length=16)
    started_at = pw.DateTimeField(default=now)
    finished_at = pw.DateTimeField(null=True)
    # running, done, stopped, failed; interrupted: found running, its process gone
    status = pw.CharField(max_length=16, default="running")
    created = pw.IntegerField(default=0)
    updated = pw.IntegerField(default=0)
    skipped = pw.IntegerField(default=0)
    failed = pw.IntegerField(default=0)
    blocked = pw.IntegerField(default=0)
    message = pw.TextField(default="")


class RunLock(BaseModel):
    """One run of a flow at a time: who holds it (sync/run_lock.py)."""

    flow = pw.CharField(max_length=16, primary_key=True)
    pid = pw.IntegerField()
    host = pw.CharField(max_length=255)
    started_at = pw.DateTimeField(default=now)


class SyncRunLine(BaseModel):
    run = pw.ForeignKeyField(SyncRun, backref="lines", on_delete="CASCADE")
    shop_id = pw.IntegerField(null=True)
    shop_sub_id = pw.IntegerField(default=0)
    gestan_id = pw.IntegerField(null=True)
    status = pw.CharField(max_length=64)
    outcome = pw.CharField(max_length=16)
    message = pw.TextField(default="")
    at = pw.DateTimeField(default=now)


class MappingCache(BaseModel):
    """The shop's categories, products, countries... as last read for the mapping screens."""

    resource = pw.CharField(max_length=32)
    shop_id = pw.IntegerField()
    shop_sub_id = pw.IntegerField(default=0)
    label = pw.CharField(max_length=255, default="")
    data = pw.TextField(default="{}")  # JSON
    fetched_at = pw.DateTimeField(default=now)

    class Meta:
        indexes = ((("resource", "shop_id", "shop_sub_id"), True),)


ALL_MODELS: list[type[BaseModel]] = [
    Meta,
    Setting,
    Sequence,
    Civility,
    Contact,
    Address,
    Family,
    VatRate,
    Product,
    AttributeGroup,
    AttributeValue,
    ProductAttribute,
    Territory,
    SpecialPrice,
    Warehouse,
    StockLevel,
    SalesOrder,
    SalesOrderLine,
    StockMovement,
    Invoice,
    InvoiceLine,
    InvoiceVat,
    Payment,
    PaymentAllocation,
    Journal,
    Account,
    FiscalYear,
    AccountingEntry,
    AccountingLine,
    Link,
    Cursor,
    SyncRun,
    RunLock,
    SyncRunLine,
    MappingCache,
]
