"""Home: the shop, the Gestan database, the last run of each flow, the way to each screen."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import get_current_worker

from tui_connector.errors import ConnectorError
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.session import Session
from tui_connector.ui.modals import ShowsWorkerErrors
from tui_connector.ui.widgets import KeyFooter

SCREENS = Binding.Group("Écrans")  # the table says which key opens which screen


class HomeScreen(ShowsWorkerErrors, Screen):
    """A row and a key per flow of the registry, with its last run."""

    BINDINGS: list[Binding] = []  # made by `for_flows`, the flows' keys first
    COMMON = [
        Binding("p", "app.open_settings", "Paramètres"),
        Binding("t", "test_connection", "Tester"),
        Binding("q", "app.quit", "Quitter"),
        Binding("question_mark", "app.help", "Aide"),
    ]

    @classmethod
    def for_flows(cls) -> type[HomeScreen]:
        """The screen with a key for every flow registered now (Textual reads a screen's
        keys from its class)."""
        keys = [
            Binding(flow.key, f"app.open_flow({flow.name!r})", flow.title, group=SCREENS)
            for flow in FLOWS.values()
        ]
        return type(cls.__name__, (cls,), {"BINDINGS": [*keys, *cls.COMMON]})

    def __init__(self, session: Session):
        super().__init__()
        self.session = session
        self.running: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(" tui-connector · accueil", id="title")
        with Vertical(id="home"):
            yield Static("", id="shop")
            yield Static(f"Gestan   {self.session.database_label}", id="database")
            yield DataTable(id="runs", cursor_type="row")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Touche", key="key", width=6)
        table.add_column("Écran", key="flow", width=10)
        table.add_column("Dernière exécution", key="when", width=18)
        table.add_column("Résultat", key="counts")
        for flow in FLOWS.values():
            table.add_row(flow.key, flow.title, "…", "", key=flow.name)
        self.refresh_runs()
        self.set_interval(0.5, self.show_running)
        self._shop_line(
            "connexion…" if self.session.configured else "non configurée: p pour les paramètres"
        )
        if self.session.configured:
            self.action_test_connection()

    def on_screen_resume(self) -> None:
        self.refresh_runs()

    def refresh_runs(self) -> None:
        self.runs_worker()

    @work(thread=True, exclusive=True, group="runs", exit_on_error=False)
    def runs_worker(self) -> None:
        runs = self.session.last_runs()  # the database: never on the UI thread
        if not get_current_worker().is_cancelled:  # a later read has newer runs
            self.app.call_from_thread(self._show_runs, runs)

    def _show_runs(self, runs: dict) -> None:
        table = self.query_one(DataTable)
        for flow in FLOWS:
            run = runs.get(flow)
            table.update_cell(flow, "when", run.when if run else "jamais", update_width=True)
            table.update_cell(flow, "counts", run.counts if run else "", update_width=True)
        self.show_running()

    def show_running(self) -> None:
        """An execution going on behind another screen: where it is, twice a second."""
        table = self.query_one(DataTable)
        for flow, screen in getattr(self.app, "flow_screens", {}).items():
            if screen.executing:
                done, total, _ = screen.progress
                table.update_cell(flow, "when", "en cours", update_width=True)
                table.update_cell(
                    flow,
                    "counts",
                    f"{done} / {total} lignes · s sur l'écran l'arrête",
                    update_width=True,
                )
                self.running.add(flow)
            elif flow in self.running:  # just ended: its run as the database has it
                self.running.discard(flow)
                self.refresh_runs()

    def _shop_line(self, state: str) -> None:
        self.query_one("#shop", Static).update(f"Boutique {self.session.shop_host} · {state}")

    def action_test_connection(self) -> None:
        self._shop_line("connexion…")
        self.test_worker()

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def test_worker(self) -> None:
        try:
            report = self.session.check()
            state = f"PrestaShop {report.version} · " + (
                "prête" if report.ready else "droits manquants (p, Webservice)"
            )
        except ConnectorError as exc:
            state = f"erreur: {exc.message}"
        self.app.call_from_thread(self._shop_line, state)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.app.action_open_flow(event.row_key.value)
