"""Background work for the window: one pool for the database, one for network and documents.

Nothing slow runs on the GUI thread. A task is a plain function
`fn(token, progress)` run on a pool; its result, failure and progress come back to
the GUI thread through the manager's bridge object, which lives there.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

from backoffice.errors import Cancelled, UserFacingError
from ui.common.errors import show_error

log = logging.getLogger(__name__)


class CancelToken:
    """Set by the GUI, checked by long services between pages."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


class _Task:
    """One piece of work as the GUI thread knows it: its callbacks, its owner and its token."""

    __slots__ = ("on_success", "on_failure", "on_progress", "owner", "token", "owner_link")

    def __init__(self, on_success, on_failure, on_progress, owner: QObject | None, token: CancelToken) -> None:
        self.on_success = on_success
        self.on_failure = on_failure
        self.on_progress = on_progress
        self.owner = owner
        self.token = token
        self.owner_link = None

    def owner_gone(self) -> bool:
        """True when the widget that asked for the work was closed and deleted before it finished."""
        return self.owner is not None and not isValid(self.owner)


class _Bridge(QObject):
    """Lives on the GUI thread as long as the manager; workers emit, its slots run on the GUI thread.

    Workers hold only a task's number and the work itself, and hand the work back with its
    outcome, so every callback, widget and closure is let go on the GUI thread, never on a
    worker (where dropping the last reference to a widget would delete it on the wrong thread).
    """

    progressed = Signal(int, int, int, str)
    done = Signal(int, object)
    errored = Signal(int, object)


def _owner_of(*callbacks) -> QObject | None:
    """The QObject a callback is a bound method of, or, for a function written inside a
    widget's method, the widget it uses (`self` among the values it closes over)."""
    for callback in callbacks:
        target = getattr(callback, "__self__", None)
        if isinstance(target, QObject):
            return target
    for callback in callbacks:
        code = getattr(callback, "__code__", None)
        cells = getattr(callback, "__closure__", None) or ()
        if code is None:
            continue
        for name, cell in zip(code.co_freevars, cells):
            try:
                value = cell.cell_contents
            except ValueError:  # a cell not filled yet
                continue
            if name == "self" and isinstance(value, QObject):
                return value
    return None


class _Runnable(QRunnable):
    def __init__(self, fn, number: int, bridge: _Bridge, token: CancelToken) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._number = number
        self._bridge = bridge
        self._token = token

    def run(self) -> None:  # worker thread
        number, bridge, token = self._number, self._bridge, self._token
        fn, self._fn = self._fn, None

        def progress(done: int, total: int, text: str = "") -> None:
            token.raise_if_cancelled()
            bridge.progressed.emit(number, int(done), int(total), text)

        try:
            outcome, signal = (fn(token, progress), fn), bridge.done
        except BaseException as exc:  # delivered to the GUI thread, never lost
            if not isinstance(exc, Cancelled):
                log.debug("task failed: %s", "".join(traceback.format_exception(exc)))
            # A collision with another desk's work is told in words, as any refusal is.
            from backoffice.db import as_user_facing  # late: the database module is heavy at start-up

            outcome, signal = (as_user_facing(exc), fn), bridge.errored
        del fn
        signal.emit(number, outcome)
        # The queued signal holds the outcome now: the GUI thread lets go of it last.
        del outcome


class TaskManager(QObject):
    """Owns the pools; `run_db` for database work (one writer), `run_io` for the rest."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_pool = QThreadPool(self)
        self.db_pool.setMaxThreadCount(1)
        self.io_pool = QThreadPool(self)
        self.io_pool.setMaxThreadCount(3)
        self._live: dict[int, _Task] = {}
        self._numbers = itertools.count(1)
        self._bridge = _Bridge(self)
        self._bridge.progressed.connect(self._progress)
        self._bridge.done.connect(self._done)
        self._bridge.errored.connect(self._error)

    def _start(self, pool: QThreadPool, fn, on_success, on_failure, on_progress, owner,
               priority: int = 0) -> CancelToken:
        token = CancelToken()
        owner = owner if owner is not None else _owner_of(on_success, on_failure, on_progress)
        task = _Task(on_success, on_failure, on_progress, owner, token)
        if owner is not None:
            # Work nobody will see is cancelled at its next check. The slot is the manager's
            # own, so no hidden receiver object is made (or freed) for each task.
            task.owner_link = owner.destroyed.connect(self._owner_destroyed)
        number = next(self._numbers)
        self._live[number] = task
        pool.start(_Runnable(fn, number, self._bridge, token), priority)
        return token

    @Slot()
    def _owner_destroyed(self, *_args) -> None:
        for task in self._live.values():
            if task.owner_gone():
                task.token.cancel()

    @Slot(int, int, int, str)
    def _progress(self, number: int, done: int, total: int, text: str) -> None:
        task = self._live.get(number)
        if task is not None and task.on_progress and not task.owner_gone():
            task.on_progress(done, total, text)

    @Slot(int, object)
    def _done(self, number: int, outcome: tuple) -> None:
        task = self._live.pop(number, None)
        if task is None:
            return
        try:
            if task.on_success and not task.owner_gone():
                task.on_success(outcome[0])
        finally:
            self._forget(task)

    @Slot(int, object)
    def _error(self, number: int, outcome: tuple) -> None:
        task = self._live.pop(number, None)
        if task is None:
            return
        exc = outcome[0]
        try:
            if isinstance(exc, Cancelled):
                return
            if task.owner_gone():
                # Nobody is left to tell: the log keeps what went wrong, whole.
                level = logging.WARNING if isinstance(exc, UserFacingError) else logging.ERROR
                log.log(level, "work failed after its screen closed: %s", exc,
                        exc_info=(type(exc), exc, exc.__traceback__))
                return
            if task.on_failure:
                task.on_failure(exc)
            else:
                show_error(None, exc)
        finally:
            self._forget(task)

    def run_db(
        self,
        fn: Callable[[CancelToken, Callable[..., None]], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        owner: QObject | None = None,
    ) -> CancelToken:
        """Run `fn(token, progress)` on the database pool.

        The callbacks are skipped, and the token cancelled, once `owner` is deleted; by default
        the owner is the widget a callback is a method of, or whose `self` a callback written
        inside its method uses.
        """
        return self._start(self.db_pool, fn, on_success, on_failure, on_progress, owner)

    def run_io(
        self,
        fn: Callable[[CancelToken, Callable[..., None]], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        owner: QObject | None = None,
        priority: int = 0,
    ) -> CancelToken:
        """Run `fn(token, progress)` on the network and documents pool; callbacks and owner as
        for `run_db`. Work waiting for a thread starts in order of `priority`, highest first."""
        return self._start(self.io_pool, fn, on_success, on_failure, on_progress, owner, priority)

    @staticmethod
    def _forget(task: _Task) -> None:
        if task.owner_link is not None and not task.owner_gone():
            QObject.disconnect(task.owner_link)
        task.owner_link = None

    def busy(self) -> bool:
        return bool(self._live)

    def wait_all(self, msecs: int = 10_000) -> bool:
        """Wait for every running task (used at shutdown and in tests)."""
        a = self.db_pool.waitForDone(msecs)
        b = self.io_pool.waitForDone(msecs)
        return a and b
