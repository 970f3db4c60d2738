"""Webservice: the shop's address and key, kept in the profile file (0600), and a test."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static

from tui_connector import config
from tui_connector.errors import ConnectorError
from tui_connector.ui.settings.tab import SettingsTab


class WebserviceTab(SettingsTab):
    def compose(self) -> ComposeResult:
        profile = self.screen.session.profile
        yield Label("Adresse de la boutique")
        yield Input(profile.shop_url, placeholder="https://boutique.example.fr", id="shop_url")
        yield Label("Clé du Webservice (laissez vide pour garder l'actuelle)")
        yield Input("", password=True, placeholder=profile.api_key.masked() or "clé", id="api_key")
        with Horizontal(classes="buttons"):
            yield Button("Enregistrer", id="save_shop", variant="primary")
            yield Button("Tester", id="test")
        yield Static("", id="test_result")

    def validated(self) -> tuple[str, str]:
        """The address and the new key (or ""), or the ConnectorError that says what is
        wrong with them."""
        url = config.validate_shop_url(self.query_one("#shop_url", Input).value)
        api_key = self.query_one("#api_key", Input).value
        if api_key:
            config.validate_api_key(api_key)
        return url, api_key

    def save_shop(self, url: str, key: str, *, said: str = "Connexion enregistrée") -> None:
        session = self.screen.session
        try:
            if url != session.profile.shop_url:
                session.profile = config.set_profile_value("shop.url", url)
            if key:
                session.profile = config.set_profile_value("shop.api_key", key)
                self.query_one("#api_key", Input).value = ""
        except ConnectorError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        self.notify(f"{said} (profil en 0600).")

    @on(Button.Pressed, "#save_shop")
    def save_pressed(self) -> None:
        self.save_shop(
            self.query_one("#shop_url", Input).value, self.query_one("#api_key", Input).value
        )

    @on(Button.Pressed, "#test")
    def test(self) -> None:
        self.query_one("#test_result", Static).update("test en cours…")
        self.test_worker()

    @work(thread=True, exclusive=True, group="check", exit_on_error=False)
    def test_worker(self) -> None:
        try:
            text = "\n".join(self.screen.session.check().lines())
        except ConnectorError as exc:
            text = f"Erreur: {exc}"
        self.app.call_from_thread(self.query_one("#test_result", Static).update, text)
