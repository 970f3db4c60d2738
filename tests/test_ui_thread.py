"""The UI never waits on the database: every query a screen needs runs in a worker
thread. A query on the UI thread, while a screen is composed or a key is handled,
fails these tests with the code that made it."""

from __future__ import annotations

import threading
import traceback

import peewee as pw
import pytest

from tests import test_ui
from tests.test_ui import settle
from tui_connector.gestan import settings
from tui_connector.ui.app import ConnectorApp

shop, session = test_ui.shop, test_ui.session  # the demo shop and Gestan of the UI tests


class Recorded(list):
    watching: threading.Event


@pytest.fixture
def ui_thread_queries(monkeypatch):
    """Every statement run on the main thread (Textual's) while switched on."""
    made = Recorded()
    watching = threading.Event()
    execute = pw.Database.execute_sql

    def watched(database, sql, params=None, *args, **kwargs):
        if watching.is_set() and threading.current_thread() is threading.main_thread():
            where = "".join(traceback.format_stack(limit=12)[:-1])
            made.append(f"{sql[:80]}\n{where}")
        return execute(database, sql, params, *args, **kwargs)

    monkeypatch.setattr(pw.Database, "execute_sql", watched)
    made.watching = watching
    return made


async def walk(pilot, keys) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


@pytest.mark.parametrize(
    "keys",
    [
        ["1", "r", "space", "a", "slash", "escape", "question_mark", "escape", "escape"],
        ["2", "r", "v", "v", "down", "c", "escape"],
        ["3", "r", "h", "h", "escape"],
        ["4", "r", "t", "z", "n", "escape"],
        ["p", "right", "right", "right", "right", "ctrl+s", "escape"],
        ["1", "r", "x", "w", "escape", "escape"],
        ["4", "r", "z", "o", "escape"],
        ["t", "question_mark", "escape"],
    ],
    ids=["contacts", "products", "stock", "orders", "settings", "execute", "reset", "home"],
)
async def test_no_query_on_the_ui_thread(session, ui_thread_queries, keys):
    app = ConnectorApp(session)
    ui_thread_queries.watching.set()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await walk(pilot, keys)
    ui_thread_queries.watching.clear()
    assert not ui_thread_queries, "\n\n".join(ui_thread_queries[:3])


async def test_the_mapping_tab_searches_and_saves_off_the_ui_thread(session, ui_thread_queries):
    app = ConnectorApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await walk(pilot, ["p"])
        app.screen.query_one("#read_categories").press()
        await settle(pilot)
        ui_thread_queries.watching.set()
        search = app.screen.query_one("#product_search")
        search.focus()
        await walk(pilot, list("demo"))
        shown = app.screen.query_one("#shop_products").row_count
        family = app.screen.query_one("#family_code")
        family.focus()
        await walk(pilot, ["A", "C", "C", "enter"])
        for button in ("#read_genders", "#test"):
            app.screen.query_one(button).press()
            await settle(pilot)
        ui_thread_queries.watching.clear()
        table = app.screen.query_one("#categories")
        first = table.coordinate_to_cell_key((0, 0)).row_key.value
    assert not ui_thread_queries, "\n\n".join(ui_thread_queries[:3])
    assert shown > 0  # the search found the demo's products
    assert settings.get(f"family.{first}") == "ACC"  # and the family was saved


def test_the_watch_sees_a_query_made_on_the_ui_thread(session, ui_thread_queries):
    """The guard can fail: a query on the main thread is caught."""
    from tui_connector.gestan import models as m

    ui_thread_queries.watching.set()
    m.Setting.select().count()
    ui_thread_queries.watching.clear()
    assert ui_thread_queries and "SELECT" in ui_thread_queries[0]
