"""Writing many rows with a few statements: what the flows' bulk writers share.

Peewee builds the SQL of each statement in Python, which costs far more than
SQLite's own work for one row: a page of rows is planned in memory, then goes in
one INSERT per table and its changes in one UPDATE per table
(gestan.database.insert_rows and update_rows). Lookups are read once per chunk,
never once per row.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from itertools import groupby

import peewee as pw

from tui_connector.gestan import models as m
from tui_connector.gestan.database import database_trouble
from tui_connector.sync.core import Flow, Row, RowResult, is_deadlock, record_run_lines


class Alone(Exception):
    """A row a chunk writer does not plan for: the flow's apply() does it, as always."""


class ChunkWriter(ABC):
    """A chunk's rows as the flow's apply() would do them, one after the other, planned
    in memory on what Gestan holds (read in a few queries when the writer is made),
    then written with a few statements per table."""

    def __init__(self, flow: Flow):
        self.flow = flow
        self.planned: list[tuple[Row, RowResult]] = []

    @abstractmethod
    def plan_row(self, row: Row) -> RowResult:
        """What apply() does to `row`, in memory; raise Alone when unsure. Whatever can
        fail is asked first: a row that raises leaves the plan as it was."""

    @abstractmethod
    def write_planned(self) -> None:
        """Write what is planned (inside a savepoint) and give the results their ids."""

    def plan(self, row: Row) -> RowResult:
        if row.blocked or (row.conflict and not row.choices.get("winner")):
            return self.flow._run_one(row)  # (it writes nothing)
        try:
            result = self.plan_row(row)
        except Alone:
            raise
        except Exception as exc:  # apply() says what is wrong, in its own words
            raise Alone from exc
        self.planned.append((row, result))
        return result

    def write(self) -> None:
        """Once, when the chunk is planned (or before a row apply() does alone). Should a
        statement fail on a row (a code taken meanwhile, a value out of range), all that
        was planned is undone and done again by apply(), each row alone, as before."""
        if not self.planned:
            return
        try:
            with m.database_proxy.obj.atomic():  # a savepoint
                self.write_planned()
        except (pw.DatabaseError, pw.InterfaceError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, pw.DatabaseError | pw.InterfaceError) and (
                is_deadlock(exc) or database_trouble(exc)
            ):
                raise  # the chunk's transaction is gone: run_rows says why
            for row, result in self.planned:
                vars(result).update(vars(self.flow._run_one(row)))
        self.planned = []


class BulkChunks:
    """For a Flow: the rows that write Gestan only (or nothing) go BULK_CHUNK to a
    transaction, planned by a ChunkWriter and written in bulk; the others (those that
    ask the shop) keep the base's small chunks, so that a transaction never waits long
    on the shop. The rows keep their order; a stop still falls between two rows."""

    BULK_CHUNK = 500

    def in_bulk(self, row: Row) -> bool:
        raise NotImplementedError

    def chunk_writer(self, rows: list[Row]) -> ChunkWriter:
        raise NotImplementedError

    def run_rows(self, state, rows, *, progress=None, cancel=None) -> None:
        rows = [row for row in rows if row.selected]
        state.total += len(rows)
        for bulk, group in groupby(rows, key=self.in_bulk):
            group = list(group)
            state.total -= len(group)  # (the base counts them again)
            self.CHUNK = self.BULK_CHUNK if bulk else Flow.CHUNK
            super().run_rows(state, group, progress=progress, cancel=cancel)
            if state.report.stopped or state.report.error:
                return

    def _run_chunk(self, state, rows: list[Row], progress, cancel) -> None:
        if not all(self.in_bulk(row) for row in rows):
            super()._run_chunk(state, rows, progress, cancel)
            return
        report = state.report
        writer = self.chunk_writer(rows)
        done: list[RowResult] = []
        for index, row in enumerate(rows):
            if (cancel is not None and cancel.is_set()) or state.past_deadline():
                report.stopped = True
                break
            try:
                result = writer.plan(row)
            except Alone:
                writer.write()  # what was planned first: the row may need it
                result = self._run_one(row)
                writer = self.chunk_writer(rows[index + 1 :])  # Gestan has changed
            report.results.append(result)
            done.append(result)
            state.done += 1
            if progress:
                progress(state.done, state.total, row.columns.get("label", row.key))
            if result.fatal:
                report.error = result.message
                break
        writer.write()
        record_run_lines(state.run.id, done)
