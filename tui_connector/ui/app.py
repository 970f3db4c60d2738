"""The terminal application: home, the four import screens, settings, reports."""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.command import Hit, Hits, Provider

from tui_connector import config
from tui_connector.sync.session import FLOW_TITLES, Session
from tui_connector.ui.home import HomeScreen
from tui_connector.ui.import_screen import ImportScreen
from tui_connector.ui.settings_screen import SettingsScreen


class ScreensProvider(Provider):
    """The command palette reaches every screen."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        targets = [
            (f"Importer: {title}", lambda f=flow: app.action_open_flow(f))
            for flow, title in FLOW_TITLES.items()
        ]
        targets.append(("Paramètres", app.action_open_settings))
        for label, callback in targets:
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback)


class ConnectorApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "tui-connector"
    COMMANDS = App.COMMANDS | {ScreensProvider}
    BINDINGS = [Binding("ctrl+q", "quit", "Quitter", show=False)]

    def __init__(self, session: Session, *, first_screen: str = "home"):
        super().__init__()
        self.session = session
        self.first_screen = first_screen

    def on_mount(self) -> None:
        self.push_screen(HomeScreen(self.session))
        if self.first_screen == "settings" or not self.session.configured:
            self.push_screen(SettingsScreen(self.session))
        elif self.first_screen in FLOW_TITLES:
            self.push_screen(ImportScreen(self.session, self.first_screen))

    def action_open_flow(self, flow: str) -> None:
        self.push_screen(ImportScreen(self.session, flow))

    def action_open_settings(self) -> None:
        self.push_screen(SettingsScreen(self.session))


def run(profile: config.Profile | None = None) -> int:
    session = Session(profile or config.load())
    ConnectorApp(session).run()
    return 0
