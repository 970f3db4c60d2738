"""Columns that share a table's width: each gets what its content needs when there is
room, and the widest give way first when there is not (nothing cut that has room)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui_connector.sync.registry import Column

MEASURED_ROWS = 2000  # enough to know a column's width; a read of 100,000 stays quick


def share(available: int, wanted: list[int], minimums: list[int]) -> list[int]:
    """Widths that fill at most `available`: a column wanting less than the fair share
    gets what it wants; the fair share is what is left, split among the wider ones."""
    widths = [max(w, m) for w, m in zip(wanted, minimums, strict=True)]
    if sum(widths) <= available:
        return widths
    order = sorted(range(len(widths)), key=lambda i: widths[i])
    left, count = available, len(widths)
    result = list(widths)
    for position, index in enumerate(order):
        fair = left // (count - position)
        if widths[index] <= fair:
            left -= widths[index]
            continue
        for rest, other in enumerate(order[position:]):  # the wider ones share what is left
            extra = 1 if rest < left - fair * (count - position) else 0
            result[other] = max(minimums[other], fair + extra)
        break
    return result


def natural_widths(specs: list[Column], rows: list[list[str]]) -> list[int]:
    widths = [len(spec.title) for spec in specs]
    for cells in rows[:MEASURED_ROWS]:
        for index, value in enumerate(cells):
            widths[index] = max(widths[index], len(value))
    return [min(width, spec.most) for width, spec in zip(widths, specs, strict=True)]


def cell(value: str, style: str = "", *, numeric: bool = False) -> Text:
    """A cell that ends with an ellipsis when its column is narrower than it."""
    return Text(
        value,
        style=style,
        justify="right" if numeric else "left",
        no_wrap=True,
        overflow="ellipsis",
    )


def fit(table: DataTable, specs: list[Column], rows: list[list[str]], fixed: int = 0) -> None:
    """Give the table's columns (after `fixed` leading cells) widths that share its width."""
    columns = list(table.columns.values())
    padding = 2 * table.cell_padding
    taken = sum(column.get_render_width(table) for column in columns[:fixed])
    available = table.size.width - taken - padding * len(specs) - 2  # the scrollbar
    if available <= 0:
        return
    widths = share(available, natural_widths(specs, rows), [spec.minimum for spec in specs])
    changed = False
    for column, width in zip(columns[fixed:], widths, strict=True):
        if column.width != width or column.auto_width:
            column.width, column.auto_width, changed = width, False, True
    if changed:
        # DataTable has no public call to resize a column: its own add_column sets the
        # same fields, and the caches it keeps per width must go
        table._require_update_dimensions = True
        table._clear_caches()
        table.refresh()


class SharedWidthTable(DataTable):
    """A DataTable whose columns (after `fixed` leading ones) share its width again each
    time its size changes; `texts` gives the cells' words, row by row."""

    def __init__(self, specs: list[Column], texts, *, fixed: int = 0, **options):
        super().__init__(**options)
        self.specs, self.texts, self.fixed = specs, texts, fixed

    def on_resize(self) -> None:
        self.call_after_refresh(self.fit)

    def fit(self) -> None:
        if len(self.columns) == len(self.specs) + self.fixed:
            fit(self, self.specs, self.texts(), self.fixed)
