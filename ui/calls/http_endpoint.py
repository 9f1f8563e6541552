"""The desk's loopback call address, http://127.0.0.1:PORT/call?number=…, served while the app runs.

Off unless switched on in the desk's call settings. The rules (loopback only, Host
header, nothing but a number, rate limit) are in `backoffice.call_endpoint`; this
only reads a request's head and writes the answer, on the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtNetwork import QHostAddress, QTcpServer, QTcpSocket

from backoffice import call_endpoint
from backoffice.call_endpoint import Answer, RateLimit

log = logging.getLogger(__name__)

_READ_TIMEOUT_MS = 3000


class CallEndpoint(QObject):
    """Serves GET /call?number=… on 127.0.0.1:`port`; `on_call(number)` returns the text to answer."""

    def __init__(self, port: int, *, on_call: Callable[[str], str], limit: RateLimit | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.port = port
        self._on_call = on_call
        self.limit = limit or RateLimit()
        self._server = QTcpServer(self)
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[int, bytearray] = {}

    def listen(self) -> bool:
        """Bind 127.0.0.1 only; False (with the reason in `error`) when the port is taken."""
        ok = self._server.listen(QHostAddress(QHostAddress.SpecialAddress.LocalHost), self.port)
        if ok:
            self.port = self._server.serverPort()
        else:
            log.warning("the call address on port %s could not be opened: %s", self.port, self.error)
        return ok

    @property
    def error(self) -> str:
        return self._server.errorString()

    def close(self) -> None:
        self._server.close()

    def is_listening(self) -> bool:
        return self._server.isListening()

    def _accept(self) -> None:
        while (sock := self._server.nextPendingConnection()) is not None:
            sock.setParent(self)
            self._buffers[id(sock)] = bytearray()
            sock.readyRead.connect(lambda sock=sock: self._read(sock))
            sock.disconnected.connect(lambda sock=sock: self._forget(sock))
            QTimer.singleShot(_READ_TIMEOUT_MS, sock, sock.abort)

    def _forget(self, sock: QTcpSocket) -> None:
        self._buffers.pop(id(sock), None)
        sock.deleteLater()

    def _read(self, sock: QTcpSocket) -> None:
        buffer = self._buffers.get(id(sock))
        if buffer is None:
            return
        buffer += bytes(sock.readAll())
        end = buffer.find(b"\r\n\r\n")
        if end < 0 and len(buffer) <= call_endpoint.MAX_HEAD_BYTES:
            return
        head = bytes(buffer[:end]) if end >= 0 else bytes(buffer)
        del self._buffers[id(sock)]
        answer = call_endpoint.judge(head, peer=sock.peerAddress().toString(), port=self.port, limit=self.limit)
        if answer.number is not None:
            answer = Answer(200, self._on_call(answer.number))
        sock.write(answer.to_bytes())
        sock.flush()
        sock.disconnectFromHost()
