"""Building the customer search index in bulk, and telling when it needs building.

`reindex_customer` (in `backoffice.domain.search`) keeps one customer's entry in
step inside a service's transaction; this module rebuilds every entry at once,
after a bulk load (demo data, an import, the first sync) or an upgrade that
created or reshaped the index, and compacts the index after an erasure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from sqlalchemy import Connection, delete, exists, func, select, text

from backoffice.db import Database
from backoffice.domain.customers import Customer
from backoffice.domain.enums import CustomerStatus
from backoffice.domain.search import (
    EMPTY_ENTRY,
    PG_TRGM_DDL,
    PG_TRGM_INDEX,
    SQLITE_FTS_TABLE,
    SQLITE_TRIGGERS,
    CustomerSearchTerm,
    CustomerSearchText,
    CustomerSearchWord,
    address_source_columns,
    check_sources,
    add_words,
    customer_entry,
    customer_source_columns,
    entry_words,
    forget_customer_text,
    prune_words,
    with_derived_keys,
    word_suffixes,
)
from backoffice.services.settings import shop_default_country

__all__ = [
    "compact_search_index",
    "forget_customer_text",
    "rebuild_search_index",
    "reindex_customers",
    "search_index_needs_rebuild",
]

Progress = Callable[[int, int, str], None]

_TERMS = CustomerSearchTerm.__table__
_TEXTS = CustomerSearchText.__table__
_WORDS = CustomerSearchWord.__table__


def search_index_needs_rebuild(db: Database) -> bool:
    """True when there are customers to find but the index is empty (after an upgrade
    that created or reshaped it, or a bulk load that did not rebuild it)."""
    with db.engine.connect() as conn:
        has_customers = conn.execute(select(exists().where(
            Customer.merged_into_id.is_(None), Customer.status != CustomerStatus.ERASED
        ))).scalar()
        has_terms = conn.execute(select(exists().select_from(_TERMS))).scalar()
    return bool(has_customers) and not has_terms


def rebuild_search_index(db: Database, progress: Progress | None = None, *, batch_size: int = 20_000) -> int:
    """Rebuild every customer's search entry in one transaction; return the number of terms.

    On SQLite, searches keep answering from the old index until the new one is
    committed; PostgreSQL holds the index tables locked until then.
    `progress(done, total, text)` is called after each batch; when it raises
    (a cancelled task), nothing is changed.
    """
    check_sources()
    with db.write_engine.begin() as conn:
        region = shop_default_country(conn)
        total = conn.execute(select(func.count()).select_from(Customer)).scalar_one()
        dialect = conn.dialect.name
        _drop_derived(conn, dialect)
        # Without its indexes the table empties and fills several times faster.
        for index in _TERMS.indexes:
            index.drop(conn)
        if dialect == "postgresql":
            conn.exec_driver_sql("TRUNCATE customer_search, customer_search_text, customer_search_word")
        else:
            conn.execute(delete(_TERMS))
            conn.execute(delete(_TEXTS))
            conn.execute(delete(_WORDS))
        words: set[str] = set()
        written = 0
        done = 0
        last_id = 0
        # Text statements: raw column values, without the per-value type processing.
        cust_names = [c.name for c in customer_source_columns()]
        addr_names = [c.name for c in address_source_columns()]
        customers_sql = text(
            f"SELECT {', '.join(cust_names)} FROM customers WHERE id > :last ORDER BY id LIMIT :n"
        )
        addresses_sql = text(
            f"SELECT {', '.join(addr_names)} FROM customer_addresses "
            "WHERE customer_id BETWEEN :a AND :b ORDER BY customer_id, id"
        )
        numbers_sql = text(
            "SELECT customer_id, number FROM orders "
            "WHERE customer_id BETWEEN :a AND :b AND number IS NOT NULL"
        )
        while True:
            customers = [dict(zip(cust_names, r)) for r in
                         conn.execute(customers_sql, {"last": last_id, "n": batch_size})]
            if not customers:
                break
            span = {"a": customers[0]["id"], "b": customers[-1]["id"]}
            last_id = span["b"]
            addresses: dict[int, list] = defaultdict(list)
            for r in conn.execute(addresses_sql, span):
                row = dict(zip(addr_names, r))
                addresses[row["customer_id"]].append(row)
            numbers: dict[int, list[str]] = defaultdict(list)
            for cid, number in conn.execute(numbers_sql, span):
                numbers[cid].append(number)
            term_rows: list[tuple] = []
            text_rows: list[tuple] = []
            for c in customers:
                cid = c["id"]
                entry = customer_entry(
                    with_derived_keys(c, region), addresses.get(cid, ()), numbers.get(cid, ()),
                    default_region=region,
                )
                term_rows.extend((cid, k, t) for k, t in entry.terms)
                words |= entry_words(entry.terms)
                if entry.body:
                    text_rows.append((cid, entry.body))
            _write(conn, dialect, term_rows, text_rows)
            written += len(term_rows)
            done += len(customers)
            if progress is not None:
                progress(done, total, "Indexing customers for search")
        if progress is not None:
            progress(done, total, "Building the search index")
        _write_words(conn, dialect, words)
        for index in _TERMS.indexes:
            index.create(conn)
        _create_derived(conn, dialect)
    return written


def reindex_customers(db: Database, customer_ids, progress: Progress | None = None, *,
                      batch_size: int = 1000) -> int:
    """Bring the search entries of these customers (and only theirs) up to date; return how many.

    What `reindex_customer` does for one customer, done for a batch at a time: each
    batch reads its customers, addresses and order numbers with one statement each,
    replaces their terms and fragment lines, and adds and prunes words, in a transaction
    of its own (searches go on meanwhile). A customer no longer here, erased or merged
    leaves the index. `progress(done, total, text)` is called after each batch.
    """
    ids = sorted({int(i) for i in customer_ids if i})
    if not ids:
        return 0
    check_sources()
    cust_names = [c.name for c in customer_source_columns()]
    addr_names = [c.name for c in address_source_columns()]
    done = 0
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        with db.write_engine.begin() as conn:
            region = shop_default_country(conn)
            dialect = conn.dialect.name
            mark = "?" if dialect == "sqlite" else "%s"
            marks = ",".join([mark] * len(chunk))
            customers = {r[0]: dict(zip(cust_names, r)) for r in conn.exec_driver_sql(
                f"SELECT {', '.join(cust_names)} FROM customers WHERE id IN ({marks})", tuple(chunk))}
            addresses: dict[int, list] = defaultdict(list)
            for r in conn.exec_driver_sql(
                    f"SELECT {', '.join(addr_names)} FROM customer_addresses WHERE customer_id IN ({marks}) "
                    "ORDER BY customer_id, id", tuple(chunk)):
                row = dict(zip(addr_names, r))
                addresses[row["customer_id"]].append(row)
            numbers: dict[int, list[str]] = defaultdict(list)
            for cid, number in conn.exec_driver_sql(
                    f"SELECT customer_id, number FROM orders WHERE customer_id IN ({marks}) AND number IS NOT NULL",
                    tuple(chunk)):
                numbers[cid].append(number)
            old_terms = conn.exec_driver_sql(
                f"SELECT kind, term FROM customer_search WHERE customer_id IN ({marks})", tuple(chunk)).all()
            term_rows: list[tuple] = []
            text_rows: list[tuple] = []
            new_words: set[str] = set()
            for cid in chunk:
                c = customers.get(cid)
                entry = EMPTY_ENTRY if c is None else customer_entry(
                    with_derived_keys(c, region), addresses.get(cid, ()), numbers.get(cid, ()),
                    default_region=region,
                )
                term_rows.extend((cid, k, t) for k, t in sorted(entry.terms))
                new_words |= entry_words(entry.terms)
                if entry.body:
                    text_rows.append((cid, entry.body))
            conn.exec_driver_sql(f"DELETE FROM customer_search WHERE customer_id IN ({marks})", tuple(chunk))
            conn.exec_driver_sql(f"DELETE FROM customer_search_text WHERE customer_id IN ({marks})", tuple(chunk))
            _insert(conn, dialect, term_rows, text_rows)
            old_words = entry_words(old_terms)
            add_words(conn, new_words - old_words)
            prune_words(conn, old_words - new_words)
        done += len(chunk)
        if progress is not None:
            progress(done, len(ids), f"Search index: {done:,} of {len(ids):,} customers")
    return done


def _insert(conn: Connection, dialect: str, term_rows: list[tuple], text_rows: list[tuple]) -> None:
    """Insert index rows with the index's own indexes and triggers in place."""
    if dialect == "postgresql":
        _copy(conn, "customer_search (customer_id, kind, term)", term_rows)
        _copy(conn, "customer_search_text (customer_id, body)", text_rows)
        return
    mark = "?"
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if term_rows:
            cursor.executemany(f"INSERT INTO customer_search (customer_id, kind, term) VALUES ({mark}, {mark}, {mark})",
                               term_rows)
        if text_rows:
            cursor.executemany(f"INSERT INTO customer_search_text (customer_id, body) VALUES ({mark}, {mark})",
                               text_rows)
    finally:
        cursor.close()


def _write(conn: Connection, dialect: str, term_rows: list[tuple], text_rows: list[tuple]) -> None:
    if dialect == "postgresql":
        _copy(conn, "customer_search (customer_id, kind, term)", term_rows)
        _copy(conn, "customer_search_text (customer_id, body)", text_rows)
        return
    # Plain executemany with tuples: SQLite's fastest path for many small rows.
    if term_rows:
        conn.exec_driver_sql("INSERT INTO customer_search (customer_id, kind, term) VALUES (?, ?, ?)",
                             term_rows)
    if text_rows:
        conn.exec_driver_sql("INSERT INTO customer_search_text (customer_id, body) VALUES (?, ?)",
                             text_rows)


def _write_words(conn: Connection, dialect: str, words: set[str]) -> None:
    rows = sorted((s, w) for w in words for s in word_suffixes(w))
    if dialect == "postgresql":
        _copy(conn, "customer_search_word (suffix, word)", rows)
    elif rows:
        conn.exec_driver_sql("INSERT INTO customer_search_word (suffix, word) VALUES (?, ?)", rows)


def _copy(conn: Connection, target: str, rows) -> None:
    """PostgreSQL's COPY on the connection's own transaction: several times faster than INSERT."""
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        with cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    finally:
        cursor.close()


def _drop_derived(conn: Connection, dialect: str) -> None:
    """Drop what would slow the bulk insert row by row (FTS triggers, the trigram index)."""
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        conn.exec_driver_sql(f"DROP INDEX IF EXISTS {PG_TRGM_INDEX}")


def _create_derived(conn: Connection, dialect: str) -> None:
    if dialect == "sqlite":
        conn.exec_driver_sql(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('rebuild')")
        for ddl in SQLITE_TRIGGERS.values():
            conn.exec_driver_sql(ddl)
    elif dialect == "postgresql":
        conn.exec_driver_sql(PG_TRGM_DDL)
        conn.exec_driver_sql("ANALYZE customer_search")
        conn.exec_driver_sql("ANALYZE customer_search_text")


def compact_search_index(db: Database) -> bool:
    """Make what erasure deleted from the search index unreadable; run it after the commit.

    Words no customer has any more leave the word table. SQLite's FTS5 keeps deleted
    entries' trigrams in older segments until they are merged: 'optimize' merges
    them all into one, and with `secure_delete` (set on every connection) the freed
    pages and cells are overwritten with zeros; then the write-ahead log, which
    still holds earlier copies of the pages, is checkpointed and truncated. On
    PostgreSQL, VACUUM removes the dead rows from the tables and their indexes.

    Returns False when SQLite could not truncate the write-ahead log because another
    connection was reading (the next checkpoint overwrites it); True otherwise.
    """
    if db.backend == "sqlite":
        with db.write_engine.begin() as conn:
            prune_words(conn)
            conn.exec_driver_sql(f"INSERT INTO {SQLITE_FTS_TABLE}({SQLITE_FTS_TABLE}) VALUES ('optimize')")
        # Outside a transaction: a checkpoint cannot run inside one.
        raw = db.engine.raw_connection()
        try:
            busy, _log, _done = raw.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        return not busy
    with db.write_engine.begin() as conn:
        prune_words(conn)
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM customer_search, customer_search_text, customer_search_word"))
    return True
