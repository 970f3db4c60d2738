"""Every flow under every fault the simulator can inject: what happens, and whether a re-run
finishes the work without a duplicate. Used by the tests and by bench/fault_matrix.py.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import Faults, ShopData, SimulatedShop
from tui_connector.sync.registry import FLOWS

FAULTS = {
    "latency 50 ms": {"latency_ms": 50.0},
    "429 Retry-After": {"rate_limit": 25.0},
    "500 at random": {"error_500": 0.2},
    "503 at random": {"error_503": 0.2},
    "cut bodies": {"cut_body": 0.2},
    "slow bodies": {"slow_body_ms": 5.0},
    "HTML security page": {"security_page": 0.3},
    "Authorization stripped": {"strip_authorization": True},
    "shop goes away": {},
    "database locked 2 s": {},
}


@dataclass
class Cell:
    flow: str
    fault: str
    first_run: str  # what the run under the fault did
    rerun: str  # what a clean re-run found
    duplicates: int
    ok: bool


def make_flow(name: str, client: SyncWebservice):
    """The flow as an unattended run makes it (the orders with their books)."""
    flow = FLOWS[name]
    return flow.make(client, **flow.unattended())


def before(name: str) -> list[str]:
    """The flows to run before `name`, each after its own, once each."""
    order: list[str] = []

    def visit(flow_name: str) -> None:
        for earlier in FLOWS[flow_name].after:
            if earlier not in order:
                visit(earlier)
                order.append(earlier)

    visit(name)
    return order


def _prepare(name: str, client: SyncWebservice) -> None:
    for flow_name in before(name):
        flow = make_flow(flow_name, client)
        flow.execute(flow.read())


def _duplicates(data: ShopData) -> int:
    emails = Counter(c.email for c in m.Contact.select() if c.email)
    codes = Counter(p.code for p in m.Product.select())
    references = Counter(p.get("reference") for p in data.table("products").values())
    orders = Counter(link.shop_id for link in m.Link.select().where(m.Link.resource == "orders"))
    gaps = 0
    for series in ("FA", "AV"):  # invoices, credit notes
        found = m.Invoice.select().where(m.Invoice.series == series)
        numbers = sorted(int(i.number[2:]) for i in found)
        gaps += 0 if numbers == list(range(1, len(numbers) + 1)) else 1
    return (
        sum(
            n - 1
            for counter in (emails, codes, references, orders)
            for n in counter.values()
            if n > 1
        )
        + gaps
        + (m.SalesOrder.select().count() - sum(orders.values()))
    )


def _attempt(flow_name: str, shop: SimulatedShop, retries: int) -> str:
    with SyncWebservice(shop.url, shop.key, backoff=0.01, retries=retries) as client:
        try:
            flow = make_flow(flow_name, client)
            report = flow.execute(flow.read())
        except ConnectorError as exc:
            return f"stops: {exc.message[:70]}"
    counts = report.counts
    done = counts["created"] + counts["updated"]
    if report.error:
        return f"stops after {done} rows: {report.error.splitlines()[0][:60]}"
    if counts["failed"]:
        return f"{done} done, {counts['failed']} failed rows"
    return f"completes ({done} rows)"


def run_cell(flow_name: str, fault: str, folder: Path, *, retries: int = 4) -> Cell:
    """One cell; `retries=0` is the naive baseline: a client that gives up at once."""
    data = build(orders=30, seed=11)
    name = f"{flow_name}-{fault[:6]}-{retries}.db".replace(" ", "_")
    open_database(f"sqlite:///{folder / name}")
    shop = SimulatedShop(data).start()
    try:
        demo_gestan.seed(data)
        with SyncWebservice(shop.url, shop.key) as client:
            _prepare(flow_name, client)
        for name, value in FAULTS[fault].items():
            setattr(shop.faults, name, value)
        if fault == "shop goes away":
            first = _shop_goes_away(flow_name, shop, min(retries, 2))
            shop = SimulatedShop(data).start()  # back again, at another address
        elif fault == "database locked 2 s":
            first = _with_database_locked(flow_name, shop, retries)
        else:
            first = _attempt(flow_name, shop, retries)
        shop.engine.faults = Faults()
        with SyncWebservice(shop.url, shop.key) as client:
            flow = make_flow(flow_name, client)
            flow.execute(flow.read())
            left = [r for r in make_flow(flow_name, client).read() if r.selected]
        rerun = (
            "nothing left to do"
            if not left
            else f"{len(left)} rows still to do (first: {left[0].key}, {left[0].status})"
        )
        duplicates = _duplicates(data)
        return Cell(flow_name, fault, first, rerun, duplicates, not left and not duplicates)
    finally:
        shop.stop()
        m.database_proxy.obj.close()


def _shop_goes_away(flow_name: str, shop: SimulatedShop, retries: int) -> str:
    with SyncWebservice(shop.url, shop.key, backoff=0.01, retries=retries) as client:
        flow = make_flow(flow_name, client)
        rows = flow.read()
        shop.stop()  # between the read and the writes
        try:
            report = flow.execute(rows)
        except ConnectorError as exc:
            return f"stops: {exc.message[:70]}"
    counts = report.counts
    if report.error:
        return (
            f"stops after {counts['created'] + counts['updated']} rows: "
            f"{report.error.splitlines()[0][:50]}"
        )
    return f"completes ({counts['created'] + counts['updated']} rows need no shop)"


def _with_database_locked(flow_name: str, shop: SimulatedShop, retries: int) -> str:
    path = m.database_proxy.obj.database
    locked = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, timeout=30)
        other.execute("BEGIN IMMEDIATE")
        locked.set()
        time.sleep(2)
        other.commit()
        other.close()

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(10)
    try:
        return _attempt(flow_name, shop, retries) + " (waited for the lock)"
    finally:
        holder.join()


def markdown(cells: list[Cell], naive: list[Cell] | None = None) -> str:
    """The matrix as a table; with `naive`, the same cells run by a client without retries."""
    head = "| flow | fault | under the fault | clean re-run | duplicates |"
    rule = "|---|---|---|---|---|"
    if naive:
        head += " naive client (no retry): under the fault | its re-run, duplicates |"
        rule += "---|---|"
    lines = [head, rule]
    for index, cell in enumerate(cells):
        line = (
            f"| {cell.flow} | {cell.fault} | {cell.first_run} | {cell.rerun} | {cell.duplicates} |"
        )
        if naive:
            other = naive[index]
            line += f" {other.first_run} | {other.rerun}, {other.duplicates} |"
        lines.append(line)
    return "\n".join(lines)
