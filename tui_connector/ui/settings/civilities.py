"""Civilités: which Gestan civility each of the shop's id_gender becomes."""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Button, Input, Label, Static

from tui_connector.errors import ConnectorError
from tui_connector.sync.session import SettingsForm
from tui_connector.ui.settings.tab import SettingsTab

GENDERS = (("1", "M."), ("2", "Mme"))  # the shop's own two, and what they usually are


class CivilitiesTab(SettingsTab):
    @classmethod
    def setting_keys(cls) -> list[str]:
        return [f"civility.{gender}" for gender, _ in GENDERS]

    def compose(self) -> ComposeResult:
        yield Static("id_gender de la boutique → civilité Gestan", id="civility_codes")
        yield Button("Lire les id_gender utilisés", id="read_genders")
        yield Static("", id="genders")
        for gender, default in GENDERS:
            yield Label(f"id_gender {gender}", id=f"civility_label_{gender}")
            yield Input(placeholder=default, id=f"civility_{gender}")

    def fill(self, form: SettingsForm) -> None:
        self.query_one("#civility_codes", Static).update(
            f"id_gender de la boutique → civilité Gestan ({', '.join(form.civilities)})"
        )
        for gender, _ in GENDERS:
            stored = form.values.get(f"civility.{gender}") or ""
            label = f"id_gender {gender}" + ("" if stored else " (non réglé)")
            self.query_one(f"#civility_label_{gender}", Label).update(label)
            self.query_one(f"#civility_{gender}", Input).value = stored

    def changes(self, form: SettingsForm) -> tuple[list[tuple[str, str]], list[str]]:
        pairs = []
        for gender, _ in GENDERS:
            value = self.query_one(f"#civility_{gender}", Input).value.strip()
            if value:
                pairs.append((f"civility.{gender}", value))
        return pairs, []

    @on(Button.Pressed, "#read_genders")
    def read_genders(self) -> None:
        self.genders_worker()

    @work(thread=True, exclusive=True, group="genders", exit_on_error=False)
    def genders_worker(self) -> None:
        try:
            uses = self.screen.session.genders_in_use()
        except ConnectorError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        lines = [
            f"id_gender {u.id_gender}: {u.customers} clients → "
            + (
                u.civility
                or (
                    "(aucune civilité)"
                    if u.id_gender == "0"
                    else "NON RÉGLÉ: saisissez une civilité ci-dessous"
                )
            )
            for u in uses
        ]
        self.app.call_from_thread(self.query_one("#genders", Static).update, "\n".join(lines))
