"""Jumping about the customers list: `python -m benchmarks.customer_list [--customers 1000000] [--db URL]`.

Shows the Customers screen's table (offscreen) on a database of that many customers
and, for each sort, times from the key press (or the scroll bar's move) until every row
in view shows its customer instead of "Loading…": the first rows after choosing the
sort, Ctrl+End (the last rows), the scroll bar dragged to the middle (before the list's
layout of block starts is read, and again to another place once it is), and Ctrl+Home.
Beside each, the floor: the same 200 rows fetched by one bare SQL statement on the raw
connection, told where they start (the key), as a list that had it all in memory would.
Also the count and the full layout read, once per sort. Medians of `--rounds` rounds;
each round starts over from a new sort (nothing kept from the round before).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backoffice.db import open_database  # noqa: E402
from backoffice.domain.customers import Customer  # noqa: E402
from backoffice.domain.enums import CustomerStatus, RequestKind, RequestStatus, Role, SubscriptionStatus  # noqa: E402
from backoffice.domain.newsletters import NewsletterList, Subscription  # noqa: E402
from backoffice.domain.privacy import PrivacyRequest  # noqa: E402
from backoffice.domain.staff import Actor  # noqa: E402
from backoffice.services import customers as svc  # noqa: E402
from backoffice.services.newsletters.lists import ensure_default_lists  # noqa: E402
from benchmarks.lookup import _ensure_postgres_database, _warm, cache_url, fill_customers  # noqa: E402
from ui.customers.customers_table_model import LOADING, CustomersTableModel  # noqa: E402
from ui.common.tasks import TaskManager  # noqa: E402

_SORT_SQL = {
    svc.CustomerSort.NAME: ("sort_name", False),
    svc.CustomerSort.NAME_DESC: ("sort_name", True),
    svc.CustomerSort.NEWEST: ("created_at", True),
    svc.CustomerSort.OLDEST: ("created_at", False),
}


def _wait(app: QApplication, done, timeout: float = 120.0, t0: float | None = None) -> float:
    """Seconds from `t0` (default: now) until `done()` holds, handling events meanwhile."""
    t0 = time.perf_counter() if t0 is None else t0
    while not done():
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 2)
        if time.perf_counter() - t0 > timeout:
            raise SystemExit("the list did not show its rows in time")
    return time.perf_counter() - t0


def _in_view(view: QTableView) -> range:
    top = view.rowAt(0)
    bottom = view.rowAt(view.viewport().height() - 1)
    if bottom < 0:
        bottom = view.model().rowCount() - 1
    return range(max(top, 0), bottom + 1)


def _shown(app: QApplication, view: QTableView) -> bool:
    model = view.model()
    rows = _in_view(view)
    if not rows:
        return False
    # Asking for the rows in view is what painting them does (the view paints as events run).
    return all(model.data(model.index(r, 0)) not in (None, LOADING) for r in rows)


class _Bare:
    """The floor: 200 rows of the list by one hand-written statement on the raw connection."""

    def __init__(self, db) -> None:
        self.dialect = db.backend
        self.raw = db.engine.raw_connection()
        if self.dialect == "postgresql":
            self.raw.dbapi_connection.prepare_threshold = None
        self.cur = self.raw.cursor()
        self.p = "%s" if self.dialect == "postgresql" else "?"

    def fetch(self, sort: svc.CustomerSort, key: tuple | None, *, from_end: bool = False) -> float:
        column, descending = _SORT_SQL[sort]
        if from_end:
            descending = not descending
        op, order = ("<=", "DESC") if descending else (">=", "ASC")
        where = "merged_into_id IS NULL"
        params: tuple = ()
        if key is not None:
            where += f" AND ({column}, id) {op} ({self.p}, {self.p})"
            params = key
        sql = (f"SELECT id, first_name, last_name, company, email, phone, status, created_at, {column} "
               f"FROM customers WHERE {where} ORDER BY {column} {order}, id {order} LIMIT 200")
        t0 = time.perf_counter()
        self.cur.execute(sql, params)
        self.cur.fetchall()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.cur.close()
        self.raw.close()


def measure(db, *, rounds: int) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    actor = Actor(staff_id=None, login="benchmark", role=Role.OWNER, desk="benchmark")
    tasks = TaskManager()
    bare = _Bare(db)
    print()
    print(f"{'sort':10} {'what':34} {'list ms':>9} {'bare SQL ms':>12} {'ratio':>6}")
    for sort in svc.CustomerSort:
        figures: dict[str, list[tuple[float, float]]] = {}
        once: dict[str, list[float]] = {"count": [], "layout": []}
        for _ in range(rounds):
            model = CustomersTableModel(tasks, db, actor)
            view = QTableView()
            view.setModel(model)
            view.resize(1000, 600)
            view.show()
            # Off the sort first, so choosing it starts over as a click on the header does.
            model.set_query(sort=svc.CustomerSort.NEWEST if sort is svc.CustomerSort.NAME else svc.CustomerSort.NAME)
            _wait(app, lambda: not tasks.busy())

            def row_key(row: int) -> tuple:
                r = model.row_at(row)
                return (r.sort_key, r.id)

            t0 = time.perf_counter()
            model.set_query(sort=sort)
            first = _wait(app, lambda: model.rowCount() > 0 and _shown(app, view), t0=t0)
            figures.setdefault("first rows, the sort just chosen", []).append((first, bare.fetch(sort, None)))
            count = model.rowCount()
            t0 = time.perf_counter()
            view.setFocus()
            QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
            last = _wait(app, lambda: _shown(app, view), t0=t0)
            figures.setdefault("Ctrl+End: the last rows", []).append((last, bare.fetch(sort, None, from_end=True)))
            bar = view.verticalScrollBar()
            t0 = time.perf_counter()
            bar.setValue(bar.maximum() // 2)
            middle = _wait(app, lambda: _shown(app, view), t0=t0)
            block = _in_view(view)[0] // model.BLOCK_SIZE
            key = row_key(block * model.BLOCK_SIZE)
            figures.setdefault("scroll bar to the middle", []).append((middle, bare.fetch(sort, key)))
            t0 = time.perf_counter()
            QTest.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
            home = _wait(app, lambda: _shown(app, view), t0=t0)
            figures.setdefault("Ctrl+Home: the first rows again", []).append((home, bare.fetch(sort, None)))
            # The layout is read behind the rows in view; once it is all in, any block is one seek.
            t0 = time.perf_counter()
            _wait(app, lambda: not tasks.busy() and model._layouts.get(model._query_key()) is not None
                  and model._layouts[model._query_key()].next_start is None, timeout=600)
            once["layout"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            bar.setValue(bar.maximum() // 3)
            third = _wait(app, lambda: _shown(app, view), t0=t0)
            block = _in_view(view)[0] // model.BLOCK_SIZE
            key = row_key(block * model.BLOCK_SIZE)
            figures.setdefault("scroll bar to a third, layout read", []).append((third, bare.fetch(sort, key)))
            t0 = time.perf_counter()
            svc.count_customers(db, actor=actor)
            once["count"].append(time.perf_counter() - t0)
            view.close()
            view.deleteLater()
            model.deleteLater()
            _wait(app, lambda: not tasks.busy())
        for what, pairs in figures.items():
            ours = statistics.median(p[0] for p in pairs) * 1000
            floor = statistics.median(p[1] for p in pairs) * 1000
            print(f"{sort.value:10} {what:34} {ours:9.1f} {floor:12.2f} {ours / floor:6.1f}")
        print(f"{sort.value:10} {'(count of ' + format(count, ',') + ' rows)':34} "
              f"{statistics.median(once['count']) * 1000:9.0f}")
        print(f"{sort.value:10} {'(whole layout read, in parts)':34} "
              f"{statistics.median(once['layout']) * 1000:9.0f}")
    bare.close()
    tasks.wait_all(10_000)


def list_cache_url(count: int) -> str:
    """The list's own SQLite file: the customers with subscriptions and privacy requests, no search index."""
    return cache_url(count).replace("lookup-", "customer-list-")


def _exists(url: str) -> bool:
    parsed = make_url(url).set(drivername="postgresql+psycopg")
    admin = create_engine(parsed.set(database="postgres"))
    try:
        with admin.connect() as conn:
            return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                {"n": parsed.database}).first() is not None
    finally:
        admin.dispose()


def _customers(db) -> int:
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM customers").scalar_one()


# What the filters find: subscribers of each default list (share subscribed, share unsubscribed),
# some erased customers, and privacy requests, a few of them open.
_LIST_SHARES = {"Email newsletter": (0.30, 0.05), "SMS newsletter": (0.02, 0.01),
                "Postal catalogue": (0.0005, 0.0)}
_ERASED = 0.001
_OPEN_REQUESTS, _CLOSED_REQUESTS = 300, 700


def add_filter_data(db, count: int, *, seed: int = 13) -> None:
    """Subscriptions, erased customers and privacy requests for the list's filters to find
    (once: a database that has subscriptions is left as it is)."""
    with db.begin() as s:
        ensure_default_lists(s)
    with db.engine.begin() as conn:
        if conn.execute(select(Subscription.id).limit(1)).first() is not None:
            return
        print("Adding subscriptions, erased customers and privacy requests for the filters...")
        rng = random.Random(seed)
        lists = dict(conn.execute(select(NewsletterList.name, NewsletterList.id)).all())
        now = datetime(2026, 11, 1, tzinfo=timezone.utc)
        for name, (subscribed, unsubscribed) in _LIST_SHARES.items():
            rows = []
            for cid in range(1, count + 1):
                r = rng.random()
                if r < subscribed + unsubscribed:
                    rows.append({"list_id": lists[name], "customer_id": cid, "updated_at": now, "version": 1,
                                 "status": SubscriptionStatus.SUBSCRIBED if r < subscribed
                                 else SubscriptionStatus.UNSUBSCRIBED})
                if len(rows) >= 50_000:
                    conn.execute(insert(Subscription.__table__), rows)
                    rows = []
            if rows:
                conn.execute(insert(Subscription.__table__), rows)
        erased = rng.sample(range(1, count + 1), max(1, int(count * _ERASED)))
        for i in range(0, len(erased), 500):
            conn.execute(update(Customer.__table__).where(Customer.id.in_(erased[i:i + 500]))
                         .values(status=CustomerStatus.ERASED))
        open_statuses = [RequestStatus.RECEIVED, RequestStatus.IN_PROGRESS, RequestStatus.AWAITING_REVIEW]
        closed_statuses = [RequestStatus.FULFILLED, RequestStatus.REFUSED, RequestStatus.WITHDRAWN]
        requests = [{"customer_id": rng.randint(1, count), "kind": rng.choice(list(RequestKind)),
                     "status": rng.choice(open_statuses if i < _OPEN_REQUESTS else closed_statuses),
                     "channel": "email", "requester_name": "", "requester_contact": "", "details": "",
                     "received_at": now, "due_at": now + timedelta(days=30), "identity_method": "",
                     "decision_reason": "", "kept_items": "[]", "outcome": "", "version": 1}
                    for i in range(_OPEN_REQUESTS + _CLOSED_REQUESTS)]
        conn.execute(insert(PrivacyRequest.__table__), requests)
    _analyze(db)


def _analyze(db) -> None:
    if db.backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        raw = db.engine.raw_connection()
        try:
            raw.dbapi_connection.execute("ANALYZE")
            raw.dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def prepare_list(url: str, count: int):
    """A database with exactly `count` customers and the filters' data (no search index: the
    list does not use it). A PostgreSQL database that does not exist yet is created."""
    if url.startswith("postgres") and not _exists(url):
        _ensure_postgres_database(url)
    db = open_database(url)
    have = _customers(db)
    if have and have != count:
        raise SystemExit(f"{url} holds {have:,} customers, not {count:,}: give another database")
    if not have:
        print(f"Writing {count:,} customers (addresses, some orders)...")
        started = time.perf_counter()
        fill_customers(db, count, progress=lambda line: None)
        print(f"  written in {time.perf_counter() - started:.1f} s")
    add_filter_data(db, count)
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", help="database URL (default: a SQLite file of the list's own in the cache folder)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--prepare-only", action="store_true", help="write the database and stop")
    args = parser.parse_args(argv)
    url = args.db or list_cache_url(args.customers)
    db = prepare_list(url, args.customers)
    if args.prepare_only:
        db.dispose()
        return 0
    _warm(db)
    print(f"{db.backend} · {args.customers:,} customers · Python {sys.version.split()[0]} · "
          f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")
    measure(db, rounds=args.rounds)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
