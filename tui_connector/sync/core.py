"""The shape every flow shares: rows with a status, a read that writes nothing, an execute
that commits row by row, stops between two rows, and reports.

The TUI shows any flow with one screen because every flow speaks this.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import peewee as pw

from tui_connector.errors import ConnectorError
from tui_connector.gestan import models as m
from tui_connector.gestan import refcache, settings
from tui_connector.gestan.database import database_trouble, insert_rows, write_transaction
from tui_connector.prestashop.client import SyncWebservice
from tui_connector.prestashop.codec import BAD_BYTES, Translated
from tui_connector.prestashop.errors import PrestaShopError
from tui_connector.sync import run_lock
from tui_connector.sync.status import Status


class BadShopData(ConnectorError):
    """A shop record a mapper cannot read (a number that is not one, a missing field)."""


MAPPING_ERRORS = (ValueError, ArithmeticError, KeyError, TypeError, AttributeError)


MAX_ID = 2**32 - 1  # PrestaShop's ids are INT UNSIGNED


def valid_id(value) -> int | None:
    """A shop id, or None for an empty, negative, fractional or impossible one."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def _bad_bytes(record, path: str = "") -> str:
    """The first field of a record holding bytes that were not UTF-8, or ""."""
    if isinstance(record, str):
        return path if BAD_BYTES in record else ""
    items = record.items() if isinstance(record, dict) else enumerate(record or [])
    if not isinstance(record, dict | list | tuple):
        return ""
    for key, value in items:
        found = _bad_bytes(value, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return ""


def _odd_field(record: dict) -> str:
    """The first field of a record that is not what the codec makes of a shop field (text,
    a translation, associations), or ""."""
    for key, value in record.items():
        if key == "associations":
            if not isinstance(value, dict):
                return key
        elif not isinstance(value, str | Translated):
            return str(key)
    return ""


def readable(page: list[dict], name: str) -> tuple[list[dict], list[Row]]:
    """The records of a page a flow can read, and a blocked row for each other: an
    impossible id, bytes that are not text. The others go on."""
    good, bad = [], []
    for record in page:
        shown = record.get("id") if isinstance(record, dict) else record
        key = f"{name}:{str(shown)[:24]}"
        if not isinstance(record, dict) or valid_id(record.get("id")) is None:
            bad.append(unreadable_row(key, record, ValueError(f"id {shown!r}")))
        elif field := _odd_field(record):
            row = unreadable_row(key, record, TypeError(field))
            row.reason = f"champ {field} illisible ({type(record[field]).__name__})"
            bad.append(row)
        elif field := _bad_bytes(record):
            row = unreadable_row(key, record, ValueError(field))
            row.reason = (
                f"octets illisibles (pas de l'UTF-8) dans le champ {field}: à corriger dans "
                "la boutique"
            )
            bad.append(row)
        else:
            good.append(record)
    return good, bad


def unreadable_row(key: str, record: dict, error: Exception) -> Row:
    """A record we cannot map: listed, blocked with the reason, never written."""
    shop_id = record.get("id") if isinstance(record, dict) else None
    return Row(
        key=key,
        origin=Origin.SHOP,
        status=Status.BLOCKED,
        shop_id=valid_id(shop_id),
        columns={"label": f"{key} illisible"},
        blocked=True,
        reason=f"données illisibles ({type(error).__name__}: {str(error)[:80]})",
    )


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    SKIPPED = "skipped"
    FAILED = "failed"
    BLOCKED = "blocked"
    ALL = (CREATED, UPDATED, SKIPPED, FAILED, BLOCKED)


def row_identity(columns: dict[str, str]) -> tuple[str, str]:
    """A row's code (or reference, or e-mail) and its name, as a report shows them."""
    code = columns.get("code") or columns.get("reference") or columns.get("email") or ""
    name = (
        columns.get("label")
        or columns.get("customer")
        or " ".join(part for part in (columns.get("first_name"), columns.get("last_name")) if part)
    )
    return code, name


class Origin:
    SHOP = "shop"  # green rows
    GESTAN = "gestan"  # yellow rows


class Action:
    """What executing a row does; None: nothing to do."""

    CREATE_GESTAN = "create_gestan"
    UPDATE_GESTAN = "update_gestan"
    LINK = "link"
    UPDATE_SHOP = "update_shop"
    CREATE_SHOP = "create_shop"


@dataclass
class Row:
    key: str  # unique within a read, e.g. "customer:12" or "product:3:17"
    origin: str
    status: Status  # what the row is; the words a user reads are in tui_connector.labels
    action: str | None = None
    shop_id: int | None = None
    shop_sub_id: int = 0
    gestan_id: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    reason: str = ""  # why it is blocked, or in conflict, or a warning
    blocked: bool = False
    conflict: bool = False
    selected: bool = False
    payload: Any = field(default_factory=dict)  # what apply needs: the flow's own
    choices: dict[str, Any] = field(default_factory=dict)  # what the user decides
    outcome: str = ""  # once executed: what happened to it (an Outcome)
    of_product: tuple[int, int] | None = None  # a special price: the product it belongs to
    needs_choice: bool = False  # the user is to pick first (one of a customer's addresses)
    territory: str | None = None  # a special price: its Gestan territory, if it has one

    def __post_init__(self) -> None:
        if not self.selected:
            self.selected = bool(self.action) and not self.blocked and not self.conflict


@dataclass
class RowResult:
    key: str
    outcome: str
    message: str = ""
    shop_id: int | None = None
    shop_sub_id: int = 0
    gestan_id: int | None = None
    status: str = ""
    invoice: str | None = None
    fatal: bool = False  # the shop or the database is gone: stop the run
    territory: str | None = None  # special prices: the Gestan territory
    code: str = ""  # the row's code, reference or e-mail, and its name: what a report shows
    name: str = ""

    @classmethod
    def of(cls, row: Row, outcome: str, message: str = "", **changes) -> RowResult:
        """The result of a row: its identity, status and territory, with what changed."""
        values = {
            "key": row.key,
            "shop_id": row.shop_id,
            "shop_sub_id": row.shop_sub_id,
            "gestan_id": row.gestan_id,
            "status": row.status,
            "territory": row.territory,
        }
        values["code"], values["name"] = row_identity(row.columns)
        return cls(outcome=outcome, message=message, **(values | changes))

    def as_json(self) -> dict:
        return {
            "shop_id": self.shop_id,
            "shop_sub_id": self.shop_sub_id,
            "gestan_id": self.gestan_id,
            "status": self.status,
            "outcome": self.outcome,
            "invoice": self.invoice,
            "message": self.message,
        } | ({"territory": self.territory} if self.territory else {})


@dataclass
class Report:
    flow: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    results: list[RowResult] = field(default_factory=list)
    stopped: bool = False
    error: str = ""  # what ended the run early, if anything
    notes: list[str] = field(default_factory=list)  # what the run could not do, said once

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(Outcome.ALL, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    @property
    def ok(self) -> bool:
        counts = self.counts
        return not (counts[Outcome.FAILED] or counts[Outcome.BLOCKED] or self.error)

    def as_json(self) -> dict:
        return {
            "flow": self.flow,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "finished_at": self.finished_at.isoformat(timespec="seconds")
            if self.finished_at
            else None,
            "counts": self.counts,
            "stopped": self.stopped,
            "error": self.error or None,
            "notes": self.notes,
            "rows": [r.as_json() for r in self.results],
        }

    def summary(self) -> str:
        c = self.counts
        text = (
            f"{self.flow}: créées {c['created']}, mises à jour {c['updated']}, "
            f"laissées {c['skipped']}, en erreur {c['failed']}, bloquées {c['blocked']}"
        )
        if self.stopped:
            text += " (arrêtée)"
        if self.error:
            text += f"\n  exécution interrompue: {self.error}"
        for note in self.notes:
            text += f"\n  remarque: {note}"
        return text


Progress = Callable[[int, int, str], None]  # done, total, label


def shop_total(client, resource: str, filters=None, progress: Progress | None = None) -> int:
    """How many records a read will go through, from the shop's own list of ids: asked
    only when someone watches the progress, and 0 (unknown) if the shop will not say."""
    if progress is None:
        return 0
    try:
        return len(client.ids(resource, filters))
    except ConnectorError:
        return 0


def is_deadlock(exc: Exception) -> bool:
    """MariaDB's 1213 or PostgreSQL's 40P01: the server chose this transaction to undo.

    Peewee wraps the driver's error: the original is its `orig`.
    """
    for candidate in (exc, getattr(exc, "orig", None), exc.__cause__):
        if candidate is None:
            continue
        if getattr(candidate, "pgcode", None) == "40P01":
            return True
        if candidate.args and candidate.args[0] == 1213:
            return True
    return False


def unattended(rows: Iterable[Row]) -> list[Row]:
    """The rows a run without a user does, selected: those with work to do, plus the
    blocked and conflicting ones so that the report says why they were left."""
    chosen = [row for row in rows if row.selected or row.blocked or row.conflict]
    for row in chosen:
        row.selected = True
    return chosen


@dataclass
class RunState:
    """One execution in progress: its report and its row in the sync run table."""

    report: Report
    run: m.SyncRun
    done: int = 0
    total: int = 0
    deadline: float = float("inf")  # time.monotonic() past which the run stops (a cron's)

    def past_deadline(self) -> bool:
        if time.monotonic() <= self.deadline:
            return False
        if not self.report.stopped:
            self.report.notes.append(
                "arrêtée à l'heure limite de la run (sync.max_minutes): la suivante reprend"
            )
        self.report.stopped = True
        return True


def record_run_lines(run_id: int, results: list[RowResult]) -> None:
    """The run's history of these rows, one SyncRunLine each, in one insert."""
    insert_rows(
        m.SyncRunLine,
        [
            {
                "run": run_id,
                "shop_id": result.shop_id,
                "shop_sub_id": result.shop_sub_id,
                "gestan_id": result.gestan_id,
                "status": result.status[:64],
                "outcome": result.outcome,
                "message": result.message,
            }
            for result in results
        ],
    )


class Flow(ABC):
    """read() decides, writes nothing; execute() does the selected rows, one transaction each."""

    name = ""
    # What the flow asks of the Webservice {resource: methods}: what it cannot do
    # without, and what it goes on without (`check` says both; a test holds them true)
    NEEDS: dict[str, set[str]] = {}
    OPTIONAL: dict[str, set[str]] = {}

    def __init__(self, client: SyncWebservice):
        self.client = client

    @abstractmethod
    def read(self, progress: Progress | None = None) -> list[Row]: ...

    def read_pages(self, progress: Progress | None = None) -> Iterator[list[Row]]:
        """The rows a page at a time; flows whose rows stand alone override this."""
        yield self.read(progress)

    def carry_on(self, reader: Flow) -> None:
        """Take over what `reader` learnt while it read the rows this flow is to execute
        (a screen reads with one flow and executes with another). Most flows learn
        nothing that outlives their rows."""
        return None

    @abstractmethod
    def apply(self, row: Row) -> RowResult:
        """Do one row inside the open transaction; raise to roll it back."""

    # Rows are committed a chunk at a time, each row in its own savepoint: one failing
    # row rolls back alone, a chunk costs one disk sync instead of one per row, and a
    # process killed mid-chunk loses only that chunk, whole (its links and cursor too).
    CHUNK = 20
    # A deadlock (two runs writing the same rows) undoes the whole transaction on
    # MariaDB: the chunk is done again from its start, a few times.
    DEADLOCK_ATTEMPTS = 3

    def execute(
        self,
        rows: Iterable[Row],
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> Report:
        run = self.start_run()
        try:
            rows = list(rows)
            ordered = [r for r in rows if not self.deferred(r)]
            ordered += [r for r in rows if self.deferred(r)]
            self.run_rows(run, ordered, progress=progress, cancel=cancel)
        except BaseException as exc:
            self._abandon(run, exc)
            raise
        return self.finish_run(run)

    def deferred(self, row: Row) -> bool:
        """Whether a row is done after all the others of its run (an order invoiced today
        comes after those invoiced on their own, earlier, day)."""
        return False

    def stream(
        self, *, progress: Progress | None = None, cancel: threading.Event | None = None
    ) -> Report:
        """Read a page, do it, forget it: memory stays flat whatever the shop's size.

        Headless use (cron, scripts): the rows done are those `unattended` picks. Each
        page's rows are committed before the next page is read.
        """
        state = self.start_run()
        later: list[Row] = []
        try:
            for page in self.read_pages():
                if (cancel is not None and cancel.is_set()) or state.past_deadline():
                    state.report.stopped = True  # (a signal or the deadline while reading)
                rows = unattended(page)
                later += [row for row in rows if self.deferred(row)]
                rows = [row for row in rows if not self.deferred(row)]
                self.run_rows(state, rows, progress=progress, cancel=cancel)
                if state.report.stopped or state.report.error:
                    break
            else:
                self.run_rows(state, later, progress=progress, cancel=cancel)
        except BaseException as exc:
            self._abandon(state, exc)
            raise
        return self.finish_run(state)

    def start_run(self) -> RunState:
        """The run's record and the flow's lock: one run of a flow at a time."""
        refcache.clear()  # reference data is read afresh once per run
        run_lock.acquire(self.name)
        try:
            minutes = int(settings.get("sync.max_minutes"))
            return RunState(
                Report(self.name, m.now()),
                m.SyncRun.create(flow=self.name),
                deadline=time.monotonic() + 60 * minutes if minutes else float("inf"),
            )
        except BaseException:
            run_lock.release(self.name)  # never a lock without its run
            raise

    def _abandon(self, state: RunState, exc: BaseException) -> None:
        """A run that ends on an error nothing caught: its record closed, its lock let go."""
        try:
            m.SyncRun.update(
                finished_at=m.now(),
                status="stopped" if isinstance(exc, KeyboardInterrupt) else "failed",
                message=str(exc)[:2000] or type(exc).__name__,
                **{k: state.report.counts[k] for k in Outcome.ALL},
            ).where(m.SyncRun.id == state.run.id).execute()
            run_lock.release(self.name)
        except (pw.DatabaseError, pw.InterfaceError) as trouble:
            if database_trouble(trouble) is None:
                raise  # (a gone database: the next start closes the run)

    def run_rows(
        self,
        state: RunState,
        rows: Iterable[Row],
        *,
        progress: Progress | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        rows = [row for row in rows if row.selected]
        state.total += len(rows)
        report = state.report
        for start in range(0, len(rows), self.CHUNK):
            if report.stopped or report.error:
                return
            chunk = rows[start : start + self.CHUNK]
            for attempt in range(1, self.DEADLOCK_ATTEMPTS + 1):
                kept, memory = len(report.results), self.chunk_memory()
                try:
                    with write_transaction():
                        self._run_chunk(state, chunk, progress, cancel)
                    break
                except (pw.DatabaseError, pw.InterfaceError) as exc:  # the chunk is undone
                    undone = len(report.results) - kept
                    del report.results[kept:]
                    state.done -= undone
                    self.forget_undone(memory)
                    if is_deadlock(exc) and attempt < self.DEADLOCK_ATTEMPTS:
                        # another writer won: it has let go by now, the chunk is done again
                        time.sleep(0.05 * attempt)
                        continue
                    cause = database_trouble(exc) or f"la base Gestan les a refusées ({exc})"
                    report.error = f"{cause}: les {undone} dernières lignes n'ont pas été gardées"
                    return

    def chunk_memory(self):
        """What the flow remembers of the rows it writes, as a chunk begins: given back
        to forget_undone should the chunk be undone."""
        return None

    def forget_undone(self, memory) -> None:
        """A transaction was undone: what was cached of the rows it wrote (a fiscal year
        opened, a product made) is gone with them, and the flow's memory is as before."""
        refcache.clear()  # (read again where asked)

    def _run_chunk(self, state: RunState, rows: list[Row], progress, cancel) -> None:
        report = state.report
        for row in rows:
            if (cancel is not None and cancel.is_set()) or state.past_deadline():
                report.stopped = True
                return
            result = self._run_one(row)
            report.results.append(result)
            record_run_lines(state.run.id, [result])
            state.done += 1
            if progress:
                progress(state.done, state.total, row.columns.get("label", row.key))
            if result.fatal:
                report.error = result.message
                return

    def finish_run(self, state: RunState) -> Report:
        report = state.report
        report.finished_at = m.now()
        counts = report.counts
        try:
            m.SyncRun.update(
                finished_at=report.finished_at,
                status="stopped" if report.stopped else ("failed" if report.error else "done"),
                message=report.error,
                **{k: counts[k] for k in Outcome.ALL},
            ).where(m.SyncRun.id == state.run.id).execute()
            run_lock.release(self.name)
        except (pw.DatabaseError, pw.InterfaceError) as exc:
            cause = database_trouble(exc)
            if cause is None:
                raise
            # the database is gone: the report says so; the next start closes the run
            report.error = report.error or cause
        return report

    def _run_one(self, row: Row) -> RowResult:
        if row.blocked:
            return RowResult.of(row, Outcome.BLOCKED, row.reason)
        if row.conflict and not row.choices.get("winner"):
            return RowResult.of(row, Outcome.SKIPPED, f"conflit laissé tel quel: {row.reason}")
        try:
            with write_transaction():
                return self.apply(row)
        except (PrestaShopError, ConnectorError) as exc:
            # exit code 3: the shop or the database is gone, the next rows would fail alike
            return RowResult.of(row, Outcome.FAILED, str(exc), fatal=exc.exit_code == 3)
        except (pw.DatabaseError, pw.InterfaceError) as exc:
            if is_deadlock(exc) or database_trouble(exc):
                raise  # the chunk's transaction is gone: run_rows says why
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return RowResult.of(
                row, Outcome.FAILED, detail, fatal=isinstance(exc, pw.OperationalError)
            )
        except MAPPING_ERRORS as exc:  # this row's data: the next may do
            detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
            return RowResult.of(row, Outcome.FAILED, detail)


# --- cursors: where an incremental read stopped ---------------------------------------


def read_cursor(name: str) -> str:
    cursor = m.Cursor.get_or_none(m.Cursor.name == name)
    return cursor.value if cursor else ""


def write_cursor(name: str, value: str) -> None:
    """Inside the transaction of the rows it follows: moved with them or not at all."""
    if m.Cursor.select().where(m.Cursor.name == name).exists():
        m.Cursor.update(value=value, updated_at=m.now()).where(m.Cursor.name == name).execute()
    else:
        m.Cursor.create(name=name, value=value)


# --- links: which Gestan record is this shop record? ----------------------------------


def content_hash(values: Any) -> str:
    text = json.dumps(values, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Change:
    """What a linked pair needs since its last synchronisation."""

    status: Status
    action: str | None = None
    reason: str = ""

    @property
    def conflict(self) -> bool:
        return self.status == Status.CONFLICT


def two_way(link, shop_digest: str, gestan_updated_at: dt.datetime, gestan_same: bool) -> Change:
    """The one two-way decision (products, special prices): the shop changed when its
    digest is not the link's; Gestan changed when edited after the synchronisation and
    now different from the shop's; both is a conflict for the user to settle."""
    shop_changed = link.content_hash != shop_digest
    gestan_changed = gestan_updated_at > link.synced_at and not gestan_same
    if shop_changed and gestan_changed:
        return Change(
            Status.CONFLICT, reason="modifié des deux côtés depuis la dernière synchronisation"
        )
    if shop_changed:
        return Change(Status.UPDATE_GESTAN, Action.UPDATE_GESTAN)
    if gestan_changed:
        return Change(Status.UPDATE_SHOP, Action.UPDATE_SHOP)
    return Change(Status.UP_TO_DATE)
