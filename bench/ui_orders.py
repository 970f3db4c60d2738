"""The Orders screen with N orders: how soon the first rows show, how long the table takes
to fill, and how fast the UI answers a key press while the import runs in its worker.

The naive baseline is a screen that reads everything, then fills its table: its first
rows show after the whole read and the whole fill, both measured here.

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
        table = screen.query_one("DataTable")
        start = time.perf_counter()
        await pilot.press("r")
        while table.row_count == 0 and time.perf_counter() - start < 600:
            await asyncio.sleep(0.005)
        first_rows = time.perf_counter() - start
        await app.workers.wait_for_complete()
        await pilot.pause()
        read_and_fill = time.perf_counter() - start
        print(
            f"orders read {len(screen.rows):6}  first rows shown {first_rows:6.2f} s  "
            f"all shown {read_and_fill:6.2f} s  rows in table {table.row_count}"
        )
        # the naive screen: the whole read, then the whole table
        begin = time.perf_counter()
        rows = await asyncio.to_thread(read_all, session)
        read_all_seconds = time.perf_counter() - begin
        begin = time.perf_counter()
        screen.rows = rows
        screen._fill()
        fill = time.perf_counter() - begin
        print(
            f"naive: read all {read_all_seconds:6.2f} s  then fill {fill:6.2f} s  "
            f"first rows shown {read_all_seconds + fill:6.2f} s "
            f"({(read_all_seconds + fill) / first_rows:.0f}x later)"
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


def read_all(session: Session) -> list:
    with session.client() as client:
        return session.flow("orders", client).read()


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
