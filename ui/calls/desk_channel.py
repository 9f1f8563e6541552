"""This desk's local channel: `backoffice call` and a second start of the app talk to the running app.

The protocol and the address are in `backoffice.calls_channel`; this serves them with
QLocalServer, on the GUI thread (a line each way, so nothing here can be slow).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from backoffice import calls_channel

log = logging.getLogger(__name__)

# A client that has not sent its line by then is dropped.
_READ_TIMEOUT_MS = 2000


# How long an app already open is given to answer. Only a live app can be waited for (a
# channel left by one that crashed refuses at once); one busy for a moment (a long query,
# the collector) must not have its channel taken by a second app started meanwhile.
SHOW_TIMEOUT_S = 5.0


def other_instance_answers(address: str) -> bool:
    """True when an app already serves `address` (then it was asked to come forward)."""
    try:
        calls_channel.send_line("SHOW", address=address, timeout=SHOW_TIMEOUT_S)
    except calls_channel.NotRunning:
        return False
    return True


class DeskChannel(QObject):
    """Serves `CALL <number>` (answered by `on_call`) and `SHOW` (answered by `on_show`)."""

    def __init__(self, address: str, *, on_call: Callable[[str], str], on_show: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.address = address
        self._on_call = on_call
        self._on_show = on_show
        self._server = QLocalServer(self)
        # Only this user may connect (the folder is the user's own as well).
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        # Set when another app on this desk already serves the address (and was brought forward).
        self.taken = False

    def listen(self) -> bool:
        """Start serving; False when the address is taken by a live app or cannot be used."""
        calls_channel.prepare_channel_folder(self.address)
        # Ask first: listening on the path would take it away from an app already open here.
        if other_instance_answers(self.address):
            self.taken = True
            return False
        # Nobody answers: a socket file left by an app that crashed is taken over.
        QLocalServer.removeServer(self.address)
        if self._server.listen(self.address):
            return True
        log.warning("the desk's call channel %s could not be opened: %s", self.address, self._server.errorString())
        return False

    def close(self) -> None:
        self._server.close()

    def is_listening(self) -> bool:
        return self._server.isListening()

    def _accept(self) -> None:
        while (sock := self._server.nextPendingConnection()) is not None:
            sock.setParent(self)
            sock.readyRead.connect(lambda sock=sock: self._read(sock))
            sock.disconnected.connect(sock.deleteLater)
            # Drop a client that never sends its line.
            QTimer.singleShot(_READ_TIMEOUT_MS, sock, sock.abort)

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            if sock.bytesAvailable() > calls_channel.MAX_LINE:
                sock.abort()
            return
        line = bytes(sock.readLine(calls_channel.MAX_LINE)).decode("utf-8", "replace").strip()
        command, _, arg = line.partition(" ")
        if command == "CALL":
            try:
                answer = self._on_call(calls_channel.clean_number(arg))
            except calls_channel.CallError:
                answer = "REFUSED"
        elif command == "SHOW":
            self._on_show()
            answer = calls_channel.SHOWN
        else:
            answer = "REFUSED"
        sock.write((answer + "\n").encode("utf-8"))
        sock.flush()
        sock.disconnectFromServer()
