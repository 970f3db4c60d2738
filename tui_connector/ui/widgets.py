"""Small widgets of our own: what Textual gives, readable without colour."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, Footer


class Tick(Checkbox):
    """A checkbox that shows ✓ when ticked and nothing when not, not only a colour."""

    @property
    def BUTTON_INNER(self) -> str:
        return "✓" if self.value else " "


class Page(VerticalScroll, can_focus=False):
    """A tab's scrolling page: the fields in it take the focus, never the page itself
    (a focus stop that shows nothing and swallows what is typed)."""


class KeyFooter(Footer):
    """Textual's footer, made to fit: a screen's keys on one line.

    Below 120 columns it is compact. When the keys still do not fit, it leaves out, in
    this order, the palette's ctrl+p, the keys disabled for now, Escape (back,
    everywhere) and / (the filter); the help key (?), which lists them all, stays.
    """

    DEFAULT_CSS = """
    KeyFooter.-compact FooterLabel { margin: 0 1 0 0; }
    """
    WIDE = 120
    PALETTE_WIDTH = 12
    LEAVE_OUT = ("palette", "disabled", "escape", "slash")  # the first to go first

    def compose(self) -> ComposeResult:
        left_out = self._left_out()
        for widget in super().compose():
            key = getattr(widget, "key", None)  # a FooterKey's, not a group's or a label's
            if key is None or self._kind(widget) not in left_out:
                yield widget

    @staticmethod
    def _kind(key) -> str:
        if key.has_class("-command-palette"):
            return "palette"
        if key.has_class("-disabled"):
            return "disabled"
        return key.key

    def _left_out(self) -> set[str]:
        """What to leave out so that the rest fits the footer's width, estimated the way
        Footer lays keys out (a group's keys alone, then its description once)."""
        width = self.size.width or self.app.size.width
        spacing = 2 if self.compact else 4
        needed = {kind: 0 for kind in self.LEAVE_OUT}
        needed["palette"] = self.PALETTE_WIDTH if self.show_command_palette else 0
        kept = 0
        groups: set[str] = set()
        for _, binding, enabled, _ in self.screen.active_bindings.values():
            if not binding.show:
                continue
            size = len(self.app.get_key_display(binding)) + spacing
            if binding.group is None:
                size += len(binding.description)
            elif binding.group.description not in groups:
                groups.add(binding.group.description)
                size += len(binding.group.description) + 1
            kind = "disabled" if not enabled else binding.key
            if kind in needed:
                needed[kind] += size
            else:
                kept += size
        left_out: set[str] = set()
        total = kept + sum(needed.values())
        for kind in self.LEAVE_OUT:
            if total <= width:
                break
            left_out.add(kind)
            total -= needed[kind]
        return left_out

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < self.WIDE
        self.refresh(recompose=True)
