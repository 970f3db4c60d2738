"""Import the shop's customers (with their addresses) into an empty Gestan.

The shop runs in its own process (`tui-connector simulator --orders N`: a customer
for about every 4 orders), so the memory printed is the connector's. The import
is the contacts flow as `tui-connector sync contacts` runs it, a page of 500
customers at a time; it prints its rows, wall time, rows/s, requests, the SQL
statements the database really executed (per row) and the peak memory.
`--profile FILE` writes its cProfile statistics (`python -m pstats FILE`).

    python bench/import_contacts.py --orders 40000
"""

from __future__ import annotations

import argparse
import cProfile
import resource
import tempfile
import time

from import_products import StatementCounter, start_shop
from measure import Sampler

from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.sync.contacts import ContactsFlow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=40000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--profile", default="", help="write the import's cProfile")
    args = parser.parse_args()
    shop, url, key = start_shop(args.latency_ms, orders=args.orders)
    try:
        database = open_database(f"sqlite:///{tempfile.mkdtemp()}/gestan.db")
        counter = StatementCounter(database)
        profiler = cProfile.Profile() if args.profile else None
        with SyncWebservice(url, key) as client:
            start = time.perf_counter()
            if profiler:
                profiler.enable()
            report = ContactsFlow(client).stream(progress=Sampler("contacts", "rows"))
            if profiler:
                profiler.disable()
                profiler.dump_stats(args.profile)
            seconds = time.perf_counter() - start
            requests = client.requests_made
        rows = len(report.results)
        print(
            f"contacts rows {rows:6}  created {report.counts['created']:6}  "
            f"requests {requests:6}  wall {seconds:7.1f} s  {rows / seconds:6.1f} rows/s  "
            f"statements {counter.count} ({counter.count / max(rows, 1):.2f} per row)  "
            f"contacts {m.Contact.select().count()}  addresses {m.Address.select().count()}  "
            f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB",
            flush=True,
        )
        database.close()
    finally:
        shop.terminate()


if __name__ == "__main__":
    main()
