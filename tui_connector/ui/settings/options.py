"""Options: what the contacts and products flows bring along."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from tui_connector.ui.settings.tab import SettingsTab, field_id
from tui_connector.ui.widgets import Tick


class OptionsTab(SettingsTab):
    TICKS = [
        ("sync.addresses", "Adresses"),
        ("sync.comments", "Commentaires"),
        ("sync.phones", "Téléphones"),
        ("sync.cover_images", "Images de couverture"),
        ("sync.attributes", "Attributs (groupes et valeurs)"),
    ]
    TEXTS = [
        ("shipping.product", "Produit des frais de port (code Gestan, vide: « Frais de port »)")
    ]

    def compose(self) -> ComposeResult:
        for key, label in self.TICKS:
            yield Tick(label, id=field_id(key))
        for key, label in self.TEXTS:
            yield Label(label)
            yield Input(id=field_id(key))
