"""The terminal application: home, the four import screens, settings, reports."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.align import Align
from rich.text import Text
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandList, CommandPalette, Hit, Hits, Provider
from textual.screen import Screen
from textual.theme import ThemeProvider
from textual.widgets.option_list import Option

from tui_connector import config
from tui_connector.sync.registry import FLOWS
from tui_connector.sync.session import Session
from tui_connector.ui import preferences
from tui_connector.ui.home import HomeScreen
from tui_connector.ui.import_screen import ImportScreen
from tui_connector.ui.modals import Confirm, HelpScreen
from tui_connector.ui.settings import SettingsScreen

# Textual's own keys, which the help lists in its own words
TEXTUAL_OWN = {"focus_next", "focus_previous", "copy_text", "maximize", "minimize"}


class ScreensProvider(Provider):
    """The command palette reaches every screen."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        app = self.app
        targets = [
            (f"Importer: {flow.title}", lambda f=flow.name: app.action_open_flow(f))
            for flow in FLOWS.values()
        ]
        targets.append(("Paramètres", app.action_open_settings))
        for label, callback in targets:
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), callback)


class Palette(CommandPalette):
    """Textual's command palette, saying in French that nothing matches."""

    NO_MATCHES = "Rien ne correspond"

    def _start_no_matches_countdown(self, search_value: str) -> None:
        # Textual writes its English sentence here: the same half-second wait, our words
        self._stop_no_matches_countdown()

        def show() -> None:
            self._list_visible = bool(search_value)
            if search_value:
                self.query_one(CommandList).add_option(
                    Option(
                        Align.center(Text(self.NO_MATCHES, style="not bold")),
                        disabled=True,
                        id=self._NO_MATCHES,
                    )
                )

        self._no_matches_timer = self.set_timer(self._NO_MATCHES_COUNTDOWN, show)


class ConnectorApp(App):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "tui-connector"
    COMMANDS = App.COMMANDS | {ScreensProvider}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quitter", show=False, priority=True),
        Binding("question_mark,f1", "help", "Aide", show=False),
    ]

    def __init__(self, session: Session, *, first_screen: str = "home"):
        super().__init__()
        self.session = session
        self.first_screen = first_screen
        self.flow_screens: dict[str, ImportScreen] = {}
        self.quitting = False
        self.started = False  # a theme set before the start is not the user's choice
        theme = preferences.theme()
        if theme in self.available_themes:
            self.theme = theme

    def on_mount(self) -> None:
        self.started = True
        self.push_screen(HomeScreen.for_flows()(self.session))
        if self.first_screen == "settings" or not self.session.configured:
            self.push_screen(SettingsScreen(self.session))
        elif self.first_screen in FLOWS:
            self.action_open_flow(self.first_screen)

    def watch_theme(self, theme: str) -> None:
        if self.started:  # the user's choice, kept for the next start
            preferences.keep_theme(theme)

    # --- screens -------------------------------------------------------------------

    def flow_screen(self, flow: str) -> ImportScreen:
        """One screen per flow for the whole session: its rows and its execution outlive
        a visit to another screen."""
        if flow not in self.flow_screens:
            self.flow_screens[flow] = ImportScreen(self.session, flow)
            self.install_screen(self.flow_screens[flow], name=f"flow-{flow}")
        return self.flow_screens[flow]

    def action_open_flow(self, flow: str) -> None:
        screen = self.flow_screen(flow)
        if screen in self.screen_stack:  # already open, under a dialog or it is this one
            return
        self.push_screen(screen)

    def action_open_settings(self) -> None:
        if not any(isinstance(s, SettingsScreen) for s in self.screen_stack):
            self.push_screen(SettingsScreen(self.session))

    def executing(self) -> list[ImportScreen]:
        return [screen for screen in self.flow_screens.values() if screen.executing]

    # --- quitting ------------------------------------------------------------------

    async def action_quit(self) -> None:
        """A running execution is never cut in the middle of a row: asked first, then
        stopped between two rows, its run closed, and only then the application ends."""
        running = self.executing()
        if not running:
            self.exit()
            return
        if self.quitting:
            self.notify("Arrêt en cours: l'application se ferme après la ligne en cours.")
            return
        names = ", ".join(
            f"{screen.title_text} {screen.progress[0]}/{screen.progress[1]}" for screen in running
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.quitting = True
                for screen in running:
                    screen.cancel.set()
                self.notify("Arrêt après la ligne en cours, puis fermeture…", timeout=30)
                self.run_worker(self._exit_when_stopped(running), group="quit")

        self.push_screen(
            Confirm(
                f"Une exécution est en cours ({names}).\n"
                "L'arrêter après la ligne en cours et quitter ? (ce qui est fait reste fait)",
                title="Quitter",
            ),
            answered,
        )

    async def _exit_when_stopped(self, screens: list[ImportScreen]) -> None:
        for screen in screens:
            if screen.execution is not None:
                await screen.execution.wait()
        self.exit()

    def action_help_quit(self) -> None:  # ctrl+c, by habit
        self.notify("ctrl+q pour quitter.", title="Quitter ?")

    # --- help, palette, themes: Textual's own words in French -------------------------

    def action_help(self) -> None:
        screen = self.screen
        if isinstance(screen, HelpScreen):
            return
        keys = []
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not isinstance(active.node, (App, Screen)):  # a widget's own, in English
                continue
            if binding.action.split(".")[-1] in TEXTUAL_OWN:  # said in French in the help
                continue
            if not binding.description or binding.action in seen or binding.system:
                continue
            seen.add(binding.action)
            keys.append((self.get_key_display(binding), binding.description, active.enabled))
        title = getattr(screen, "title_text", None) or {
            "HomeScreen": "accueil",
            "SettingsScreen": "paramètres",
        }.get(type(screen).__name__, "écran")
        self.push_screen(HelpScreen(keys, title))

    # the keys' names as a French keyboard prints them
    KEY_NAMES = {
        "space": "espace",
        "escape": "Échap",
        "enter": "Entrée",
        "home": "Début",
        "end": "Fin",
        "pageup": "PgPréc",
        "pagedown": "PgSuiv",
    }

    def get_key_display(self, binding: Binding) -> str:
        if not binding.key_display and binding.key in self.KEY_NAMES:
            return self.KEY_NAMES[binding.key]
        return super().get_key_display(binding)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(Palette(id="--command-palette", placeholder="Chercher…"))

    def search_themes(self) -> None:
        self.push_screen(Palette(providers=[ThemeProvider], placeholder="Chercher un thème…"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand(
            "Thème", "Changer les couleurs (gardé au prochain lancement)", self.action_change_theme
        )
        yield SystemCommand("Aide", "Les touches de cet écran", self.action_help)
        yield SystemCommand("Quitter", "Fermer l'application", self.action_quit)
        yield SystemCommand(
            "Capture d'écran",
            "Enregistrer une image SVG de l'écran",
            lambda: self.set_timer(0.1, self.deliver_screenshot),
        )


def run(profile: config.Profile | None = None) -> int:
    session = Session(profile or config.load())
    ConnectorApp(session).run()
    return 0
