"""Where an incoming call goes: on screen, held until sign-in, or only counted.

One router lives as long as the app, from before anyone signs in: it serves the desk's
local channel (`backoffice call`, links) and, when the desk's settings say so, the
loopback call address. A call

* shows on the call panel when someone is signed in and the desk is not locked, and the
  window comes to the front;
* from the local channel while nobody is signed in yet (the app just started for it) is
  held, and shown after sign-in;
* to a locked desk, or from the call address while nobody is signed in, shows nothing: it
  is counted, and the count is shown after unlock or sign-in.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox

from backoffice import calls_channel
from backoffice.calls_channel import HELD, MISSED, SHOWN
from ui.settings import desk_settings
from ui.calls.desk_channel import DeskChannel
from ui.calls.http_endpoint import CallEndpoint

if TYPE_CHECKING:
    from ui.calls.call_panel import CallPanel

log = logging.getLogger(__name__)

LOCAL, HTTP = "local", "http"
_HTTP_ANSWERS = {
    SHOWN: "The caller is on the back office screen.",
    HELD: "The caller shows in the back office after sign-in.",
    MISSED: "The back office is locked or nobody is signed in: the call was counted, nothing was shown.",
}


class CallRouter(QObject):
    def __init__(self, address: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.channel = DeskChannel(address or calls_channel.channel_address(),
                                   on_call=lambda number: self.deliver(number, LOCAL),
                                   on_show=self.bring_forward, parent=self)
        self.endpoint: CallEndpoint | None = None
        self.window = None
        self.lock = None
        self.panel: CallPanel | None = None
        self.held: list[str] = []
        self.missed = 0

    def start(self) -> bool:
        """Open the desk's channel; False when another app on this desk has it (it was brought forward)."""
        if not self.channel.listen():
            return False
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        return True

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        # macOS hands a backoffice:// link to the app bundle as an event, not as an argument.
        if event.type() == QEvent.Type.FileOpen and obj is QApplication.instance():
            url = event.url().toString()
            if url.lower().startswith(calls_channel.LINK_SCHEME + ":"):
                try:
                    self.deliver(calls_channel.number_from_link(url), LOCAL)
                except calls_channel.CallError as exc:
                    log.info("a backoffice link was not a call: %s", exc)
                return True
        return False

    def close(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.channel.close()
        if self.endpoint is not None:
            self.endpoint.close()
            self.endpoint = None

    # --- the loopback call address -----------------------------------------------------

    def apply_endpoint_settings(self) -> str:
        """Serve the call address or not, as the desk's settings say; returns a sentence on failure."""
        enabled, port = desk_settings.call_endpoint()
        if self.endpoint is not None and (not enabled or self.endpoint.port != port):
            self.endpoint.close()
            self.endpoint.deleteLater()
            self.endpoint = None
        if enabled and self.endpoint is None:
            endpoint = CallEndpoint(port, on_call=lambda number: _HTTP_ANSWERS[self.deliver(number, HTTP)],
                                    parent=self)
            if not endpoint.listen():
                endpoint.deleteLater()
                return (f"The call address could not use port {port} ({endpoint.error}); "
                        "choose another port in the call settings.")
            self.endpoint = endpoint
        return ""

    # --- who is at the desk ------------------------------------------------------------

    def attach(self, window, lock=None) -> CallPanel:
        """Someone signed in: calls go to this window's panel from now on."""
        # Imported here: the panel brings the customers and orders services, which the app
        # does not need before someone has signed in.
        from ui.calls.call_panel import CallPanel

        self.window = window
        self.lock = lock
        self.panel = CallPanel(window.ctx, window)
        self.panel.settings_requested.connect(self.edit_settings)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.panel)
        self.panel.hide()
        self._add_menu(window)
        if lock is not None:
            lock.unlocked.connect(self._show_waiting)
        self._show_waiting()
        return self.panel

    def detach(self) -> None:
        """The person signed out or the window closed: hold or count calls until the next sign-in."""
        if self.lock is not None:
            try:
                self.lock.unlocked.disconnect(self._show_waiting)
            except (RuntimeError, TypeError):
                pass
        self.window = self.lock = self.panel = None

    def _add_menu(self, window) -> None:
        menu = window.menuBar().addMenu("&Calls")
        menu.setObjectName("callsMenu")
        toggle = self.panel.toggleViewAction()
        toggle.setText("Calls &panel")
        toggle.setShortcut("F9")
        menu.addAction(toggle)
        settings = QAction("Call &settings of this desk…", window)
        settings.triggered.connect(self.edit_settings)
        menu.addAction(settings)
        # Keep Help last on the menu bar.
        actions = window.menuBar().actions()
        help_action = next((a for a in actions if a.text() == "&Help"), None)
        if help_action is not None:
            window.menuBar().insertMenu(help_action, menu)

    def edit_settings(self) -> None:
        from ui.calls.call_settings_dialog import CallSettingsDialog  # late: opened rarely

        dialog = CallSettingsDialog(self.window)
        if dialog.exec():
            problem = self.apply_endpoint_settings()
            if problem:
                QMessageBox.warning(self.window, "Call address", problem)
        dialog.deleteLater()

    # --- calls -------------------------------------------------------------------------

    def is_locked(self) -> bool:
        return self.lock is not None and self.lock.is_locked()

    def deliver(self, number: str, source: str) -> str:
        """Show, hold or count a call; returns SHOWN, HELD or MISSED."""
        if self.panel is None:
            if source == LOCAL:
                self.held.append(number)
                return HELD
            self.missed += 1
            return MISSED
        if self.is_locked():
            self.missed += 1
            return MISSED
        self.panel.show_call(number)
        self.bring_forward()
        return SHOWN

    def _show_waiting(self) -> None:
        if self.panel is None or self.is_locked():
            return
        held, self.held = self.held, []
        for number in held:
            self.panel.show_call(number)
        if self.missed:
            self.panel.show_missed(self.missed)
            self.missed = 0
        if held:
            self.bring_forward()

    def bring_forward(self) -> None:
        window = self.window
        if window is None:
            # The sign-in dialog is the app's window for now.
            active = QApplication.activeModalWidget()
            if active is not None:
                active.raise_()
                active.activateWindow()
            return
        if window.isMinimized():
            window.showNormal()
        window.show()
        window.raise_()
        window.activateWindow()
        if self.panel is not None and self.panel.isFloating() and self.panel.isVisible():
            # Floating beside a window on a small screen: keep it above the window just raised.
            self.panel.raise_()
        QApplication.alert(window)
