"""Cron-proof runs: one run of a flow at a time on each database, a run stopped by a
signal closed with its report, a run left open by a dead process marked interrupted,
a JSON document always."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.simulator import demo_gestan
from tui_connector.simulator.demo_data import build
from tui_connector.simulator.server import SimulatedShop
from tui_connector.sync import run_lock


@pytest.fixture
def slow_shop():
    with SimulatedShop(build(orders=60, seed=12)) as running:
        yield running


def _prepared(shop, url: str) -> dict:
    """Contacts and products in Gestan, then a shop slow enough that an orders run lasts
    seconds: time for another to start beside it, or for a signal."""
    from tui_connector.prestashop.client import SyncWebservice

    from .test_orders import prepare

    open_database(url)
    demo_gestan.seed(shop.data)
    with SyncWebservice(shop.url, shop.key) as client:
        prepare(client)
    m.database_proxy.obj.close()
    shop.faults.latency_ms = 200  # an orders run of a few seconds, bulk writes and all
    return _env(shop, url)


def _env(shop, url: str) -> dict:
    return dict(
        os.environ,
        TUI_CONNECTOR_SHOP_URL=shop.url,
        TUI_CONNECTOR_API_KEY=shop.key,
        TUI_CONNECTOR_DATABASE=url,
    )


def _start(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui_connector", "sync", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock(url: str, timeout: float = 60) -> None:
    """Until the orders run in another process holds its lock: it is under way (its rows
    are committed a chunk at a time, maybe all in one)."""
    database = open_database(url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if m.RunLock.select().where(m.RunLock.flow == "orders").exists():
                return
            time.sleep(0.05)
        raise AssertionError("the run did not start")
    finally:
        database.close()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_two_runs_started_together_one_works_the_other_says_it_is_going(gestan_url, slow_shop):
    env = _prepared(slow_shop, gestan_url)
    first = _start(env, "orders", "--since-last", "--json")
    _wait_for_lock(gestan_url)
    second = _start(env, "orders", "--since-last", "--json")
    second_out, second_err = second.communicate(timeout=120)
    first_out, _ = first.communicate(timeout=300)
    assert second.returncode == 4, second_err
    assert "une exécution d'orders commencée à" in second_err
    assert "est toujours en cours" in second_err
    assert json.loads(second_out)["exit_code"] == 4
    report = json.loads(first_out)
    assert first.returncode == 0 and report["counts"]["failed"] == 0
    open_database(gestan_url)
    assert not m.RunLock.select().exists()  # let go at the end
    assert m.SyncRun.select().where(m.SyncRun.flow == "orders").count() == 1


def test_a_lock_left_by_a_dead_process_is_taken_over_and_its_run_interrupted(sqlite_gestan):
    left = m.SyncRun.create(flow="orders")  # a run killed with -9: still "running"
    m.RunLock.create(flow="orders", pid=_dead_pid(), host=os.uname().nodename)
    run_lock.acquire("orders")
    assert m.SyncRun.get_by_id(left.id).status == "interrupted"
    assert m.RunLock.get(m.RunLock.flow == "orders").pid == os.getpid()
    run_lock.release("orders")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_between_two_rows_and_closes_it(tmp_path, slow_shop, sig):
    url = f"sqlite:///{tmp_path / 'gestan.db'}"
    run = _start(_prepared(slow_shop, url), "orders", "--since-last", "--json")
    _wait_for_lock(url)
    run.send_signal(sig)
    out, err = run.communicate(timeout=120)
    assert run.returncode == 128 + sig, err
    assert f"arrêté par {signal.Signals(sig).name}" in err
    document = json.loads(out)
    assert document["stopped"] is True
    open_database(url)
    (closed,) = m.SyncRun.select().where(m.SyncRun.flow == "orders")
    assert closed.status == "stopped" and closed.finished_at is not None
    assert not m.RunLock.select().exists()
    assert m.SalesOrder.select().count() == document["counts"]["created"]
    assert document["counts"]["created"] < len(slow_shop.data.table("orders"))  # stopped early
    # between two rows: every order kept is whole, every entry balances
    assert all(order.lines.count() for order in m.SalesOrder.select())
    for entry in m.AccountingEntry.select():
        lines = list(entry.lines)
        assert lines and sum(x.debit for x in lines) == sum(x.credit for x in lines)


def test_json_is_printed_on_error_too(monkeypatch, capsys):
    from tui_connector.cli import main

    monkeypatch.setenv("TUI_CONNECTOR_SHOP_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("TUI_CONNECTOR_API_KEY", "K" * 32)
    assert main(["sync", "contacts", "--json"]) == 3
    document = json.loads(capsys.readouterr().out)
    assert document["exit_code"] == 3 and "impossible de joindre" in document["error"]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        ("server closed the connection unexpectedly", "connexion à la base Gestan"),
        ("database or disk is full", "disque de la base Gestan est plein"),
        ("attempt to write a readonly database", "lecture seule"),
        ("database is locked", "verrouillée par un autre programme"),
    ],
)
def test_a_database_gone_for_the_run_is_said_in_words(error, said):
    import peewee as pw

    from tui_connector.gestan.database import database_trouble

    assert said in database_trouble(pw.OperationalError(error))
    try:  # a failed rollback hides the cause: it is found behind it
        try:
            raise pw.OperationalError(error)
        except pw.OperationalError:
            raise pw.OperationalError("cannot rollback - no transaction is active") from None
    except pw.OperationalError as masked:
        assert said in database_trouble(masked)
    assert database_trouble(pw.IntegrityError("UNIQUE constraint failed: product.code")) is None


def test_the_postgresql_connection_cut_mid_run_stops_it_with_its_cause(
    server_databases, tmp_path, slow_shop
):
    import psycopg2

    from tui_connector.prestashop.client import SyncWebservice
    from tui_connector.sync.contacts import ContactsFlow

    url = server_databases.get("postgresql", "unreachable")
    if url.startswith("unreachable"):
        pytest.skip("no PostgreSQL server")
    from .conftest import _drop_all_tables

    _drop_all_tables("postgresql", url)  # a database of its own for this test
    database = open_database(url)
    client = SyncWebservice(slow_shop.url, slow_shop.key)
    flow = ContactsFlow(client)
    rows = flow.read()
    backend = database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]

    def cut(done, total, label):  # the connection dies after the first rows
        if done == 3:
            admin = psycopg2.connect(url)
            admin.autocommit = True
            admin.cursor().execute("SELECT pg_terminate_backend(%s)", (backend,))
            admin.close()

    report = flow.execute(rows, progress=cut)
    client.close()
    assert "la connexion à la base Gestan a été perdue" in report.error
    assert len(report.results) < len(rows)
    database.close()
    _drop_all_tables("postgresql", url)


def test_a_run_stops_at_its_deadline_between_two_rows(sqlite_gestan, slow_shop):
    from tui_connector.gestan import settings
    from tui_connector.prestashop.client import SyncWebservice
    from tui_connector.sync.contacts import ContactsFlow

    settings.set_value("sync.max_minutes", "1")
    client = SyncWebservice(slow_shop.url, slow_shop.key)
    flow = ContactsFlow(client)
    rows = flow.read()
    state = flow.start_run()
    state.deadline = time.monotonic()  # as if the minute had gone by
    flow.run_rows(state, rows)
    report = flow.finish_run(state)
    assert report.stopped and not report.results
    assert any("sync.max_minutes" in note for note in report.notes)
    assert m.SyncRun.get_by_id(state.run.id).status == "stopped"
    client.close()


def test_a_signal_ends_a_dry_run_at_once_with_nothing_written(tmp_path, slow_shop):
    """A dry run writes nothing: a signal need not wait for the read to end (here it
    would take half a minute), and it says so."""
    url = f"sqlite:///{tmp_path / 'gestan.db'}"
    env = _prepared(slow_shop, url)
    slow_shop.faults.latency_ms = 3000
    run = _start(env, "orders", "--since-last", "--dry-run", "--json")
    time.sleep(4)  # started, and reading
    sent = time.monotonic()
    run.send_signal(signal.SIGTERM)
    out, err = run.communicate(timeout=60)
    assert time.monotonic() - sent < 10, err
    assert run.returncode == 128 + signal.SIGTERM, err
    assert "--dry-run, rien n'a été écrit" in err
    assert json.loads(out)["stopped"] is True


def test_orders_first_says_when_the_orders_could_not_be_imported(tmp_path, monkeypatch, capsys):
    """`sync stock --orders-first`: the stock's exit status alone would hide an orders
    run that failed; the worse of the two is returned."""
    from tui_connector.cli import main
    from tui_connector.sync import core

    with SimulatedShop(build(orders=10, seed=3)) as shop:
        url = f"sqlite:///{tmp_path / 'gestan.db'}"
        env = _prepared(shop, url)
        shop.faults.latency_ms = 0
        for name in ("TUI_CONNECTOR_SHOP_URL", "TUI_CONNECTOR_API_KEY", "TUI_CONNECTOR_DATABASE"):
            monkeypatch.setenv(name, env[name])
        real_stream = core.Flow.stream

        def stream(self, **kwargs):
            report = real_stream(self, **kwargs)
            if self.name == "orders":
                report.error = "la boutique a cessé de répondre"
            return report

        monkeypatch.setattr(core.Flow, "stream", stream)
        code = main(["sync", "stock", "--orders-first", "--json"])
    assert code == 3, capsys.readouterr().err


def test_orders_first_stopped_during_the_orders_prints_their_document(
    tmp_path, monkeypatch, capsys
):
    """A signal during the orders part of `stock --orders-first`: no stock is written, and
    --json still prints a document (the orders run's)."""
    from tui_connector.cli import main
    from tui_connector.sync import core

    with SimulatedShop(build(orders=10, seed=3)) as shop:
        env = _prepared(shop, f"sqlite:///{tmp_path / 'gestan.db'}")
        shop.faults.latency_ms = 0
        for name in ("TUI_CONNECTOR_SHOP_URL", "TUI_CONNECTOR_API_KEY", "TUI_CONNECTOR_DATABASE"):
            monkeypatch.setenv(name, env[name])
        real_stream = core.Flow.stream
        flows = []

        def stream(self, **kwargs):
            flows.append(self.name)
            report = real_stream(self, **kwargs)
            if self.name == "orders":
                signal.raise_signal(signal.SIGTERM)  # as cron's kill would, mid-way
            return report

        monkeypatch.setattr(core.Flow, "stream", stream)
        code = main(["sync", "stock", "--orders-first", "--json"])
    out = capsys.readouterr().out
    assert code == 128 + signal.SIGTERM
    assert json.loads(out)["flow"] == "orders"
    assert flows == ["orders"]  # and no stock run after it
