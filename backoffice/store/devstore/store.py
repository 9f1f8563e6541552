"""DevStore: a WooCommerce-like web store on this machine, for development, tests and demos."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from . import documents as docs
from .api import Api
from .faults import Faults
from .mail import SentEmail
from .rest_errors import RestError
from .seed import DEFAULT_UNTIL, HISTORY_SECONDS, PopulateResult, populate
from .server import DevStoreServer, is_loopback, serve_in_thread
from .shop import Shop
from .storage import Query, Storage
from .wire import BASE, iso, render

#: How many requests `requests_log` remembers (the oldest are forgotten first).
LOG_LIMIT = 500_000


@dataclass(frozen=True)
class LoggedRequest:
    """One request the store answered. `status` is 0 when the connection was dropped."""

    method: str
    path: str
    query: dict[str, str]
    status: int

    def __iter__(self):  # noqa: ANN204 - lets tests unpack (method, path, query, status)
        return iter((self.method, self.path, self.query, self.status))


class DevStore:
    """A store speaking the WooCommerce REST API v3 over HTTP on loopback.

    `DevStore(db_path=None, *, seed=1)` keeps its data in SQLite (a temporary file when
    no path is given). Keys are derived from `seed` unless given. `clock` (epoch seconds)
    lets tests move time without sleeping. Entering a `with` block starts the server on a
    free port; leaving it stops the server and closes the database.

    Emails the store sends (through the order actions) are recorded, not sent:
    `sent_emails()` lists them and `email_listeners` are called as each goes out.
    `order_actions = False` makes the store answer as one older than WooCommerce 9.5,
    which has no order actions.
    """

    def __init__(
        self,
        db_path: str | None = None,
        *,
        seed: int = 1,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        clock: Callable[[], float] | None = None,
        order_actions: bool = True,
    ) -> None:
        self.seed = seed
        self._tmpdir: str | None = None
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="devstore-")
            db_path = os.path.join(self._tmpdir, "devstore.sqlite3")
        self.db_path = db_path
        self.consumer_key = consumer_key or "ck_" + hashlib.sha1(f"devstore:{seed}:key".encode()).hexdigest()
        self.consumer_secret = consumer_secret or "cs_" + hashlib.sha1(f"devstore:{seed}:secret".encode()).hexdigest()
        self.clock: Callable[[], float] = clock or time.time
        self.faults = Faults()
        self.base_url: str | None = None
        self._lock = threading.RLock()
        self._storage = Storage(db_path)
        self._shop = Shop(self._storage, lambda: self.clock(), random.Random(f"devstore:{seed}:runtime"))
        self.api = Api(self._shop, self._storage, self._lock, lambda: (self.consumer_key, self.consumer_secret))
        self.api.order_actions = order_actions
        #: Called with each `SentEmail` as the store sends it (from a server thread).
        self.email_listeners: list[Callable[[SentEmail], None]] = []
        self._shop.on_email = self._email_sent
        self._server: DevStoreServer | None = None
        self._thread: threading.Thread | None = None
        self._stats_lock = threading.Lock()
        self._request_count = 0
        self._serve_seconds = 0.0
        self._log: deque[LoggedRequest] = deque(maxlen=LOG_LIMIT)
        self._ensure_admin()

    # Life cycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve in a background thread. Refuses any address but loopback.

        Calling it again while serving is allowed when it asks for the same address (or
        for any free port).
        """
        if not is_loopback(host):
            raise ValueError(f"The dev store only listens on this machine (loopback); refusing to bind to {host}.")
        if self._server is not None:
            current_host, current_port = self._server.server_address[:2]
            if port in (0, current_port) and host.strip("[]") in (current_host, "localhost"):
                return
            raise RuntimeError(f"The dev store is already serving at {self.base_url}.")
        bind = "127.0.0.1" if host == "localhost" else host
        server = DevStoreServer((bind, port), self)
        real_port = server.server_address[1]
        shown = f"[{bind.strip('[]')}]" if ":" in bind else bind
        self.base_url = f"http://{shown}:{real_port}"
        self._server = server
        self._thread = serve_in_thread(server)

    def stop(self) -> None:
        """Stop serving and end every connection thread. `base_url` keeps the last address."""
        server, thread = self._server, self._thread
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if thread is not None:
            thread.join(5)
        self._server = None
        self._thread = None

    def close(self) -> None:
        """Stop serving, close the database, and delete it if it was a temporary one."""
        self.stop()
        with self._lock:
            self._storage.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def api_url(self) -> str:
        """Where the REST API lives: base_url + "/wp-json/wc/v3"."""
        if self.base_url is None:
            raise RuntimeError("The dev store has not been started.")
        return self.base_url + "/wp-json/wc/v3"

    def __enter__(self) -> DevStore:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Data -------------------------------------------------------------------------------

    def populate(self, customers: int = 0, orders: int = 0, products: int = 0, *,
                 until: float | None = None) -> PopulateResult:
        """Add deterministic fake data (same seed and counts, same data) in one transaction.

        The history spans two years and ends at `until` (epoch seconds; by default
        2026-11-01 UTC, or a day ago if the clock says that is in the future). Orders need
        products: with none given or stored, 20 are made. Orders go to the customers made
        by the same call (or to guests).
        """
        if until is None:
            until = min(DEFAULT_UNTIL, self.clock() - 86400)
        with self._lock:
            run = self._storage._counters["populate"]
            with self._storage.transaction():
                self._storage.next_id("populate")
            rng = random.Random(f"devstore:{self.seed}:populate:{run}")
            return populate(self._storage, rng, customers=customers, orders=orders, products=products, until=until)

    def _ensure_admin(self) -> None:
        with self._lock:
            if self._storage.count_all("customers"):
                return
            with self._storage.transaction():
                admin = docs.new_customer(
                    self._storage.next_id("user"), created=iso(DEFAULT_UNTIL - HISTORY_SECONDS - 90 * 86400),
                    modified=None, email="admin@example.com", username="admin", role="administrator",
                )
                self._storage.save("customers", admin)

    def _render(self, text: str | None) -> dict[str, Any] | None:
        if text is None:
            return None
        return json.loads(render(text, self.base_url or "http://127.0.0.1"))

    def _rendered(self, doc: dict[str, Any]) -> dict[str, Any]:
        return json.loads(render(json.dumps(doc), self.base_url or "http://127.0.0.1"))

    def get_order(self, order_id: int) -> dict[str, Any] | None:
        """The order as the API would send it, or None."""
        with self._lock:
            return self._render(self._storage.text("orders", order_id))

    def get_customer(self, customer_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._render(self._storage.text("customers", customer_id))

    def get_product(self, product_id: int) -> dict[str, Any] | None:
        with self._lock:
            return self._render(self._storage.text("products", product_id))

    def _list(self, kind: str, query: Query) -> list[dict[str, Any]]:
        with self._lock:
            texts = self._storage.texts(kind, self._storage.ids(kind, query))
        return [self._render(t) for t in texts]  # type: ignore[misc]

    def list_orders(self, *, status: str | None = None, customer_id: int | None = None) -> list[dict[str, Any]]:
        """Every order (trash included unless a status is given), oldest id first."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if customer_id is not None:
            where.append("customer_id = ?")
            params.append(customer_id)
        return self._list("orders", Query(" AND ".join(where), tuple(params)))

    def list_customers(self, *, role: str = "all") -> list[dict[str, Any]]:
        """Every customer (administrators too with role "all"), oldest id first."""
        if role == "all":
            return self._list("customers", Query())
        return self._list("customers", Query("role = ?", (role,)))

    def list_products(self) -> list[dict[str, Any]]:
        return self._list("products", Query())

    def find_orders_by_meta(self, key: str, value: str) -> list[dict[str, Any]]:
        """Orders whose meta_data has this key with this value."""
        query = Query("id IN (SELECT order_id FROM order_meta WHERE meta_key = ? AND meta_value = ?)", (key, value))
        return self._list("orders", query)

    def count(self, kind: str) -> int:
        """How many "orders", "customers" or "products" the store holds."""
        with self._lock:
            return self._storage.count_all(kind)

    # Emails and notes --------------------------------------------------------------------

    @property
    def order_actions(self) -> bool:
        """Whether the store has the order actions (WooCommerce 9.5 and later); settable while serving."""
        return self.api.order_actions

    @order_actions.setter
    def order_actions(self, value: bool) -> None:
        self.api.order_actions = bool(value)

    def _email_sent(self, email: SentEmail) -> None:
        shown = replace(email, pay_url=email.pay_url.replace(BASE, self.base_url or "http://127.0.0.1"))
        for listener in list(self.email_listeners):
            listener(shown)

    def sent_emails(self, order_id: int | None = None) -> list[SentEmail]:
        """The emails the store sent (all, or one order's), oldest first."""
        with self._lock:
            rows = self._storage.emails(order_id)
        base = self.base_url or "http://127.0.0.1"
        return [SentEmail(r[0], r[1], r[2], r[3], r[4], r[5], r[6].replace(BASE, base)) for r in rows]

    def order_notes(self, order_id: int) -> list[dict[str, Any]]:
        """An order's notes as the API sends them, newest first; [] for an unknown order."""
        with self._lock:
            if self._shop.get_order(order_id) is None:
                return []
            return [self._rendered(n) for n in self._shop.order_notes(order_id)]

    # Changes made on the store's side (as staff in the shop's admin would) --------------

    @property
    def key_permissions(self) -> str:
        """The API keys' permission: "read_write" (the default) or "read" (every write refused)."""
        return self.api.key_permissions

    @key_permissions.setter
    def key_permissions(self, value: str) -> None:
        if value not in ("read", "read_write"):
            raise ValueError("key permissions are 'read' or 'read_write'")
        self.api.key_permissions = value

    def set_tax_rate(self, rate: str | None, *, country: str = "US", state: str = "TX", name: str = "TX Tax",
                     shipping: bool = True) -> None:
        """Turn taxes on with one rate ("8.25" percent) for an address, or off with None.

        Orders created or changed afterwards are taxed as a stock store taxes them.
        """
        with self._lock:
            self._shop.tax_rates = [] if rate is None else [{
                "id": 1, "country": country.upper(), "state": state.upper(), "rate": f"{float(rate):.4f}",
                "name": name, "priority": 1, "compound": False, "shipping": shipping, "class": "standard",
            }]

    def create_product(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create a product from an API-shaped payload; raise RestError as the API would."""
        with self._lock:
            return self._rendered(self._shop.create_product(payload))

    def update_product(self, product_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.update_product(product_id, payload))

    def create_variation(self, parent_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Add a variation to a product (which becomes variable), as `POST products/{id}/variations`."""
        with self._lock:
            return self._rendered(self._shop.create_variation(parent_id, payload))

    def update_variation(self, parent_id: int, variation_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.update_variation(parent_id, variation_id, payload))

    def refund_order(self, order_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        """Refund part or all of an order, as `POST orders/{id}/refunds` does."""
        with self._lock:
            return self._rendered(self._shop.create_refund(order_id, payload))

    def refunds_of(self, order_id: int) -> list[dict[str, Any]]:
        """An order's refunds as `GET orders/{id}/refunds` lists them, newest first."""
        with self._lock:
            return [self._rendered(r) for r in self._shop.refunds(order_id)]

    def delete_order(self, order_id: int, *, force: bool = False) -> dict[str, Any]:
        """Move an order to the trash, or delete it for good with `force`."""
        with self._lock:
            return self._rendered(self._shop.delete_order(order_id, force=force))

    def delete_product(self, product_id: int, *, force: bool = False) -> dict[str, Any]:
        """Move a product to the trash, or delete it for good with `force`."""
        with self._lock:
            return self._rendered(self._shop.delete_product(product_id, force=force))

    def create_customer(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.create_customer(payload))

    def update_customer(self, customer_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.update_customer(customer_id, payload))

    def delete_customer(self, customer_id: int) -> dict[str, Any]:
        """Delete for good; the customer's orders stay with `customer_id` 0."""
        with self._lock:
            return self._rendered(self._shop.delete_customer(customer_id, force=True))

    def create_order(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.create_order(payload))

    def update_order(self, order_id: int, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            return self._rendered(self._shop.update_order(order_id, payload))

    def mark_paid(self, order_id: int, transaction_id: str = "") -> dict[str, Any]:
        """Pay for an order as a customer on the order-pay page would.

        The order moves to processing with `date_paid`, `transaction_id` and a newer
        `date_modified`. Raises LookupError for an unknown order and ValueError for one
        that cannot be paid (already paid, completed, refunded, in the trash).
        """
        with self._lock:
            order = self._shop.get_order(order_id)
            if order is None:
                raise LookupError(f"The dev store has no order {order_id}.")
            if order["status"] not in docs.PAYABLE_STATUSES:
                raise ValueError(f"Order {order_id} is {order['status']} and cannot be paid for.")
            txn = transaction_id or "devpay_" + "".join(self._shop.rng.choices("0123456789abcdef", k=16))
            return self._rendered(self._shop.mark_paid(order_id, txn))

    def _pay_from_page(self, order_id: int, transaction_id: str) -> dict[str, Any]:
        with self._lock:
            return self._shop.mark_paid(order_id, transaction_id)

    # Statistics -------------------------------------------------------------------------

    def _record(self, method: str, path: str, query: str, status: int, seconds: float) -> None:
        params = {k: ("[redacted]" if k == "consumer_secret" else v)
                  for k, v in parse_qsl(query, keep_blank_values=True)}
        with self._stats_lock:
            self._request_count += 1
            self._serve_seconds += seconds
            self._log.append(LoggedRequest(method, path, params, status))

    @property
    def request_count(self) -> int:
        """How many HTTP requests the store has received (faulted ones included)."""
        with self._stats_lock:
            return self._request_count

    @property
    def serve_seconds(self) -> float:
        """Wall time spent inside request handlers, injected latency included."""
        with self._stats_lock:
            return self._serve_seconds

    @property
    def requests_log(self) -> list[LoggedRequest]:
        """The requests answered, oldest first (the secret in a query is redacted)."""
        with self._stats_lock:
            return list(self._log)

    def reset_stats(self) -> None:
        """Zero the request count, the serve time and the log."""
        with self._stats_lock:
            self._request_count = 0
            self._serve_seconds = 0.0
            self._log.clear()


__all__ = ["DevStore", "LoggedRequest", "PopulateResult", "RestError", "SentEmail"]
