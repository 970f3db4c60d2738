"""One run of a flow at a time, whatever starts it (two cron jobs, cron and the TUI).

The lock is a row of the Gestan database (`run_lock`), so it holds across machines
sharing one database. It names its process; a lock whose process is gone (killed,
the machine restarted) is taken over, and the runs it left "running" are marked
interrupted.
"""

from __future__ import annotations

import os
import socket

import peewee as pw

from tui_connector.errors import AlreadyRunning
from tui_connector.gestan import models as m
from tui_connector.gestan.database import write_transaction


def _alive(lock: m.RunLock) -> bool:
    if lock.host != socket.gethostname():
        return True  # another machine's process: it cannot be asked here
    try:
        os.kill(lock.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process, alive
    return True


_held: dict[str, int] = {}  # flow -> how many runs of this process hold its lock


def acquire(flow: str) -> None:
    """Take the flow's lock, or say who holds it (AlreadyRunning, exit code 4). A run
    within a run of this process shares it; the last to end lets it go."""
    me, host = os.getpid(), socket.gethostname()
    if _held.get(flow):
        _held[flow] += 1
        return
    try:
        with write_transaction():
            lock = m.RunLock.get_or_none(m.RunLock.flow == flow)
            if lock is not None and (lock.pid, lock.host) == (me, host):
                m.RunLock.delete().where(m.RunLock.flow == flow).execute()  # left by an error
                lock = None
            if lock is not None and _alive(lock):
                article = "d'" if flow[:1] in "aeiou" else "de "
                raise AlreadyRunning(
                    f"une exécution {article}{flow} commencée à {lock.started_at:%H:%M} par le "
                    f"processus {lock.pid}"
                    + (f" sur {lock.host}" if lock.host != host else "")
                    + " est toujours en cours",
                    hint="rien n'a été fait; relancez une fois qu'elle sera finie",
                )
            if lock is not None:  # its process is gone: what it left open was interrupted
                m.RunLock.delete().where(m.RunLock.flow == flow).execute()
                m.SyncRun.update(
                    status="interrupted",
                    finished_at=m.now(),
                    message=f"le processus {lock.pid} s'est terminé sans clore l'exécution",
                ).where((m.SyncRun.flow == flow) & (m.SyncRun.status == "running")).execute()
            m.RunLock.create(flow=flow, pid=me, host=host)
        _held[flow] = 1
    except pw.IntegrityError:  # another process took it between our look and our write
        raise AlreadyRunning(
            f"une autre exécution de {flow} vient de commencer",
            hint="rien n'a été fait; relancez plus tard",
        ) from None


def release(flow: str) -> None:
    if _held.get(flow, 0) > 1:
        _held[flow] -= 1
        return
    _held.pop(flow, None)
    m.RunLock.delete().where(
        (m.RunLock.flow == flow)
        & (m.RunLock.pid == os.getpid())
        & (m.RunLock.host == socket.gethostname())
    ).execute()
