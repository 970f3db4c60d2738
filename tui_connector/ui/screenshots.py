"""Regenerate screenshots/ from the demo data: one SVG per screen, 80x24 and 120x40,
and the wide tables at 200x50 too (their columns share the width).

python -m tui_connector.ui.screenshots [FOLDER]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tui_connector import config
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync.session import Session

SCREENS = [
    ("home", []),
    ("contacts", ["1", "r"]),
    ("address-picker", ["1", "r", "down", "down", "down", "down", "e"]),
    ("products", ["2", "r"]),
    ("stock", ["3", "r"]),
    ("orders", ["4", "r"]),
    ("report", ["4", "r", "x"]),
    ("settings", ["p"]),
]
WIDE = {"products", "orders"}


async def shoot(session: Session, keys: list[str], size: tuple[int, int], path: Path) -> None:
    from tui_connector.ui.app import ConnectorApp

    app = ConnectorApp(session)
    async with app.run_test(size=size) as pilot:
        await app.workers.wait_for_complete()
        for key in keys:
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.pause()
        app.save_screenshot(path.name, str(path.parent))


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    with SimulatedShop(build(orders=200)) as shop, tempfile.TemporaryDirectory() as work:
        profile = config.Profile(
            shop_url=shop.url,
            api_key=config.Secret(shop.key),
            database_url=f"sqlite:///{work}/gestan.db",
        )
        session = Session(profile)
        demo_gestan.seed(shop.data)
        with session.client() as client:  # products first, so orders show their real states
            for name in ("contacts", "products"):
                flow = session.flow(name, client)
                rows = [r for r in flow.read() if r.shop_id and r.shop_id % 3]
                flow.execute(rows)
        for name, keys in SCREENS:
            for size in ((80, 24), (120, 40), *([(200, 50)] if name in WIDE else [])):
                path = folder / f"{name}-{size[0]}x{size[1]}.svg"
                asyncio.run(shoot(session, keys, size, path))
                print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
