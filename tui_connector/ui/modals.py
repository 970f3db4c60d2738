"""Dialogs: a confirmation, the end-of-run report, the address picker."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static
from textual.worker import Worker, WorkerState

from tui_connector.sync.core import Report, Row
from tui_connector.sync.registry import Column
from tui_connector.sync.session import Session, report_counts, report_rows, report_title
from tui_connector.ui.columns import SharedWidthTable, cell
from tui_connector.ui.widgets import KeyFooter


class ShowsWorkerErrors:
    """Mixed into each screen: a worker's unexpected error becomes a dialog, never a
    traceback, and the screen is usable again (Worker.StateChanged does not bubble)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if hasattr(self, "work_ended"):
            self.work_ended()
        self.app.push_screen(
            Confirm(
                f"{event.worker.description or event.worker.name}: {type(error).__name__}: "
                f"{error}\nRien n'a été écrit pour la ligne en cours; relancez après correction.",
                title="Erreur inattendue",
                only_ok=True,
            )
        )


class Confirm(ModalScreen[bool]):
    """A question (Non is the answer Enter gives) or, with only_ok, a message."""

    BINDINGS = [
        Binding("o", "yes", "Oui"),
        Binding("n", "no", "Non"),
        Binding("escape", "no", "Fermer"),
    ]

    def __init__(self, question: str, *, title: str = "Confirmation", only_ok: bool = False):
        super().__init__()
        self.question, self.title_text, self.only_ok = question, title, only_ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.question, classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                if self.only_ok:
                    yield Button("OK", id="yes", variant="primary")
                else:
                    yield Button("Oui (o)", id="yes", variant="warning")
                    yield Button("Non (n)", id="no")
        yield KeyFooter()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (self.only_ok and action == "yes")  # a message has nothing to say yes to

    def on_mount(self) -> None:
        if not self.only_ok:  # Enter on a question never does the destructive thing
            self.query_one("#no", Button).focus()

    @on(Button.Pressed, "#yes")
    def action_yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#no")
    def action_no(self) -> None:
        self.dismiss(False)


class ReportScreen(ModalScreen[None]):
    """Created / updated / skipped / failed, each row with its code and name and the
    reason of each failure; it scrolls, and fits a 80x24 terminal."""

    BINDINGS = [Binding("escape,enter", "close", "Fermer"), Binding("w", "save", "Enregistrer")]
    SPECS = [
        Column("outcome", "Résultat", 6),
        Column("code", "Code / réf.", 8),
        Column("name", "Désignation", 8),
        Column("invoice", "Facture", 7),
        Column("message", "Motif", 10, most=200),
    ]

    def __init__(self, report: Report, session: Session):
        super().__init__()
        self.report, self.session = report, session
        self.lines = report_rows(report)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="report"):
            yield Label(report_title(self.report), classes="dialog-title")
            yield Static(report_counts(self.report), id="report_counts")
            if self.report.error:
                yield Static(Text(self.report.error, style="bold"), id="report_error")
            yield SharedWidthTable(
                self.SPECS, lambda: self.lines, id="report_rows", cursor_type="row"
            )
            yield Static("", id="report_detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for spec in self.SPECS:
            table.add_column(spec.title, key=spec.key, width=spec.minimum)
        for line in self.lines:
            table.add_row(*(cell(value) for value in line))
        table.focus()
        self.call_after_refresh(table.fit)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The row under the cursor, whole: a long reason is cut in its cell."""
        if 0 <= event.cursor_row < len(self.lines):
            self.query_one("#report_detail", Static).update(
                " · ".join(value for value in self.lines[event.cursor_row] if value)
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        self.save_worker()

    @work(thread=True, group="report", exit_on_error=False)
    def save_worker(self) -> None:
        try:
            path = self.session.save_report(self.report)
        except OSError as exc:
            self.app.call_from_thread(
                self.notify,
                f"Rapport non enregistré: {exc.strerror or exc}",
                severity="error",
            )
            return
        self.app.call_from_thread(self.notify, f"Rapport enregistré: {path}")


class HelpScreen(ModalScreen[None]):
    """The keys of the screen under it, in French, from its own bindings."""

    BINDINGS = [Binding("escape,question_mark,f1,enter", "close", "Fermer")]
    ALWAYS = [
        ("↑ ↓ PgPréc PgSuiv", "se déplacer dans un tableau"),
        ("Début Fin", "première et dernière ligne"),
        ("Tab Maj+Tab", "passer d'une zone à l'autre"),
        ("ctrl+p", "palette des commandes (écrans, thème)"),
        ("ctrl+q", "quitter (une exécution en cours est d'abord arrêtée)"),
    ]

    def __init__(self, keys: list[tuple[str, str, bool]], title: str):
        super().__init__()
        self.keys, self.title_text = keys, title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="help"):
            yield Label(f"Touches · {self.title_text}", classes="dialog-title")
            table = DataTable(id="help_keys", cursor_type="row", show_header=False)
            yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Touche", "Action")
        for key, description, enabled in self.keys:
            table.add_row(key, description + ("" if enabled else " (indisponible maintenant)"))
        for key, description in self.ALWAYS:
            table.add_row(key, description)
        table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)


class AddressPicker(ModalScreen[dict]):
    """The addresses of a contact; b picks the billing one, l the delivery one."""

    BINDINGS = [
        Binding("b", "billing", "Facturation"),
        Binding("l", "delivery", "Livraison"),
        # before the table's own Enter, so that the footer shows it
        Binding("enter", "done", "Valider", priority=True),
        Binding("escape", "cancel", "Annuler"),
    ]

    def __init__(self, row: Row):
        super().__init__()
        self.row = row
        self.choice = {
            "billing": row.choices.get("billing", ""),
            "delivery": row.choices.get("delivery", ""),
        }

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(f"Adresses de {self.row.columns.get('label', '')}", classes="dialog-title")
            yield DataTable(id="addresses", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Rôle", key="role", width=10)
        table.add_column("Adresse", key="address")
        for address in self.row.payload.addresses:
            table.add_row(*self._cells(address), key=address["id"])
        table.focus()

    def _cells(self, address: dict) -> list[Text]:
        roles = []
        if address["id"] == self.choice["billing"]:
            roles.append("fact.")
        if address["id"] == self.choice["delivery"]:
            roles.append("livr.")
        style = (self.app.current_theme.success or "green") if roles else ""
        text = (
            f"{address.get('alias', '')}: {address.get('address1', '')}, "
            f"{address.get('postcode', '')} {address.get('city', '')}"
        )
        return [Text(" ".join(roles) or "·", style=style), Text(text, style=style)]

    def _redraw(self) -> None:
        table = self.query_one(DataTable)
        for address in self.row.payload.addresses:
            role, text = self._cells(address)
            table.update_cell(address["id"], "role", role)
            table.update_cell(address["id"], "address", text)

    def _current_id(self) -> str:
        table = self.query_one(DataTable)
        return self.row.payload.addresses[table.cursor_row]["id"]

    def action_billing(self) -> None:
        self.choice["billing"] = self._current_id()
        self._redraw()

    def action_delivery(self) -> None:
        self.choice["delivery"] = self._current_id()
        self._redraw()

    def action_done(self) -> None:
        self.dismiss(self.choice)

    def action_cancel(self) -> None:
        self.dismiss(None)
