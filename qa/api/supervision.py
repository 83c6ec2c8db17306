"""A worker of `qa serve --workers N` stops when its supervisor dies, not serving on as an orphan."""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading

log = logging.getLogger(__name__)


def stop_when_parent_dies() -> None:
    """In a worker that uvicorn's supervisor spawned, stop gracefully (SIGTERM, as the supervisor
    itself would send) once the supervisor is gone: killed with SIGKILL, it could not stop its
    workers, which kept the port and answered on, so the next `qa serve` found the port in use.
    Nothing in a process that was not spawned (one worker, tests): its parent is a shell."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        log.warning("the server's supervisor (pid %s) is gone: this worker stops", parent.pid)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="watch-supervisor", daemon=True).start()
