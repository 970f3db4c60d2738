"""What the import screen's workers post back, in order: a read starts, its pages come,
it is over; an execution progresses and finishes with its report; a failure says why."""

from __future__ import annotations

from tests import test_ui
from tests.test_ui import open_flow, settle
from tui_connector.ui.app import ConnectorApp
from tui_connector.ui.import_screen import ImportScreen

shop, session = test_ui.shop, test_ui.session  # the demo shop and Gestan of the UI tests

POSTED = (
    ImportScreen.RowsRead,
    ImportScreen.RowsAdded,
    ImportScreen.SyncProgressed,
    ImportScreen.SyncFinished,
    ImportScreen.WorkFailed,
)


def recorder() -> tuple[list, callable]:
    seen: list = []

    def hook(message) -> None:  # once each, though it bubbles on to the app
        if isinstance(message, POSTED) and not any(message is m for m in seen):
            seen.append(message)

    return seen, hook


async def test_a_read_posts_its_start_its_pages_and_its_end(session):
    seen, hook = recorder()
    app = ConnectorApp(session)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        screen = await open_flow(pilot, "2")  # opens and reads
        reads = [m for m in seen if isinstance(m, ImportScreen.RowsRead)]
        assert [m.done for m in reads] == [False, True]
        first, last = seen.index(reads[0]), seen.index(reads[1])
        pages = [m for m in seen[first:last] if isinstance(m, ImportScreen.RowsAdded)]
        assert pages and sum(len(m.rows) for m in pages) == len(screen.rows)


async def test_an_execution_posts_its_progress_then_its_report(session):
    seen, hook = recorder()
    app = ConnectorApp(session)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        screen = await open_flow(pilot, "1")
        chosen = sum(1 for row in screen.rows if row.selected)
        seen.clear()
        await pilot.press("x")
        await settle(pilot)
        progress = [m for m in seen if isinstance(m, ImportScreen.SyncProgressed)]
        finished = [m for m in seen if isinstance(m, ImportScreen.SyncFinished)]
        assert progress and all(m.total == chosen for m in progress)
        assert [m.done for m in progress] == sorted(m.done for m in progress)
        assert len(finished) == 1 and len(finished[0].report.results) == chosen
        assert seen[-1] is finished[0]


async def test_a_shop_gone_posts_a_failure_that_says_so(session, shop):
    seen, hook = recorder()
    app = ConnectorApp(session)
    async with app.run_test(size=(100, 30), message_hook=hook) as pilot:
        await settle(pilot)
        shop.stop()
        await pilot.press("3", "r")
        await settle(pilot)
        failed = [m for m in seen if isinstance(m, ImportScreen.WorkFailed)]
        assert failed and "impossible de joindre la boutique" in failed[0].message
