"""Concurrent validations never share nor skip a number (threads; processes on servers)."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import threading
from decimal import Decimal as D

import pytest

from tui_connector.gestan import invoicing
from tui_connector.gestan import models as m
from tui_connector.gestan.database import open_database
from tui_connector.gestan.invoicing import LineInput
from tui_connector.gestan.numbering import lettering_code

LINE = LineInput(m.LineKind.PRODUCT, "Article", D(1), D("10"), D("20.000"), D("10.00"), D("12.00"))


def _issue_many(contact_id: int, count: int, fail_every: int = 0) -> list[str]:
    numbers = []
    contact = m.Contact.get_by_id(contact_id)
    for index in range(count):
        try:
            with m.database_proxy.atomic():
                invoice = invoicing.issue(contact, [LINE], date=dt.date(2026, 11, 27))
                if fail_every and index % fail_every == 0:
                    raise RuntimeError("rolled back after numbering")
                numbers.append(invoice.number)
        except RuntimeError:
            pass
    m.database_proxy.close()
    return numbers


def assert_gap_free(numbers: list[str]) -> None:
    assert len(numbers) == len(set(numbers)), "a number was given twice"
    stored = sorted(n for (n,) in m.Invoice.select(m.Invoice.number).tuples())
    assert stored == sorted(numbers)
    assert [int(n[2:]) for n in stored] == list(range(1, len(stored) + 1)), "a gap"


def test_threads_validating_at_once_leave_no_gap(gestan):
    contact = m.Contact.create(code="C1", last_name="Doe")
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def work():
        try:
            results.append(_issue_many(contact.id, 8, fail_every=3))
        except BaseException as exc:  # surfaced below: a thread must not fail silently
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    numbers = [n for chunk in results for n in chunk]
    assert len(numbers) == 4 * (8 - 3)  # indexes 0, 3, 6 of each thread rolled back
    assert_gap_free(numbers)


def _process_worker(url: str, contact_id: int, count: int, queue) -> None:
    open_database(url)
    queue.put(_issue_many(contact_id, count, fail_every=4))


@pytest.mark.slow
def test_processes_validating_at_once_leave_no_gap(gestan):
    contact = m.Contact.create(code="C1", last_name="Doe")
    url = _url_of(gestan)
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [
        context.Process(target=_process_worker, args=(url, contact.id, 10, queue)) for _ in range(3)
    ]
    for worker in workers:
        worker.start()
    numbers = [n for _ in workers for n in queue.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert len(numbers) == 3 * (10 - 3)
    assert_gap_free(numbers)


def _url_of(database) -> str:
    from tui_connector.gestan.database import engine_of

    if engine_of(database) == "sqlite":
        return f"sqlite:///{database.database}"
    params = database.connect_params
    host, port = params.get("host", "127.0.0.1"), params.get("port")
    user = params.get("user") or ""
    netloc = f"{user}@{host}" + (f":{port}" if port else "")
    scheme = "postgresql" if engine_of(database) == "postgresql" else "mysql"
    return f"{scheme}://{netloc}/{database.database}"


def test_lettering_codes():
    assert [lettering_code(n) for n in (1, 2, 26, 27, 28, 52, 53, 702, 703)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_numbers_are_only_given_inside_a_transaction(gestan):
    from tui_connector.gestan.numbering import next_value

    with pytest.raises(RuntimeError, match="dans la transaction"):
        next_value("invoice:FA")


def test_numbers_taken_for_a_chunk_follow_the_counter_without_gap(gestan):
    from tui_connector.gestan.numbering import next_value, reserve

    with pytest.raises(RuntimeError):
        reserve({"invoice:FA": 3})  # outside a transaction: refused
    with m.database_proxy.atomic():
        assert next_value("invoice:FA") == 1
        first = reserve({"invoice:FA": 3, "letter:411C1": 2, "letter:411C2": 2, "entry:X": 0})
        assert first == {"invoice:FA": 2, "letter:411C1": 1, "letter:411C2": 1}
        assert next_value("invoice:FA") == 5 and next_value("letter:411C1") == 3
    with pytest.raises(LookupError), m.database_proxy.atomic():
        reserve({"invoice:FA": 10})
        raise LookupError("a chunk rolled back gives its numbers back")
    with m.database_proxy.atomic():
        assert reserve({"invoice:FA": 1}) == {"invoice:FA": 6}
