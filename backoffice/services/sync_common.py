"""What the pull and push halves of the sync share: options, cursors, the run lock, page prefetching."""

from __future__ import annotations

import json
import logging
import marshal
import os
import pickle
import queue
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from operator import itemgetter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Boolean, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from backoffice.db import Database
from backoffice.domain.base import Money, UTCDateTime, utcnow
from backoffice.domain.cards import fit_checked, mask_card_numbers
from backoffice.domain.sync import SyncCursor
from backoffice.errors import Cancelled, UserFacingError
from backoffice.domain.enums import AddressKind, OrderStatus, PaymentMethod, PaymentStatus
from backoffice.domain.orders import Order, OrderAddress, OrderLine, Payment, ShippingLine
from backoffice.services.page_mapper import PageMapper
from backoffice.services.store_mapping import (
    ADDRESS_FIELDS,
    GuardReport,
    OrderData,
    RawOrderPage,
    map_raw_order_page,
)
from backoffice.store.http import check_cancel

log = logging.getLogger("backoffice.sync")

Progress = Callable[[int, int, str], None]
T = TypeVar("T")

CURSOR_PRODUCTS = "products"
CURSOR_ORDERS = "orders"
CURSOR_CUSTOMER_SCAN = "customers_full_scan"
LOCK_RUN = "run"
LOCK_PUSH = "push"
CURSOR_REINDEX = "search_reindex_pending"
#: Suffix of the cursor that tells how far an unfinished listing got (see `Checkpoint`).
RESUME_SUFFIX = "_resume"


@dataclass(frozen=True)
class SyncOptions:
    """How the sync paces itself; the defaults suit a real store, tests shorten the waits."""

    #: Scan every customer again when the last full scan is older than this.
    customer_scan_hours: float = 24.0
    #: Ask the store for orders and products changed this long before the last listing began
    #: (on top of the connector's one second), so clocks a little apart lose nothing.
    overlap_seconds: float = 2.0
    #: Wait before sending a message again: base * 2**(attempts-1), at most cap.
    backoff_base: float = 30.0
    backoff_cap: float = 3600.0
    #: After this many failed attempts a message is marked FAILED for staff to look at.
    max_attempts: int = 12
    #: Time a create whose answer was lost may still be running on the store before it is looked up.
    settle_seconds: float = 2.0
    #: Customers whose search entries are brought up to date in one transaction after a pull
    #: (only those the run touched; the whole index is rebuilt only after a run that stopped
    #: before doing it). SQLite has one writer at a time, so a batch keeps the desks' saves
    #: waiting while it is written (about 0.2 s); PostgreSQL locks rows, and searches and
    #: saves go on beside a batch five times as large, which takes a tenth less time in all.
    bulk_reindex_threshold: int = 1000
    bulk_reindex_threshold_postgresql: int = 5000
    #: Pages fetched ahead while the previous one is written.
    prefetch_pages: int = 2
    #: Pages of a listing asked of the store at once (it answers them side by side).
    parallel_pages: int = 3
    #: Pages written in one transaction, at most this many and for at most this long.
    batch_pages: int = 20
    batch_seconds: float = 0.5
    #: How long a sync run lease lasts without renewal (SQLite; PostgreSQL uses a session lock).
    lock_lease_seconds: float = 120.0
    #: How long a run waits for another to let go before it says another is going: a run
    #: whose process was just killed holds a PostgreSQL lock until the server notices.
    lock_wait_seconds: float = 5.0
    #: Map pages of orders (card guard, conversions) in a process of its own, on another
    #: core, when a listing has at least this many pages still to come (0: never).
    mapping_process_pages: int = 8


DEFAULT_OPTIONS = SyncOptions()


@dataclass
class RunStats:
    """Counts gathered during one run (mutable; copied into the summary at the end)."""

    requests: int = 0
    pulled_orders: int = 0
    pulled_customers: int = 0
    pulled_products: int = 0
    fetched_customers: int = 0
    skipped_customers: int = 0
    new_conflicts: int = 0
    changed_orders: set[int] = field(default_factory=set)
    changed_customers: set[int] = field(default_factory=set)
    changed_products: set[int] = field(default_factory=set)
    #: Of the changed orders and customers, those changed here and sent (the store's answer
    #: recorded): not changes made on the store, which the run's summary counts.
    sent_orders: set[int] = field(default_factory=set)
    sent_customers: set[int] = field(default_factory=set)
    #: Local customers whose account was deleted on the store: kept here, no longer linked.
    unlinked_customers: set[int] = field(default_factory=set)
    #: Local orders deleted (trashed) on the store: kept here, marked so.
    trashed_orders: set[int] = field(default_factory=set)
    reindex: set[int] = field(default_factory=set)
    #: Pages of the orders listing written, and the program's CPU time while it ran (every thread).
    order_pages: int = 0
    order_cpu_seconds: float = 0.0
    #: Of those pages, how many were mapped in the mapping process (`PageMapper`).
    mapped_order_pages: int = 0
    guard: GuardReport = field(default_factory=GuardReport)
    #: One line for each record the store sent that could not be read, left out of the pull
    #: ("customer 12: its billing address is a list, not an address").
    bad_records: list[str] = field(default_factory=list)


# --- cursors ---------------------------------------------------------------------------


def read_cursor(db: Database, name: str) -> str:
    with db.read() as s:
        return s.execute(select(SyncCursor.value).where(SyncCursor.name == name)).scalar_one_or_none() or ""


def read_cursor_in(session, name: str) -> str:
    """A cursor's value inside the caller's session ("" when unset)."""
    return session.execute(select(SyncCursor.value).where(SyncCursor.name == name)).scalar_one_or_none() or ""


def write_cursor(session, name: str, value: str) -> None:
    done = session.execute(
        update(SyncCursor).where(SyncCursor.name == name).values(value=value, updated_at=utcnow())
    ).rowcount
    if not done:
        session.execute(insert(SyncCursor).values(name=name, value=value, updated_at=utcnow()))


def cursor_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def time_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class Checkpoint:
    """How far a listing that did not finish got, so the next run goes on from there.

    `page` is the last page written in full (in the same transaction as this record),
    `last_id` the store id of its last record, `done` the records read up to it,
    `started` when the listing began (its cursor once it finishes) and `since` the
    cursor it ran with ("" for a listing of everything).
    """

    page: int
    last_id: int
    done: int
    started: str
    since: str = ""

    def text(self) -> str:
        return f"{self.page} {self.last_id} {self.done} {self.started} {self.since}".rstrip()

    @classmethod
    def parse(cls, text: str) -> Checkpoint | None:
        parts = (text or "").split(" ")
        if len(parts) not in (4, 5):
            return None
        try:
            page, last_id, done = int(parts[0]), int(parts[1]), int(parts[2])
        except ValueError:
            return None
        if page < 1 or cursor_time(parts[3]) is None:
            return None
        return cls(page, last_id, done, parts[3], parts[4] if len(parts) == 5 else "")


# --- one run at a time --------------------------------------------------------------------

# Any constants work; they name the locks on PostgreSQL.
_PG_LOCK_KEYS = {LOCK_RUN: 7_301_777, LOCK_PUSH: 7_301_778}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class SyncLock:
    """Keeps a second sync (another desk, the command line, a timer) from running alongside.

    Two locks: "run" for a whole sync run, "push" for sending outbox messages (held by
    a run only while it sends, so an order placed at the desk can go out at once).
    PostgreSQL: a session advisory lock, released by the server if the process dies.
    SQLite: a lease row in `sync_cursors`, taken over when it expired or its process
    on this computer is gone.
    """

    def __init__(self, db: Database, options: SyncOptions = DEFAULT_OPTIONS, name: str = LOCK_RUN) -> None:
        self.db = db
        self.options = options
        self.name = name
        self.row = f"lock_{name}"
        self.token = uuid.uuid4().hex
        self._conn = None
        self._held = False
        self._renewed = time.monotonic()

    @property
    def held(self) -> bool:
        return self._held

    def acquire(self, *, wait: float = 0.0, cancel=None) -> bool:
        deadline = time.monotonic() + wait
        while True:
            if self._try():
                self._held = True
                return True
            if time.monotonic() >= deadline:
                return False
            check_cancel(cancel)
            time.sleep(0.2)

    def _try(self) -> bool:
        if self.db.backend == "postgresql":
            if self._conn is None:
                self._conn = self.db.engine.connect()
            got = self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": _PG_LOCK_KEYS[self.name]}).scalar()
            self._conn.commit()
            if not got:
                self._conn.close()
                self._conn = None
            return bool(got)
        me = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "token": self.token})
        now = utcnow()
        with self.db.begin() as s:
            row = s.execute(
                select(SyncCursor.value, SyncCursor.updated_at).where(SyncCursor.name == self.row)
            ).first()
            if row is None:
                try:
                    with s.begin_nested():
                        s.execute(insert(SyncCursor).values(name=self.row, value=me, updated_at=now))
                except IntegrityError:
                    return False
                return True
            holder, since = row
            if holder and not self._stale(holder, since, now):
                return False
            taken = s.execute(
                update(SyncCursor)
                .where(SyncCursor.name == self.row, SyncCursor.value == holder)
                .values(value=me, updated_at=now)
            ).rowcount
            return bool(taken)

    def _stale(self, holder: str, since: datetime, now: datetime) -> bool:
        try:
            info = json.loads(holder)
        except ValueError:
            return True
        if info.get("host") == socket.gethostname() and isinstance(info.get("pid"), int):
            # On this computer the holder's process tells: alive, it holds; gone, it does not.
            if info["pid"] == os.getpid():
                return info.get("token") == self.token
            return not _pid_alive(info["pid"])
        return since is None or now - since > timedelta(seconds=self.options.lock_lease_seconds)

    def renew(self) -> None:
        """Keep the lease (SQLite); written at most every few seconds."""
        if not self._held or self.db.backend == "postgresql":
            return
        now = time.monotonic()
        if now - self._renewed < min(10.0, self.options.lock_lease_seconds / 4):
            return
        self._renewed = now
        with self.db.begin() as s:
            s.execute(
                update(SyncCursor)
                .where(SyncCursor.name == self.row, SyncCursor.value.contains(self.token))
                .values(updated_at=utcnow())
            )

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        if self.db.backend == "postgresql":
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEYS[self.name]})
                    self._conn.commit()
                finally:
                    self._conn.close()
                    self._conn = None
            return
        with self.db.begin() as s:
            s.execute(
                update(SyncCursor)
                .where(SyncCursor.name == self.row, SyncCursor.value.contains(self.token))
                .values(value="", updated_at=utcnow())
            )

    def __enter__(self) -> SyncLock:
        if not self.acquire():
            raise SyncBusy()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class SyncBusy(UserFacingError):
    """Another sync is running against this database."""

    def __init__(self) -> None:
        super().__init__(
            "Another sync with the web store is running (on this or another desk); "
            "nothing was started. Try again when it has finished."
        )


# --- reading pages ahead -------------------------------------------------------------------


def prefetch(source: Iterator[T], depth: int, cancel=None) -> Iterator[T]:
    """Yield what `source` yields, produced on a helper thread up to `depth` items ahead.

    The source (HTTP and JSON decoding) runs while the caller writes the previous page;
    it is only ever touched from the helper thread. Errors reach the caller in order;
    when the caller stops early, the helper stops at its next item and is joined.
    """
    if depth <= 0:
        yield from source
        return
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller's thread
            put(("error", exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a generator that failed
                    pass

    worker = threading.Thread(target=produce, name="sync-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            try:
                kind, item = items.get(timeout=0.2)
            except queue.Empty:
                check_cancel(cancel)
                if not worker.is_alive() and items.empty():
                    raise RuntimeError("the page reader stopped without a word") from None
                continue
            if kind == "item":
                yield item
            elif kind == "end":
                return
            else:
                raise item
    finally:
        stop.set()
        worker.join(timeout=60)


@contextmanager
def pages_in_parallel(connector: Any, width: int) -> Iterator[None]:
    """Let the connector's listings ask for `width` pages at once while the block runs.

    Works with the WooCommerce connector's HTTP session; other connectors list as they do.
    """
    session = getattr(connector, "_http", None)
    if session is None or not hasattr(session, "parallel_pages"):
        yield
        return
    before = session.parallel_pages
    session.parallel_pages = max(1, int(width))
    try:
        yield
    finally:
        session.parallel_pages = before


class RequestCounter:
    """Counts HTTP exchanges (thread-safe), chained in front of another hook."""

    def __init__(self, then: Callable[..., None] | None = None) -> None:
        self._lock = threading.Lock()
        self.count = 0
        self._then = then

    def __call__(self, method: str, path: str, status: int | None, seconds: float) -> None:
        with self._lock:
            self.count += 1
        if self._then is not None:
            self._then(method, path, status, seconds)


def attach_counter(connector: Any) -> RequestCounter | None:
    """Count the requests a connector makes from now on, keeping any hook it already has.

    A connector made by `connector_for` carries its own counter; for others this hooks
    into the WooCommerce connector's session when it has one, else counts nothing.
    """
    existing = getattr(connector, "request_counter", None)
    if isinstance(existing, RequestCounter):
        return existing
    session = getattr(connector, "_http", None)
    if session is None or not hasattr(session, "_on_request"):
        return None
    counter = RequestCounter(session._on_request)
    session._on_request = counter
    try:
        connector.request_counter = counter
    except AttributeError:
        pass
    return counter


_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def safe_sentence(text: str, limit: int = 2000) -> str:
    """A store's sentence fit to keep in the outbox and the run log: no email address and no
    card number in it (they outlive an erasure there), and not too long."""
    text = _EMAIL.sub("(an email address)", text or "")
    text = mask_card_numbers(text).text
    # A cut can make a card number of what was none: check after cutting.
    return text if len(text) <= limit else fit_checked(text, limit - 3).rstrip() + "..."


def check(cancel) -> None:
    """Raise `Cancelled` when the token fired."""
    check_cancel(cancel)


__all__ = [
    "Cancelled",
    "DEFAULT_OPTIONS",
    "PageMapper",
    "Progress",
    "RequestCounter",
    "RunStats",
    "SyncBusy",
    "SyncLock",
    "SyncOptions",
    "attach_counter",
    "check",
    "cursor_time",
    "prefetch",
    "read_cursor",
    "safe_sentence",
    "time_text",
    "write_cursor",
]


# --- bulk inserts ------------------------------------------------------------------------------

_CONVERTERS: dict[tuple[str, str], list] = {}


def _converter(column, dialect: str):
    """A function turning a Python value into what the driver takes for this column.

    It does what the column's SQLAlchemy type would do on the way in (so rows read back
    the same), without its per-value overhead; checked by a round-trip test.
    """
    kind = column.type
    if isinstance(kind, UTCDateTime):
        if dialect == "sqlite":
            def to_sqlite(value):
                # SQLAlchemy's SQLite DATETIME text, always with microseconds.
                if value is None:
                    return None
                if value.tzinfo is not timezone.utc:
                    value = value.astimezone(timezone.utc)
                return value.isoformat(" ", "microseconds")[:-6]  # without "+00:00"
            return to_sqlite
        return lambda value: None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None)
    if isinstance(kind, Money):
        cents = lru_cache(maxsize=65536)(lambda value: kind.process_bind_param(value, None))
        return lambda value: None if value is None else cents(value)
    enum_class = getattr(kind, "enum_class", None)
    if enum_class is not None:
        stored = {member: member.value for member in enum_class}
        stored.update({member.value: member.value for member in enum_class})
        stored[None] = None
        return stored.__getitem__
    if isinstance(kind, Boolean):
        if dialect == "sqlite":
            return lambda value: None if value is None else int(bool(value))
        return lambda value: None if value is None else bool(value)
    return None


def _default(column):
    default = column.default
    if default is None:
        return None, False
    if default.is_scalar:
        return default.arg, True
    if default.is_callable:
        return default.arg, False
    return None, False


def bulk_insert(session, table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows into `table` in the caller's transaction, fast.

    Every row must carry the same keys. Columns left out get their Python-side default
    (evaluated once for the batch); the primary key comes from the database. Values go
    through the same conversions the column types apply, straight to the driver's
    `executemany`.
    """
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect.name
    keys = list(rows[0])
    columns = [table.c[k] for k in keys]
    extra = [c for c in table.columns if c.key not in rows[0] and not c.primary_key and c.default is not None]
    names = [c.name for c in columns] + [c.name for c in extra]
    cache_key = (dialect, table.name + ":" + ",".join(names))
    plan = _CONVERTERS.get(cache_key)
    if plan is None:
        plan = [(i, f) for i, f in enumerate(_converter(c, dialect) for c in columns + extra) if f is not None]
        _CONVERTERS[cache_key] = plan
    defaults = []
    for c in extra:
        value, scalar = _default(c)
        defaults.append(value if scalar else value(None))
    getter = itemgetter(*keys)
    single = len(keys) == 1
    params = []
    for row in rows:
        values = [getter(row)] if single else list(getter(row))
        if defaults:
            values.extend(defaults)
        for i, convert in plan:
            values[i] = convert(values[i])
        params.append(values)
    _write_rows(conn, table, names, params)


def converted(table, names: tuple[str, ...], dialect: str) -> Callable[[tuple], tuple]:
    """A function turning a tuple of Python values for these columns of `table` into what
    the driver takes (the conversions of `bulk_insert`), for `insert_converted`."""
    key = (dialect, table.name + "=" + ",".join(names))
    function = _CONVERTERS.get(key)
    if function is None:
        steps = [_converter(table.c[name], dialect) for name in names]
        scope = {f"f{i}": step for i, step in enumerate(steps) if step is not None}
        parts = [f"f{i}(v[{i}])" if step is not None else f"v[{i}]" for i, step in enumerate(steps)]
        exec(f"def convert(v):\n    return ({', '.join(parts)},)\n", scope)  # one call per row, no loop
        function = _CONVERTERS[key] = scope["convert"]
    return function


def insert_converted(session, table, names: tuple[str, ...], rows: list[tuple]) -> None:
    """`bulk_insert` of rows already converted for the driver (`converted`), as tuples of
    these columns; columns left out get their Python-side default."""
    if not rows:
        return
    conn = session.connection()
    extra = [c for c in table.columns if c.key not in names and not c.primary_key and c.default is not None]
    if extra:
        convert = converted(table, tuple(c.name for c in extra), conn.dialect.name)
        defaults = convert(tuple(value if scalar else value(None) for value, scalar in map(_default, extra)))
        rows = [row + defaults for row in rows]
    _write_rows(conn, table, list(names) + [c.name for c in extra], rows)


def _write_rows(conn, table, names: list[str], params: list) -> None:
    dialect = conn.dialect.name
    marks = ",".join(["?" if dialect == "sqlite" else "%s"] * len(names))
    quoted = ", ".join(f'"{n}"' for n in names)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    cursor = conn.connection.driver_connection.cursor()
    try:
        if dialect == "postgresql":
            # COPY: one statement for the batch. An executemany of INSERTs costs the server a
            # statement per row, which made PostgreSQL twice as slow as SQLite here.
            with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for values in params:
                    copy.write_row(values)
        else:
            cursor.executemany(sql, params)
    finally:
        cursor.close()


def select_in(session, sql: str, values: list) -> list[tuple]:
    """Rows of `sql`, whose one "IN ({})" takes `values`, run on the driver in the caller's transaction.

    For the sync's lookups of plain ids and texts by a page's worth of keys: SQLAlchemy
    spends about a millisecond building each such statement, the driver a tenth of that.
    Values come back as the driver gives them (numbers and texts only, no conversions).
    """
    if not values:
        return []
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql.format(",".join([mark] * len(values))), values)
        return cursor.fetchall()
    finally:
        cursor.close()


# --- rows of orders new here ---------------------------------------------------------------

ORDER_VALUE_COLUMNS = (
    "store_id", "number", "currency", "subtotal", "shipping_total", "discount_total", "tax_total", "total",
    "customer_note", "payment_method", "payment_method_title", "payment_url", "order_key", "completed_at",
    "store_modified_at", "gift_message", "status", "paid_at", "anonymised", "version", "created_at",
)
#: The columns of a new order: its values (`NewOrderRows.order`), then what is known only here.
ORDER_COLUMNS = ORDER_VALUE_COLUMNS + ("reference", "customer_id", "origin", "updated_at")
LINE_COLUMNS = ("order_id", "product_id", "store_line_id", "sku", "name", "quantity", "unit_price", "total",
                "options")
SHIPPING_COLUMNS = ("order_id", "store_line_id", "method_id", "method_title", "total")
ADDRESS_COLUMNS = ("order_id", "kind") + ADDRESS_FIELDS
PAYMENT_COLUMNS = ("order_id", "method", "status", "gateway", "transaction_id", "card_brand", "card_last4",
                   "auth_code", "amount", "currency", "recorded_at", "paid_at", "recorded_by")


@dataclass
class NewOrderRows:
    """An order's rows for the driver when it is new here (`new_order_rows`), but for what
    only the database tells: the order's id, its customer, its reference, its products."""

    dialect: str
    #: The order's `ORDER_VALUE_COLUMNS`; `created_at` is None when the store sent no date.
    order: tuple
    #: (the product's store id, the line's `LINE_COLUMNS` after order and product) for each line.
    lines: list[tuple[int | None, tuple]]
    #: `SHIPPING_COLUMNS`, `ADDRESS_COLUMNS` and `PAYMENT_COLUMNS` after the order's id.
    shipping: list[tuple]
    addresses: list[tuple]
    payment: tuple | None


def new_order_rows(item: Any, dialect: str) -> NewOrderRows:
    """The rows an order new here is written as (`store_mapping.OrderData`), converted for
    the driver of `dialect`. Runs in the mapping process too (`map_order_page_rows`)."""
    values = item.values
    order, line, ship, address, pay = _new_order_converters(dialect)
    order = order((
        values["store_id"], values["number"], values["currency"], values["subtotal"], values["shipping_total"],
        values["discount_total"], values["tax_total"], values["total"], values["customer_note"],
        values["payment_method"], values["payment_method_title"], values["payment_url"], values["order_key"],
        values["completed_at"], values["store_modified_at"], values.get("gift_message", ""),
        item.status or OrderStatus.ON_HOLD, item.paid_at, False, 1, item.created_at,
    ))
    lines = [(x["product_store_id"], line((x["store_line_id"], x["sku"], x["name"], x["quantity"], x["unit_price"],
                                           x["total"], x.get("options") or "")))
             for x in item.lines]
    shipping = [ship((x["store_line_id"], x["method_id"], x["method_title"], x["total"])) for x in item.shipping_lines]
    addresses = []
    for kind, part in ((AddressKind.BILLING, item.billing), (AddressKind.SHIPPING, item.shipping)):
        fields = _ADDRESS_VALUES(part)
        if any(fields):
            addresses.append(address((kind, *fields)))
    payment = None
    if item.paid_at is not None:
        payment = pay((
            PaymentMethod.STORE, PaymentStatus.PAID, values["payment_method"], item.transaction_id, "", None, "",
            values["total"], values["currency"], item.paid_at, item.paid_at, None))
    return NewOrderRows(dialect, order, lines, shipping, addresses, payment)


_ADDRESS_VALUES = itemgetter(*ADDRESS_FIELDS)


@lru_cache(maxsize=None)
def _new_order_converters(dialect: str) -> tuple[Callable[[tuple], tuple], ...]:
    """The `converted` functions `new_order_rows` uses for `dialect`: order, line, shipping line, address, payment."""
    return (converted(Order.__table__, ORDER_VALUE_COLUMNS, dialect),
            converted(OrderLine.__table__, LINE_COLUMNS[2:], dialect),
            converted(ShippingLine.__table__, SHIPPING_COLUMNS[1:], dialect),
            converted(OrderAddress.__table__, ADDRESS_COLUMNS[1:], dialect),
            converted(Payment.__table__, PAYMENT_COLUMNS[1:], dialect))


def map_order_page_rows(job: tuple) -> bytes | None:
    """`store_mapping.map_raw_order_page` of (body, page, per page, total, pages), each order
    only with its `new_order_rows` for the driver of the job's last item, the dialect, and
    what goes beside them (`OrderData.whole` is False), packed for the way back
    (`pack_order_page`; `unpack_order_page` reads it); None as `map_raw_order_page`."""
    page = map_raw_order_page(job[:5])
    return None if page is None else pack_order_page(page, job[5])


def _stamp(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _unstamp(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def pack_order_page(page: RawOrderPage, dialect: str) -> bytes:
    """A mapped page of orders (`map_raw_order_page`) as plain values only (numbers, texts,
    tuples and lists: no objects), each order with its rows for the driver of `dialect`, in
    `marshal`'s format (`pickle`'s when a driver takes other values, as PostgreSQL's takes
    dates): read back by `unpack_order_page`. Measured alone (the mapping process fed recorded
    pages), receiving a page cost the sync's process about 1 ms this way against 3 ms as
    objects, and sending it costs the mapping process a little less as well."""
    items = []
    for item in page.items:
        rows = new_order_rows(item, dialect)
        items.append((
            item.store_id, item.status.value if item.status is not None else None, item.reference,
            item.customer_store_id,
            [(t["carrier"], t["tracking_number"], _stamp(t["shipped_at"])) for t in item.tracking],
            item.transaction_id, _stamp(item.created_at), _stamp(item.modified_at), _stamp(item.paid_at),
            [(f["store_line_id"], f["name"], str(f["total"]), str(f["total_tax"])) for f in item.fees],
            [(r["store_id"], str(r["amount"]), r["reason"]) for r in item.refunds],
            (rows.order, rows.lines, rows.shipping, rows.addresses, rows.payment),
        ))
    plain = (dialect, items, page.report.found, page.report.places, page.problems, page.count, page.last_id,
             [(cid, _stamp(created)) for cid, created in page.customers])
    try:
        return b"m" + marshal.dumps(plain)
    except ValueError:  # a value marshal does not write (a date for PostgreSQL's driver)
        return b"p" + pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)


def unpack_order_page(blob: bytes) -> RawOrderPage:
    """The page `pack_order_page` packed: its orders as `OrderData` with only `rows` and the
    fields beside them (`whole` False), as `map_order_page_rows` gives them."""
    plain = marshal.loads(memoryview(blob)[1:]) if blob[:1] == b"m" else pickle.loads(memoryview(blob)[1:])
    dialect, packed, found, places, problems, count, last_id, customers = plain
    items = []
    for (store_id, status, reference, customer_store_id, tracking, transaction_id, created, modified, paid,
         fees, refunds, (order, lines, shipping, addresses, payment)) in packed:
        items.append(OrderData(
            store_id=store_id, values={}, status=None if status is None else OrderStatus(status),
            reference=reference, customer_store_id=customer_store_id, lines=[], shipping_lines=[], billing={},
            shipping={},
            tracking=[{"carrier": carrier, "tracking_number": number, "shipped_at": _unstamp(shipped)}
                      for carrier, number, shipped in tracking],
            transaction_id=transaction_id, created_at=_unstamp(created), modified_at=_unstamp(modified),
            paid_at=_unstamp(paid),
            fees=[{"store_line_id": line_id, "name": name, "total": Decimal(total), "total_tax": Decimal(tax)}
                  for line_id, name, total, tax in fees],
            refunds=[{"store_id": refund_id, "amount": Decimal(amount), "reason": reason}
                     for refund_id, amount, reason in refunds],
            rows=NewOrderRows(dialect, order, lines, shipping, addresses, payment),
            whole=False,
        ))
    return RawOrderPage(items, GuardReport(found, list(places)), list(problems), count, last_id,
                        [(cid, _unstamp(created)) for cid, created in customers])
