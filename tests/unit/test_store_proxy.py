"""A desk that reaches the internet through a proxy (HTTP_PROXY, HTTPS_PROXY, NO_PROXY in
its environment) reaches the web store through it, page readers included, though the
settings are read once per session rather than at every request."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backoffice.store.http import Operation, StoreSession

READ = Operation("read orders", "orders")


class _Proxy(BaseHTTPRequestHandler):
    """Answers every request itself, as a proxy that holds the store's answer would, and
    notes the address it was asked for (a forward proxy gets the whole address)."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - the name http.server calls
        type(self).seen.append(self.path)
        body = json.dumps([{"id": 1}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("X-WP-Total", "1")
        self.send_header("X-WP-TotalPages", "1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def proxy():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Proxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Proxy.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _session() -> StoreSession:
    # Nothing listens at this address: only the proxy can answer.
    return StoreSession("http://127.0.0.1:9", "ck_key", "cs_secret", api_root="/wp-json/wc/v3", max_retries=0,
                        timeout=(2, 5))


@pytest.mark.parametrize("name", ["HTTP_PROXY", "http_proxy"])
def test_the_store_is_reached_through_the_proxy_the_environment_names(monkeypatch, proxy, name):
    for other in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(other, raising=False)
    monkeypatch.setenv(name, proxy)
    session = _session()
    try:
        assert session.request("GET", "/orders", READ, params={"page": 1}).data == [{"id": 1}]
        pages = list(session.iter_pages("/orders", {}, READ, per_page=10))
    finally:
        session.close()
    assert [len(p) for p in pages] == [1]
    assert len(_Proxy.seen) == 2 and all(p.startswith("http://127.0.0.1:9/wp-json/wc/v3/orders") for p in _Proxy.seen)


def test_a_store_the_environment_exempts_is_reached_directly(monkeypatch, proxy):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = _session()
    try:
        with pytest.raises(Exception) as raised:
            session.request("GET", "/orders", READ)
    finally:
        session.close()
    assert "did not answer" in str(raised.value)
    assert _Proxy.seen == []
