"""Errors a user can act on. Each says what went wrong and what to do about it.

`exit_code` is the one the README promises: 2 bad usage or settings, 3 the
shop or the database could not be reached or refused the key, 4 a run of the same
flow is still going.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error we show to a user as a message, never as a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class SettingsError(ConnectorError):
    """A setting or a command-line value is not valid."""

    exit_code = 2


class DatabaseError(ConnectorError):
    """The Gestan database cannot be opened or used."""

    exit_code = 3


class AlreadyRunning(ConnectorError):
    """Another run of the same flow holds its lock (cron runs overlapping)."""

    exit_code = 4
