"""The progress of `tui-connector sync` on a terminal: what is being done, done/total, the
rate and the time (rich.progress); nothing at all without a terminal (cron) or with --json."""

from __future__ import annotations

import io

from rich.console import Console

from tui_connector import cli
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop


def _terminal(buffer: io.StringIO) -> Console:
    return Console(file=buffer, force_terminal=True, width=120, color_system=None)


def test_without_a_terminal_or_with_json_the_progress_is_quiet():
    assert cli._progress_printer(True, console=Console(file=io.StringIO())) is None  # cron
    assert cli._progress_printer(False, console=_terminal(io.StringIO())) is None  # --json


def test_on_a_terminal_the_progress_shows_the_label_and_the_counts():
    buffer = io.StringIO()
    progress = cli._progress_printer(True, console=_terminal(buffer), title="orders")
    assert progress is not None
    progress(0, 10, "commandes lues")
    progress(3, 10, "Commande XKBKNABJK")
    progress.stop()
    shown = buffer.getvalue()
    assert "orders" in shown and "3/10" in shown and "Commande XKBKNABJK" in shown


def test_an_unknown_total_and_a_new_stage_are_shown_and_stop_can_be_said_twice():
    buffer = io.StringIO()
    progress = cli._progress_printer(True, console=_terminal(buffer), title="stock")
    progress(40, 0, "stock lu")  # the shop would not say how many
    progress.stop()
    assert "40/?" in buffer.getvalue()
    buffer.truncate(0)
    buffer.seek(0)
    progress(2, 5, "Bougie")  # starts anew after a stop
    progress(1, 3, "Savon")  # a new stage: the count starts again
    progress.stop()
    progress.stop()
    assert "1/3" in buffer.getvalue() and "Savon" in buffer.getvalue()


def test_a_sync_on_a_terminal_clears_its_progress_before_the_report(tmp_path, monkeypatch, capsys):
    buffer = io.StringIO()
    made = []

    def printer(enabled, *, console=None, title=""):
        made.append(cli.RunProgress(_terminal(buffer), title) if enabled else None)
        return made[-1]

    monkeypatch.setattr(cli, "_progress_printer", printer)
    monkeypatch.setenv("TUI_CONNECTOR_DATABASE", f"sqlite:///{tmp_path / 'g.db'}")
    with SimulatedShop(build(orders=5)) as shop:
        monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", shop.url)
        monkeypatch.setenv("TUI_CONNECTOR_API_KEY", shop.key)
        assert cli.main(["sync", "contacts"]) in (0, 1)
    (progress,) = made
    assert progress._progress is None  # stopped: the report is on a clean screen
    assert "contacts" in buffer.getvalue() and "/" in buffer.getvalue()
    assert "contacts: créées" in capsys.readouterr().out
