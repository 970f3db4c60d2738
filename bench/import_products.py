"""Import N shop products with their combinations into an empty Gestan, batched and naive.

The shop runs in its own process (`tui-connector simulator --products N`), so
the memory printed is the connector's. The batched import is the products
flow as `tui-connector sync products` runs it; the naive one is the same flow
reading one record per request (each product, combination and stock row),
into its own SQLite Gestan. Both must give the same products.

Each import prints its rows, wall time, rows/s, requests, the SQL statements the
database really executed (per row) and the peak memory. `--profile FILE` writes
the batched import's cProfile statistics (read them with `python -m pstats`).

    python bench/import_products.py --products 20000 --latency-ms 0 --skip-naive
"""

from __future__ import annotations

import argparse
import cProfile
import re
import resource
import subprocess
import sys
import tempfile
import time

from measure import NaiveWebservice, Sampler

from tui_connector.gestan import models as m
from tui_connector.gestan import settings
from tui_connector.gestan.database import make_database, open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.sync.products import ProductsFlow

FAMILIES = {3: "VET", 4: "VET", 5: "VET", 6: "ACC", 7: "ACC", 8: "ACC", 9: "EPI"}


def start_shop(
    latency: float, *, products: int | None = None, orders: int = 10
) -> tuple[subprocess.Popen, str, str]:
    """The simulator in its own process; its first lines give its address and key
    (in whatever words it says them)."""
    command = [sys.executable, "-m", "tui_connector", "simulator", "--orders", str(orders)]
    command += ["--latency-ms", str(latency)]
    if products:
        command += ["--products", str(products)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    url = re.search(r"https?://\S+", process.stdout.readline()).group(0)
    key = process.stdout.readline().split()[-1]
    return process, url, key


class StatementCounter:
    """Counts the statements the database really executes (its execute_sql)."""

    def __init__(self, database):
        self.count = 0
        self.database = database
        self.inner = database.execute_sql

        def counted(sql, params=None, *args, **kwargs):
            self.count += 1
            return self.inner(sql, params, *args, **kwargs)

        database.execute_sql = counted


def import_into(
    path: str, name: str, url: str, key: str, client_class, profile: str = "", database_url=""
) -> dict:
    if database_url:  # a server database: start from empty tables
        with make_database(database_url) as empty, empty.bind_ctx(m.ALL_MODELS):
            empty.drop_tables(m.ALL_MODELS, safe=True, cascade="postgres" in database_url)
    database = open_database(database_url or f"sqlite:///{path}")
    for category, family in FAMILIES.items():
        if not m.Family.select().where(m.Family.code == family).exists():
            m.Family.create(code=family, label=family)
        settings.set_value(f"family.{category}", family)
    counter = StatementCounter(database)
    profiler = cProfile.Profile() if profile else None
    with client_class(url, key) as client:
        start = time.perf_counter()
        if profiler:
            profiler.enable()
        report = ProductsFlow(client).stream(progress=Sampler(name, "rows"))
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        seconds = time.perf_counter() - start
        requests = client.requests_made
    statements = counter.count
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # (before the check)
    products = sorted(
        (code, str(price), parent is not None)
        for code, price, parent in m.Product.select(
            m.Product.code, m.Product.price_excl, m.Product.parent
        ).tuples()
    )
    database.close()
    return {
        "rows": len(report.results),
        "created": report.counts["created"],
        "seconds": seconds,
        "requests": requests,
        "statements": statements,
        "products": products,
        "peak": peak,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--profile", default="", help="write the batched import's cProfile")
    parser.add_argument(
        "--database",
        default="",
        help="a Gestan database URL (default: SQLite files); its tables are dropped first",
    )
    args = parser.parse_args()
    shop, url, key = start_shop(args.latency_ms, products=args.products)
    folder = tempfile.mkdtemp()
    try:
        engine = (args.database or "sqlite").split(":")[0]
        print(f"{args.products} shop products, {args.latency_ms:g} ms per request, {engine} Gestan")
        runs = [("batched", SyncWebservice)]
        if not args.skip_naive:
            runs.append(("naive", NaiveWebservice))
        results = {}
        for name, client_class in runs:
            profile = args.profile if name == "batched" else ""
            found = results[name] = import_into(
                f"{folder}/{name}.db", name, url, key, client_class, profile, args.database
            )
            print(
                f"{name:<8} rows {found['rows']:6}  created {found['created']:6}  "
                f"requests {found['requests']:6}  wall {found['seconds']:7.1f} s  "
                f"{found['rows'] / found['seconds']:6.1f} rows/s  "
                f"statements {found['statements']} "
                f"({found['statements'] / max(found['rows'], 1):.2f} per row)  "
                f"peak memory so far {found['peak']:.0f} MB",
                flush=True,
            )
        if "naive" in results:
            batched, naive = results["batched"], results["naive"]
            print(
                f"ratio    {naive['requests'] / batched['requests']:.1f}x fewer requests, "
                f"{naive['seconds'] / batched['seconds']:.1f}x faster; same products: "
                f"{naive['products'] == batched['products']}"
            )
    finally:
        shop.terminate()


if __name__ == "__main__":
    main()
