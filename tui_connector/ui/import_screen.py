"""The one import screen every flow uses: read, select, execute, stop, report."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, Label, ProgressBar, Static

from tui_connector.errors import ConnectorError
from tui_connector.gestan.money import format_fr
from tui_connector.labels import DONE_LABELS, status_label
from tui_connector.sync.contacts import ContactPayload
from tui_connector.sync.core import Origin, Report, Row
from tui_connector.sync.registry import FLOWS, Column
from tui_connector.sync.session import Session
from tui_connector.sync.status import Status
from tui_connector.ui.columns import MEASURED_ROWS, SharedWidthTable, cell
from tui_connector.ui.modals import AddressPicker, Confirm, ReportScreen, ShowsWorkerErrors
from tui_connector.ui.widgets import KeyFooter, Tick

STATUS = Column("status", "Statut", 10, most=200)
# what a user may not touch while the chosen rows are being executed
LOCKED_WHILE_EXECUTING = {
    "read",
    "toggle",
    "select_all",
    "execute",
    "conflict_side",
    "addresses",
    "invoice_today",
    "reset_cursor",
}


def money(value: str) -> str:
    try:
        return format_fr(Decimal(value))
    except (InvalidOperation, ValueError):
        return value


class ImportScreen(ShowsWorkerErrors, Screen):
    """Rows from the shop are green (→ Gestan), rows from Gestan yellow (→ shop).

    The application keeps one of these per flow: leaving it (Escape) leaves its read and
    its running execution going, and coming back shows them where they are.
    """

    BINDINGS = [
        Binding("r", "read", "Lire", id="read"),
        Binding("space", "toggle", "Choix", id="toggle"),
        Binding("a", "select_all", "Tout", id="select_all"),
        Binding("x", "execute", "Exécuter", id="execute"),
        Binding("s", "stop", "Arrêter", id="stop"),
        Binding("slash", "filter", "Filtre", id="filter"),
        Binding("e", "addresses", "Adresses", id="addresses"),
        Binding("c", "conflict_side", "Gagnant", id="conflict"),
        # one key, two bindings: the footer says what the key will do now
        Binding("v", "special_prices(True)", "Voir spéciaux", id="special_prices_on"),
        Binding("v", "special_prices(False)", "Cacher spéciaux", id="special_prices_off"),
        Binding("h", "unmanaged(True)", "Voir non gérés", id="unmanaged_on"),
        Binding("h", "unmanaged(False)", "Cacher non gérés", id="unmanaged_off"),
        Binding("z", "reset_cursor", "Remise à zéro", id="reset_cursor"),
        Binding("t", "invoice_today", "Facturer ce jour", id="invoice_today"),
        Binding("escape", "back", "Retour", id="back"),
        Binding("question_mark", "app.help", "Aide", id="help"),
        Binding("home", "first_row", "Début", show=False, priority=True),
        Binding("end", "last_row", "Fin", show=False, priority=True),
    ]

    # keys that only some flows offer: the registry says which (FlowSpec.actions)
    FLOW_ACTIONS = {
        "special_prices",
        "addresses",
        "conflict_side",
        "unmanaged",
        "reset_cursor",
        "invoice_today",
    }

    # --- what its workers post back: past tense, carrying their data -------------------

    @dataclass
    class RowsRead(Message):
        """A read starts (the table empties) or is over; its rows come as RowsAdded."""

        done: bool

    @dataclass
    class RowsAdded(Message):
        """One more page of rows, shown at once while the next one is read."""

        rows: list[Row]

    @dataclass
    class SyncProgressed(Message):
        done: int
        total: int
        label: str

        def can_replace(self, message: Message) -> bool:  # a flood of progress is merged
            return isinstance(message, ImportScreen.SyncProgressed)

    @dataclass
    class SyncFinished(Message):
        report: Report

    @dataclass
    class WorkFailed(Message):
        """A read or a run ended with an error the user can act on."""

        message: str

    def __init__(self, session: Session, flow: str):
        super().__init__(name=flow)
        self.session = session
        self.flow_name = flow
        self.flow_spec = FLOWS[flow]
        self.title_text = self.flow_spec.title
        # after the selection column, before the status; widths shared as the screen allows
        self.specs = list(self.flow_spec.columns)
        self.rows: list[Row] = []
        self.shown_rows: list[Row] = []
        self.cancel = threading.Event()
        self.reading = False
        self.executing = False
        self.progress = (0, 0, "")  # done, total, what: what home shows of a running execution
        self.unseen_report = None  # an execution that ended while the screen was not shown
        self.show_unmanaged = False
        self.show_special_prices = False
        self.special_counts: dict[tuple, int] = {}
        self.reader = None  # the flow of the last read, whose rows are executed
        self.execution = None  # the worker executing the chosen rows, while it runs

    @property
    def dated(self) -> bool:
        """A flow read by dates or since its last import shows the date boxes."""
        return "since_last" in self.flow_spec.options

    @property
    def busy(self) -> bool:
        return self.reading or self.executing

    def work_ended(self) -> None:
        """A worker died of an unexpected error: the screen is usable again."""
        self.reading = self.executing = False
        self.refresh_bindings()

    def compose(self) -> ComposeResult:
        yield Static(
            f" tui-connector · {self.title_text} · boutique {self.session.shop_host} · "
            f"{self.session.database_label}",
            id="title",
        )
        if self.dated:
            with Horizontal(id="dates"):
                yield Label("Du ")
                yield Input(placeholder="AAAA-MM-JJ", id="date_from", disabled=True)
                yield Label(" au ")
                yield Input(placeholder="AAAA-MM-JJ", id="date_to", disabled=True)
                yield Tick("Depuis la dernière importation", value=True, id="since_last")
        yield Input(placeholder="filtrer…", id="filter")
        yield SharedWidthTable(
            [*self.specs, STATUS],
            lambda: [self._texts(row) for row in self.shown_rows[:MEASURED_ROWS]],
            fixed=1,
            id="rows",
            cursor_type="row",
            zebra_stripes=False,
        )
        yield Static("", id="detail")
        with Horizontal(id="progress_line"):
            yield ProgressBar(total=None, show_eta=False, id="progress")
            yield Label("", id="counts")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("✓", key="mark", width=2)
        for spec in [*self.specs, STATUS]:
            table.add_column(spec.title, key=spec.key, width=spec.minimum)
        self.query_one("#filter", Input).display = False
        table.focus()

    def on_screen_resume(self) -> None:
        if self.unseen_report is not None:  # ended while the user was elsewhere
            report, self.unseen_report = self.unseen_report, None
            self.app.push_screen(ReportScreen(report, self.session))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        """Each flow shows its own extra key in the footer, and only it; while rows are
        executed, what would change them is shown disabled."""
        if action in self.FLOW_ACTIONS and action not in self.flow_spec.actions:
            return False
        if self.executing and action in LOCKED_WHILE_EXECUTING:
            return None
        if action == "stop" and not self.executing:
            return None
        if action == "special_prices":  # only the binding that changes the state
            return parameters[0] != self.show_special_prices
        if action == "unmanaged":
            return parameters[0] != self.show_unmanaged
        return True

    # --- rendering --------------------------------------------------------------------

    def _style(self, row: Row) -> str:
        theme = self.app.current_theme
        if row.blocked:
            return theme.error or "red"
        if row.action is None and not row.conflict:
            return "dim"
        return (theme.success if row.origin == Origin.SHOP else theme.warning) or ""

    def _status(self, row: Row) -> str:
        """The status, then the reason: the cell cuts it, the detail line shows it whole."""
        status = DONE_LABELS.get(row.outcome) or status_label(row.status)
        if row.conflict and row.choices.get("winner"):
            status += f" ({'boutique' if row.choices['winner'] == 'shop' else 'Gestan'} gagne)"
        if row.needs_choice:
            status += " ⌂"
        specials = self.special_counts.get((row.shop_id, row.shop_sub_id), 0)
        if specials and not row.of_product:
            status += f" · {specials} px"
        if row.reason and row.reason not in status:
            status += f" — {row.reason}"
        return status

    def _texts(self, row: Row) -> list[str]:
        values = []
        for spec in self.specs:
            value = row.columns.get(spec.key, "")
            values.append(money(value) if spec.money else value)
        return [*values, self._status(row)]

    def _cells(self, row: Row) -> list[Text]:
        style = self._style(row)
        arrow = "→" if row.origin == Origin.SHOP else "←"  # told apart without colour too
        mark = ("■" if row.selected else "□") + arrow
        specs = [*self.specs, STATUS]
        return [Text(mark, style=style)] + [
            cell(value, style, numeric=spec.numeric)
            for value, spec in zip(self._texts(row), specs, strict=True)
        ]

    def _fit(self) -> None:
        self.query_one(SharedWidthTable).fit()

    def _shown(self, row: Row) -> bool:
        if row.of_product and not self.show_special_prices:
            return False
        if row.status == Status.UNMANAGED and not row.of_product and not self.show_unmanaged:
            return False
        text = self.query_one("#filter", Input).value.strip().lower()
        if not text:
            return True
        return (
            any(text in str(v).lower() for v in row.columns.values())
            or text in self._status(row).lower()
        )

    def _fill(self) -> None:
        """The table again, the cursor kept on the row it was on when that row is shown."""
        table = self.query_one(DataTable)
        current = self._current()
        table.clear()
        self.shown_rows = [row for row in self.rows if self._shown(row)]
        for row in self.shown_rows:
            table.add_row(*self._cells(row), key=row.key)
        if current is not None and current in self.shown_rows:
            table.move_cursor(row=self.shown_rows.index(current))
        self._fit()
        self._count()
        self._detail()

    def _refresh_row(self, row: Row) -> None:
        table = self.query_one(DataTable)
        keys = ["mark", *(spec.key for spec in self.specs), STATUS.key]
        for key, value in zip(keys, self._cells(row), strict=True):
            table.update_cell(row.key, key, value)
        self._count()
        self._detail()

    def _count(self) -> None:
        chosen = sum(1 for row in self.rows if row.selected)
        shown = []
        if "special_prices" in self.flow_spec.actions and self.show_special_prices:
            shown.append("prix spéciaux affichés")
        if "unmanaged" in self.flow_spec.actions and self.show_unmanaged:
            shown.append("non gérés affichés")
        blocked = sum(1 for row in self.rows if row.blocked)
        self.query_one("#counts", Label).update(
            f" {len(self.shown_rows)} lignes · {chosen} choisies"
            + (f" · {blocked} bloquées" if blocked else "")
            + "".join(f" · {words}" for words in shown)
        )

    def _detail(self) -> None:
        """The row under the cursor, whole: its code and name, its status and why."""
        row = self._current()
        line = ""
        if row is not None:
            *values, status = self._texts(row)
            line = " · ".join(value for value in values if value) + f" — {status}"
        self.query_one("#detail", Static).update(Text(line))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._detail()

    def _current(self) -> Row | None:
        table = self.query_one(DataTable)
        if (
            not self.shown_rows
            or table.cursor_row is None
            or table.cursor_row >= len(self.shown_rows)
        ):
            return None
        return self.shown_rows[table.cursor_row]

    # --- reading ----------------------------------------------------------------------

    def action_read(self) -> None:
        if self.busy:
            self.notify("Une opération est en cours.", severity="warning")
            return
        options = {}
        if self.dated:
            try:
                options = self._date_options()
            except ValueError as exc:
                self.notify(str(exc), severity="error")
                return
        self.reading = True
        self.refresh_bindings()
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#counts", Label).update(" lecture…")
        self.read_rows(options)

    def _date_options(self) -> dict:
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

    @on(Checkbox.Changed, "#since_last")
    def since_last_changed(self, event: Checkbox.Changed) -> None:
        """Typed dates are used only when since-last is off: their boxes say so."""
        for name in ("date_from", "date_to"):
            self.query_one(f"#{name}", Input).disabled = event.value

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
                self.post_message(self.RowsRead(done=False))
                # the table fills a page at a time and is usable while the next one is read
                for page in flow.read_pages(
                    progress=lambda d, t, label: self.post_message(self.SyncProgressed(d, t, label))
                ):
                    self.post_message(self.RowsAdded(page))
            self.post_message(self.RowsRead(done=True))
        except ConnectorError as exc:
            self.post_message(self.WorkFailed(str(exc)))

    def on_import_screen_rows_added(self, message: ImportScreen.RowsAdded) -> None:
        self.rows += message.rows
        counted = set()
        for row in message.rows:  # counted first: a product's row shows its count
            if row.of_product:
                key = row.of_product
                self.special_counts[key] = self.special_counts.get(key, 0) + 1
                counted.add(key)
        if counted:  # special prices come after their products: those rows show the count
            for shown in self.shown_rows:
                if (shown.shop_id, shown.shop_sub_id) in counted and not shown.of_product:
                    self._refresh_row(shown)
        table = self.query_one(DataTable)
        first_page = not self.shown_rows
        for row in message.rows:
            if self._shown(row):
                self.shown_rows.append(row)
                table.add_row(*self._cells(row), key=row.key)
        if first_page or len(self.shown_rows) <= MEASURED_ROWS:
            self._fit()
        self._count()
        if first_page:
            self._detail()

    def on_import_screen_rows_read(self, message: ImportScreen.RowsRead) -> None:
        self.reading = not message.done
        self.refresh_bindings()
        if message.done:
            self.query_one(ProgressBar).update(total=1, progress=1)
            self._count()
            return
        self.rows = []
        self.special_counts = {}
        self._fill()

    def on_import_screen_sync_progressed(self, message: ImportScreen.SyncProgressed) -> None:
        if self.executing:
            self.progress = (message.done, message.total, message.label)
        self.query_one(ProgressBar).update(total=message.total or None, progress=message.done)
        self.query_one("#counts", Label).update(
            f" {message.done} / {message.total or '?'} {message.label[:30]}"
        )

    def on_import_screen_work_failed(self, message: ImportScreen.WorkFailed) -> None:
        self.reading = self.executing = False
        self.refresh_bindings()
        self.query_one(ProgressBar).update(total=1, progress=0)
        self.query_one("#counts", Label).update(" erreur")
        self.app.push_screen(Confirm(message.message, title="Erreur", only_ok=True))

    # --- choosing ---------------------------------------------------------------------

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
        if self.executing:
            return
        workable = [r for r in self.shown_rows if (r.action or r.conflict) and not r.blocked]
        value = not all(r.selected for r in workable)
        for row in workable:
            row.selected = value
        self._fill()

    def action_back(self) -> None:
        """Escape closes the filter first (its rows kept); then it leaves the screen, whose
        read or execution goes on (home shows it)."""
        box = self.query_one("#filter", Input)
        if box.display and box.has_focus:
            box.display = False
            self.query_one(DataTable).focus()
            return
        if self.executing:
            self.notify(
                f"{self.title_text}: l'exécution continue; l'écran la montre à votre retour."
            )
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

    def action_special_prices(self, show: bool) -> None:
        """Special prices (Gestan side and shop side) below their products, or hidden."""
        self.show_special_prices = show
        if self.show_special_prices:  # each product's special prices right below it
            position = {id(row): index for index, row in enumerate(self.rows)}
            first = {}
            for row in self.rows:
                if not row.of_product:
                    first.setdefault((row.shop_id, row.shop_sub_id), position[id(row)])

            def place(row: Row) -> float:
                if row.of_product:
                    return first.get(row.of_product, len(self.rows)) + 0.5
                return position[id(row)]

            self.rows.sort(key=place)
        self._fill()
        self.refresh_bindings()
        self.notify(f"Prix spéciaux {'affichés' if self.show_special_prices else 'masqués'}.")

    def action_unmanaged(self, show: bool) -> None:
        self.show_unmanaged = show
        self._fill()
        self.refresh_bindings()
        self.notify(
            f"Produits non gérés par Gestan {'affichés' if self.show_unmanaged else 'masqués'}."
        )

    def action_conflict_side(self) -> None:
        row = self._current()
        if row is None or self.executing:
            return
        if not row.conflict:
            self.notify("Cette ligne n'est pas en conflit.")
            return
        row.choices["winner"] = "gestan" if row.choices.get("winner") == "shop" else "shop"
        row.selected = True
        self._refresh_row(row)

    def action_addresses(self) -> None:
        row = self._current()
        if row is None or self.executing:
            return
        if not (isinstance(row.payload, ContactPayload) and row.payload.addresses):
            self.notify("Ce contact n'a pas d'adresse à choisir.")
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
        if self.executing:
            return
        self.cursor_question_worker()

    @work(thread=True, group="cursor", exit_on_error=False)
    def cursor_question_worker(self) -> None:
        where = self.session.orders_cursor()  # a database read: never on the UI thread
        self.app.call_from_thread(self._ask_reset, where)

    def _ask_reset(self, where: str) -> None:
        def confirmed(yes: bool | None) -> None:
            if yes:
                self.reset_cursor_worker()

        self.app.push_screen(
            Confirm(
                f"Remettre à zéro la dernière importation ({where}) ?\n"
                "« Depuis la dernière importation » relira toutes les commandes "
                "(celles déjà importées restent « Déjà importée »)."
            ),
            confirmed,
        )

    @work(thread=True, group="cursor", exit_on_error=False)
    def reset_cursor_worker(self) -> None:
        self.session.reset_orders_cursor()
        self.app.call_from_thread(self.notify, "Curseur remis à zéro.")

    # --- executing --------------------------------------------------------------------

    def action_execute(self) -> None:
        if self.busy:
            return
        chosen = [row for row in self.rows if row.selected]
        if not chosen:
            self.notify("Aucune ligne choisie: « r » pour lire, espace pour choisir.")
            return
        self.executing = True
        self.progress = (0, len(chosen), "")
        self.refresh_bindings()
        self.cancel.clear()
        self.query_one(ProgressBar).update(total=len(chosen), progress=0)
        self.execution = self.run_rows(chosen)

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
                    progress=lambda d, t, label: self.post_message(
                        self.SyncProgressed(d, t, label)
                    ),
                )
            self.post_message(self.SyncFinished(report))
        except ConnectorError as exc:
            self.post_message(self.WorkFailed(str(exc)))

    def action_stop(self) -> None:
        if self.executing:
            self.cancel.set()
            self.notify("Arrêt après la ligne en cours…")

    def on_import_screen_sync_finished(self, message: ImportScreen.SyncFinished) -> None:
        self.executing = False
        self.refresh_bindings()
        report = message.report
        done = {result.key: result for result in report.results}
        for row in self.rows:
            if row.key in done:
                result = done[row.key]
                row.selected = False
                row.outcome = result.outcome
                if result.outcome in ("failed", "skipped") and result.message:
                    row.reason = result.message
                row.action = None if result.outcome in ("created", "updated") else row.action
        self._fill()
        self.query_one(ProgressBar).update(total=1, progress=1)
        if getattr(self.app, "quitting", False):
            return  # the run is closed; the application ends
        if self.app.screen is self:
            self.app.push_screen(ReportScreen(report, self.session))
        else:  # the user is elsewhere: told now, the report waits for their return
            self.unseen_report = report
            self.app.notify(
                f"{self.title_text}: exécution terminée ({report.summary()}); "
                "le rapport s'ouvre avec l'écran.",
                timeout=8,
            )
