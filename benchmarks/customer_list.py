"""Jumping about the customers list: `python -m benchmarks.customer_list [--customers 1000000] [--db URL]`.

Shows the Customers screen's table (offscreen) on a database of that many customers,
with subscribers on the newsletter lists, some erased customers and privacy requests,
and times what a person sees, for every filter the screen offers (and two together)
and every sort: from the list opened with that filter (a new model, nothing kept) or
the sort's header clicked until its first rows show; until it is counted (the scroll
bar spanning every row), and the scroll bar dragged to the middle at once, before the
list's layout is in; until it is laid out; then from the key press or
the scroll bar's move until every row in view shows its customer instead of
"Loading…": the scroll bar dragged to the middle, Ctrl+End, Ctrl+Home, and the scroll
bar dragged to a third. Beside each, the floor, in the same run: the block of 200 rows in
view read by primary key in one bare SQL statement on the raw connection (the least
any list showing those rows reads), and for the layout a bare count of the list (the
subscribers and open requests named as sets of ids, the quickest way found).
Without `--db`, the list's own SQLite file in the cache folder (written the first
time, no search index); a PostgreSQL URL names a database that is filled the same
way when it holds no customers yet.
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

from PySide6.QtCore import QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QTableView  # noqa: E402

from sqlalchemy import create_engine, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from backoffice.collector import set_aside_for_good  # noqa: E402
from backoffice.db import open_database  # noqa: E402
from backoffice.domain.customers import Customer  # noqa: E402
from backoffice.domain.enums import CustomerStatus, RequestKind, RequestStatus, Role, SubscriptionStatus  # noqa: E402
from backoffice.domain.newsletters import NewsletterList, Subscription  # noqa: E402
from backoffice.domain.privacy import CLOSED_REQUEST_STATUSES, PrivacyRequest  # noqa: E402
from backoffice.domain.staff import Actor  # noqa: E402
from backoffice.services import customers as svc  # noqa: E402
from backoffice.services.newsletters.lists import ensure_default_lists  # noqa: E402
from benchmarks.lookup import _ensure_postgres_database, _warm, analyze, cache_url, fill_customers  # noqa: E402
from ui.customers.customers_screen import follow_shift  # noqa: E402
from ui.customers.customers_table_model import LOADING, CustomersTableModel  # noqa: E402
from ui.common.gui_gc import collect_on_gui_thread  # noqa: E402
from ui.common.tasks import TaskManager  # noqa: E402

def _wait(app: QApplication, done, timeout: float = 120.0, t0: float | None = None) -> float:
    """Seconds from `t0` (default: now) until `done()` holds, the event loop waiting for
    events meanwhile as the app's does (a loop that spun would hold the interpreter's lock
    against the threads reading the database)."""
    t0 = time.perf_counter() if t0 is None else t0
    ticker = QTimer()
    ticker.start(20)  # wakes the loop to look at the clock when nothing else happens
    try:
        while not done():
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.perf_counter() - t0 > timeout:
                raise SystemExit("the list did not show its rows in time")
    finally:
        ticker.stop()
    return time.perf_counter() - t0


def _in_view(view: QTableView) -> range:
    top = view.rowAt(0)
    bottom = view.rowAt(view.viewport().height() - 1)
    if bottom < 0:
        bottom = view.model().rowCount() - 1
    return range(max(top, 0), bottom + 1)


def _shown(view: QTableView) -> bool:
    model = view.model()
    rows = _in_view(view)
    if not rows:
        return False
    # Asking for the rows in view is what painting them does (the view paints as events run).
    return all(model.data(model.index(r, 0)) not in (None, LOADING) for r in rows)


_CLOSED = ", ".join(f"'{s.value}'" for s in sorted(CLOSED_REQUEST_STATUSES))
_OPEN_REQUEST_IDS = (f"(SELECT customer_id FROM privacy_requests WHERE customer_id IS NOT NULL "
                  f"AND status NOT IN ({_CLOSED}))")


def _bare_where(filters: dict) -> str:
    """The filters as hand-written SQL, the subscribers and open requests as sets of ids
    (values are the benchmark's own, not typed by anyone)."""
    where = ["merged_into_id IS NULL"]
    if filters.get("status") is not None:
        where.append(f"status = '{CustomerStatus(filters['status']).value}'")
    if filters.get("list_id") is not None:
        where.append(f"id IN (SELECT customer_id FROM subscriptions WHERE list_id = {int(filters['list_id'])} "
                     f"AND status = 'subscribed')")
    if filters.get("has_open_request") is not None:
        where.append(("id IN " if filters["has_open_request"] else "id NOT IN ") + _OPEN_REQUEST_IDS)
    return " AND ".join(where)


class _Bare:
    """The floors: the same work by hand-written statements on the raw connection."""

    def __init__(self, db) -> None:
        self.dialect = db.backend
        self.raw = db.engine.raw_connection()
        if self.dialect == "postgresql":
            self.raw.dbapi_connection.prepare_threshold = None
        self.cur = self.raw.cursor()
        self.p = "%s" if self.dialect == "postgresql" else "?"

    def fetch(self, ids: list[int]) -> float:
        """The rows of these customers by primary key: the least any list showing them reads."""
        marks = ", ".join([self.p] * len(ids))
        t0 = time.perf_counter()
        self.cur.execute("SELECT id, first_name, last_name, company, email, phone, status, created_at, sort_name "
                         f"FROM customers WHERE id IN ({marks})", tuple(ids))
        self.cur.fetchall()
        return time.perf_counter() - t0

    def count(self, filters: dict) -> float:
        """One count of the list's rows: what any list that knows its length reads first."""
        t0 = time.perf_counter()
        self.cur.execute(f"SELECT count(*) FROM customers WHERE {_bare_where(filters)}")
        self.cur.fetchall()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.cur.close()
        self.raw.close()


def _filter_sets(db) -> list[tuple[str, dict]]:
    """Every filter the screen offers, one at a time, and two together."""
    with db.engine.connect() as conn:
        lists = dict(conn.execute(select(NewsletterList.name, NewsletterList.id)).all())
    sets = [("all customers", {})]
    sets += [(f"status {s.value}", {"status": s}) for s in CustomerStatus]
    sets += [(f"on {name}", {"list_id": lists[name]}) for name in _LIST_SHARES if name in lists]
    sets += [("open privacy request", {"has_open_request": True}),
             ("no open privacy request", {"has_open_request": False})]
    if "Email newsletter" in lists:
        sets.append(("active, on Email newsletter", {"status": CustomerStatus.ACTIVE,
                                                     "list_id": lists["Email newsletter"]}))
    return sets


def _warm_up(app: QApplication, tasks: TaskManager, db, actor: Actor) -> None:
    """Open the list once, untimed, as on a desk that has shown it before (the statements
    compiled, the connections open)."""
    model = CustomersTableModel(tasks, db, actor)
    model.set_query(sort=svc.CustomerSort.NAME, filters={"status": CustomerStatus.ERASED})
    _wait(app, lambda: model.is_laid_out() and not tasks.busy(), timeout=600)
    model.deleteLater()
    set_aside_for_good()  # as the desk does once it has started


# The order a person might take: the list opens by name, then the other sorts are chosen.
_SORTS_IN_TURN = (svc.CustomerSort.NAME, svc.CustomerSort.NAME_DESC, svc.CustomerSort.NEWEST,
                  svc.CustomerSort.OLDEST)
# The header clicked for each sort: column and order.
_HEADER = {
    svc.CustomerSort.NAME: (0, Qt.SortOrder.AscendingOrder),
    svc.CustomerSort.NAME_DESC: (0, Qt.SortOrder.DescendingOrder),
    svc.CustomerSort.OLDEST: (5, Qt.SortOrder.AscendingOrder),
    svc.CustomerSort.NEWEST: (5, Qt.SortOrder.DescendingOrder),
}
JUMPS = ("scroll bar to the middle", "Ctrl+End", "Ctrl+Home", "scroll bar to a third")


def measure(db, *, rounds: int, only: str | None = None) -> list[tuple[float, float]]:
    """Print every figure; return the jumps' (seconds, floor seconds)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    collect_on_gui_thread(app)  # cyclic garbage collected as in the app
    actor = Actor(staff_id=None, login="benchmark", role=Role.OWNER, desk="benchmark")
    tasks = TaskManager()
    bare = _Bare(db)
    jumps: list[tuple[float, float]] = []
    early: list[tuple[float, float]] = []  # jumps made once counted, before the layout is in
    placements: list[float] = []  # how far from their exact places those rows were, as parts of the list
    _warm_up(app, tasks, db, actor)
    print()
    print(f"{'filter':28} {'sort':9} {'what':26} {'list ms':>9} {'floor ms':>9} {'ratio':>6}")
    for label, filters in _filter_sets(db):
        if only and only not in label:
            continue
        for _ in range(rounds):
            # A new model: nothing kept from before, as when the screen opens with this filter.
            model = CustomersTableModel(tasks, db, actor)
            view = QTableView()
            view.setModel(model)
            view.resize(1000, 600)
            view.show()
            bar = view.verticalScrollBar()
            shifts: list[int] = []  # rows placed by the list's sample, moved to their exact places
            model.shifted.connect(lambda first, last, by, view=view: (shifts.append(by),
                                                                      follow_shift(view, first, last, by)))

            def block_ids(row: int) -> list[int]:
                """The ids of the block of rows `row` is in (as many as the list has there)."""
                first = row // model.BLOCK_SIZE * model.BLOCK_SIZE
                rows = (model.row_at(r) for r in range(first, min(first + model.BLOCK_SIZE, model.rowCount())))
                return [r.id for r in rows if r is not None] or [0]

            def line(sort, what: str, ours: float, floor: float | None) -> None:
                ratio = f"{ours / floor:6.1f}" if floor else ""
                floor_text = f"{floor * 1000:9.2f}" if floor is not None else ""
                print(f"{label:28} {sort.value:9} {what:26} {ours * 1000:9.1f} {floor_text:>9} {ratio}", flush=True)

            for i, sort in enumerate(_SORTS_IN_TURN):
                t0 = time.perf_counter()
                if i == 0:
                    model.set_query(sort=sort, filters=filters)
                else:
                    model.sort(*_HEADER[sort])  # what a click on the header does
                first = _wait(app, lambda: (model.rowCount() > 0 and _shown(view))
                              or (model.is_laid_out() and model.total() == 0), t0=t0)
                line(sort, "first rows" + (", list opened" if i == 0 else ", sort chosen"), first,
                     bare.fetch(block_ids(0)))
                counted = _wait(app, lambda: model.total() is not None and model.rowCount() == model.total()
                                and bar.maximum() >= model.total() - model.BLOCK_SIZE, t0=t0, timeout=600)
                dragged, early_line = None, None
                if model.total() and not model.is_laid_out():
                    # The person drags the scroll bar at once, before the layout is in (the floors
                    # are read afterwards: a bare count can take longer than the layout).
                    t1 = time.perf_counter()
                    shifts.clear()
                    bar.setValue(bar.maximum() // 2)
                    took = _wait(app, lambda: _shown(view), t0=t1, timeout=600)
                    dragged = model.data(model.index(_in_view(view)[0], 0), Qt.ItemDataRole.UserRole)
                    early_line = (took, block_ids(_in_view(view)[0]))
                laid = _wait(app, model.is_laid_out, t0=t0, timeout=600)
                # The floors, once the list is laid out: the GUI thread waits while they are read.
                bare_count = bare.count(filters) if i == 0 else None
                line(sort, "counted (bar spans)", counted, bare_count)
                if early_line is not None:
                    took, ids = early_line
                    floor = bare.fetch(ids)
                    line(sort, "middle, once counted", took, floor)
                    early.append((took, floor))
                line(sort, "laid out", laid, bare_count)
                if dragged is not None:
                    # Rows placed by the sample move to their exact places once the layout is in; the
                    # view follows them (as the screen's does): the same customer stays at its top.
                    _wait(app, lambda: not model.is_loading() and _shown(view), t0=t1, timeout=600)
                if dragged is not None and shifts:
                    moved = sum(shifts)
                    same = model.data(model.index(_in_view(view)[0], 0), Qt.ItemDataRole.UserRole) == dragged
                    print(f"{'':28} {'':9} {'  placed':26} {moved:+9,d} rows off "
                          f"({abs(moved) / max(1, model.total()):.2%} of the list), "
                          f"{'the same customer at the top' if same else 'ANOTHER CUSTOMER AT THE TOP'} once moved",
                          flush=True)
                    placements.append(abs(moved) / max(1, model.total()))
                count = model.total()
                if not count:
                    continue
                # The person clicked in the list (a current row for the keys to move).
                view.setFocus()
                view.setCurrentIndex(model.index(0, 0))
                for what in JUMPS:
                    t0 = time.perf_counter()
                    if what == "Ctrl+End":
                        QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
                        took = _wait(app, lambda: _shown(view) and _in_view(view)[-1] == count - 1, t0=t0)
                    elif what == "Ctrl+Home":
                        QTest.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
                        took = _wait(app, lambda: _shown(view) and _in_view(view)[0] == 0, t0=t0)
                    else:
                        bar.setValue(bar.maximum() // (2 if "middle" in what else 3))
                        took = _wait(app, lambda: _shown(view), t0=t0)
                    floor = bare.fetch(block_ids(_in_view(view)[0]))
                    line(sort, what, took, floor)
                    jumps.append((took, floor))
            view.close()
            view.deleteLater()
            model.deleteLater()
            _wait(app, lambda: not tasks.busy(), timeout=600)
    bare.close()
    tasks.wait_all(10_000)
    print()
    for what, timed in (("jumps once laid out", jumps), ("jumps once counted, before the layout", early)):
        if timed:
            worst = max(timed, key=lambda p: p[0])
            over = sum(1 for took, _ in timed if took > 0.1)
            print(f"{what}: {len(timed)}, median {statistics.median(p[0] for p in timed) * 1000:.1f} ms "
                  f"(floor {statistics.median(p[1] for p in timed) * 1000:.2f} ms), slowest {worst[0] * 1000:.1f} ms "
                  f"(floor {worst[1] * 1000:.2f} ms, ratio {worst[0] / worst[1]:.1f}); over 100 ms: {over}")
    if placements:
        print(f"rows placed by the sample before the layout: median {statistics.median(placements):.2%} of the list "
              f"from their exact places, at most {max(placements):.2%}")
    return jumps


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
    analyze(db)


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
    parser.add_argument("--only", help="only the filters whose label holds this text")
    args = parser.parse_args(argv)
    url = args.db or list_cache_url(args.customers)
    db = prepare_list(url, args.customers)
    if args.prepare_only:
        db.dispose()
        return 0
    _warm(db)
    print(f"{db.backend} · {args.customers:,} customers · Python {sys.version.split()[0]} · "
          f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")
    measure(db, rounds=args.rounds, only=args.only)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
