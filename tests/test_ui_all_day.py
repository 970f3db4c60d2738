"""The terminal application a power user keeps open all day (issue #18), keys only:
a running execution owned by the application, widths, one language, reasons, help."""

from __future__ import annotations

import pytest
from textual.command import CommandList
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent
from textual.widgets._footer import FooterKey

from tests import test_ui
from tests.test_ui import open_flow, settle
from tui_connector import config
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.labels import status_label
from tui_connector.ui import preferences
from tui_connector.ui.app import ConnectorApp
from tui_connector.ui.home import HomeScreen
from tui_connector.ui.import_screen import ImportScreen
from tui_connector.ui.modals import Confirm, HelpScreen, ReportScreen
from tui_connector.ui.settings import SettingsScreen
from tui_connector.ui.widgets import Tick

shop, session = test_ui.shop, test_ui.session  # the same demo shop and Gestan


async def wait_until(pilot, condition, tries: int = 400) -> None:
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the screen never got there")


async def slow_orders(pilot, shop) -> None:
    """The catalogue imported, then orders that take a while: each waits on the shop."""
    await pilot.press("2", "r")
    await settle(pilot)
    await pilot.press("x")
    await settle(pilot)
    await pilot.press("escape", "escape")
    shop.faults.latency_ms = 40
    settings.set_value("orders.customer_id_only", "true")


def cell_text(table: DataTable, row: int, column: int) -> str:
    return table.get_row_at(row)[column].plain


# --- a running execution belongs to the application -------------------------------------


async def test_leaving_a_running_execution_keeps_it_and_coming_back_stops_it(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await slow_orders(pilot, shop)
        screen = await open_flow(pilot, "4")
        chosen = sum(1 for row in screen.rows if row.selected)
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.executing and screen.progress[0] > 0)
        await pilot.press("a")  # selection keys do nothing while rows are executed
        assert sum(1 for row in screen.rows if row.selected) == chosen
        assert screen.check_action("toggle", ()) is None
        await pilot.press("escape")
        home = app.screen
        assert isinstance(home, HomeScreen)
        await wait_until(
            pilot, lambda: "en cours" in str(home.query_one(DataTable).get_row("orders"))
        )
        await pilot.press("4")  # the same screen, its execution still going
        assert app.screen is screen and screen.executing
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, ReportScreen))
        report = app.screen.report
        assert report.stopped and 0 < len(report.results) < chosen
        run = m.SyncRun.select().where(m.SyncRun.flow == "orders").get()
        assert run.status == "stopped" and run.finished_at is not None


async def test_an_execution_that_ends_elsewhere_keeps_its_report_for_the_return(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "1")
        shop.faults.latency_ms = 40  # each contact waits on the shop: still going on Escape
        await pilot.press("x", "escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert screen.unseen_report is not None
        table = app.screen.query_one(DataTable)
        created = f"{screen.unseen_report.counts['created']} créés"
        await wait_until(pilot, lambda: created in str(table.get_row("contacts")[-1]))
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, ReportScreen) and screen.unseen_report is None


async def test_quitting_during_a_run_asks_then_closes_the_run_with_nothing_half_written(
    session, shop
):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await slow_orders(pilot, shop)
        screen = await open_flow(pilot, "4")
        await pilot.press("x")
        await wait_until(pilot, lambda: screen.progress[0] > 0)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("enter")  # Non, the default: nothing stops
        await wait_until(pilot, lambda: not isinstance(app.screen, Confirm))
        assert screen.executing and not app.quitting
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await pilot.press("o")
        await wait_until(pilot, lambda: not screen.executing, tries=1500)
        await pilot.pause(0.2)
    assert app.return_code == 0
    run = m.SyncRun.select().where(m.SyncRun.flow == "orders").get()
    assert run.status == "stopped" and run.finished_at is not None
    imported = m.SalesOrder.select().count()
    assert 0 < imported < len([row for row in screen.rows if row.action])
    assert imported == m.Link.select().where(m.Link.resource == "orders").count()
    for order in m.SalesOrder.select():  # each order whole: its lines and its totals
        lines = list(order.lines)
        assert lines and sum(line.total_incl for line in lines) == order.total_incl


# --- widths, report, reasons -------------------------------------------------------------


@pytest.mark.parametrize("width", [60, 80, 200])
async def test_columns_share_the_width_and_numbers_are_right_aligned(session, width):
    app = ConnectorApp(session)
    async with app.run_test(size=(width, 30)) as pilot:
        screen = await open_flow(pilot, "2")
        table = screen.query_one(DataTable)
        await pilot.pause()
        used = sum(column.get_render_width(table) for column in table.columns.values())
        assert used <= width
        assert "status" in table.columns and table.columns["status"].width >= 10
        price = table.get_row_at(0)[3]
        assert price.justify == "right"
        codes = [row.columns["code"] for row in screen.shown_rows]
        if width >= 200:  # room for everything: nothing cut
            assert table.columns["code"].width >= max(map(len, codes))
            labels = [row.columns["label"] for row in screen.shown_rows]
            assert table.columns["label"].width >= min(60, max(map(len, labels)))
            assert used > 120  # the table grew with the screen


async def test_the_reason_is_in_the_status_and_whole_in_the_detail_line(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "4")
        index, row = next((i, r) for i, r in enumerate(screen.shown_rows) if r.reason)
        table = screen.query_one(DataTable)
        table.move_cursor(row=index)
        await pilot.pause()
        assert status_label(row.status) in cell_text(table, index, 5)
        assert row.reason in str(screen.query_one("#detail", Static).render())


async def test_the_report_fits_80x24_names_its_rows_and_is_saved_in_french(session, tmp_path):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "2")
        await pilot.press("x")
        await settle(pilot)
        report_screen = app.screen
        assert isinstance(report_screen, ReportScreen)
        dialog = report_screen.query_one("#report")
        assert dialog.region.bottom <= 23  # above the footer
        assert report_screen.query_one(Footer).region.y == 23
        table = report_screen.query_one(DataTable)
        assert table.row_count == len(report_screen.report.results)
        for result, line in zip(
            sorted(report_screen.report.results, key=lambda r: r.outcome not in ("failed",)),
            report_screen.lines,
            strict=True,
        ):
            assert line[1] and line[2], line  # a code and a name on every row
            assert result.code == line[1]
        path = session.save_report(report_screen.report)
        text = path.read_text(encoding="utf-8")
        assert "Rapport · Produits" in text and "créés" in text and "Désignation" in text
        assert "created" not in text and "updated" not in text
        assert screen.rows[0].columns["code"] in text


async def test_home_counts_blocked_and_failed_rows(session):
    run = m.SyncRun.create(flow="orders", status="done", created=3, failed=2, blocked=5000)
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        counts = str(app.screen.query_one(DataTable).get_row("orders")[-1])
        assert "5000 bloquées" in counts and "2 erreurs" in counts, counts
        table = app.screen.query_one(DataTable)  # and shown whole, not cut to a first width
        assert table.columns["counts"].content_width >= len(counts)
        run.delete_instance()


# --- keys, help, language ----------------------------------------------------------------


async def test_question_mark_lists_the_screens_keys_in_french(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_flow(pilot, "2")
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {description for _, description, _ in help_screen.keys}
        assert {"Lire", "Exécuter", "Gagnant", "Voir spéciaux", "Retour"} <= described
        assert not described & {"Focus Next", "Copy selected text", "Scroll Up"}
        assert help_screen.query_one(Footer)
        await pilot.press("escape")
        assert isinstance(app.screen, ImportScreen)


async def test_every_dialog_has_its_own_footer(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "1")
        index = next(i for i, r in enumerate(screen.shown_rows) if r.payload.addresses)
        screen.query_one(DataTable).move_cursor(row=index)
        await pilot.press("e")
        keys = {b.binding.description for b in app.screen.active_bindings.values()}
        assert "Facturation" in keys and "Exécuter" not in keys
        await pilot.pause()
        assert {"Facturation", "Livraison", "Valider", "Annuler"} <= set(footer_words(app.screen))


async def test_textuals_own_words_are_french(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        names = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Thème", "Quitter", "Aide"} <= set(names)
        assert not set(names) & {"Theme", "Quit", "Keys"}
        await pilot.press("ctrl+c")
        await pilot.pause()
        said = [n.message + (n.title or "") for n in app._notifications]
        assert any("ctrl+q pour quitter" in s for s in said), said


async def test_the_palette_says_in_french_that_nothing_matches(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"zzqzz")
        options = app.screen.query_one(CommandList)

        def said_nothing_matches() -> bool:
            return options.option_count == 1 and options.get_option_at_index(0).disabled

        await wait_until(pilot, said_nothing_matches)
        said = options.get_option_at_index(0).prompt.renderable.plain
        assert said == "Rien ne correspond", said


async def test_toggles_keep_the_cursor_and_say_their_state(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_flow(pilot, "2")
        table = screen.query_one(DataTable)
        table.move_cursor(row=5)
        await pilot.pause()
        row = screen.shown_rows[5]
        assert "Voir spéciaux" in footer_words(screen)
        await pilot.press("v")
        assert screen.shown_rows[table.cursor_row] is row
        assert "prix spéciaux affichés" in str(screen.query_one("#counts").render())
        await pilot.pause()
        words = footer_words(screen)  # the key says what it will do now
        assert "Cacher spéciaux" in words and "Voir spéciaux" not in words
        await pilot.press("v")
        assert "affichés" not in str(screen.query_one("#counts").render())
        await pilot.pause()
        assert "Voir spéciaux" in footer_words(screen)


async def test_with_room_the_footer_shows_every_key_and_the_palette(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await open_flow(pilot, "4")
        await pilot.pause()
        words = footer_words(screen)
        assert {"Retour", "Filtre", "Aide", "Arrêter"} <= set(words), words  # Arrêter: off
        assert any(k.has_class("-command-palette") for k in screen.query(FooterKey))
        keys = {key.key_display for key in screen.query(FooterKey)}
        assert {"espace", "Échap"} <= keys, keys  # the keys' French names


def footer_words(screen) -> list[str]:
    return [key.description for key in screen.query_one(Footer).query(FooterKey)]


@pytest.mark.parametrize("key", ["1", "2", "3", "4"])
async def test_at_80_columns_the_footer_shows_every_key_that_works_now(session, key):
    """All of them that fit; what is left out (Escape, disabled keys) is in the help."""
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, key)
        await pilot.pause()
        footer = screen.query_one(Footer)
        shown = list(footer.query(FooterKey))
        bindings = [a for a in screen.active_bindings.values() if a.binding.show]
        usable = {a.binding.description for a in bindings if a.enabled}
        described = {key.description for key in shown}
        assert (
            usable - {"Retour", "Filtre"} <= described <= {a.binding.description for a in bindings}
        )
        assert "Aide" in described  # the way to every key left out
        assert all(key.region.right <= 80 and key.region.width > 0 for key in shown)
        assert shown[-1].region.right > shown[0].region.right  # laid out, not stacked


async def test_date_boxes_are_off_while_since_last_is_ticked(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "4")
        boxes = [screen.query_one(f"#{name}", Input) for name in ("date_from", "date_to")]
        assert all(box.disabled for box in boxes)
        assert all(box.size.width > len("2025-03-31") for box in boxes)  # and the cursor
        screen.query_one("#since_last", Tick).value = False
        await pilot.pause()
        assert not any(box.disabled for box in boxes)


def test_a_tick_is_readable_without_colour():
    box = Tick("x", value=True)
    assert box.BUTTON_INNER == "✓"
    box.value = False
    assert box.BUTTON_INNER == " "


async def test_the_theme_is_kept_for_the_next_start(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.theme = "nord"
    assert preferences.theme() == "nord"
    again = ConnectorApp(session)
    assert again.theme == "nord"


# --- settings --------------------------------------------------------------------------


async def test_ctrl_s_saves_every_tab_or_nothing(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        screen.query_one("#shop_url", Input).value = shop.url + "/"
        screen.query_one("#api_key", Input).value = "K" * 32
        screen.query_one("#bank_account", Input).value = "not an account"
        screen.query_one("#lookback_days", Input).value = "9"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert str(settings.get("orders.lookback_days")) != "9"  # one wrong value: none saved
        assert config.read_file(config.paths.profile_path()).api_key.reveal() != "K" * 32
        screen.query_one("#bank_account", Input).value = "512000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert str(settings.get("orders.lookback_days")) == "9"
        assert config.read_file(config.paths.profile_path()).api_key.reveal() == "K" * 32


async def test_settings_have_no_focus_stop_that_shows_nothing(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        app.screen.query_one(TabbedContent).active = "options"
        await pilot.pause()
        for _ in range(12):
            await pilot.press("tab")
            focused = app.screen.focused
            assert focused is not None
            assert type(focused).__name__ not in ("Page", "VerticalScroll", "TabPane"), focused
