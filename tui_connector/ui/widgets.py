"""Small widgets of our own: what Textual gives, readable without colour."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Checkbox


class Tick(Checkbox):
    """A checkbox that shows ✓ when ticked and nothing when not, not only a colour."""

    @property
    def BUTTON_INNER(self) -> str:
        return "✓" if self.value else " "


class Page(VerticalScroll, can_focus=False):
    """A tab's scrolling page: the fields in it take the focus, never the page itself
    (a focus stop that shows nothing and swallows what is typed)."""
