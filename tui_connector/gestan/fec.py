"""The FEC (fichier des écritures comptables, LPF art. A47 A-1) of a fiscal year.

18 columns in the legal order, a header line, tab separated, dates
AAAAMMJJ, amounts with a decimal comma, one line per accounting line,
entries in number order. Named SIREN + "FEC" + closing date + ".txt".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from tui_connector.errors import ConnectorError, SettingsError
from tui_connector.gestan import models as m
from tui_connector.gestan import settings

COLUMNS = [
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
]


def fec_date(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def fec_amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _clean(text: str) -> str:
    """A field may hold neither the separator nor a line break."""
    return " ".join(str(text).replace("\t", " ").replace("|", " ").split())


def fec_rows(year: m.FiscalYear) -> Iterator[list[str]]:
    entries = (
        m.AccountingEntry.select(m.AccountingEntry, m.Journal)
        .join(m.Journal)
        .where(m.AccountingEntry.fiscal_year == year)
        .order_by(m.AccountingEntry.number)
    )
    for entry in entries:
        for line in entry.lines.order_by(m.AccountingLine.position):
            yield [
                entry.journal.code,
                entry.journal.label,
                str(entry.number),
                fec_date(entry.date),
                line.account_number,
                line.account_label,
                line.aux_number,
                line.aux_label,
                entry.piece_ref,
                fec_date(entry.piece_date),
                line.label,
                fec_amount(line.debit),
                fec_amount(line.credit),
                line.lettering,
                fec_date(line.lettering_date),
                fec_date(entry.validated_at),
                fec_amount(line.currency_amount) if line.currency else "",
                line.currency,
            ]


def file_name(siren: str, year: m.FiscalYear) -> str:
    return f"{siren}FEC{fec_date(year.end)}.txt"


def export(year_code: str, output: Path | None = None, *, separator: str = "\t") -> Path:
    """Write the FEC of a fiscal year; returns the path written."""
    year = m.FiscalYear.get_or_none(m.FiscalYear.code == year_code)
    if year is None:
        raise ConnectorError(
            f"aucun exercice {year_code} dans Gestan",
            hint="rien n'a été comptabilisé cette année-là; vérifiez --year",
        )
    siren = settings.get("company.siren")
    if not siren:
        raise SettingsError(
            "le fichier FEC porte le SIREN de l'entreprise, qui n'est pas réglé",
            hint="tui-connector settings set company.siren 123456789",
        )
    path = output or Path(file_name(siren, year))
    if path.is_dir():
        path = path / file_name(siren, year)
    temporary = path.with_suffix(path.suffix + ".part")
    with temporary.open("w", encoding="utf-8", newline="") as handle:
        handle.write(separator.join(COLUMNS) + "\r\n")
        for row in fec_rows(year):
            handle.write(separator.join(_clean(field) for field in row) + "\r\n")
    temporary.replace(path)  # never leave half a file under the real name
    return path
