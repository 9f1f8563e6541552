"""The database, opened on a thread of its own while the window paints.

Opening a database means importing SQLAlchemy and the data model (most of a second on a
slow desk), connecting, and checking the schema is current. None of that is needed to draw
the window: the main window paints first and the screens fill in once the database is
there. What asks for the database before then waits for it (`AppContext.db`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal

if TYPE_CHECKING:
    from backoffice.db import Database


def open_migrated(url: str) -> Database:
    """The database at `url`, opened and migrated (filling the customer search index after an
    upgrade is the caller's, with its progress on screen: `ui.shell.app`)."""
    from backoffice.db import open_database  # late: SQLAlchemy loads behind the painted window

    return open_database(url)


class DatabaseOpening(QObject):
    """Opens `url` on a thread; `opened` (the Database) or `failed` (the error) follows, once."""

    opened = Signal(object)
    failed = Signal(object)
    # With `opened`, without its argument: a bound method connected here is let go with its
    # object (see `AppContext.when_ready`).
    now_open = Signal()
    # From the opening thread to this object's (the GUI) thread, where `opened`/`failed` go out.
    _finished = Signal()

    def __init__(self, url: str, parent: QObject | None = None, *, opener=open_migrated) -> None:
        super().__init__(parent)
        self.url = url
        self._opener = opener
        self._done = threading.Event()
        self._db: Database | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        self._finished.connect(self._announce, Qt.ConnectionType.QueuedConnection)

    @classmethod
    def already_open(cls, db: Database) -> DatabaseOpening:
        opening = cls(str(db.url))
        opening._db = db
        opening._done.set()
        return opening

    def start(self) -> DatabaseOpening:
        if self._thread is None and not self._done.is_set():
            self._thread = threading.Thread(target=self._run, name="database-opening", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        try:
            self._db = self._opener(self.url)
        except BaseException as exc:  # handed to whoever waits, and to the window
            self._error = exc
        self._done.set()
        self._finished.emit()

    def _announce(self) -> None:
        if self._error is None:
            self.opened.emit(self._db)
            self.now_open.emit()
        else:
            self.failed.emit(self._error)

    def looks_new(self) -> bool:
        """Whether the database is a SQLite file not there yet (the opening creates it)."""
        prefix = "sqlite:///"
        if not self.url.startswith(prefix):
            return False
        path = self.url[len(prefix):].split("?", 1)[0]
        return bool(path) and path != ":memory:" and not Path(path).exists()

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._error is None

    @property
    def error(self) -> BaseException | None:
        return self._error if self._done.is_set() else None

    def result(self, timeout: float | None = None) -> Database:
        """The database, waiting for it if it is still being opened; raises what opening it raised."""
        self.start()
        if not self._done.wait(timeout):
            raise TimeoutError("the database is still being opened")
        if self._error is not None:
            raise self._error
        return self._db
