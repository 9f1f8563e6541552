"""SQLite storage of the dev store: each document kept as ready-to-send JSON text.

A narrow table per kind holds the columns that lists filter and sort on; the JSON text
sits in a separate table so that paging with OFFSET walks small rows only. Order meta
values are copied into an indexed table so an order can be found by its meta cheaply.
Order notes and the emails the store "sent" have plain tables of their own.
"""

from __future__ import annotations

import json
import sqlite3
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from . import documents as docs
from .wire import dumps, meta_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY, created TEXT NOT NULL, modified TEXT NOT NULL, status TEXT NOT NULL,
    sku TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE, price REAL, search TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS product_docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS products_modified ON products (modified, id);
CREATE INDEX IF NOT EXISTS products_created ON products (created, id);
CREATE INDEX IF NOT EXISTS products_sku ON products (sku);
CREATE INDEX IF NOT EXISTS products_slug ON products (slug);
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY, created TEXT NOT NULL, modified TEXT, email TEXT NOT NULL COLLATE NOCASE UNIQUE,
    username TEXT NOT NULL COLLATE NOCASE UNIQUE, role TEXT NOT NULL, name TEXT NOT NULL COLLATE NOCASE,
    search TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS customer_docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS customers_role ON customers (role, id);
CREATE INDEX IF NOT EXISTS customers_name ON customers (name, id);
CREATE INDEX IF NOT EXISTS customers_created ON customers (created, id);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY, created TEXT NOT NULL, modified TEXT NOT NULL, status TEXT NOT NULL,
    customer_id INTEGER NOT NULL, search TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS order_docs (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS orders_modified ON orders (modified, id);
CREATE INDEX IF NOT EXISTS orders_created ON orders (created, id);
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS order_meta (order_id INTEGER NOT NULL, meta_key TEXT NOT NULL, meta_value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_meta_value ON order_meta (meta_value);
CREATE INDEX IF NOT EXISTS order_meta_key_value ON order_meta (meta_key, meta_value);
CREATE INDEX IF NOT EXISTS order_meta_order ON order_meta (order_id);
CREATE TABLE IF NOT EXISTS order_notes (
    id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, created TEXT NOT NULL, author TEXT NOT NULL,
    note TEXT NOT NULL, customer_note INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS order_notes_order ON order_notes (order_id, id);
CREATE TABLE IF NOT EXISTS order_refunds (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS order_refunds_order ON order_refunds (order_id, id);
CREATE TABLE IF NOT EXISTS emails (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sent TEXT NOT NULL, recipient TEXT NOT NULL, order_id INTEGER NOT NULL,
    kind TEXT NOT NULL, subject TEXT NOT NULL, pay_url TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS emails_order ON emails (order_id, id);
"""

#: Id sequences, named after the WordPress tables they mimic. Products, orders and
#: refunds share "post" ids, as they do on a store with HPOS.
FIRST_IDS = {
    "post": 10,
    "user": 1,
    "order_item": 1,
    "order_meta": 1,
    "order_item_meta": 1,
    "user_meta": 1,
    "post_meta": 1,
    "comment": 1,
    "populate": 0,
}

KINDS = ("products", "customers", "orders")
#: Beyond this many rows, a page asked out of order seeks from remembered sort keys
#: instead of skipping rows one by one.
DEEP_OFFSET = 2000


#: The listing status of a variation: variations are not products of the listings, as on the store.
VARIATION_STATUS = "variation"


def product_row(p: dict[str, Any]) -> tuple:
    price = float(p["price"]) if p["price"] else None
    status = VARIATION_STATUS if p["type"] == "variation" else p["status"]
    return (p["id"], p["date_created_gmt"], p["date_modified_gmt"], status, p["sku"], p["slug"], p["name"],
            price, docs.product_search_text(p))


def customer_row(c: dict[str, Any]) -> tuple:
    return (c["id"], c["date_created_gmt"], c["date_modified_gmt"], c["email"], c["username"], c["role"],
            docs.display_name(c), docs.customer_search_text(c))


def order_row(o: dict[str, Any]) -> tuple:
    return (o["id"], o["date_created_gmt"], o["date_modified_gmt"], o["status"], o["customer_id"],
            docs.order_search_text(o))


def order_meta_rows(o: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(o["id"], str(m["key"]), meta_text(m["value"])) for m in o["meta_data"]]


_ROW = {"products": product_row, "customers": customer_row, "orders": order_row}
_COLUMNS = {
    "products": "id, created, modified, status, sku, slug, name, price, search",
    "customers": "id, created, modified, email, username, role, name, search",
    "orders": "id, created, modified, status, customer_id, search",
}
_DOCS = {"products": "product_docs", "customers": "customer_docs", "orders": "order_docs"}


@dataclass(frozen=True)
class Query:
    """A filtered, sorted slice of one kind: SQL fragments over the narrow table.

    `keys` names the (not null) columns of `order_by`, ending with id, all sorted in one
    direction (`descending`); with them the next page of a walk seeks instead of skipping.
    """

    where: str = ""
    params: tuple = ()
    order_by: str = "id ASC"
    keys: tuple[str, ...] = ()
    descending: bool = False


class Storage:
    """Documents in one SQLite file. Not thread-safe: the store serialises access."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        # Documents are a few kilobytes: bigger pages waste less space around them.
        self.conn.execute("PRAGMA page_size=16384")
        self.conn.execute("PRAGMA journal_mode=WAL")
        # A development store trades durability for speed: losing the last writes on a
        # power cut is acceptable, slow populate and slow tests are not.
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA temp_store=MEMORY")
        self.conn.execute("PRAGMA cache_size=-65536")
        self.conn.executescript(SCHEMA)
        self._counters = dict(FIRST_IDS)
        for name, value in self.conn.execute("SELECT name, value FROM counters"):
            self._counters[name] = value
        self._dirty: set[str] = set()
        self._depth = 0
        self._count_cache: dict[tuple, int] = {}
        # Where the last pages ended, by (kind, query, offset): a client walking the pages
        # of a list gets each next page by an index seek, not by skipping offset rows.
        self._cursors: OrderedDict[tuple, tuple] = OrderedDict()
        # For pages asked out of order: the sort keys of every row of a few recent lists.
        self._sorted_keys: OrderedDict[tuple, list[tuple]] = OrderedDict()

    def close(self) -> None:
        self.conn.close()

    # Transactions and ids -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        saved = dict(self._counters)
        try:
            yield
            if self._dirty:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                    [(name, self._counters[name]) for name in self._dirty],
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._counters = saved
            raise
        finally:
            self._depth = 0
            self._dirty.clear()
            self._count_cache.clear()
            self._cursors.clear()
            self._sorted_keys.clear()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """One large write transaction without the write-ahead log, which would copy it twice."""
        self.conn.execute("PRAGMA journal_mode=MEMORY")
        try:
            with self.transaction():
                yield
        finally:
            self.conn.execute("PRAGMA journal_mode=WAL")

    def next_id(self, sequence: str) -> int:
        value = self._counters[sequence]
        self._counters[sequence] = value + 1
        self._dirty.add(sequence)
        return value

    def take_ids(self, sequence: str, count: int) -> range:
        start = self._counters[sequence]
        self._counters[sequence] = start + count
        self._dirty.add(sequence)
        return range(start, start + count)

    # Single documents -------------------------------------------------------------------

    def text(self, kind: str, doc_id: int) -> str | None:
        row = self.conn.execute(f"SELECT doc FROM {_DOCS[kind]} WHERE id = ?", (doc_id,)).fetchone()
        return row[0] if row else None

    def get(self, kind: str, doc_id: int) -> dict[str, Any] | None:
        text = self.text(kind, doc_id)
        return json.loads(text) if text is not None else None

    def save(self, kind: str, doc: dict[str, Any]) -> str:
        """Insert or replace one document; return its stored text."""
        text = dumps(doc)
        with self.transaction():
            self.conn.execute(
                f"INSERT OR REPLACE INTO {kind} ({_COLUMNS[kind]}) VALUES ({_marks(_COLUMNS[kind])})",
                _ROW[kind](doc),
            )
            self.conn.execute(f"INSERT OR REPLACE INTO {_DOCS[kind]} (id, doc) VALUES (?, ?)", (doc["id"], text))
            if kind == "orders":
                self.conn.execute("DELETE FROM order_meta WHERE order_id = ?", (doc["id"],))
                self.conn.executemany("INSERT INTO order_meta VALUES (?, ?, ?)", order_meta_rows(doc))
        return text

    def delete(self, kind: str, doc_id: int) -> None:
        with self.transaction():
            self.conn.execute(f"DELETE FROM {kind} WHERE id = ?", (doc_id,))
            self.conn.execute(f"DELETE FROM {_DOCS[kind]} WHERE id = ?", (doc_id,))
            if kind == "orders":
                self.conn.execute("DELETE FROM order_meta WHERE order_id = ?", (doc_id,))
                # WordPress deletes an order's notes with it; the mail log stays.
                self.conn.execute("DELETE FROM order_notes WHERE order_id = ?", (doc_id,))
                self.conn.execute("DELETE FROM order_refunds WHERE order_id = ?", (doc_id,))

    # Order notes and sent emails ------------------------------------------------------

    def add_note(self, order_id: int, *, created: str, author: str, note: str, customer_note: bool) -> int:
        """Keep one order note; return its id (from the "comment" sequence, as WordPress numbers them)."""
        with self.transaction():
            note_id = self.next_id("comment")
            self.conn.execute("INSERT INTO order_notes VALUES (?, ?, ?, ?, ?, ?)",
                              (note_id, order_id, created, author, note, int(customer_note)))
        return note_id

    def notes(self, order_id: int) -> list[tuple[int, str, str, str, bool]]:
        """(id, created, author, note, customer_note) of an order's notes, newest first."""
        rows = self.conn.execute(
            "SELECT id, created, author, note, customer_note FROM order_notes WHERE order_id = ? "
            "ORDER BY created DESC, id DESC", (order_id,)).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def add_refund(self, order_id: int, doc: dict[str, Any]) -> None:
        with self.transaction():
            self.conn.execute("INSERT INTO order_refunds VALUES (?, ?, ?)", (doc["id"], order_id, dumps(doc)))

    def refunds(self, order_id: int) -> list[dict[str, Any]]:
        """An order's refunds, newest first."""
        rows = self.conn.execute("SELECT doc FROM order_refunds WHERE order_id = ? ORDER BY id DESC",
                                 (order_id,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def delete_note(self, note_id: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM order_notes WHERE id = ?", (note_id,))

    def add_email(self, *, sent: str, recipient: str, order_id: int, kind: str, subject: str, pay_url: str) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO emails (sent, recipient, order_id, kind, subject, pay_url) VALUES (?, ?, ?, ?, ?, ?)",
                (sent, recipient, order_id, kind, subject, pay_url))
        return int(cursor.lastrowid)

    def emails(self, order_id: int | None = None) -> list[tuple[int, str, str, int, str, str, str]]:
        """(id, sent, recipient, order_id, kind, subject, pay_url) of the emails sent, oldest first."""
        if order_id is None:
            cursor = self.conn.execute("SELECT id, sent, recipient, order_id, kind, subject, pay_url FROM emails "
                                       "ORDER BY id")
        else:
            cursor = self.conn.execute("SELECT id, sent, recipient, order_id, kind, subject, pay_url FROM emails "
                                       "WHERE order_id = ? ORDER BY id", (order_id,))
        return [tuple(r) for r in cursor.fetchall()]

    def bulk_insert(self, kind: str, documents: Sequence[dict[str, Any]]) -> None:
        """Insert many new documents inside the caller's transaction."""
        self.conn.executemany(
            f"INSERT INTO {kind} ({_COLUMNS[kind]}) VALUES ({_marks(_COLUMNS[kind])})",
            [_ROW[kind](d) for d in documents],
        )
        self.conn.executemany(
            f"INSERT INTO {_DOCS[kind]} (id, doc) VALUES (?, ?)", [(d["id"], dumps(d)) for d in documents]
        )
        if kind == "orders":
            self.conn.executemany(
                "INSERT INTO order_meta VALUES (?, ?, ?)", [row for d in documents for row in order_meta_rows(d)]
            )

    def bulk_upsert(self, kind: str, documents: Sequence[dict[str, Any]]) -> None:
        """Insert or replace many documents inside the caller's transaction (not orders)."""
        assert kind != "orders"
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {kind} ({_COLUMNS[kind]}) VALUES ({_marks(_COLUMNS[kind])})",
            [_ROW[kind](d) for d in documents],
        )
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {_DOCS[kind]} (id, doc) VALUES (?, ?)", [(d["id"], dumps(d)) for d in documents]
        )

    # Lookups --------------------------------------------------------------------------

    def exists(self, kind: str, doc_id: int) -> bool:
        return self.conn.execute(f"SELECT 1 FROM {kind} WHERE id = ?", (doc_id,)).fetchone() is not None

    def customer_id_by_email(self, email: str) -> int | None:
        row = self.conn.execute("SELECT id FROM customers WHERE email = ?", (email,)).fetchone()
        return row[0] if row else None

    def customer_id_by_username(self, username: str) -> int | None:
        row = self.conn.execute("SELECT id FROM customers WHERE username = ?", (username,)).fetchone()
        return row[0] if row else None

    def product_id_by_sku(self, sku: str) -> int | None:
        row = self.conn.execute("SELECT id FROM products WHERE sku = ? AND sku != ''", (sku,)).fetchone()
        return row[0] if row else None

    def slug_taken(self, slug: str, exclude_id: int = 0) -> bool:
        row = self.conn.execute("SELECT 1 FROM products WHERE slug = ? AND id != ?", (slug, exclude_id)).fetchone()
        return row is not None

    def order_ids_for_customer(self, customer_id: int) -> list[int]:
        return [r[0] for r in self.conn.execute("SELECT id FROM orders WHERE customer_id = ?", (customer_id,))]

    def all_ids(self, kind: str) -> list[int]:
        return [r[0] for r in self.conn.execute(f"SELECT id FROM {kind} ORDER BY id")]

    def count_all(self, kind: str) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {kind}").fetchone()[0]

    # Lists ------------------------------------------------------------------------------

    def count(self, kind: str, query: Query) -> int:
        key = (kind, query.where, query.params)
        cached = self._count_cache.get(key)
        if cached is None:
            where = f"WHERE {query.where}" if query.where else ""
            cached = self.conn.execute(f"SELECT COUNT(*) FROM {kind} {where}", query.params).fetchone()[0]
            self._count_cache[key] = cached
        return cached

    def ids(self, kind: str, query: Query, limit: int = -1, offset: int = 0) -> list[int]:
        conditions = [query.where] if query.where else []
        params = list(query.params)
        skip = offset
        cursor = self._cursors.get((kind, query, offset)) if query.keys and offset else None
        if cursor is None and query.keys and offset > DEEP_OFFSET:
            keys = self._all_keys(kind, query)
            if offset > len(keys):
                return []
            cursor = keys[offset - 1]
        if cursor is not None:
            conditions.append(f"({', '.join(query.keys)}) {'<' if query.descending else '>'} "
                              f"({', '.join('?' * len(query.keys))})")
            params.extend(cursor)
            skip = 0
        where = f"WHERE {' AND '.join(f'({c})' for c in conditions)}" if conditions else ""
        columns = ", ".join(("id", *query.keys))
        sql = f"SELECT {columns} FROM {kind} {where} ORDER BY {query.order_by} LIMIT ? OFFSET ?"
        rows = self.conn.execute(sql, (*params, limit, skip)).fetchall()
        if query.keys and rows and limit > 0:
            self._cursors[(kind, query, offset + len(rows))] = rows[-1][1:]
            while len(self._cursors) > 256:
                self._cursors.popitem(last=False)
        return [row[0] for row in rows]

    def _all_keys(self, kind: str, query: Query) -> list[tuple]:
        cache_key = (kind, query)
        keys = self._sorted_keys.get(cache_key)
        if keys is None:
            where = f"WHERE {query.where}" if query.where else ""
            sql = f"SELECT {', '.join(query.keys)} FROM {kind} {where} ORDER BY {query.order_by}"
            keys = self._sorted_keys[cache_key] = self.conn.execute(sql, query.params).fetchall()
            while len(self._sorted_keys) > 4:
                self._sorted_keys.popitem(last=False)
        return keys

    def texts(self, kind: str, ids: Iterable[int]) -> list[str]:
        """The stored texts of these documents, in the order of `ids`."""
        ids = list(ids)
        if not ids:
            return []
        found: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT id, doc FROM {_DOCS[kind]} WHERE id IN ({','.join('?' * len(chunk))})"
            found.update(self.conn.execute(sql, chunk))
        return [found[i] for i in ids if i in found]


def _marks(columns: str) -> str:
    return ",".join("?" * len(columns.split(",")))
