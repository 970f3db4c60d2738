"""Exact decimal columns on SQLite, PostgreSQL and MariaDB.

SQLite gives NUMERIC columns a numeric affinity and silently stores
0.1 as a float; we declare the column with a TEXT type there so the
digits are kept as written, and NUMERIC(p, s) on the other engines.
Values are checked on the way in: a value with more decimals than the
column holds is an error, never silently rounded.
"""

from __future__ import annotations

from decimal import Decimal

import peewee

from tui_connector.gestan.money import to_decimal


class ExactDecimalField(peewee.DecimalField):
    field_type = "EXACT_DECIMAL"

    def db_value(self, value):
        if value is None:
            return None
        number = to_decimal(value)
        quantized = number.quantize(self._exp)
        if quantized != number:
            raise ValueError(f"{self.name}: {number} a plus de {self.decimal_places} décimales")
        if len(quantized.as_tuple().digits) > self.max_digits:
            raise ValueError(f"{self.name}: {number} a plus de {self.max_digits} chiffres")
        return str(quantized)

    def python_value(self, value):
        if value is None:
            return None
        number = value if isinstance(value, Decimal) else Decimal(str(value))
        return number.quantize(self._exp)


def MoneyField(**kwargs) -> ExactDecimalField:
    """An amount with 2 decimals."""
    return ExactDecimalField(max_digits=15, decimal_places=2, **kwargs)


def UnitPriceField(**kwargs) -> ExactDecimalField:
    """A unit price with 6 decimals, as PrestaShop and Gestan keep them."""
    return ExactDecimalField(max_digits=18, decimal_places=6, **kwargs)


def QuantityField(**kwargs) -> ExactDecimalField:
    return ExactDecimalField(max_digits=15, decimal_places=3, **kwargs)


def RateField(**kwargs) -> ExactDecimalField:
    """A VAT or discount rate in percent, e.g. 5.500."""
    return ExactDecimalField(max_digits=7, decimal_places=3, **kwargs)


# Column types per engine, handed to the Database constructors.
FIELD_TYPES = {
    "sqlite": {"EXACT_DECIMAL": "TEXT"},
    "postgresql": {"EXACT_DECIMAL": "NUMERIC"},
    "mysql": {"EXACT_DECIMAL": "DECIMAL"},
}
