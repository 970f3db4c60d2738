"""The terminal application driven as a user would, keys only, against the simulated shop."""

from __future__ import annotations

import asyncio

import pytest

from tui_connector import config
from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.core import Outcome
from tui_connector.sync.session import Session
from tui_connector.sync.status import Status
from tui_connector.ui.app import ConnectorApp
from tui_connector.ui.import_screen import ImportScreen
from tui_connector.ui.modals import AddressPicker, Confirm, ReportScreen
from tui_connector.ui.settings import SettingsScreen

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.fixture
def shop():
    with SimulatedShop(build(orders=60, seed=2)) as running:
        yield running


@pytest.fixture
def session(tmp_path, shop):
    profile = config.Profile(
        shop_url=shop.url,
        api_key=config.Secret(shop.key),
        database_url=f"sqlite:///{tmp_path / 'gestan.db'}",
    )
    opened = Session(profile)
    demo_gestan.seed(shop.data)
    yield opened
    opened.database.close()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_flow(pilot, key: str) -> ImportScreen:
    await settle(pilot)
    await pilot.press(key, "r")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ImportScreen)
    return screen


async def test_home_shows_the_shop_and_the_screens(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shop_line = str(app.screen.query_one("#shop").render())
        assert "PrestaShop 8.1.2" in shop_line and "prête" in shop_line
        assert app.screen.query_one("#runs").row_count == 4


async def test_contacts_read_select_execute_report(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "1")
        assert len(screen.rows) == len(shop.data.table("customers"))
        first = screen.shown_rows[0]
        assert first.selected
        await pilot.press("space")  # leaves the first one out
        assert not first.selected
        await pilot.press("a")  # all
        assert all(r.selected for r in screen.rows)
        await pilot.press("a")  # none
        assert not any(r.selected for r in screen.rows)
        await pilot.press("a", "x")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        assert app.screen.report.counts["created"] == len(screen.rows)
        await pilot.press("w")  # saved to a file
        await pilot.press("escape")
        assert all(r.outcome == Outcome.CREATED for r in screen.rows)
        assert m.Contact.select().count() == len(screen.rows)


async def test_address_picker_choice_is_used(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "1")
        index = next(i for i, r in enumerate(screen.shown_rows) if r.needs_choice)
        row = screen.shown_rows[index]
        for _ in range(index):
            await pilot.press("down")
        await pilot.press("e")
        assert isinstance(app.screen, AddressPicker)
        await pilot.press("down", "b", "enter")
        second = row.payload.addresses[1]["id"]
        assert row.choices["billing"] == second
        for other in screen.rows:
            other.selected = other is row
        await pilot.press("x")
        await settle(pilot)
        link = m.Link.get((m.Link.resource == "addresses") & (m.Link.shop_id == int(second)))
        assert m.Address.get_by_id(link.gestan_id).kind == "billing"


async def test_stop_between_two_rows(session, shop):
    shop.faults.latency_ms = 15  # the orders read their missing customers as they go
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("2", "r")
        await settle(pilot)
        await pilot.press("x")
        await settle(pilot)
        # customers read with each order: every row waits on the shop
        settings.set_value("orders.customer_id_only", "true")
        await pilot.press("escape", "escape", "4", "r")
        await settle(pilot)
        screen = app.screen
        await pilot.press("x", "s")
        await settle(pilot)
        assert isinstance(app.screen, ReportScreen)
        report = app.screen.report
        assert report.stopped and len(report.results) < len([r for r in screen.rows if r.action])


async def test_errors_are_shown_and_the_app_keeps_running(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shop.stop()
        await pilot.press("3", "r")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "impossible de joindre la boutique" in app.screen.question
        await pilot.press("enter")
        assert isinstance(app.screen, ImportScreen)


async def test_settings_round_trip(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert isinstance(app.screen, SettingsScreen)
        app.screen.query_one("#sync_phones").value = False
        app.screen.query_one("#invoices_create").value = False
        app.screen.query_one("#bank_account").value = "512100"
        await pilot.press("ctrl+s")
        assert settings.get("sync.phones") is False
        assert settings.get("invoices.create") is False
        assert settings.get("accounting.bank_account") == "512100"
        app.screen.query_one("#bank_account").value = "banque"
        await pilot.press("ctrl+s")
        assert settings.get("accounting.bank_account") == "512100"  # refused, kept
        app.screen.query_one("#bank_account").value = "512100"
        app.screen.query_one("#payment_ps_checkpayment").value = "5112"
        app.screen.query_one("#lookback_days").value = "3"
        app.screen.query_one("#invoices_when").value = "paid"
        await pilot.press("ctrl+s")
        assert settings.get("invoices.when") == "paid"
        assert settings.get("payment.ps_checkpayment") == "5112"  # cheques to their account
        assert settings.get("orders.lookback_days") == "3"
        app.screen.query_one("#payment_ps_checkpayment").value = ""
        await pilot.press("ctrl+s")
        assert settings.family_keys("payment.") == {}  # emptied: back to the bank account


async def test_orders_cursor_reset_asks_first(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        m.Cursor.create(name="orders", value="2025-01-01 00:00:00|12")
        await pilot.press("4", "z")
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")
        assert m.Cursor.select().count() == 1
        await pilot.press("z", "o")
        await settle(pilot)
        assert m.Cursor.select().count() == 0


async def test_products_conflict_side_and_stock_toggle(session, shop):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "3")
        unmanaged = len([r for r in screen.rows if r.status == Status.UNMANAGED])
        shown = len(screen.shown_rows)
        await pilot.press("h")
        assert len(screen.shown_rows) == shown + unmanaged
        await pilot.press("escape")
        screen = await open_flow(pilot, "2")
        await pilot.press("slash")
        for char in "bougie":
            await pilot.press(char)
        await pilot.press("enter")
        assert [r.columns["code"] for r in screen.shown_rows] == ["GES-BOUGIE"]


async def test_products_show_their_special_price_count_once_the_last_page_is_in(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_flow(pilot, "2")
        assert screen.special_counts  # the demo has special prices, read after the products
        table = screen.query_one("DataTable")
        for (shop_id, sub_id), count in screen.special_counts.items():
            status = table.get_row(f"product:{shop_id}:{sub_id}")[-1].plain
            assert f"· {count} px" in status, status


# --- snapshots of every screen at 80x24 and 120x40 -----------------------------------------


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("home", []),
        ("contacts", ["1", "r"]),
        ("products", ["2", "r"]),
        ("stock", ["3", "r", "h"]),
        ("orders", ["4", "r"]),
        ("report", ["1", "r", "x"]),
        ("addresses", ["1", "r", "down", "down", "down", "down", "e"]),
        ("settings", ["p"]),
    ],
)
def test_snapshots(snap_compare, session, name, keys, size):
    async def drive(pilot):
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
        if name == "settings":  # the Webservice tab shows the simulator's random port
            from textual.widgets import TabbedContent

            pilot.app.screen.query_one(TabbedContent).active = "options"
            await pilot.pause()

    app = ConnectorApp(session)
    assert snap_compare(app, terminal_size=size, run_before=drive)


async def test_mapping_tab_reads_creates_families_and_links_by_hand(session, shop):
    from textual.widgets import TabbedContent

    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        screen = app.screen
        screen.query_one(TabbedContent).active = "mapping"
        await pilot.pause()
        screen.query_one("#read_categories").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert screen.query_one("#categories").row_count == 7
        assert screen.query_one("#shop_products").row_count > 10
        assert m.Family.select().count() == 7  # the demo's own, nothing imported by reading
        settings.unset("family.9")
        screen.query_one("#create_families").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert settings.get("family.9") == "F009"
        m.Product.create(
            code="VIEUX-MUG",
            label="Mug",
            price_excl="9.916667",
            vat_rate=m.VatRate.get(m.VatRate.code == "T20"),
            family=m.Family.get(m.Family.code == "ACC-MAI"),
        )
        search = screen.query_one("#product_search")
        search.focus()
        for char in "Mug":
            await pilot.press(char)
        products = screen.query_one("#shop_products")
        assert products.row_count == 1
        screen.query_one("#product_code").focus()
        for char in "VIEUX-MUG":
            await pilot.press(char)
        await pilot.press("enter")
        await settle(pilot)
        link = m.Link.get((m.Link.resource == "products") & (m.Link.shop_id == 6))
        assert m.Product.get_by_id(link.gestan_id).code == "VIEUX-MUG"
        territories = screen.query_one("#territories")
        assert territories.row_count == 2  # BE and PRO in the demo Gestan
        screen.query_one("#territory_map").focus()
        for char in "country:be,country:lu":
            await pilot.press(char)
        await pilot.press("enter")
        assert settings.get("territory.BE") == "country:BE,country:LU"


async def test_an_unexpected_worker_error_is_a_dialog_not_a_crash(session, monkeypatch):
    from tui_connector.sync import session as session_module

    def broken(*args, **kwargs):
        raise RuntimeError("disque plein")

    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        monkeypatch.setattr(session_module.Session, "flow", broken)
        await pilot.press("1", "r")
        await settle(pilot)
        assert isinstance(app.screen, Confirm)
        assert "disque plein" in app.screen.question
        await pilot.press("enter")
        assert isinstance(app.screen, ImportScreen) and not app.screen.busy


async def test_an_order_held_for_its_date_is_invoiced_today_on_the_users_word(session, shop):
    """An order older than the series' last invoice is held, its row says why; `t` on it
    invoices it today, and only it."""
    from tui_connector.gestan import invoicing
    from tui_connector.prestashop.client import SyncWebservice

    from .test_orders import prepare

    def import_contacts_and_products():
        with SyncWebservice(shop.url, shop.key) as client:
            prepare(client)

    await asyncio.to_thread(import_contacts_and_products)  # (its own event loop)
    contact = m.Contact.get()
    today = m.now().date()
    invoicing.issue(
        contact,
        [invoicing.LineInput(m.LineKind.PRODUCT, "Acompte", 1, 10, 20, 10, 12)],
        date=today,
    )
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "4")
        held = [r for r in screen.rows if r.payload.held_late]
        assert held and all(r.status == Status.BLOCKED for r in held)
        assert "t: la facturer aujourd'hui" in held[0].reason
        await pilot.press("t")  # the first row
        first = screen.shown_rows[0]
        assert first.status == Status.ADD and first.selected and "aujourd'hui" in first.reason
        for row in screen.rows:
            row.selected = row is first
        await pilot.press("x")
        await settle(pilot)
        link = m.Link.get((m.Link.resource == "orders") & (m.Link.shop_id == first.shop_id))
        invoice = m.Invoice.get(m.Invoice.order == link.gestan_id)
        assert invoice.date == today
        assert m.Invoice.select().count() == 2  # the others stay held


async def test_escape_closes_the_filter_home_and_end_go_to_the_ends_no_is_the_default(session):
    app = ConnectorApp(session)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_flow(pilot, "1")
        await pilot.press("slash", "m", "a")
        await pilot.press("escape")  # closes the filter, the screen and its rows stay
        assert app.screen is screen and screen.rows
        table = screen.query_one("#rows")
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("escape", "4")
        await settle(pilot)
        m.Cursor.create(name="orders", value="2025-01-01 00:00:00|12")
        await pilot.press("z")
        assert isinstance(app.screen, Confirm)
        await pilot.press("enter")  # the default answer is No
        await settle(pilot)
        assert m.Cursor.select().count() == 1
