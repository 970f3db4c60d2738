"""Read the products flow (products, combinations, stock, references) for N shop products.

Prints requests and wall time: requests must grow with pages, not with records.

    python bench/read_products.py --products 2000 20000
"""

from __future__ import annotations

import argparse
import tempfile
import time

from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import Faults, SimulatedShop
from tui_connector.sync.products import ProductsFlow


def measure(count: int, latency_ms: float) -> None:
    data = build(orders=10, products=count)
    folder = tempfile.mkdtemp()
    open_database(f"sqlite:///{folder}/gestan.db")
    with SimulatedShop(data, faults=Faults(latency_ms=latency_ms), indexed=True) as shop:
        demo_gestan.seed(shop.data)
        with SyncWebservice(shop.url, shop.key) as client:
            start = time.perf_counter()
            rows = ProductsFlow(client).read()
            seconds = time.perf_counter() - start
            print(
                f"{count:6} products  {len(rows):6} rows (combinations included)  "
                f"requests {client.requests_made:4}  wall {seconds:6.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    for count in args.products:
        measure(count, args.latency_ms)


if __name__ == "__main__":
    main()
