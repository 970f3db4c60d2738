"""Building list queries the shop understands, refusing what it would silently misread.

The real shop answers a malformed filter (`[1,`) or `limit=abc` with 200
and an empty list, so we validate here. The filters the flows use: `[x]`
equals, `[a|b]` any of, `[a,b]` inclusive range, `>[x]` strictly greater,
`%[x]%` contains, `![x]` not. The Webservice has no escape for `[ ] | ,`, so a
value holding one cannot be searched and is refused, never sent.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from tui_connector.prestashop.errors import BadQuery

FIELD = re.compile(r"[a-z][a-z0-9_]*")
FORBIDDEN = re.compile(r"[\[\]|,\x00-\x1f]")
DATE_FIELDS = re.compile(r"(^date_|_date$|^date$)")


def _value(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    if FORBIDDEN.search(text):
        raise BadQuery(
            f"impossible de chercher {text!r} dans la boutique",
            hint="le Webservice ne sait pas échapper [ ] | , dans la valeur d'un filtre: "
            "cherchez-en une partie sans ces caractères",
        )
    return text


@dataclass(frozen=True)
class Filter:
    expression: str

    @classmethod
    def equals(cls, value: object) -> Filter:
        return cls(f"[{_value(value)}]")

    @classmethod
    def any_of(cls, values: Iterable[object]) -> Filter:
        items = [_value(v) for v in values]
        if not items:
            raise BadQuery("un filtre « l'un de » demande au moins une valeur")
        return cls("[" + "|".join(items) + "]")

    @classmethod
    def between(cls, low: object, high: object) -> Filter:
        return cls(f"[{_value(low)},{_value(high)}]")

    @classmethod
    def greater(cls, value: object) -> Filter:
        return cls(f">[{_value(value)}]")

    def above(self) -> int | None:
        """N for `greater(N)` with a whole N (the pager's starting id), else None."""
        bound = self.expression[2:-1] if self.expression.startswith(">[") else ""
        return int(bound) if bound.isdigit() else None

    @classmethod
    def contains(cls, value: object) -> Filter:
        return cls(f"%[{_value(value)}]%")

    @classmethod
    def not_equal(cls, value: object) -> Filter:
        return cls(f"![{_value(value)}]")


def _field(name: str) -> str:
    if not FIELD.fullmatch(name):
        raise BadQuery(f"{name!r} n'est pas un nom de champ du Webservice")
    return name


@dataclass(frozen=True)
class Query:
    display: str | tuple[str, ...] | None = "full"  # "full", a few fields, or ids only
    filters: Mapping[str, Filter] = field(default_factory=dict)
    sort: tuple[str, ...] = ()  # ("date_upd_ASC", "id_ASC")
    limit: tuple[int, int] | None = None  # (offset, count)
    language: int | None = None
    id_shop: int | None = None

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.display == "full":
            params["display"] = "full"
        elif self.display:
            params["display"] = "[" + ",".join(_field(f) for f in self.display) + "]"
        needs_date = False
        for name, condition in self.filters.items():
            if not isinstance(condition, Filter):
                condition = Filter.equals(condition)
            params[f"filter[{_field(name)}]"] = condition.expression
            needs_date |= bool(DATE_FIELDS.search(name))
        if self.sort:
            for item in self.sort:
                name, _, direction = item.rpartition("_")
                if direction not in ("ASC", "DESC"):
                    raise BadQuery(f"le tri {item!r} doit finir par _ASC ou _DESC")
                _field(name)
                needs_date |= bool(DATE_FIELDS.search(name))
            params["sort"] = "[" + ",".join(self.sort) + "]"
        if self.limit is not None:
            offset, count = self.limit
            if not (isinstance(offset, int) and isinstance(count, int)) or offset < 0 or count < 1:
                raise BadQuery(
                    f"la limite demande un décalage entier >= 0 et un nombre >= 1, pas {self.limit}"
                )
            params["limit"] = f"{offset},{count}"
        if needs_date:  # without it the shop refuses date filters (code 32) or ignores them
            params["date"] = "1"
        if self.language is not None:
            params["language"] = str(int(self.language))
        if self.id_shop is not None:
            params["id_shop"] = str(int(self.id_shop))
        return params
