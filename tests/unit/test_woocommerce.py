"""The WooCommerce connector against a stub store on loopback replaying recorded answers."""

from __future__ import annotations

import base64
import copy
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backoffice.errors import Cancelled, NotFound, StoreError, UserFacingError, ValidationError
from backoffice.store.connector import (
    AmbiguousWriteError,
    Page,
    StoreAuthError,
    StoreConnector,
    StoreCredentials,
    StoreNotFoundError,
)
from backoffice.store.woocommerce import WooCommerceConnector, store_time

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "woocommerce"
API = "/wp-json/wc/v3"
KEY = "ck_4f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e"
SECRET = "cs_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
KEYS_SENTENCE = "The web store refused the shop's API keys. Check the consumer key and secret in Shop settings → Web store."


def recorded(name: str) -> Any:
    """Load a recorded JSON answer."""
    return json.loads((REFERENCE / name).read_text())


def recorded_headers(name: str) -> dict[str, str]:
    """Load the headers worth replaying from a recorded header file."""
    keep = {"content-type", "x-wp-total", "x-wp-totalpages", "link", "allow"}
    headers = {}
    for line in (REFERENCE / name).read_text().splitlines()[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            if key.strip().lower() in keep:
                headers[key.strip()] = value.strip()
    return headers


def seven_orders() -> list[dict]:
    """Orders 12 to 18, so that pages of three match the recorded page 2 (15, 16, 17)."""
    first = recorded("order_create.json")
    page2 = recorded("orders_list_page2.json")
    orders = [first]
    for order_id in (13, 14):
        clone = copy.deepcopy(first)
        clone["id"] = order_id
        clone["number"] = str(order_id)
        orders.append(clone)
    orders.extend(page2)
    last = copy.deepcopy(page2[-1])
    last["id"] = 18
    last["number"] = "18"
    orders.append(last)
    return orders


# -- a stub store ---------------------------------------------------------------------


@dataclass
class Answer:
    """What the stub does with one request."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "drop", "truncate" or "stall"


@dataclass
class Seen:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    client_port: int


def paged(records: list[dict], *, template: str = "orders_list_page2.headers.txt") -> Callable[[Seen], Answer]:
    """Answer list requests the way the store pages them, past-the-end included."""

    def answer(seen: Seen) -> Answer:
        per_page = int(seen.query.get("per_page", 10))
        page = int(seen.query.get("page", 1))
        total_pages = -(-len(records) // per_page)
        if page > total_pages:
            headers = recorded_headers("orders_list_page4_empty.headers.txt")
            return Answer(body=[], headers=headers)
        headers = recorded_headers(template)
        headers.pop("Link", None)
        headers["X-WP-Total"] = str(len(records))
        headers["X-WP-TotalPages"] = str(total_pages)
        return Answer(body=records[(page - 1) * per_page : page * per_page], headers=headers)

    return answer


class StubStore:
    """An HTTP/1.1 keep-alive server on 127.0.0.1 answering from scripted routes."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with stub._lock:
                    stub._connections.append(self.connection)

            def do_GET(self) -> None:
                self._serve()

            do_POST = do_PUT = do_DELETE = do_GET

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                path = parts.path[len(API) :] if parts.path.startswith(API) else parts.path
                seen = Seen(
                    method=self.command,
                    path=path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers=dict(self.headers),
                    body=json.loads(raw) if raw else None,
                    client_port=self.client_address[1],
                )
                stub.seen.append(seen)
                answer = stub._answer_for(seen)
                if answer.action == "drop":
                    self.close_connection = True
                    return
                if answer.action == "stall":
                    stub.release.wait(5)
                    self.close_connection = True
                    return
                body = answer.body
                if not isinstance(body, bytes):
                    body = (body if isinstance(body, str) else json.dumps(body)).encode()
                self.send_response(answer.status)
                headers = {"Content-Type": "application/json; charset=UTF-8", **answer.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                extra = 64 if answer.action == "truncate" else 0
                self.send_header("Content-Length", str(len(body) + extra))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                if answer.action == "truncate":
                    self.close_connection = True

        class Server(ThreadingHTTPServer):
            daemon_threads = False
            block_on_close = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        self.thread.start()

    def on(self, method: str, path: str, *answers: Answer | Callable[[Seen], Answer]) -> None:
        """Script the answers to a route: each in turn, the last one repeated."""
        self.routes[(method, path)] = list(answers)

    def requests_to(self, method: str, path: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path == path]

    def _answer_for(self, seen: Seen) -> Answer:
        answers = self.routes.get((seen.method, seen.path))
        if not answers:
            return Answer(404, {"code": "rest_no_route", "message": "No route was found.", "data": {"status": 404}})
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        return answer(seen) if callable(answer) else answer

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        with self._lock:
            for conn in self._connections:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    """Fail a test that leaves a thread running."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        time.sleep(0.02)
    pytest.fail(f"threads left running: {left}")


@pytest.fixture
def stub() -> Iterator[StubStore]:
    store = StubStore()
    try:
        yield store
    finally:
        store.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(stub: StubStore, sleeps: list[float]) -> Iterator[Callable[..., WooCommerceConnector]]:
    """Build connectors to the stub with a fake sleep; all are closed before the stub stops."""
    made: list[WooCommerceConnector] = []

    def build(**options: Any) -> WooCommerceConnector:
        options.setdefault("sleep", sleeps.append)
        base_url = options.pop("base_url", stub.url)
        connector = WooCommerceConnector(StoreCredentials(base_url, KEY, SECRET), **options)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def order_payload(reference: str | None = None) -> dict:
    payload = {"status": "pending", "line_items": [{"product_id": 11, "quantity": 2}]}
    if reference:
        payload["meta_data"] = [{"key": "_backoffice_ref", "value": reference}]
    return payload


# -- credentials and addresses --------------------------------------------------------


def test_credentials_repr_never_shows_key_or_secret() -> None:
    credentials = StoreCredentials("https://shop.example.com", KEY, SECRET)
    for text in (repr(credentials), str(credentials), f"{credentials}", repr([credentials])):
        assert KEY not in text and SECRET not in text
        assert "https://shop.example.com" in text


@pytest.mark.parametrize("url", ["http://shop.example.com", "http://192.168.1.10:8080", "http://10.0.0.1", "HTTP://shop.example.com"])
def test_plain_http_is_refused_for_a_remote_store(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        WooCommerceConnector(StoreCredentials(url, KEY, SECRET))
    assert isinstance(caught.value, UserFacingError)
    assert "https://" in caught.value.message
    assert "base_url" in caught.value.fields
    assert SECRET not in caught.value.message and KEY not in caught.value.message


@pytest.mark.parametrize("url", ["http://127.0.0.1:8089", "http://127.8.9.10", "http://localhost:8080/shop/", "http://[::1]:8089"])
def test_plain_http_is_allowed_to_this_computer(url: str) -> None:
    connector = WooCommerceConnector(StoreCredentials(url, KEY, SECRET))
    connector.close()


def test_https_store_is_accepted_and_the_api_root_is_under_wp_json() -> None:
    with WooCommerceConnector(StoreCredentials("https://shop.example.com/", KEY, SECRET)) as connector:
        assert isinstance(connector, StoreConnector)
        assert connector._http.root == "https://shop.example.com/wp-json/wc/v3"
        assert KEY not in repr(connector) and SECRET not in repr(connector)


def test_an_address_that_is_not_a_web_address_is_refused() -> None:
    with pytest.raises(ValidationError):
        WooCommerceConnector(StoreCredentials("shop.example.com", KEY, SECRET))


# -- auth, keep-alive, hook, logging --------------------------------------------------


def test_requests_use_basic_auth_over_one_kept_alive_connection(stub: StubStore, make) -> None:
    stub.on("GET", "/orders/12", Answer(body=recorded("order_create.json")))
    calls: list[tuple] = []
    connector = make(on_request=lambda *args: calls.append(args))
    for _ in range(3):
        assert connector.get_order(12)["number"] == "12"
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert all(s.headers["Authorization"] == f"Basic {token}" for s in stub.seen)
    assert len({s.client_port for s in stub.seen}) == 1
    assert [c[:3] for c in calls] == [("GET", "/orders/12", 200)] * 3
    assert all(isinstance(c[3], float) and c[3] >= 0 for c in calls)


def test_each_request_is_logged_at_debug_without_keys_in_the_query(stub: StubStore, make, caplog) -> None:
    stub.on("GET", "/orders", paged(seven_orders()))
    caplog.set_level(logging.DEBUG, logger="backoffice.store")
    connector = make()
    pages = list(connector.iter_pages("/orders", {"consumer_key": KEY, "consumer_secret": SECRET}, per_page=5))
    assert [len(p) for p in pages] == [5, 2]
    lines = [r.getMessage() for r in caplog.records if r.name == "backoffice.store.http"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /orders?per_page=5&page=1 200 ")
    assert lines[0].endswith(" ms")
    assert "consumer" not in caplog.text and KEY not in caplog.text
    assert all("consumer_key" not in s.query and "consumer_secret" not in s.query for s in stub.seen)


# -- paging ---------------------------------------------------------------------------


def test_orders_are_read_page_by_page_in_id_order(stub: StubStore, make) -> None:
    stub.on("GET", "/orders", paged(seven_orders()))
    calls: list[tuple] = []
    connector = make(on_request=lambda *args: calls.append(args))
    since = datetime(2026, 11, 22, 4, 44, 58, tzinfo=timezone.utc)

    pages = list(connector.iter_pages("/orders", {"orderby": "id", "order": "asc"}, per_page=3))
    assert [[o["id"] for o in p] for p in pages] == [[12, 13, 14], [15, 16, 17], [18]]
    assert pages[1] == recorded("orders_list_page2.json")
    assert all(isinstance(p, Page) and isinstance(p, list) for p in pages)
    assert [(p.number, p.total, p.total_pages) for p in pages] == [(1, 7, 3), (2, 7, 3), (3, 7, 3)]
    assert len(calls) == 3

    stub.seen.clear()
    ids = [o["id"] for page in connector.iter_orders(since) for o in page]
    assert ids == list(range(12, 19))
    assert len(stub.seen) == 1
    query = stub.seen[0].query
    assert query["orderby"] == "id" and query["order"] == "asc" and query["per_page"] == "100"
    assert query["modified_after"] == "2026-11-22T04:44:57"
    assert query["dates_are_gmt"] == "true"


def test_trashed_orders_are_a_listing_of_their_own_since_the_same_moment(stub: StubStore, make) -> None:
    trashed = [{"id": i, "status": "trash", "date_modified_gmt": "2026-11-22T05:00:00"} for i in (14, 17)]
    stub.on("GET", "/orders", paged(trashed))
    connector = make()
    since = datetime(2026, 11, 22, 4, 44, 58, tzinfo=timezone.utc)

    assert [o["id"] for page in connector.iter_trashed_orders(since) for o in page] == [14, 17]
    query = stub.seen[0].query
    # Only the trash: the store takes "any" over every other status asked for with it.
    assert query["status"] == "trash"
    assert query["modified_after"] == "2026-11-22T04:44:57" and query["dates_are_gmt"] == "true"
    assert query["orderby"] == "id" and query["order"] == "asc"
    assert set(query["_fields"].split(",")) == {"id", "status", "date_modified_gmt"}


def test_trashed_orders_among_given_ids_are_asked_by_include_in_chunks(stub: StubStore, make) -> None:
    def answer(seen: Seen) -> Answer:
        ids = [int(i) for i in seen.query["include"].split(",")]
        return paged([{"id": i, "status": "trash"} for i in ids if i % 50 == 0])(seen)

    stub.on("GET", "/orders", answer)
    found = [o["id"] for page in make().iter_trashed_orders(ids=range(150, 0, -1)) for o in page]
    assert found == [50, 100, 150]
    assert [len(s.query["include"].split(",")) for s in stub.seen] == [100, 50]
    assert all(s.query["status"] == "trash" and "modified_after" not in s.query for s in stub.seen)


def test_modified_after_is_sent_in_utc_one_second_early() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert store_time(datetime(2026, 11, 22, 6, 44, 58, 900000, tzinfo=plus_two)) == "2026-11-22T04:44:57"
    assert store_time(datetime(2026, 11, 22, 4, 44, 58)) == "2026-11-22T04:44:57"


def test_a_page_past_the_end_ends_the_listing_quietly(stub: StubStore, make) -> None:
    orders = seven_orders()[:6]
    first = paged(orders)
    # The second page was counted, but its records went away before it was asked for.
    stub.on("GET", "/orders", first, Answer(body=[], headers=recorded_headers("orders_list_page4_empty.headers.txt")))
    pages = list(make().iter_pages("/orders", per_page=3))
    assert [[o["id"] for o in p] for p in pages] == [[12, 13, 14]]
    assert [s.query["page"] for s in stub.seen] == ["1", "2"]


def test_recorded_products_and_customers_are_returned_as_received(stub: StubStore, make) -> None:
    stub.on("GET", "/products", Answer(body=recorded("products_list.json"), headers=recorded_headers("products_list.headers.txt")))
    stub.on("GET", "/customers", Answer(body=recorded("customers_list.json"), headers=recorded_headers("customers_list.headers.txt")))
    connector = make()
    assert [p for page in connector.iter_products() for p in page] == recorded("products_list.json")
    customers = [c for page in connector.iter_customers() for c in page]
    assert customers == recorded("customers_list.json")
    assert stub.requests_to("GET", "/customers")[0].query["role"] == "all"
    assert "modified_after" not in stub.requests_to("GET", "/products")[0].query


def test_cancel_between_pages_stops_before_the_next_request(stub: StubStore, make) -> None:
    stub.on("GET", "/orders", paged(seven_orders()))
    event = threading.Event()
    pages = make().iter_pages("/orders", per_page=3, cancel=event)
    assert len(next(pages)) == 3
    event.set()
    with pytest.raises(Cancelled):
        next(pages)
    assert len(stub.seen) == 1


def test_cancel_token_with_is_cancelled_is_honoured(stub: StubStore, make) -> None:
    stub.on("GET", "/orders", paged(seven_orders()))

    class Token:
        cancelled = False

        def is_cancelled(self) -> bool:
            return self.cancelled

    token = Token()
    seen_ids = []
    with pytest.raises(Cancelled):
        for page in make().iter_pages("/orders", per_page=3, cancel=token):
            seen_ids.extend(o["id"] for o in page)
            token.cancelled = True
    assert seen_ids == [12, 13, 14]
    assert len(stub.seen) == 1


# -- unreadable pages -----------------------------------------------------------------

UNREADABLE_PAGE_2 = (
    "The web store sent a page that could not be read (page 2 of orders). "
    "Nothing from that page was saved; the sync will try again."
)


def _page_2_then(stub: StubStore, broken: Answer | Callable[[Seen], Answer], *, times: int | None = None) -> None:
    good = paged(seven_orders())
    left = {"broken": times}

    def answer(seen: Seen) -> Answer:
        if seen.query.get("page") == "2" and (left["broken"] is None or left["broken"] > 0):
            if left["broken"] is not None:
                left["broken"] -= 1
            return broken(seen) if callable(broken) else broken
        return good(seen)

    stub.on("GET", "/orders", answer)


def test_malformed_json_is_fetched_again_then_reported(stub: StubStore, make, sleeps: list[float]) -> None:
    _page_2_then(stub, Answer(body=b'[{"id": 15, "status": "pend'))
    pages = make().iter_pages("/orders", per_page=3)
    assert [o["id"] for o in next(pages)] == [12, 13, 14]
    with pytest.raises(StoreError) as caught:
        next(pages)
    assert caught.value.message == UNREADABLE_PAGE_2
    assert caught.value.retryable
    assert [s.query["page"] for s in stub.seen] == ["1", "2", "2", "2"]
    assert len(sleeps) == 2


def test_malformed_json_once_is_recovered(stub: StubStore, make) -> None:
    _page_2_then(stub, Answer(body=b"<html>Bad gateway</html>"), times=1)
    ids = [o["id"] for page in make().iter_pages("/orders", per_page=3) for o in page]
    assert ids == list(range(12, 19))


def test_truncated_page_is_reported(stub: StubStore, make) -> None:
    _page_2_then(stub, lambda seen: Answer(body=recorded("orders_list_page2.json"), action="truncate",
                                           headers={"X-WP-Total": "7", "X-WP-TotalPages": "3"}))
    pages = make().iter_pages("/orders", per_page=3)
    next(pages)
    with pytest.raises(StoreError) as caught:
        next(pages)
    assert caught.value.message == UNREADABLE_PAGE_2
    assert len(stub.seen) == 4


def test_short_page_is_reported(stub: StubStore, make) -> None:
    short = Answer(body=recorded("orders_list_page2.json")[:2], headers=recorded_headers("orders_list_page2.headers.txt"))
    _page_2_then(stub, short)
    pages = make().iter_pages("/orders", per_page=3)
    next(pages)
    with pytest.raises(StoreError) as caught:
        next(pages)
    assert caught.value.message == UNREADABLE_PAGE_2
    assert "2 records where the store counted 3" in caught.value.details


# -- retries --------------------------------------------------------------------------


def test_retry_after_in_seconds_is_honoured(stub: StubStore, make, sleeps: list[float]) -> None:
    busy = Answer(429, {"code": "too_many_requests", "message": "Slow down", "data": {"status": 429}}, {"Retry-After": "7"})
    stub.on("GET", "/orders/12", busy, Answer(body=recorded("order_create.json")))
    assert make().get_order(12)["id"] == 12
    assert sleeps == [7]


def test_retry_after_as_http_date_is_honoured(stub: StubStore, make, sleeps: list[float]) -> None:
    when = formatdate(time.time() + 20, usegmt=True)
    stub.on("GET", "/orders/12", Answer(503, b"Maintenance", {"Retry-After": when}), Answer(body=recorded("order_create.json")))
    assert make().get_order(12)["id"] == 12
    assert len(sleeps) == 1 and 17 <= sleeps[0] <= 20


def test_retry_after_longer_than_the_cap_gives_up_without_waiting(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("GET", "/orders/12", Answer(429, b"", {"Retry-After": "3600"}))
    with pytest.raises(StoreError) as caught:
        make(backoff_cap=30).get_order(12)
    assert caught.value.retryable and caught.value.status == 429
    assert "wait 3600 seconds" in caught.value.message
    assert sleeps == [] and len(stub.seen) == 1


def test_server_error_then_success(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("GET", "/orders/12", Answer(500, b"<h1>Fatal error</h1>"), Answer(body=recorded("order_create.json")))
    assert make(backoff_base=0.5).get_order(12)["total"] == "44.98"
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= 0.5


def test_server_errors_exhaust_the_retries_with_capped_jittered_waits(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("GET", "/orders/12", Answer(502, b"Bad gateway"))
    with pytest.raises(StoreError) as caught:
        make(max_retries=4, backoff_base=1, backoff_cap=3).get_order(12)
    assert caught.value.message.startswith("The web store had an internal error (HTTP 502)")
    assert caught.value.status == 502 and caught.value.retryable
    assert len(stub.seen) == 5
    assert len(sleeps) == 4
    for step, wait in enumerate(sleeps):
        assert 0 <= wait <= min(3, 2**step)


def test_dropped_connection_on_a_read_is_retried(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("GET", "/orders/12", Answer(action="drop"), Answer(body=recorded("order_create.json")))
    assert make().get_order(12)["id"] == 12
    assert len(stub.seen) == 2 and len(sleeps) == 1


def test_store_that_does_not_answer(make, sleeps: list[float]) -> None:
    connector = make(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=2)
    with pytest.raises(StoreError) as caught:
        connector.get_order(12)
    assert caught.value.message.startswith("The web store did not answer; nothing was lost")
    assert caught.value.retryable and not isinstance(caught.value, AmbiguousWriteError)
    assert len(sleeps) == 2


def test_update_order_is_sent_with_put_and_retried(stub: StubStore, make) -> None:
    stub.on("PUT", "/orders/12", Answer(500, b""), Answer(body=recorded("order_update.json")))
    order = make().update_order(12, {"status": "completed", "customer_note": "updated after T0"})
    assert order["status"] == "completed"
    assert [s.body for s in stub.seen] == [{"status": "completed", "customer_note": "updated after T0"}] * 2


# -- writes that may have been applied ------------------------------------------------


def test_dropped_post_raises_ambiguous_write_and_is_not_resent(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("POST", "/orders", Answer(action="drop"))
    with pytest.raises(AmbiguousWriteError) as caught:
        make().create_order(order_payload(), reference="BO-2026-0001")
    assert caught.value.reference == "BO-2026-0001"
    assert caught.value.method == "POST" and caught.value.path == "/orders"
    assert "not known whether the store saved it" in caught.value.message
    assert len(stub.requests_to("POST", "/orders")) == 1 and sleeps == []


def test_post_without_an_answer_in_time_is_ambiguous(stub: StubStore, make) -> None:
    stub.on("POST", "/orders", Answer(action="stall"))
    with pytest.raises(AmbiguousWriteError):
        make(timeout=(2, 0.2)).create_order(order_payload("BO-2026-0002"))
    assert len(stub.requests_to("POST", "/orders")) == 1


def test_post_answered_with_an_internal_error_is_ambiguous(stub: StubStore, make) -> None:
    stub.on("POST", "/orders", Answer(500, b"PHP Fatal error"))
    with pytest.raises(AmbiguousWriteError) as caught:
        make().create_order(order_payload("BO-2026-0003"))
    assert caught.value.status == 500
    assert len(stub.seen) == 1


def test_post_answered_with_503_is_retried(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("POST", "/orders", Answer(503, b"", {"Retry-After": "2"}), Answer(201, recorded("order_create.json")))
    result = make().create_order(order_payload("BO-2026-0004"))
    assert result.created and result.record["id"] == 12
    assert len(stub.seen) == 2 and sleeps == [2]


def test_post_that_never_reached_the_store_is_retried(make, sleeps: list[float]) -> None:
    connector = make(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=3)
    with pytest.raises(StoreError) as caught:
        connector.create_order(order_payload("BO-2026-0005"))
    assert not isinstance(caught.value, AmbiguousWriteError)
    assert len(sleeps) == 3


def test_create_order_carries_its_reference(stub: StubStore, make) -> None:
    stub.on("POST", "/orders", Answer(201, recorded("order_create.json")))
    connector = make()
    connector.create_order({"status": "pending", "meta_data": [{"key": "gift", "value": "yes"}]}, reference="BO-7")
    assert stub.seen[0].body["meta_data"] == [{"key": "gift", "value": "yes"}, {"key": "_backoffice_ref", "value": "BO-7"}]
    with pytest.raises(ValueError):
        connector.create_order({"status": "pending"})
    assert len(stub.seen) == 1


def test_find_order_by_reference_matches_the_meta_exactly(stub: StubStore, make) -> None:
    near, exact = copy.deepcopy(seven_orders()[:2])
    near["meta_data"] = [{"id": 1, "key": "_backoffice_ref", "value": "BO-10"}]
    exact["meta_data"] = [{"id": 2, "key": "note", "value": "BO-1"}, {"id": 3, "key": "_backoffice_ref", "value": "BO-1"}]
    stub.on("GET", "/orders", lambda seen: paged([near, exact] if seen.query.get("search") else [])(seen))
    connector = make()
    assert connector.find_order_by_reference("BO-1")["id"] == exact["id"]
    assert stub.seen[0].query["search"] == "BO-1"
    assert connector.find_order_by_reference("BO-2") is None


def test_find_order_by_reference_can_scan_recent_orders(stub: StubStore, make) -> None:
    order = copy.deepcopy(seven_orders()[3])
    order["meta_data"] = [{"id": 9, "key": "_backoffice_ref", "value": "BO-9"}]

    def answer(seen: Seen) -> Answer:
        return paged([] if "search" in seen.query else [order])(seen)

    stub.on("GET", "/orders", answer)
    since = datetime(2026, 11, 22, 4, 40, tzinfo=timezone.utc)
    assert make().find_order_by_reference("BO-9", modified_after=since)["id"] == 15
    assert stub.seen[1].query["modified_after"] == "2026-11-22T04:39:59"


# -- customers ------------------------------------------------------------------------


def test_create_customer_with_an_existing_email_returns_that_customer(stub: StubStore, make) -> None:
    stub.on("POST", "/customers", Answer(400, recorded("customer_create_duplicate_error.json")))
    jane = recorded("customers_list.json")[1]
    stub.on("GET", "/customers", Answer(body=[jane]))
    result = make().create_customer({"email": "Jane.Doe@example.com", "first_name": "Jane"})
    assert result.created is False and result.record == jane
    lookup = stub.requests_to("GET", "/customers")[0].query
    assert lookup["email"] == "Jane.Doe@example.com" and lookup["role"] == "all"


def test_create_customer_after_a_lost_answer_finds_the_account(stub: StubStore, make) -> None:
    stub.on("POST", "/customers", Answer(action="drop"))
    stub.on("GET", "/customers", Answer(body=[recorded("customer_create.json")]))
    result = make().create_customer({"email": "jane.doe@example.com"})
    assert result.created is None and result.record["id"] == 2
    assert len(stub.requests_to("POST", "/customers")) == 1


def test_create_customer(stub: StubStore, make) -> None:
    stub.on("POST", "/customers", Answer(201, recorded("customer_create.json")))
    result = make().create_customer({"email": "jane.doe@example.com", "first_name": "Jane"})
    assert result.created is True and result.record["username"] == "jane.doe"


def test_update_and_delete_customer(stub: StubStore, make) -> None:
    stub.on("PUT", "/customers/2", Answer(body=recorded("customer_update.json")))
    stub.on("DELETE", "/customers/2", Answer(body=recorded("customer_delete.json")), Answer(404, recorded("customer_get_after_delete_error.json")))
    connector = make()
    assert connector.update_customer(2, {"first_name": "Janet"})["first_name"] == "Janet"
    assert connector.delete_customer(2)["id"] == 2
    assert stub.requests_to("DELETE", "/customers/2")[0].query == {"force": "true"}
    assert connector.delete_customer(2) is None


def test_get_customers_asks_by_include_in_chunks(stub: StubStore, make) -> None:
    def answer(seen: Seen) -> Answer:
        ids = [int(i) for i in seen.query["include"].split(",")]
        return paged([{"id": i} for i in ids])(seen)

    stub.on("GET", "/customers", answer)
    customers = make().get_customers(range(150, 0, -1))
    assert [c["id"] for c in customers] == list(range(1, 151))
    chunks = [s.query["include"].split(",") for s in stub.seen]
    assert [len(c) for c in chunks] == [100, 50]
    assert all(s.query["role"] == "all" for s in stub.seen)


# -- refusals -------------------------------------------------------------------------


def test_wrong_keys_give_the_settings_sentence(stub: StubStore, make, sleeps: list[float]) -> None:
    stub.on("GET", "/orders", Answer(401, recorded("auth_bad_key_error.json")))
    with pytest.raises(StoreAuthError) as caught:
        make().ping()
    assert caught.value.message == KEYS_SENTENCE
    assert caught.value.status == 401 and caught.value.code == "woocommerce_rest_cannot_view"
    assert not caught.value.retryable
    assert len(stub.seen) == 1 and sleeps == []


def test_ping_asks_for_one_order_id(stub: StubStore, make) -> None:
    stub.on("GET", "/orders", Answer(body=[{"id": 18}], headers={"X-WP-Total": "7", "X-WP-TotalPages": "7"}))
    result = make().ping()
    assert result.orders_total == 7 and result.seconds >= 0
    assert stub.seen[0].query == {"per_page": "1", "_fields": "id"}


def test_missing_record_is_not_found(stub: StubStore, make) -> None:
    stub.on("GET", "/customers/2", Answer(404, recorded("customer_get_after_delete_error.json")))
    with pytest.raises(StoreNotFoundError) as caught:
        make().get_customer(2)
    assert isinstance(caught.value, NotFound) and isinstance(caught.value, StoreError)
    assert caught.value.message == "The web store has no customer 2; it may have been deleted there."
    assert caught.value.code == "wc_user_invalid_id" and caught.value.status == 404


def test_bad_request_carries_the_store_message(stub: StubStore, make) -> None:
    refusal = {"code": "rest_invalid_param", "message": "Invalid parameter(s): <b>line_items</b>", "data": {"status": 400}}
    stub.on("POST", "/orders", Answer(400, refusal))
    with pytest.raises(StoreError) as caught:
        make().create_order(order_payload("BO-8"))
    assert caught.value.message == (
        "The web store refused to create the order: Invalid parameter(s): line_items. Nothing was changed there."
    )
    assert caught.value.code == "rest_invalid_param" and caught.value.status == 400
    assert not isinstance(caught.value, AmbiguousWriteError)


def test_redirect_is_not_followed(stub: StubStore, make) -> None:
    stub.on("POST", "/orders", Answer(301, b"", {"Location": "https://www.shop.example.com/wp-json/wc/v3/orders"}))
    with pytest.raises(StoreError) as caught:
        make().create_order(order_payload("BO-9"))
    assert "redirects to https://www.shop.example.com" in caught.value.message
    assert [s.method for s in stub.seen] == ["POST"]


def test_no_route_points_at_the_address(stub: StubStore, make) -> None:
    with pytest.raises(StoreError) as caught:
        make().get_order(12)
    assert not isinstance(caught.value, StoreNotFoundError)
    assert "Check the store address in Shop settings → Web store" in caught.value.message


# -- secrets --------------------------------------------------------------------------


def test_secrets_appear_in_no_message_and_no_log(stub: StubStore, make, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    stub.on("GET", "/orders", Answer(401, recorded("auth_bad_key_error.json")))
    stub.on("GET", "/customers/2", Answer(404, recorded("customer_get_after_delete_error.json")))
    stub.on("GET", "/orders/12", Answer(500, {"code": "internal", "message": f"echo {SECRET} {KEY}"}))
    stub.on("GET", "/products", Answer(body=b"{not json"))
    stub.on("POST", "/orders", Answer(action="drop"))
    stub.on("PUT", "/orders/12", Answer(400, {"code": "rest_invalid_param", "message": f"bad key {KEY}"}))
    connector = make(max_retries=1)
    gone = make(base_url=f"http://127.0.0.1:{closed_port()}", max_retries=1)
    attempts = [
        connector.ping,
        lambda: connector.get_customer(2),
        lambda: connector.get_order(12),
        lambda: list(connector.iter_products()),
        lambda: connector.create_order(order_payload("BO-11")),
        lambda: connector.update_order(12, {"status": "completed"}),
        lambda: list(connector.iter_pages("/orders", {"consumer_key": KEY, "consumer_secret": SECRET})),
        gone.ping,
    ]
    errors = []
    for attempt in attempts:
        with pytest.raises(StoreError) as caught:
            attempt()
        errors.append(caught.value)
    token = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    for error in errors:
        chain = [error, error.__cause__, error.__context__]
        texts = [str(error), repr(error), error.message, error.details or ""]
        texts += [f"{e!s} {e!r}" for e in chain if e is not None]
        for text in texts:
            assert SECRET not in text and KEY not in text and token not in text
    assert caplog.records
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert SECRET not in text and KEY not in text and token not in text
    assert SECRET not in repr(connector) and SECRET not in repr(connector.credentials)


def test_create_customer_is_sent_again_when_the_lost_one_left_no_account(stub: StubStore, make) -> None:
    stub.on("POST", "/customers", Answer(action="drop"), Answer(400, recorded("customer_create_duplicate_error.json")))
    stub.on("GET", "/customers", Answer(body=[]), Answer(body=[recorded("customer_create.json")]))
    result = make().create_customer({"email": "jane.doe@example.com"})
    assert result.created is None and result.record["id"] == 2
    assert [(s.method, s.path) for s in stub.seen] == [
        ("POST", "/customers"), ("GET", "/customers"), ("POST", "/customers"), ("GET", "/customers"),
    ]
