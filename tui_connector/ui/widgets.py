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
    """Textual's footer, made to fit: every key of the screen on one line.

    Below 120 columns it is compact. When the keys still do not fit, it leaves out,
    in this order, the palette's ctrl+p, the keys disabled for now, then Escape (back,
    everywhere): the help screen (?) lists them all.
    """

    DEFAULT_CSS = """
    KeyFooter.-compact FooterLabel { margin: 0 1 0 0; }
    """
    WIDE = 120
    PALETTE_WIDTH = 12

    def compose(self) -> ComposeResult:
        left_out = self._left_out()
        for widget in super().compose():
            key = getattr(widget, "key", None)  # a FooterKey's, not a group's or a label's
            if key is None:
                yield widget
            elif widget.has_class("-command-palette"):
                if "palette" not in left_out:
                    yield widget
            elif not (
                ("disabled" in left_out and widget.has_class("-disabled"))
                or ("escape" in left_out and key == "escape")
            ):
                yield widget

    def _left_out(self) -> set[str]:
        """What to leave out so that the rest fits the footer's width."""
        width = self.size.width or self.app.size.width
        spacing = 2 if self.compact else 4
        keys = [
            (
                binding.key,
                enabled,
                len(self.app.get_key_display(binding)) + len(binding.description),
            )
            for _, binding, enabled, _ in self.screen.active_bindings.values()
            if binding.show
        ]
        left_out: set[str] = set()
        needed = sum(size + spacing for _, _, size in keys) + self.PALETTE_WIDTH
        for what, saved in (
            ("palette", self.PALETTE_WIDTH),
            ("disabled", sum(size + spacing for _, enabled, size in keys if not enabled)),
            ("escape", sum(size + spacing for key, _, size in keys if key == "escape")),
        ):
            if needed <= width:
                break
            left_out.add(what)
            needed -= saved
        return left_out

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < self.WIDE
        self.refresh(recompose=True)
