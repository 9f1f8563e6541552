"""How fast the sync pulls a whole store, and whether the back office or the store is the bottleneck.

    python -m benchmarks.sync [--orders 100000 --customers 50000] [--db URL ...] [--latency-ms N] [--parallel N]

Starts a dev store populated with that many orders and customers in a process of its
own (so it does not share this process's interpreter lock), syncs it into a fresh SQLite
database and then a fresh database on the local PostgreSQL server (when it answers; or
the databases of `--db`), and prints for each orders per second, the back office's CPU
per page of 100 orders (every thread of this process, while the orders listing runs:
reading pages, the customers they need, writing), the mapping process's CPU (its whole
life, start-up included, per page it mapped) and the two added, the requests made, and the ratio of the sync's
wall time to the time the store spent serving those requests (`DevStore.serve_seconds`,
the floor; 1.0 means the back office only ever waited for the store). Then it runs an incremental sync with nothing changed and
prints how many requests it made (the goal: 4, for products and orders changed and the products
and orders moved to the trash, and a page of customers' ids and dates per hundred customers). `--latency-ms` makes the
store answer that much later, like a real WooCommerce over the internet; `--profile
FILE` saves a cProfile of the first sync. Last, the floor of the CPU per page, measured in
the same run (`order_floor`): reading 50 pages of orders with bare `requests`, decoding them
with orjson and writing the same orders' rows with one bare insert per table, and the ratio
of both processes' CPU per page to it.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.processes import children_cpu

ROOT = Path(__file__).resolve().parents[1]


# --- the store's process -----------------------------------------------------------------------


def serve_store(args: argparse.Namespace) -> int:
    """Child process: populate and serve a dev store; answer "stats", "reset" and "quit" on stdin."""
    from backoffice.store.devstore import DevStore

    started = time.perf_counter()
    with DevStore(seed=args.seed) as store:
        store.populate(customers=args.customers, orders=args.orders, products=args.products)
        store.faults.latency_ms = args.latency_ms
        print(json.dumps({"base_url": store.base_url, "key": store.consumer_key, "secret": store.consumer_secret,
                          "populate_seconds": time.perf_counter() - started}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                print(json.dumps({"requests": store.request_count, "serve_seconds": store.serve_seconds}),
                      flush=True)
            elif command == "reset":
                store.reset_stats()
                print("{}", flush=True)
            elif command == "quit":
                break
    return 0


class StoreProcess:
    """The dev store running in a child process."""

    def __init__(self, args: argparse.Namespace) -> None:
        command = [sys.executable, "-m", "benchmarks.sync", "--serve-store", "--orders", str(args.orders),
                   "--customers", str(args.customers), "--products", str(args.products), "--seed",
                   str(args.seed), "--latency-ms", str(args.latency_ms)]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, PYTHONPATH=str(ROOT)))
        ready = self.proc.stdout.readline()
        if not ready:
            raise SystemExit("the dev store did not start")
        self.info = json.loads(ready)

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()


# --- the database -------------------------------------------------------------------------------


class FreshDatabase:
    """A new SQLite file, or a new database on the PostgreSQL server of `url` (dropped afterwards)."""

    def __init__(self, url: str | None) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        self._folder = None
        self._admin = None
        self._name = None
        if url is None or url.startswith("sqlite"):
            self._folder = tempfile.mkdtemp(prefix="bench-sync-")
            self.url = f"sqlite:///{self._folder}/shop.db"
            return
        parsed = make_url(url).set(drivername="postgresql+psycopg")
        self._name = f"bench_sync_{uuid.uuid4().hex[:8]}"
        self._admin = create_engine(parsed, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self._name}"'))
        self.url = parsed.set(database=self._name).render_as_string(hide_password=False)

    def drop(self) -> None:
        from sqlalchemy import text

        if self._folder:
            shutil.rmtree(self._folder, ignore_errors=True)
        if self._admin is not None:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self._name}" WITH (FORCE)'))
            self._admin.dispose()


# --- the floor of the CPU per page -----------------------------------------------------------------


#: Pages of orders the floor is measured on.
FLOOR_PAGES = 50


def order_floor(store: StoreProcess, url: str | None, pages: int = FLOOR_PAGES) -> tuple[float, float, float]:
    """The floor of the sync's CPU per page of 100 orders, in this run: the CPU of reading the
    store's first `pages` pages with bare `requests`, decoding them with orjson, and writing
    the rows the sync writes for those orders (its lines, addresses, payments and shipping
    lines too) with one bare `executemany` per table (`COPY` on PostgreSQL) into a fresh
    database with the same schema and indexes. The rows are made by the sync's own mapping
    between the timed steps, so nothing of the mapping, the screening or the card guard is in
    the floor. The garbage collector is calmed as the sync calms it (`calm_gc`). Returns
    milliseconds per page: reading, decoding, writing."""
    import orjson
    import requests

    from backoffice.collector import calm_gc
    from backoffice.db import open_database
    from backoffice.domain.base import utcnow
    from backoffice.domain.enums import OrderOrigin
    from backoffice.domain.orders import Order, OrderAddress, OrderLine, Payment, ShippingLine
    from backoffice.services.sync_common import (
        ADDRESS_COLUMNS,
        LINE_COLUMNS,
        ORDER_COLUMNS,
        PAYMENT_COLUMNS,
        SHIPPING_COLUMNS,
        converted,
        insert_converted,
        map_order_page_rows,
        unpack_order_page,
    )

    fresh = FreshDatabase(url)
    read = decode = write = 0.0
    try:
        db = open_database(fresh.url)
        dialect = db.backend
        stamp = converted(Order.__table__, ("updated_at",), dialect)((utcnow(),))[0]
        web = converted(Order.__table__, ("origin",), dialect)((OrderOrigin.WEB,))[0]
        next_id = 1
        with requests.Session() as http, calm_gc():
            http.auth = (store.info["key"], store.info["secret"])
            address = store.info["base_url"] + "/wp-json/wc/v3/orders"
            for number in range(1, pages + 1):
                started = time.process_time()
                answer = http.get(address, params={"per_page": 100, "page": number, "orderby": "id", "order": "asc"})
                body = answer.content
                answer.raise_for_status()
                read += time.process_time() - started
                started = time.process_time()
                orjson.loads(body)
                decode += time.process_time() - started
                # Untimed: the sync's own rows for these orders.
                blob = map_order_page_rows((body, number, 100, int(answer.headers["X-WP-Total"]),
                                            int(answer.headers["X-WP-TotalPages"]), dialect))
                orders, lines, shipping, addresses, payments = [], [], [], [], []
                for item in unpack_order_page(blob).items:
                    rows = item.rows
                    oid, next_id = next_id, next_id + 1
                    order = rows.order if rows.order[-1] is not None else rows.order[:-1] + (stamp,)
                    orders.append((oid, *order, None, None, web, stamp))
                    lines.extend((oid, None, *line) for _product, line in rows.lines)
                    shipping.extend((oid, *line) for line in rows.shipping)
                    addresses.extend((oid, *part) for part in rows.addresses)
                    if rows.payment is not None:
                        payments.append((oid, *rows.payment))
                started = time.process_time()
                with db.begin() as s:  # (a transaction a page: the sync commits every few pages)
                    for table, names, batch in (
                            (Order.__table__, ("id",) + ORDER_COLUMNS, orders),
                            (OrderLine.__table__, LINE_COLUMNS, lines),
                            (ShippingLine.__table__, SHIPPING_COLUMNS, shipping),
                            (OrderAddress.__table__, ADDRESS_COLUMNS, addresses),
                            (Payment.__table__, PAYMENT_COLUMNS, payments)):
                        insert_converted(s, table, names, batch)
                write += time.process_time() - started
        db.dispose()
    finally:
        fresh.drop()
    return read / pages * 1000, decode / pages * 1000, write / pages * 1000


# --- the run ------------------------------------------------------------------------------------


#: The PostgreSQL server the benchmark uses when it is there (a fresh database is made on it).
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_reachable(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    try:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - no server there: the run is left out
        return False


def run(args: argparse.Namespace) -> int:
    databases = args.db or ["sqlite"]
    if not args.db:
        if _postgres_reachable(DEFAULT_POSTGRES):
            databases.append(DEFAULT_POSTGRES)
        else:
            print(f"(No PostgreSQL at {DEFAULT_POSTGRES}: SQLite only.)")
    print(f"Starting a dev store with {args.orders:,} orders, {args.customers:,} customers and {args.products} "
          f"products (latency {args.latency_ms} ms)...", flush=True)
    store = StoreProcess(args)
    results = []
    try:
        print(f"Dev store ready in {store.info['populate_seconds']:.1f} s at {store.info['base_url']}.")
        for url in databases:
            result = run_one(args, store, None if url == "sqlite" else url)
            if result is None:
                return 1
            results.append(result)
    finally:
        store.close()
    if len(results) > 1:
        print()
        print("Summary (first sync; the floor is the time the store spent serving it)")
        print(f"  {'database':12s} {'wall s':>8s} {'floor s':>8s} {'ratio':>6s} {'CPU ms/page':>12s} "
              f"{'floor ms':>9s} {'ratio':>6s}")
        for name, wall, served, both, floor in results:
            print(f"  {name:12s} {wall:8.1f} {served:8.1f} {wall / served if served else float('inf'):6.2f} "
                  f"{both:12.1f} {floor:9.1f} {both / floor:6.2f}")
        print("  (CPU ms/page: both processes, per page of 100 orders; its floor: reading, decoding and "
              "writing the same orders bare)")
        base = results[0][1]
        for name, wall, *_rest in results[1:]:
            print(f"  {name} / {results[0][0]}: {wall / base:.2f} times the wall time")
    return 0


def run_one(args: argparse.Namespace, store: StoreProcess, url: str | None):
    from backoffice.db import open_database, safe_url
    from backoffice.domain.enums import Role
    from backoffice.domain.staff import Actor
    from backoffice.services import sync
    from backoffice.store.connector import StoreCredentials
    from backoffice.store.woocommerce import WooCommerceConnector

    fresh = FreshDatabase(url)
    try:
        db = open_database(fresh.url)
        name = db.backend
        print()
        print(f"Syncing into a fresh database: {safe_url(fresh.url)}")
        credentials = StoreCredentials(store.info["base_url"], store.info["key"], store.info["secret"])
        with WooCommerceConnector(credentials) as connector:
            store.ask("reset")
            profiler = cProfile.Profile() if args.profile else None
            cpu_started = time.process_time()
            children_started = children_cpu()
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            options = sync.SyncOptions(prefetch_pages=args.prefetch, parallel_pages=args.parallel)
            # A staff account that needs no row: its audit entries name no one.
            SYNC_ACTOR = Actor(staff_id=None, login="benchmark", role=Role.STAFF, desk="benchmark")
            summary = sync.run_sync(db, connector, full_customer_scan=True, options=options, actor=SYNC_ACTOR)
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(args.profile if url is None else f"{args.profile}.{name}")
            wall = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            # The mapping process has ended (and been waited for) with the orders listing.
            mapping_cpu = children_cpu() - children_started
            stats = store.ask("stats")
            if not summary.ok:
                print(f"The sync failed: {summary.error}")
                return None
            served = stats["serve_seconds"]
            per_page = summary.order_cpu_seconds / max(1, summary.order_pages) * 1000
            print(f"First sync:          {summary.pulled_orders:,} orders, {summary.pulled_customers:,} customers, "
                  f"{summary.pulled_products:,} products")
            print(f"  wall time          {wall:8.1f} s   ({summary.pulled_orders / wall:,.0f} orders per second)")
            print(f"  back office CPU    {cpu:8.1f} s   ({cpu / max(1, stats['requests']) * 1000:,.1f} ms per request)")
            print(f"  orders             {summary.order_cpu_seconds:8.1f} s CPU for {summary.order_pages:,} pages: "
                  f"{per_page:,.1f} ms per page of 100 orders (every thread of the back office)")
            mapped = summary.mapped_order_pages
            print(f"  mapping process    {mapping_cpu:8.1f} s CPU for the {mapped:,} pages it mapped"
                  + (f" ({mapping_cpu / mapped * 1000:,.1f} ms per page), on another core" if mapped else ""))
            both = (summary.order_cpu_seconds + mapping_cpu) / max(1, summary.order_pages) * 1000
            print(f"  both               {summary.order_cpu_seconds + mapping_cpu:8.1f} s CPU: {both:,.1f} ms per page "
                  f"of 100 orders (this process and the mapping process)")
            print(f"  requests           {stats['requests']:8,d}")
            per_request = served / max(1, stats["requests"]) * 1000
            print(f"  store serving      {served:8.1f} s   ({per_request:,.1f} ms per request): the floor")
            print(f"  wall / serving     {wall / served if served else float('inf'):8.2f}"
                  f"   ({'the store is the bottleneck' if served and wall / served < 1.5 else 'the back office is the bottleneck'})")

            store.ask("reset")
            started = time.perf_counter()
            again = sync.run_sync(db, connector, options=options, actor=SYNC_ACTOR)
            wall_again = time.perf_counter() - started
            stats = store.ask("stats")
            # The shop's administrator is listed with the customers.
            goal = 4 + math.ceil((args.customers + 1) / 100)
            print(f"Incremental sync, nothing changed: {stats['requests']} requests in {wall_again:.2f} s"
                  f" ({'ok' if stats['requests'] <= goal and again.ok else f'MORE THAN {goal}'})")
        db.dispose()
    finally:
        fresh.drop()
    read, decode, write = order_floor(store, url)
    floor = read + decode + write
    print(f"Floor of the CPU per page, this run: {FLOOR_PAGES} pages of orders read with bare requests "
          f"({read:.1f} ms a page), decoded with orjson ({decode:.1f} ms) and their rows written with one "
          f"{'COPY' if name == 'postgresql' else 'executemany'} per table into a fresh database ({write:.1f} ms)")
    print(f"  floor              {floor:8.1f} ms per page")
    print(f"  both / floor       {both / floor:8.2f}   (this process alone: {per_page / floor:.2f})")
    return name, wall, served, both, floor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sync", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", metavar="URL", action="append", default=None,
                        help="'sqlite' or a PostgreSQL server URL (a fresh database is made there and dropped "
                        "afterwards); may be given more than once; default: a fresh SQLite file, then the "
                        f"PostgreSQL server at {DEFAULT_POSTGRES} when it answers")
    parser.add_argument("--latency-ms", type=float, default=0, help="delay every store answer by this much")
    parser.add_argument("--profile", metavar="FILE", default=None, help="save a cProfile of the first sync")
    parser.add_argument("--prefetch", type=int, default=2,
                        help="pages read ahead while the previous one is written (0: none)")
    parser.add_argument("--parallel", type=int, default=3,
                        help="pages of a listing asked of the store at once (1: one after the other)")
    parser.add_argument("--serve-store", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_store:
        return serve_store(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
