"""A file database's WAL checkpointed by a thread of its own, never by an update.

Why: SQLite checkpoints by itself in the connection whose COMMIT takes the WAL past
``wal_autocheckpoint`` pages (1,000 by default): that COMMIT copies the pages back
into the database file and, with ``synchronous=NORMAL`` (storage/db.py), fsyncs the
WAL and the file. On the in-loop driver (storage/sqlite_inloop.py) that COMMIT runs
in the event loop's thread, so every user of the process waits for it: in
bench/dialogue.py 8 of ~1,500 commits took 0.5–10.6 ms, 30 ms in all, about 2.5 %
of the dialogue's whole time and its p99. Here a daemon thread with a connection of
its own runs ``PRAGMA wal_checkpoint(PASSIVE)`` every ``interval_s``; sqlite3
releases the GIL while it copies and syncs, so the loop goes on meanwhile. PASSIVE
waits for no reader or writer and blocks none, so the in-loop driver's rule that
SQLite never sleeps in the loop thread holds.

The serving connections keep SQLite's own checkpoint only as a safety net, at
``SAFETY_NET_PAGES`` (the thread stopped or far behind: the WAL stays bounded).
Durability is unchanged: a checkpoint only copies what the WAL already holds.

One checkpointer per database file and process, shared by the engines on that file;
it stops when the last of them is disposed or collected, and starts again when a
disposed engine connects anew.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import threading
import weakref

from sqlalchemy import event
from sqlalchemy.engine import Engine

log = logging.getLogger("zapis.storage")

# Between two checkpoints: under load (~1,000 updates/s of a few pages each) the WAL
# reaches a few thousand pages, ~10–20 MB, before the thread copies them back.
CHECKPOINT_INTERVAL_S = 1.0
# SQLite's own checkpoint on the serving connections: only when the thread did not
# run for a long while (~40 MB of WAL at 4 KiB pages).
SAFETY_NET_PAGES = 10_000


class WalCheckpointer:
    """Checkpoints one database file from a daemon thread (see the module docstring)."""

    def __init__(self, path: str, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.checkpoints = 0  # checkpoints that copied frames back
        # SQLite's last answer: (busy, frames in the WAL, frames of it in the file).
        self.last: tuple[int, int, int] = (0, 0, 0)
        self._engines: weakref.WeakSet[Engine] = weakref.WeakSet()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def serve(self, engine: Engine) -> None:
        """Run for ``engine`` (and whoever else uses the file) until it is disposed."""
        with self._lock:
            self._engines.add(engine)
            if self.running and not self._stop.is_set():
                return
            # (A thread told to stop may still be finishing: it has its own event and ends.)
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="zapis-wal-checkpoint", daemon=True
            )
            self._thread.start()

    def release(self, engine: Engine) -> None:
        """``engine`` was disposed: stop once no engine on the file is left."""
        with self._lock:
            self._engines.discard(engine)
            if len(self._engines) == 0:
                self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def checkpoint_now(self, connection: sqlite3.Connection) -> None:
        """One PASSIVE checkpoint on ``connection`` (the thread's, or a test's)."""
        busy, wal_frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        answer = (int(busy), int(wal_frames), int(copied))
        if copied > 0 and answer != self.last:  # (an idle WAL answers the same again)
            self.checkpoints += 1
        self.last = answer

    def _run(self, stop: threading.Event) -> None:
        try:
            connection = sqlite3.connect(
                self.path, timeout=0, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            log.warning("WAL checkpointer not started for the database: %s", error)
            return
        try:
            while not stop.wait(self.interval_s):
                if len(self._engines) == 0:  # (every engine collected without a dispose)
                    break
                try:
                    self.checkpoint_now(connection)
                except sqlite3.Error as error:  # (busy, a file replaced): the next round
                    log.debug("WAL checkpoint skipped: %s", error)
        finally:
            connection.close()


_BY_PATH: dict[str, WalCheckpointer] = {}
_REGISTRY_LOCK = threading.Lock()


def checkpointer_for(path: str) -> WalCheckpointer:
    with _REGISTRY_LOCK:
        found = _BY_PATH.get(path)
        if found is None:
            found = _BY_PATH[path] = WalCheckpointer(path)
        return found


def checkpoint_in_thread(engine: Engine, path: str) -> WalCheckpointer:
    """Hand ``engine``'s WAL checkpoints to the file's thread: called by storage/db.py for
    a file database once a connection reports WAL mode (that connection's automatic
    checkpoint is lowered to the safety net there)."""
    checkpointer = checkpointer_for(path)
    checkpointer.serve(engine)
    if not event.contains(engine, "engine_disposed", _on_dispose):
        event.listen(engine, "engine_disposed", _on_dispose)
    return checkpointer


def _on_dispose(engine: Engine) -> None:
    database = engine.url.database
    if database:
        found = _BY_PATH.get(database)
        if found is not None:
            found.release(engine)


@atexit.register
def _stop_all() -> None:
    for checkpointer in list(_BY_PATH.values()):
        checkpointer.stop(timeout=1.0)
