"""The settings screen: its tabs, Gestan's settings read in a worker when it opens, and
ctrl+s saving every tab at once, all or nothing, in a worker too."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Button, Static, TabbedContent, TabPane

from tui_connector.errors import ConnectorError
from tui_connector.sync.session import Session, SettingsForm
from tui_connector.ui.modals import ShowsWorkerErrors
from tui_connector.ui.settings.civilities import CivilitiesTab
from tui_connector.ui.settings.mapping import MappingTab
from tui_connector.ui.settings.misc import MiscTab
from tui_connector.ui.settings.options import OptionsTab
from tui_connector.ui.settings.tab import SettingsTab
from tui_connector.ui.settings.webservice import WebserviceTab
from tui_connector.ui.widgets import KeyFooter

TABS = [
    ("Webservice", "webservice", WebserviceTab),
    ("Civilités", "civilities", CivilitiesTab),
    ("Options", "options", OptionsTab),
    ("Mappage", "mapping", MappingTab),
    ("Divers", "misc", MiscTab),
]


class SettingsScreen(ShowsWorkerErrors, Screen):
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Retour"),
        Binding("ctrl+s", "save", "Enregistrer"),
        Binding("f1", "app.help", "Aide"),  # ? is typed in the fields
    ]

    def __init__(self, session: Session, *, tab: str = "webservice"):
        super().__init__()
        self.session = session
        self.first_tab = tab
        self.form: SettingsForm | None = None  # what Gestan holds, once read
        self.load_error = ""  # why it could not be read
        self.saving = False

    def compose(self) -> ComposeResult:
        yield Static(" tui-connector · paramètres", id="title")
        with TabbedContent(initial=self.first_tab):
            for title, tab_id, tab in TABS:
                with TabPane(title, id=tab_id):
                    # off until Gestan's values are in: nothing typed is overwritten
                    yield tab(disabled=bool(tab.setting_keys()))
        yield KeyFooter()

    def tabs(self) -> list[SettingsTab]:
        return list(self.query(SettingsTab))

    def on_mount(self) -> None:
        self.load_worker([key for _, _, tab in TABS for key in tab.setting_keys()])

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def load_worker(self, keys: list[str]) -> None:
        try:
            form = self.session.settings_form(keys)
        except ConnectorError as exc:
            self.app.call_from_thread(self._not_read, str(exc))
            return
        self.app.call_from_thread(self._fill, form)

    def _not_read(self, error: str) -> None:
        self.load_error = error
        self.notify(f"Paramètres illisibles: {error}", severity="error", timeout=8)

    def _fill(self, form: SettingsForm) -> None:
        self.form = form
        for tab in self.tabs():
            tab.fill(form)
            tab.disabled = False

    # --- saving --------------------------------------------------------------------

    def action_save(self) -> None:
        """Every tab at once: the shop's address and key checked first, then Gestan's
        settings all or none, then the profile; nothing saved if one value is wrong."""
        if self.load_error:
            self.notify(
                f"Rien n'est enregistré: les paramètres n'ont pas pu être lus "
                f"({self.load_error}). Échap, corrigez, puis p pour rouvrir.",
                severity="error",
                timeout=8,
            )
            return
        if self.form is None or self.saving:
            self.notify("Un instant: les paramètres sont en lecture ou en écriture.")
            return
        webservice = self.query_one(WebserviceTab)
        try:
            url, api_key = webservice.validated()
        except ConnectorError as exc:
            self.query_one(TabbedContent).active = "webservice"
            self.notify(str(exc), severity="error", timeout=8)
            return
        pairs: list[tuple[str, str]] = []
        unset_keys: list[str] = []
        for tab in self.tabs():
            tab_pairs, tab_unset = tab.changes(self.form)
            pairs += tab_pairs
            unset_keys += tab_unset
        self.saving = True
        self.save_worker(pairs, unset_keys, list(self.form.values), url, api_key)

    @work(thread=True, exclusive=True, group="settings", exit_on_error=False)
    def save_worker(
        self,
        pairs: list[tuple[str, str]],
        unset_keys: list[str],
        keys: list[str],
        url: str,
        api_key: str,
    ) -> None:
        try:
            self.session.save_settings(pairs, unset_keys)
            form = self.session.settings_form(keys)
        except ConnectorError as exc:
            self.app.call_from_thread(self._not_saved, str(exc))
            return
        self.app.call_from_thread(self._saved, form, url, api_key)

    def _not_saved(self, error: str) -> None:
        self.saving = False
        self.notify(error, severity="error", timeout=8)

    def work_ended(self) -> None:  # an unexpected error: ctrl+s works again
        self.saving = False

    def _saved(self, form: SettingsForm, url: str, api_key: str) -> None:
        self.saving = False
        self.form = form
        self.query_one(WebserviceTab).save_shop(
            url, api_key, said="Paramètres et connexion enregistrés"
        )

    @on(Button.Pressed, "#save_misc")
    def save_misc(self) -> None:
        self.action_save()
