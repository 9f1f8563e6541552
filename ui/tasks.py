"""Background work for the window: one pool for the database, one for network and documents.

Nothing slow runs on the GUI thread. A task is a plain function
`fn(token, progress)` run on a pool; its result, failure and progress come back to
the GUI thread through a relay object that lives there.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from shiboken6 import isValid

from backoffice.errors import Cancelled

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


class _Relay(QObject):
    """Lives on the GUI thread; worker threads emit, slots run on the GUI thread."""

    progressed = Signal(int, int, str)
    done = Signal(object)
    errored = Signal(object)

    def __init__(self, manager: TaskManager, on_success, on_failure, on_progress, owner: QObject | None) -> None:
        super().__init__()
        self._manager = manager
        self._on_success = on_success
        self._on_failure = on_failure
        self._on_progress = on_progress
        self._owner = owner
        self.owner_link = None
        self.progressed.connect(self._progress)
        self.done.connect(self._done)
        self.errored.connect(self._error)

    def _owner_gone(self) -> bool:
        """True when the widget that asked for the work was closed and deleted before it finished."""
        return self._owner is not None and not isValid(self._owner)

    @Slot(int, int, str)
    def _progress(self, done: int, total: int, text: str) -> None:
        if self._on_progress and not self._owner_gone():
            self._on_progress(done, total, text)

    @Slot(object)
    def _done(self, result: Any) -> None:
        try:
            if self._on_success and not self._owner_gone():
                self._on_success(result)
        finally:
            self._manager._forget(self)

    @Slot(object)
    def _error(self, exc: BaseException) -> None:
        try:
            if isinstance(exc, Cancelled):
                return
            if self._owner_gone():
                log.info("a task ended after its screen closed: %s", type(exc).__name__)
                return
            if self._on_failure:
                self._on_failure(exc)
            else:
                from ui.errors import show_error

                show_error(None, exc)
        finally:
            self._manager._forget(self)


def _owner_of(*callbacks) -> QObject | None:
    """The QObject a callback is a bound method of, if any."""
    for callback in callbacks:
        target = getattr(callback, "__self__", None)
        if isinstance(target, QObject):
            return target
    return None


class _Runnable(QRunnable):
    def __init__(self, fn, relay: _Relay, token: CancelToken) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._relay = relay
        self._token = token

    def run(self) -> None:  # worker thread
        def progress(done: int, total: int, text: str = "") -> None:
            self._token.raise_if_cancelled()
            self._relay.progressed.emit(int(done), int(total), text)

        try:
            result = self._fn(self._token, progress)
        except BaseException as exc:  # delivered to the GUI thread, never lost
            if not isinstance(exc, Cancelled):
                log.debug("task failed: %s", "".join(traceback.format_exception(exc)))
            self._relay.errored.emit(exc)
        else:
            self._relay.done.emit(result)


class TaskManager(QObject):
    """Owns the pools; `run_db` for database work (one writer), `run_io` for the rest."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db_pool = QThreadPool(self)
        self.db_pool.setMaxThreadCount(1)
        self.io_pool = QThreadPool(self)
        self.io_pool.setMaxThreadCount(3)
        self._live: set[_Relay] = set()

    def _start(self, pool: QThreadPool, fn, on_success, on_failure, on_progress, owner) -> CancelToken:
        token = CancelToken()
        owner = owner if owner is not None else _owner_of(on_success, on_failure, on_progress)
        relay = _Relay(self, on_success, on_failure, on_progress, owner)
        if owner is not None:
            # Work nobody will see is cancelled at its next check.
            relay.owner_link = owner.destroyed.connect(token.cancel)
        self._live.add(relay)
        pool.start(_Runnable(fn, relay, token))
        return token

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
        the owner is the widget whose bound method is a callback.
        """
        return self._start(self.db_pool, fn, on_success, on_failure, on_progress,
                           owner)

    def run_io(
        self,
        fn: Callable[[CancelToken, Callable[..., None]], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
        owner: QObject | None = None,
    ) -> CancelToken:
        """Run `fn(token, progress)` on the network and documents pool.

        The callbacks are skipped, and the token cancelled, once `owner` is deleted; by default
        the owner is the widget whose bound method is a callback.
        """
        return self._start(self.io_pool, fn, on_success, on_failure, on_progress,
                           owner)

    def _forget(self, relay: _Relay) -> None:
        self._live.discard(relay)
        if relay.owner_link is not None and not relay._owner_gone():
            QObject.disconnect(relay.owner_link)

    def busy(self) -> bool:
        return bool(self._live)

    def wait_all(self, msecs: int = 10_000) -> bool:
        """Wait for every running task (used at shutdown and in tests)."""
        a = self.db_pool.waitForDone(msecs)
        b = self.io_pool.waitForDone(msecs)
        return a and b
