"""What every settings tab is: a scrolling page that shows its settings once the screen
has read them (in a worker) and says what it would save."""

from __future__ import annotations

from textual.widgets import Checkbox, Input

from tui_connector.sync.session import SettingsForm
from tui_connector.ui.modals import ShowsWorkerErrors
from tui_connector.ui.widgets import Page

# fields known by a shorter id than their key's
SHORT_IDS = {
    "accounting.bank_account": "bank_account",
    "accounting.default_account": "default_account",
    "orders.lookback_days": "lookback_days",
}


def field_id(key: str) -> str:
    return SHORT_IDS.get(key) or key.replace(".", "_")


class SettingsTab(ShowsWorkerErrors, Page):
    # the Gestan settings the tab shows, ticks and text boxes
    TICKS: list[tuple[str, str]] = []
    TEXTS: list[tuple[str, str]] = []

    @classmethod
    def setting_keys(cls) -> list[str]:
        return [key for key, _ in cls.TICKS + cls.TEXTS]

    def fill(self, form: SettingsForm) -> None:
        """Show the values read from Gestan."""
        for key, _ in self.TICKS:
            self.query_one(f"#{field_id(key)}", Checkbox).value = bool(form.values.get(key))
        for key, _ in self.TEXTS:
            value = form.values.get(key)
            self.query_one(f"#{field_id(key)}", Input).value = "" if value is None else str(value)

    def changes(self, form: SettingsForm) -> tuple[list[tuple[str, str]], list[str]]:
        """(key, value) to save and keys to unset, from what the fields say now."""
        pairs = [
            (key, "true" if self.query_one(f"#{field_id(key)}", Checkbox).value else "false")
            for key, _ in self.TICKS
        ]
        pairs += [(key, self.query_one(f"#{field_id(key)}", Input).value) for key, _ in self.TEXTS]
        return pairs, []
