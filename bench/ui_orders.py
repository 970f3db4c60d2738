"""The Orders screen with N orders: how long the table takes to fill once read, and how fast
the UI answers a key press while the import runs in its worker.

    python bench/ui_orders.py --orders 10000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

from textual import events

from tui_connector import config
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.session import Session
from tui_connector.ui.app import ConnectorApp
from tui_connector.ui.import_screen import ImportScreen


async def measure(session: Session, orders: int) -> None:
    app = ConnectorApp(session)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("4")
        screen = app.screen
        assert isinstance(screen, ImportScreen)
        start = time.perf_counter()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        read_and_fill = time.perf_counter() - start
        table = screen.query_one("DataTable")
        begin = time.perf_counter()
        screen._fill()  # what the screen does with the rows once read
        fill = time.perf_counter() - begin
        print(
            f"orders read {len(screen.rows):6}  read+fill {read_and_fill:6.2f} s  "
            f"table fill {fill:6.2f} s  rows in table {table.row_count}"
        )
        await pilot.press("x")
        latencies = []
        while any(w.is_running for w in app.workers) and len(latencies) < 200:
            row = table.cursor_row
            begin = time.perf_counter()
            app.post_message(events.Key("down", None))  # as a terminal sends it
            while table.cursor_row == row and time.perf_counter() - begin < 10:
                await asyncio.sleep(0.002)
            latencies.append(time.perf_counter() - begin)
            await asyncio.sleep(0.05)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        if latencies:
            latencies.sort()
            print(
                f"key presses during the import {len(latencies):4}  median "
                f"{statistics.median(latencies) * 1000:6.1f} ms  p95 "
                f"{latencies[int(len(latencies) * 0.95) - 1] * 1000:6.1f} ms  max "
                f"{latencies[-1] * 1000:6.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    args = parser.parse_args()
    with SimulatedShop(build(orders=args.orders)) as shop, tempfile.TemporaryDirectory() as work:
        profile = config.Profile(
            shop_url=shop.url,
            api_key=config.Secret(shop.key),
            database_url=f"sqlite:///{work}/gestan.db",
        )
        session = Session(profile)
        demo_gestan.seed(shop.data)
        with session.client() as client:
            for name in ("contacts", "products"):
                flow = session.flow(name, client)
                flow.execute(flow.read())
        asyncio.run(measure(session, args.orders))


if __name__ == "__main__":
    main()
