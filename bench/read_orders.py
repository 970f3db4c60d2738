"""Read N orders with their customers and addresses from a loopback shop that adds latency.

Prints requests made and wall time for the batched reader (pages of
display=full, dependencies by filter[id]=[1|2|...], 4 requests in flight)
and for a naive one-request-per-record reader, in the same run.

    python bench/read_orders.py --orders 2000 --latency-ms 20
"""

from __future__ import annotations

import argparse
import asyncio
import time

from tui_connector.prestashop.client import Webservice
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import Faults, SimulatedShop


async def batched(client: Webservice) -> int:
    orders = [o async for page in client.iter_pages("orders", page_size=500) for o in page]
    customers = await client.get_many("customers", {o["id_customer"] for o in orders})
    ids = {o["id_address_delivery"] for o in orders} | {o["id_address_invoice"] for o in orders}
    addresses = await client.get_many("addresses", ids)
    assert len(customers) and len(addresses)
    return len(orders)


async def naive(client: Webservice) -> int:
    ids = await client.ids("orders")
    count = 0
    for order_id in ids:
        order = await client.get("orders", order_id)
        await client.get("customers", order["id_customer"])
        await client.get("addresses", order["id_address_delivery"])
        if order["id_address_invoice"] != order["id_address_delivery"]:
            await client.get("addresses", order["id_address_invoice"])
        count += 1
    return count


async def measure(shop: SimulatedShop, reader) -> tuple[int, int, float]:
    async with Webservice(shop.url, shop.key) as client:
        start = time.perf_counter()
        count = await reader(client)
        return count, client.requests_made, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()
    shop = SimulatedShop(build(orders=args.orders), faults=Faults(latency_ms=args.latency_ms))
    with shop:
        print(f"{args.orders} orders, {args.latency_ms:g} ms per request")
        results = {}
        for name, reader in (("batched", batched), ("naive", naive)):
            count, requests, seconds = asyncio.run(measure(shop, reader))
            results[name] = (requests, seconds)
            print(
                f"{name:8} orders {count:6}  requests {requests:6}  wall {seconds:7.2f} s  "
                f"{count / seconds:8.0f} orders/s"
            )
        (rb, tb), (rn, tn) = results["batched"], results["naive"]
        print(f"ratio    requests {rn / rb:6.1f}x fewer, wall {tn / tb:6.1f}x faster")


if __name__ == "__main__":
    main()
