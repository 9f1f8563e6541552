"""The sync in the window: a controller that runs it on a timer off the GUI thread, and its status-bar widget."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QSizePolicy, QWidget

from backoffice.errors import Cancelled, UserFacingError
from backoffice.services.changes import Changes
from ui.common.context import AppContext
from ui.common.tasks import CancelToken

if TYPE_CHECKING:
    from backoffice.services import sync  # late: the HTTP client loads when first used

log = logging.getLogger(__name__)


def _sync():
    """The sync service, imported when first used (on the database pool, after the window is up):
    it brings the web store's HTTP client, which opening the window does not need."""
    from backoffice.services import sync  # late: the HTTP client loads when first used

    return sync

#: How often the status (messages waiting, last run) is read again between runs.
STATUS_REFRESH_MS = 30_000


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    local = moment.astimezone()
    if local.date() == datetime.now().astimezone().date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def status_text(status: sync.SyncStatus | None, *, running: bool = False, progress: str = "") -> tuple[str, str]:
    """The status bar's short text and its tooltip for a sync status."""
    if running:
        return (f"Syncing… {progress}".strip(), "The sync with the web store is running. Click to see it.")
    if status is None:
        return ("Sync: …", "")
    if not status.configured:
        return ("Web store not set up", "Enter the web store's address and keys in Shop settings → Web store to sync with it.")
    parts = []
    if status.last_run_at is None:
        parts.append("Not synced yet")
    elif status.last_ok:
        parts.append(f"Synced {_when(status.last_run_at)}")
    else:
        parts.append(f"Sync failed {_when(status.last_run_at)}")
    if status.waiting:
        parts.append(f"{status.waiting} waiting")
    if status.failed:
        parts.append(f"{status.failed} refused")
    if status.conflicts:
        parts.append(f"{status.conflicts} to settle")
    tip = status.last_error if status.last_ok is False else status.last_summary
    return (" · ".join(parts), tip or "")


class SyncController(QObject):
    """Runs `run_sync` on the network pool every `store.sync_minutes`, one run at a time.

    After a run it publishes what changed on the context's change bus. Create one per
    main window (it registers itself as `ctx.sync_controller`), call `start()` to arm the
    timer and `shutdown()` when the window closes.
    """

    started = Signal()
    progressed = Signal(int, int, str)
    finished = Signal(object)  # SyncSummary, or None when cancelled
    failed = Signal(object)  # the exception of a run that could not start or crashed
    status_changed = Signal(object)  # SyncStatus
    busy_changed = Signal(bool)

    def __init__(
        self,
        ctx: AppContext,
        parent: QObject | None = None,
        *,
        connector_factory: Callable[[Any], Any] | None = None,
        options: sync.SyncOptions | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.connector_factory = connector_factory or (lambda db: _sync().connector_for(db))
        self.options = options
        self.status: sync.SyncStatus | None = None
        self.last_summary: sync.SyncSummary | None = None
        self.last_error: BaseException | None = None
        #: Why the status could not be read the last time it was asked for (None once it is).
        self.status_error: BaseException | None = None
        self.progress_text = ""
        self._token: CancelToken | None = None
        self._status_loading = False
        self._closed = False
        self.timer = QTimer(self)
        self.timer.setObjectName("syncTimer")
        self.timer.timeout.connect(self._timer_fired)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)
        ctx.bus.changed.connect(self._on_changes)
        ctx.sync_controller = self

    @staticmethod
    def of(ctx: AppContext, parent: QObject | None = None) -> SyncController:
        """The window's controller, or a new one (without a timer) when the window has none."""
        existing = getattr(ctx, "sync_controller", None)
        if isinstance(existing, SyncController) and not existing._closed:
            return existing
        return SyncController(ctx, parent)

    # -- timing ------------------------------------------------------------------------------

    def start(self) -> None:
        """Arm the timer from the `store.sync_minutes` setting and read the status."""
        self.refresh_status()
        self.status_timer.start()
        self._load_interval()

    def _load_interval(self) -> None:
        def work(token, progress):
            from backoffice.services import settings as settings_service  # late: after the window paints

            return settings_service.get_setting(self.ctx.db, "store.sync_minutes")

        self.ctx.tasks.run_db(work, on_success=self._set_interval, on_failure=self._log_failure)

    def _set_interval(self, minutes: Any) -> None:
        if self._closed:
            return
        try:
            minutes = int(minutes)
        except (TypeError, ValueError):
            minutes = 5
        if minutes <= 0:
            self.timer.stop()
            return
        self.timer.start(minutes * 60_000)

    def _timer_fired(self) -> None:
        if self.status is not None and not self.status.configured:
            self.refresh_status()
            return
        self.sync_now()

    def _on_changes(self, changes: Changes) -> None:
        if self._closed:
            return
        if changes.settings:
            self._load_interval()
        if changes.outbox or changes.settings:
            self.refresh_status()

    # -- running -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._token is not None

    def sync_now(self, *, full_customer_scan: bool = False) -> bool:
        """Start a run in the background; False when one is already going."""
        if self._token is not None or self._closed:
            return False
        db, factory, options = self.ctx.db, self.connector_factory, self.options
        actor = self.ctx.actor

        def work(token, progress):
            connector = factory(db)
            try:
                return _sync().run_sync(db, connector, actor=actor, full_customer_scan=full_customer_scan, cancel=token,
                                     progress=progress, options=options)
            except Cancelled:
                # Reported as a result: the task relay drops a Cancelled failure silently.
                return None
            finally:
                close = getattr(connector, "close", None)
                if close is not None:
                    close()

        self.progress_text = ""
        self._token = self.ctx.tasks.run_io(work, on_success=self._done, on_failure=self._crashed,
                                            on_progress=self._progress)
        self.busy_changed.emit(True)
        self.started.emit()
        return True

    def cancel(self) -> None:
        """Ask the running sync to stop at its next page; what it fetched so far is kept."""
        if self._token is not None:
            self._token.cancel()

    def _progress(self, done: int, total: int, text: str) -> None:
        self.progress_text = text
        self.progressed.emit(done, total, text)

    def _finish(self) -> None:
        self._token = None
        self.busy_changed.emit(False)

    def _done(self, summary: sync.SyncSummary | None) -> None:
        self._finish()
        self.last_summary = summary
        self.last_error = None
        if summary is not None:
            self.ctx.bus.publish(summary.changes)
        self.finished.emit(summary)
        self.refresh_status()

    def _crashed(self, exc: BaseException) -> None:
        self._finish()
        self.last_error = exc
        if not isinstance(exc, UserFacingError):
            log.error("sync failed", exc_info=(type(exc), exc, exc.__traceback__))
        self.failed.emit(exc)
        self.refresh_status()

    # -- status ------------------------------------------------------------------------------

    def refresh_status(self) -> None:
        """Read the sync status again (on the database pool); emits `status_changed`."""
        if self._status_loading or self._closed:
            return
        self._status_loading = True
        db, actor = self.ctx.db, self.ctx.actor

        def loaded(status) -> None:
            self._status_loading = False
            if self._closed:
                return
            self.status = status
            self.status_error = None
            self.status_changed.emit(status)

        def failed(exc) -> None:
            self._status_loading = False
            self._log_failure(exc, "reading the sync status failed")
            if self._closed:
                return
            # The last status read is no longer known to be true: the status bar says so.
            self.status_error = exc
            self.status_changed.emit(self.status)

        self.ctx.tasks.run_db(lambda token, progress: _sync().sync_status(db, actor=actor), on_success=loaded, on_failure=failed)

    def _log_failure(self, exc: BaseException, what: str = "reading the sync settings failed") -> None:
        level = logging.WARNING if isinstance(exc, UserFacingError) else logging.ERROR
        log.log(level, "%s: %s", what, exc, exc_info=(type(exc), exc, exc.__traceback__))

    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Stop the timers, cancel a running sync and wait for it (the window is closing)."""
        self._closed = True
        self.timer.stop()
        self.status_timer.stop()
        self.cancel()
        self.ctx.tasks.wait_all(wait_ms)
        if getattr(self.ctx, "sync_controller", None) is self:
            self.ctx.sync_controller = None


class SyncStatusWidget(QWidget):
    """The status bar's view of the sync: last sync, messages waiting, last error; click to open the sync screen."""

    clicked = Signal()

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.button = QPushButton("Sync: …")
        self.button.setObjectName("syncStatusButton")
        self.button.setFlat(True)
        self.button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.button.clicked.connect(self.clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        controller.status_changed.connect(self._update)
        controller.busy_changed.connect(lambda _busy: self._update(controller.status))
        controller.progressed.connect(lambda *_: self._update(controller.status))
        controller.failed.connect(lambda _exc: self._update(controller.status))
        self._update(controller.status)

    def text(self) -> str:
        return self.button.text()

    def _update(self, status) -> None:
        controller = self.controller
        text, tip = status_text(status, running=controller.running, progress=controller.progress_text)
        error = controller.last_error
        if error is not None and not controller.running:
            # A run that could not start (no keys, no store) leaves no run row: say so here.
            text = "Sync failed"
            tip = error.message if isinstance(error, UserFacingError) else "The sync stopped on an unexpected error."
        elif controller.status_error is not None and not controller.running:
            error = controller.status_error
            text = "Sync status not known"
            tip = ((error.message if isinstance(error, UserFacingError)
                    else "The sync status could not be read because of an unexpected error; it is in the log.")
                   + " It is read again in a moment.")
        self.button.setText(text)
        self.button.setToolTip(tip)
        self.button.setAccessibleName(f"Web store sync: {text}")
