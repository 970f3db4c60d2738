"""Dialogs: a confirmation, the end-of-run report, the address picker."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Label, Static
from textual.worker import Worker, WorkerState

from tui_connector.sync.core import Report, Row
from tui_connector.sync.session import FLOW_TITLES, Session


class ShowsWorkerErrors:
    """Mixed into each screen: a worker's unexpected error becomes a dialog, never a
    traceback, and the screen is usable again (Worker.StateChanged does not bubble)."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        error = event.worker.error
        if hasattr(self, "busy"):
            self.busy = False
        self.app.push_screen(
            Confirm(
                f"{event.worker.description or event.worker.name}: {type(error).__name__}: "
                f"{error}\nRien n'a été écrit pour la ligne en cours; relancez après correction.",
                title="Erreur inattendue",
                only_ok=True,
            )
        )


OUTCOME_WORDS = {
    "created": "créé",
    "updated": "mis à jour",
    "skipped": "laissé",
    "failed": "erreur",
    "blocked": "bloqué",
}


class Confirm(ModalScreen[bool]):
    BINDINGS = [
        Binding("escape", "no", "Non"),
        Binding("o", "yes", "Oui"),
        Binding("n", "no", "Non"),
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
    """Created / updated / skipped / failed, with the reason of each failure."""

    BINDINGS = [Binding("escape,enter", "close", "Fermer"), Binding("w", "save", "Enregistrer")]

    def __init__(self, report: Report, session: Session):
        super().__init__()
        self.report, self.session = report, session

    def compose(self) -> ComposeResult:
        counts = self.report.counts
        with Vertical(classes="dialog wide"):
            title = f"Rapport · {FLOW_TITLES.get(self.report.flow, self.report.flow)}"
            if self.report.stopped:
                title += " · arrêté"
            yield Label(title, classes="dialog-title")
            yield Static(
                f"créés {counts['created']} · mis à jour {counts['updated']} · "
                f"laissés {counts['skipped']} · erreurs {counts['failed']} · "
                f"bloqués {counts['blocked']}",
                id="report_counts",
            )
            if self.report.error:
                yield Static(Text(self.report.error, style="bold"), id="report_error")
            yield DataTable(id="report_rows", cursor_type="row")
            yield Static("w enregistrer · Échap fermer", classes="dialog-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Résultat", "Boutique", "Facture", "Motif")
        worst_first = sorted(
            self.report.results, key=lambda r: r.outcome not in ("failed", "blocked")
        )
        for result in worst_first:
            table.add_row(
                OUTCOME_WORDS[result.outcome],
                str(result.shop_id or result.gestan_id or ""),
                result.invoice or "",
                result.message[:120],
            )

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        path = self.session.save_report(self.report)
        self.notify(f"Rapport enregistré: {path}")


class AddressPicker(ModalScreen[dict]):
    """The addresses of a contact; b picks the billing one, l the delivery one."""

    BINDINGS = [
        Binding("b", "billing", "Facturation"),
        Binding("l", "delivery", "Livraison"),
        Binding("enter", "done", "Valider"),
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
            yield Static(
                "b facturation · l livraison · Entrée valider · Échap annuler",
                classes="dialog-help",
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Rôle", key="role", width=10)
        table.add_column("Adresse", key="address")
        for address in self.row.payload["addresses"]:
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
        for address in self.row.payload["addresses"]:
            role, text = self._cells(address)
            table.update_cell(address["id"], "role", role)
            table.update_cell(address["id"], "address", text)

    def _current_id(self) -> str:
        table = self.query_one(DataTable)
        return self.row.payload["addresses"][table.cursor_row]["id"]

    def action_billing(self) -> None:
        self.choice["billing"] = self._current_id()
        self._redraw()

    def action_delivery(self) -> None:
        self.choice["delivery"] = self._current_id()
        self._redraw()

    def action_done(self) -> None:
        self.dismiss(self.choice)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()  # Enter on the table validates the choice
        self.action_done()

    def action_cancel(self) -> None:
        self.dismiss(None)
