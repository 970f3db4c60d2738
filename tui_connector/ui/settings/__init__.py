"""The settings screen: one tab per module, each showing and saving its own fields."""

from tui_connector.ui.settings.screen import SettingsScreen

__all__ = ["SettingsScreen"]
