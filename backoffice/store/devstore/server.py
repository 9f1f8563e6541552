"""The dev store's HTTP server: a threading server on loopback, keep-alive, faults applied here."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import checkout
from .api import STANDARD_HEADERS, Response
from .faults import Fault
from .rest_errors import RestError
from .wire import BASE, JSON_CONTENT_TYPE, dumps, render

if TYPE_CHECKING:
    from .store import DevStore

CRITICAL_ERROR = {
    "code": "internal_server_error",
    "message": "<p>There has been a critical error on this website.</p><p><a href=\"https://wordpress.org/"
    "documentation/article/faq-troubleshooting/\">Learn more about troubleshooting WordPress.</a></p>",
    "data": {"status": 500},
    "additional_errors": [],
}
PHP_NOTICE = (
    "<br />\n<b>Warning</b>:  Undefined array key \"devstore\" in <b>/var/www/html/wp-content/plugins/"
    "noisy-plugin/noisy-plugin.php</b> on line <b>42</b><br />\n"
)
HTML_TYPE = "text/html; charset=UTF-8"
#: What a security or maintenance plugin in front of the REST API sends instead of JSON.
PLUGIN_PAGE = (
    "<!DOCTYPE html>\n<html lang=\"en-US\"><head><meta charset=\"UTF-8\"><title>Access denied | Shield "
    "Security</title></head><body><h1>Access denied</h1><p>Your request looked suspicious and was blocked by the "
    "site's security plugin.</p></body></html>\n"
)


def is_loopback(host: str) -> bool:
    """True for addresses of this machine only: 127.0.0.0/8, ::1 and "localhost"."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def proxy_error_page(status: int) -> str:
    reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    return (f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n<center><h1>{status} {reason}"
            "</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")


class DevStoreServer(ThreadingHTTPServer):
    """Serves one DevStore; tracks its connections so that stopping ends every thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], store: DevStore) -> None:
        host = address[0].strip("[]")
        if ":" in host:
            self.address_family = socket.AF_INET6
        self.store = store
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._connections_lock = threading.Lock()
        self._counter = 0
        super().__init__((host, address[1]), Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._counter += 1
            thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                      name=f"devstore-connection-{self._counter}", daemon=True)
            self._connections[request] = thread
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: BLE001 - a broken connection must not kill the server
            pass
        finally:
            self.shutdown_request(request)
            with self._connections_lock:
                self._connections.pop(request, None)

    def close_connections(self, timeout: float = 5.0) -> None:
        """Wake and end every open connection, then wait for its thread."""
        with self._connections_lock:
            items = list(self._connections.items())
        for sock, _ in items:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + timeout
        for _, thread in items:
            thread.join(max(0.0, deadline - time.monotonic()))


class Handler(BaseHTTPRequestHandler):
    """One connection; answers the API, the order-pay page, and 404 for the rest."""

    server: DevStoreServer
    protocol_version = "HTTP/1.1"
    server_version = "devstore"
    sys_version = ""
    disable_nagle_algorithm = True
    #: Idle keep-alive connections close after this many seconds.
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        """Write no access log: request details stay in `DevStore.requests_log`."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_HEAD(self) -> None:
        self._serve("HEAD")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _serve(self, method: str) -> None:
        self._started = time.perf_counter()
        self._noted = False
        store = self.server.store
        split = urlsplit(self.path)
        self._request = (method, split.path, split.query)
        path, query = split.path, split.query
        status = 0
        try:
            body = self._read_body()
            if path == "/wp-json" or path.startswith("/wp-json/"):
                status = self._api(store, method, path, query, body)
            else:
                status = self._site(store, method, path, query, body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        finally:
            self._note(status)

    def _note(self, status: int) -> None:
        """Count the request once, before its answer leaves, so a client never sees stale figures."""
        if self._noted:
            return
        self._noted = True
        method, path, query = self._request
        self.server.store._record(method, path, query, status, time.perf_counter() - self._started)

    # API --------------------------------------------------------------------------------

    def _api(self, store: DevStore, method: str, path: str, query: str, body: bytes) -> int:
        faults = store.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        fault = faults.take_before(method, path)
        if fault is not None:
            return self._pre_fault(fault)
        try:
            response = store.api.handle(method, path, query, self.headers, body)
        except Exception:  # noqa: BLE001 - a bug in a handler answers like a PHP fatal error
            response = Response(500, dumps(CRITICAL_ERROR))
        is_page = method in ("GET", "HEAD") and response.status == 200 and bool(response.items)
        after = faults.take_after(method, path, is_page=is_page)
        return self._send_api(store, method, response, after)

    def _pre_fault(self, fault: Fault) -> int:
        if fault.name == "drop":
            self.close_connection = True
            self._note(0)
            return 0
        if fault.name == "rate_limit":
            error = RestError("rate_limit_exceeded",
                              f"Too many requests. Please wait {fault.retry_after} seconds before trying again.", 429)
            self._send(429, error.text().encode(), [("Retry-After", str(fault.retry_after))], JSON_CONTENT_TYPE)
            return 429
        status = fault.status
        if fault.name == "html_page":
            self._send(status, PLUGIN_PAGE.encode(), [], HTML_TYPE)
            return status
        if status == 500:
            self._send(500, dumps(CRITICAL_ERROR).encode(), [], JSON_CONTENT_TYPE)
        elif status in (502, 503, 504):
            self._send(status, proxy_error_page(status).encode(), [], HTML_TYPE)
        else:
            error = RestError("devstore_injected_error", "Injected failure.", status)
            self._send(status, error.text().encode(), [], JSON_CONTENT_TYPE)
        return status

    def _send_api(self, store: DevStore, method: str, response: Response, fault: Fault | None) -> int:
        base = store.base_url or ""
        if fault is not None and fault.name == "drop_after_commit":
            self.close_connection = True
            self._note(0)
            return 0
        text = response.body
        if fault is not None and fault.name == "truncate" and response.items:
            text = "[" + ",".join(response.items[: len(response.items) // 2]) + "]"
        data = render(text, base).encode("utf-8")
        if fault is not None and fault.name == "malformed_json":
            data = PHP_NOTICE.encode() + data
        headers = [(name, value.replace(BASE, base)) for name, value in response.headers]
        ordered = [STANDARD_HEADERS[0], *[h for h in headers if h[0] == "Link"], *STANDARD_HEADERS[1:4],
                   *[h for h in headers if h[0] != "Link"], *STANDARD_HEADERS[4:]]
        cut = fault is not None and fault.name == "cut_body"
        self._send(response.status, data, ordered, response.content_type, cut=cut, head=method == "HEAD")
        return response.status

    # Site pages -------------------------------------------------------------------------

    def _site(self, store: DevStore, method: str, path: str, query: str, body: bytes) -> int:
        page = None
        if path.startswith("/checkout/"):
            page = checkout.handle("GET" if method == "HEAD" else method, path, query, body,
                                   get_order=store.get_order, pay=store._pay_from_page)
        if page is None:
            page = checkout.Page(404, "<!DOCTYPE html>\n<html><head><title>Page not found</title></head>"
                                      "<body><h1>Page not found</h1></body></html>\n")
        headers = [("Location", page.location)] if page.location else []
        self._send(page.status, page.html.encode("utf-8"), headers, HTML_TYPE, head=method == "HEAD")
        return page.status

    # Writing ----------------------------------------------------------------------------

    def _send(self, status: int, data: bytes, headers: list[tuple[str, str]], content_type: str, *,
              cut: bool = False, head: bool = False) -> None:
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {formatdate(usegmt=True)}",
                 f"Content-Type: {content_type}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        lines.append(f"Content-Length: {len(data)}")
        if cut or self.close_connection:
            self.close_connection = True
            lines.append("Connection: close")
        head_bytes = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._note(status)
        if head:
            self.wfile.write(head_bytes)
        elif cut:
            self.wfile.write(head_bytes + data[: len(data) // 2])
        else:
            self.wfile.write(head_bytes + data)


def serve_in_thread(server: DevStoreServer, name: str = "devstore-server") -> threading.Thread:
    """Run the server loop in a daemon thread and return it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True)
    thread.start()
    return thread

