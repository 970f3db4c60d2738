"""What the import benchmarks share: a simulator in its own process, memory, progress."""

from __future__ import annotations

import subprocess
import sys
import time

from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.query import Filter, Query


def start_shop(
    orders: int, latency: float, products: int | None = None
) -> tuple[subprocess.Popen, str, str]:
    """`tui-connector simulator` in its own process, so that memory figures are ours alone."""
    command = [sys.executable, "-m", "tui_connector", "simulator", "--orders", str(orders)]
    command += ["--latency-ms", str(latency)]
    if products:
        command += ["--products", str(products)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    # "simulateur PrestaShop 8.1.2 à http://127.0.0.1:PORT" (the words may change, not the URL)
    url = "http" + process.stdout.readline().split("http", 1)[1].strip()
    key = process.stdout.readline().split()[1]
    return process, url, key


def memory_now() -> float:
    """The resident memory of this process now, in MB."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


class Sampler:
    """A progress callback printing what is done, the rate and the memory every so often."""

    def __init__(self, name: str, unit: str, every: int = 10000):
        self.name, self.unit, self.every, self.next = name, unit, every, every
        self.start = time.perf_counter()

    def __call__(self, done: int, total: int, label: str) -> None:
        if done >= self.next:
            self.next += self.every
            seconds = time.perf_counter() - self.start
            print(
                f"  {self.name:<8} {done:7} {self.unit}  {seconds:8.1f} s  "
                f"{done / seconds:6.1f} {self.unit}/s  memory {memory_now():4.0f} MB",
                flush=True,
            )


class NaiveWebservice(SyncWebservice):
    """A client that reads as a naive connector does: the ids, then each record alone.

    A filter on another key (the lines of an order, the addresses of a customer) is
    asked one value at a time.
    """

    def list(self, resource_name, query=None):
        filters = query.filters if query else None
        return [self.get(resource_name, i, complete=True) for i in self.ids(resource_name, filters)]

    def iter_pages(self, resource_name, query=None, *, page_size=500):
        for record_id in self.ids(resource_name, query.filters if query else None):
            yield [self.get(resource_name, record_id, complete=True)]

    def get_many(self, resource_name, ids, **kwargs):
        key = kwargs.get("key", "id")
        values = sorted({int(i) for i in ids if str(i) not in ("", "0")})
        if key == "id":
            return [self.get(resource_name, i, complete=True) for i in values]
        return [
            record
            for value in values
            for record in self.list(resource_name, Query(filters={key: Filter.equals(value)}))
        ]
