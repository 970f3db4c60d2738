"""Read the products flow (products, combinations, stock, references) for N shop products.

Prints requests and wall time: requests must grow with pages, not with records. Up to
--naive-max products, the same read by a naive client (one request per record) follows.

    python bench/read_products.py --products 2000 20000
"""

from __future__ import annotations

import argparse
import tempfile
import time

from measure import NaiveWebservice

from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import Faults, SimulatedShop
from tui_connector.sync.products import ProductsFlow


def measure(count: int, latency_ms: float, naive: bool) -> None:
    data = build(orders=10, products=count)
    folder = tempfile.mkdtemp()
    open_database(f"sqlite:///{folder}/gestan.db")
    with SimulatedShop(data, faults=Faults(latency_ms=latency_ms), indexed=True) as shop:
        demo_gestan.seed(shop.data)
        for name, client_class in [("batched", SyncWebservice), ("naive", NaiveWebservice)]:
            if name == "naive" and not naive:
                continue
            with client_class(shop.url, shop.key) as client:
                start = time.perf_counter()
                rows = ProductsFlow(client).read()
                seconds = time.perf_counter() - start
                print(
                    f"{name:<8} {count:6} products  {len(rows):6} rows (combinations included)"
                    f"  requests {client.requests_made:6}  wall {seconds:7.2f} s",
                    flush=True,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--naive-max", type=int, default=2000)
    args = parser.parse_args()
    for count in args.products:
        measure(count, args.latency_ms, naive=count <= args.naive_max)


if __name__ == "__main__":
    main()
