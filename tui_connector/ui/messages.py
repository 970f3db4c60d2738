"""Messages the workers post back to the screens: past tense, carrying their data."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui_connector.sync.core import Report, Row


@dataclass
class RowsRead(Message):
    """A read starts (the table empties) or is over; its rows come as RowsAdded pages."""

    done: bool


@dataclass
class RowsAdded(Message):
    """One more page of rows, shown at once while the next one is read."""

    rows: list[Row]


@dataclass
class SyncProgressed(Message):
    done: int
    total: int
    label: str

    def can_replace(self, message: Message) -> bool:  # a flood of progress is merged
        return isinstance(message, SyncProgressed)


@dataclass
class SyncFinished(Message):
    report: Report


@dataclass
class WorkFailed(Message):
    """A read or a run ended with an error the user can act on."""

    message: str
