"""The one import screen every flow uses: read, select, execute, stop, report."""

from __future__ import annotations

import datetime as dt
import threading

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Footer, Input, Label, ProgressBar, Static

from tui_connector.errors import ConnectorError
from tui_connector.sync.core import Origin, Row
from tui_connector.sync.session import FLOW_TITLES, Session
from tui_connector.ui.messages import (
    RowsAdded,
    RowsRead,
    SyncFinished,
    SyncProgressed,
    WorkFailed,
)
from tui_connector.ui.modals import AddressPicker, Confirm, ReportScreen, ShowsWorkerErrors

COLUMNS = {  # (key, title, width) after the selection column, before the status: 80 columns
    "contacts": [("last_name", "Nom", 14), ("first_name", "Prénom", 11), ("email", "E-mail", 26)],
    "products": [("code", "Code", 13), ("label", "Désignation", 28), ("price", "Prix HT", 8)],
    "stock": [
        ("code", "Code", 12),
        ("label", "Désignation", 24),
        ("shop", "Boutique", 8),
        ("gestan", "Gestan", 6),
    ],
    "orders": [
        ("reference", "Réf.", 10),
        ("customer", "Client", 19),
        ("total", "Total TTC", 9),
        ("date", "Date", 10),
    ],
}
STATUS_WIDTH = {"contacts": 17, "products": 17, "stock": 14, "orders": 18}


def money(value: str) -> str:
    try:
        return f"{float(value):,.2f}".replace(",", " ").replace(".", ",")
    except ValueError:
        return value


class ImportScreen(ShowsWorkerErrors, Screen):
    """Rows from the shop are green (→ Gestan), rows from Gestan yellow (→ shop)."""

    BINDINGS = [
        Binding("r", "read", "Lire", id="read"),
        Binding("space", "toggle", "Choix", id="toggle"),
        Binding("a", "select_all", "Tout", id="select_all"),
        Binding("x", "execute", "Exécuter", id="execute"),
        Binding("s", "stop", "Arrêter", id="stop"),
        Binding("slash", "filter", "Filtre", id="filter"),
        Binding("e", "addresses", "Adresses", id="addresses"),
        Binding("c", "conflict_side", "Côté gagnant", id="conflict"),
        Binding("v", "toggle_special_prices", "Prix spéciaux", id="special_prices"),
        Binding("h", "toggle_unmanaged", "Non gérés", id="unmanaged"),
        Binding("z", "reset_cursor", "Remise à zéro", id="reset_cursor"),
        Binding("t", "invoice_today", "Facturer ce jour", id="invoice_today"),
        Binding("escape", "back", "Retour", id="back"),
        Binding("home", "first_row", "Début", show=False, priority=True),
        Binding("end", "last_row", "Fin", show=False, priority=True),
    ]

    def __init__(self, session: Session, flow: str):
        super().__init__(name=flow)
        self.session = session
        self.flow_name = flow
        self.rows: list[Row] = []
        self.shown_rows: list[Row] = []
        self.cancel = threading.Event()
        self.busy = False
        self.show_unmanaged = False
        self.show_special_prices = False
        self.special_counts: dict[tuple, int] = {}
        self.reader = None  # the flow of the last read, whose rows are executed

    def compose(self) -> ComposeResult:
        title = FLOW_TITLES[self.flow_name]
        yield Static(
            f" tui-connector · {title} · boutique {self.session.shop_host} · "
            f"{self.session.database_label}",
            id="title",
        )
        if self.flow_name == "orders":
            with Horizontal(id="dates"):
                yield Label("Du ")
                yield Input(placeholder="AAAA-MM-JJ", id="date_from")
                yield Label(" au ")
                yield Input(placeholder="AAAA-MM-JJ", id="date_to")
                yield Checkbox("Depuis la dernière importation", value=True, id="since_last")
        yield Input(placeholder="filtrer…", id="filter")
        yield DataTable(id="rows", cursor_type="row", zebra_stripes=False)
        with Horizontal(id="progress_line"):
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Label("", id="counts")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("✓", key="mark", width=2)
        for key, title, width in COLUMNS[self.flow_name]:
            table.add_column(title, key=key, width=width)
        table.add_column("Statut", key="status", width=STATUS_WIDTH[self.flow_name])
        self.query_one("#filter", Input).display = False
        table.focus()

    FLOW_ACTIONS = {
        "toggle_special_prices": "products",
        "addresses": "contacts",
        "conflict_side": "products",
        "toggle_unmanaged": "stock",
        "reset_cursor": "orders",
        "invoice_today": "orders",
    }

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Each flow shows its own extra key in the footer, and only it."""
        owner = self.FLOW_ACTIONS.get(action)
        return owner is None or owner == self.flow_name

    # --- rendering --------------------------------------------------------------------

    def _style(self, row: Row) -> str:
        theme = self.app.current_theme
        if row.blocked:
            return theme.error or "red"
        if row.action is None and not row.conflict:
            return "dim"
        return (theme.success if row.origin == Origin.SHOP else theme.warning) or ""

    def _cells(self, row: Row) -> list[Text]:
        style = self._style(row)
        arrow = "→" if row.origin == Origin.SHOP else "←"  # told apart without colour too
        mark = ("■" if row.selected else "□") + arrow
        cells = [Text(mark, style=style)]
        for key, _, _ in COLUMNS[self.flow_name]:
            value = row.columns.get(key, "")
            if key in ("price", "total"):
                cells.append(Text(money(value), style=style, justify="right"))
            else:
                cells.append(Text(value, style=style))
        status = row.status
        if row.conflict and row.choices.get("winner"):
            status += f" ({'boutique' if row.choices['winner'] == 'shop' else 'Gestan'} gagne)"
        if row.payload.get("needs_choice"):
            status += " ⌂"
        specials = self.special_counts.get((row.shop_id, row.shop_sub_id), 0)
        if specials and not row.payload.get("special_price"):
            status += f" · {specials} px"
        cells.append(Text(status, style=style))
        return cells

    def _shown(self, row: Row) -> bool:
        if row.payload.get("special_price") and not self.show_special_prices:
            return False
        if self.flow_name == "stock" and row.payload.get("unmanaged") and not self.show_unmanaged:
            return False
        text = self.query_one("#filter", Input).value.strip().lower()
        if not text:
            return True
        return (
            any(text in str(v).lower() for v in row.columns.values()) or text in row.status.lower()
        )

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self.shown_rows = [row for row in self.rows if self._shown(row)]
        for row in self.shown_rows:
            table.add_row(*self._cells(row), key=row.key)
        self._count()

    def _refresh_row(self, row: Row) -> None:
        table = self.query_one(DataTable)
        for (key, _, _), cell in zip(
            [("mark", "", 0), *COLUMNS[self.flow_name], ("status", "", 0)],
            self._cells(row),
            strict=True,
        ):
            table.update_cell(row.key, key, cell)
        self._count()

    def _count(self) -> None:
        chosen = sum(1 for row in self.rows if row.selected)
        self.query_one("#counts", Label).update(
            f" {len(self.shown_rows)} lignes · {chosen} choisies"
        )

    def _current(self) -> Row | None:
        table = self.query_one(DataTable)
        if (
            not self.shown_rows
            or table.cursor_row is None
            or table.cursor_row >= len(self.shown_rows)
        ):
            return None
        return self.shown_rows[table.cursor_row]

    # --- actions ----------------------------------------------------------------------

    def action_read(self) -> None:
        if self.busy:
            self.notify("Une opération est en cours.", severity="warning")
            return
        options = {}
        if self.flow_name == "orders":
            try:
                options = self._order_options()
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
        self.busy = True
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#counts", Label).update(" lecture…")
        self.read_rows(options)

    def _order_options(self) -> dict:
        if self.query_one("#since_last", Checkbox).value:
            return {"since_last": True}
        dates = {}
        for name in ("date_from", "date_to"):
            value = self.query_one(f"#{name}", Input).value.strip()
            if value:
                try:
                    dates[name] = dt.date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"Date invalide: {value} (AAAA-MM-JJ)") from None
        return dates

    @work(
        thread=True,
        exclusive=True,
        group="sync",
        exit_on_error=False,
        name="read",
        description="Lecture de la boutique et de Gestan",
    )
    def read_rows(self, options: dict) -> None:
        try:
            with self.session.client() as client:
                flow = self.session.flow(self.flow_name, client, **options)
                self.reader = flow  # its execution carries on what it learnt (cursors)
                self.post_message(RowsRead(done=False))
                # the table fills a page at a time and is usable while the next one is read
                for page in flow.read_pages(
                    progress=lambda d, t, label: self.post_message(SyncProgressed(d, t, label))
                ):
                    self.post_message(RowsAdded(page))
            self.post_message(RowsRead(done=True))
        except ConnectorError as exc:
            self.post_message(WorkFailed(str(exc)))

    def on_rows_added(self, message: RowsAdded) -> None:
        self.rows += message.rows
        counted = set()
        for row in message.rows:  # counted first: a product's row shows its count
            if row.payload.get("special_price") and row.payload.get("product_key"):
                key = tuple(row.payload["product_key"])
                self.special_counts[key] = self.special_counts.get(key, 0) + 1
                counted.add(key)
        if counted:  # special prices come after their products: those rows show the count
            for shown in self.shown_rows:
                if (shown.shop_id, shown.shop_sub_id) in counted and not shown.payload.get(
                    "special_price"
                ):
                    self._refresh_row(shown)
        table = self.query_one(DataTable)
        for row in message.rows:
            if self._shown(row):
                self.shown_rows.append(row)
                table.add_row(*self._cells(row), key=row.key)
        self._count()

    def on_rows_read(self, message: RowsRead) -> None:
        self.busy = not message.done
        if message.done:
            self.query_one(ProgressBar).update(total=1, progress=1)
            return
        self.rows = []
        self.special_counts = {}
        self._fill()

    def on_sync_progressed(self, message: SyncProgressed) -> None:
        self.query_one(ProgressBar).update(total=message.total or None, progress=message.done)
        self.query_one("#counts", Label).update(
            f" {message.done} / {message.total} {message.label[:24]}"
        )

    def on_work_failed(self, message: WorkFailed) -> None:
        self.busy = False
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.query_one("#counts", Label).update(" erreur")
        self.app.push_screen(Confirm(message.message, title="Erreur", only_ok=True))

    def action_toggle(self) -> None:
        row = self._current()
        if row is None or self.busy:
            return
        if row.blocked or (row.action is None and not row.conflict):
            self.notify(row.reason or "Rien à faire sur cette ligne.")
            return
        row.selected = not row.selected
        self._refresh_row(row)
        self.query_one(DataTable).action_cursor_down()

    def action_select_all(self) -> None:
        workable = [r for r in self.shown_rows if (r.action or r.conflict) and not r.blocked]
        value = not all(r.selected for r in workable)
        for row in workable:
            row.selected = value
        self._fill()

    def action_back(self) -> None:
        """Escape closes the filter first (its rows kept); then it leaves the screen."""
        box = self.query_one("#filter", Input)
        if box.display and box.has_focus:
            box.display = False
            self.query_one(DataTable).focus()
            return
        self.app.pop_screen()

    def _to_row(self, first: bool) -> None:
        focused = self.focused
        if isinstance(focused, Input):  # in a text box: its own start or end
            (focused.action_home if first else focused.action_end)()
            return
        table = self.query_one(DataTable)
        if table.row_count:
            table.move_cursor(row=0 if first else table.row_count - 1)

    def action_first_row(self) -> None:
        self._to_row(True)

    def action_last_row(self) -> None:
        self._to_row(False)

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#filter")
    def filter_done(self) -> None:
        self._fill()
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#filter")
    def filter_changed(self) -> None:
        self._fill()

    def action_toggle_special_prices(self) -> None:
        """Special prices (Gestan side and shop side) below their products, or hidden."""
        self.show_special_prices = not self.show_special_prices
        if self.show_special_prices:  # each product's special prices right below it
            position = {id(row): index for index, row in enumerate(self.rows)}
            first = {}
            for row in self.rows:
                if not row.payload.get("special_price"):
                    first.setdefault((row.shop_id, row.shop_sub_id), position[id(row)])

            def place(row: Row) -> float:
                if row.payload.get("special_price"):
                    key = tuple(row.payload.get("product_key") or ())
                    return first.get(key, len(self.rows)) + 0.5
                return position[id(row)]

            self.rows.sort(key=place)
        self._fill()

    def action_toggle_unmanaged(self) -> None:
        self.show_unmanaged = not self.show_unmanaged
        self._fill()

    def action_conflict_side(self) -> None:
        row = self._current()
        if row is None or not row.conflict:
            return
        row.choices["winner"] = "gestan" if row.choices.get("winner") == "shop" else "shop"
        row.selected = True
        self._refresh_row(row)

    def action_addresses(self) -> None:
        row = self._current()
        if row is None or not row.payload.get("addresses"):
            return

        def chosen(choice: dict | None) -> None:
            if choice:
                row.choices.update(choice)
                self._refresh_row(row)

        self.app.push_screen(AddressPicker(row), chosen)

    def action_invoice_today(self) -> None:
        """An order held because it is older than the last invoice: invoice it today."""
        row = self._current()
        if row is None or self.busy or self.reader is None:
            return
        said = self.reader.invoice_today(row)
        if not said:
            self.notify("Cette commande n'est pas retenue pour sa date.")
            return
        self._refresh_row(row)
        self.notify(said)

    def action_reset_cursor(self) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.reset_cursor_worker()

        self.app.push_screen(
            Confirm(
                f"Remettre à zéro la dernière importation ({self.session.orders_cursor()}) ?\n"
                "« Depuis la dernière importation » relira toutes les commandes "
                "(celles déjà importées restent « Déjà importée »)."
            ),
            confirmed,
        )

    @work(thread=True, group="cursor", exit_on_error=False)
    def reset_cursor_worker(self) -> None:
        self.session.reset_orders_cursor()
        self.app.call_from_thread(self.notify, "Curseur remis à zéro.")

    def action_execute(self) -> None:
        if self.busy:
            return
        chosen = [row for row in self.rows if row.selected]
        if not chosen:
            self.notify("Aucune ligne choisie: « r » pour lire, espace pour choisir.")
            return
        self.busy = True
        self.cancel.clear()
        self.query_one(ProgressBar).update(total=len(chosen), progress=0)
        self.run_rows(chosen)

    @work(
        thread=True,
        exclusive=True,
        group="sync",
        exit_on_error=False,
        name="execute",
        description="Exécution des lignes choisies",
    )
    def run_rows(self, chosen: list[Row]) -> None:
        try:
            with self.session.client() as client:
                flow = self.session.flow(self.flow_name, client)
                if self.reader is not None:
                    flow.carry_on(self.reader)
                report = flow.execute(
                    chosen,
                    cancel=self.cancel,
                    progress=lambda d, t, label: self.post_message(SyncProgressed(d, t, label)),
                )
            self.post_message(SyncFinished(report))
        except ConnectorError as exc:
            self.post_message(WorkFailed(str(exc)))

    def action_stop(self) -> None:
        if self.busy:
            self.cancel.set()
            self.notify("Arrêt après la ligne en cours…")

    def on_sync_finished(self, message: SyncFinished) -> None:
        self.busy = False
        report = message.report
        done = {result.key: result for result in report.results}
        for row in self.rows:
            if row.key in done:
                result = done[row.key]
                row.selected = False
                row.status = {
                    "created": "Fait: créé",
                    "updated": "Fait: mis à jour",
                    "failed": "Erreur",
                    "blocked": row.status,
                    "skipped": "Laissé",
                }[result.outcome]
                row.action = None if result.outcome in ("created", "updated") else row.action
        self._fill()
        self.app.push_screen(ReportScreen(report, self.session))
