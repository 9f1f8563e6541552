"""A long run of the desk's everyday work, watching for leaks:

    BACKOFFICE_SOAK_MINUTES=3 python -m pytest -m soak tests/soak -s

For the given minutes it syncs with a dev store (which changes customers and stock
meanwhile), searches customers, opens them, and takes phone orders, and prints the process's
memory (RSS), open file descriptors and threads as it goes. After a warm-up (a fifth of the
run, at least 30 seconds) none of them may grow past a bound: memory by more than a quarter
(at least 40 MB), descriptors by more than 8, threads by more than 2. Skipped unless
BACKOFFICE_SOAK_MINUTES is set; the database is SQLite unless BACKOFFICE_SOAK_DB_URL names
another (an empty PostgreSQL database, for instance).
"""

from __future__ import annotations

import gc
import os
import random
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from backoffice.db import open_database
from backoffice.domain import Customer, Product
from backoffice.domain.enums import Role
from backoffice.errors import UserFacingError
from backoffice.services import customers, phone_orders, sync
from backoffice.store.devstore import DevStore
from tests.conftest import make_staff
from tests.integration.sync_helpers import FAST, connector

MINUTES = os.environ.get("BACKOFFICE_SOAK_MINUTES")

pytestmark = [
    pytest.mark.soak,
    pytest.mark.skipif(not MINUTES, reason="a soak run: set BACKOFFICE_SOAK_MINUTES to the minutes it should last"),
]

#: How much each figure may grow after the warm-up.
RSS_GROWTH = 0.25
RSS_GROWTH_FLOOR_MB = 40.0
FD_GROWTH = 8
THREAD_GROWTH = 2
SAMPLE_SECONDS = 10.0
QUERIES = ("garcía", "smith", "mar", "55", "@example.com", "zz-nobody", "山田", "o'")


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux: /proc; elsewhere the peak, from resource)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def open_fds() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return -1


def sample() -> tuple[float, int, int]:
    gc.collect()
    return rss_mb(), open_fds(), threading.active_count()


def test_the_everyday_work_does_not_leak(tmp_path, capsys):
    minutes = float(MINUTES)
    seconds = minutes * 60
    warm_up = max(30.0, seconds / 5)
    url = os.environ.get("BACKOFFICE_SOAK_DB_URL") or f"sqlite:///{tmp_path / 'soak.db'}"
    db = open_database(url)
    actor = make_staff(db, Role.OWNER, "soak")
    rng = random.Random(7)
    counts = {"syncs": 0, "searches": 0, "opened": 0, "orders": 0, "refused": 0, "store changes": 0}
    rows: list[tuple[float, float, int, int]] = []

    def report(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    with DevStore(seed=5) as store:
        store.populate(customers=300, orders=300, products=20)
        store_customers = [c["id"] for c in store.list_customers(role="customer")]
        store_products = [p["id"] for p in store.list_products() if p.get("type") == "simple"]
        with connector(store) as conn:
            assert sync.run_sync(db, conn, actor=actor, full_customer_scan=True, options=FAST).ok
            with db.read() as s:
                pool = list(s.scalars(select(Customer.id).order_by(Customer.id)))
                products = list(s.scalars(select(Product.id).where(Product.status == "publish",
                                                                   Product.kind == "simple")))
            report(f"\nsoak: {minutes:g} minutes on {url.split(':')[0]}; warm-up {warm_up:.0f} s; "
                   f"{len(pool)} customers, {len(products)} products")
            report(f"{'t (s)':>7} {'RSS MB':>8} {'fds':>5} {'threads':>8}  work so far")
            started = time.monotonic()
            next_sample = started
            while True:
                now = time.monotonic()
                if now >= next_sample:
                    rss, fds, threads = sample()
                    rows.append((now - started, rss, fds, threads))
                    report(f"{now - started:7.0f} {rss:8.1f} {fds:5d} {threads:8d}  "
                           + ", ".join(f"{k} {v}" for k, v in counts.items()))
                    next_sample = now + SAMPLE_SECONDS
                    store.reset_stats()  # the dev store's own request log is not the app's memory
                if now - started >= seconds:
                    break
                for _ in range(5):
                    hits = customers.search_customers(db, actor=actor, query=rng.choice(QUERIES))
                    counts["searches"] += 1
                    if hits:
                        customers.get_customer(db, actor=actor, customer_id=rng.choice(hits).id)
                        counts["opened"] += 1
                try:
                    phone_orders.place_phone_order(
                        db, actor=actor, customer_id=rng.choice(pool),
                        lines=[phone_orders.LineInput(product_id=rng.choice(products), quantity=rng.randint(1, 3))],
                        shipping=phone_orders.ShippingInput(method_id="flat_rate", title="Flat rate", cost="5.00"),
                        note="soak")
                    counts["orders"] += 1
                except UserFacingError:
                    counts["refused"] += 1  # out of stock, say: a sentence, as a person would see
                if rng.random() < 0.5:
                    store.update_customer(rng.choice(store_customers), {"last_name": f"Soak{rng.randint(1, 10**6)}"})
                    store.update_product(rng.choice(store_products), {"stock_quantity": rng.randint(50, 500),
                                                                      "manage_stock": True})
                    counts["store changes"] += 1
                if rng.random() < 0.3:
                    summary = sync.run_sync(db, conn, actor=actor, options=FAST)
                    assert summary.ok, summary.error
                    counts["syncs"] += 1
    db.dispose()

    after = [r for r in rows if r[0] >= warm_up]
    assert len(after) >= 2, "the run was too short to judge: give it more minutes"
    base = after[0]
    worst_rss = max(r[1] for r in after)
    worst_fds = max(r[2] for r in after)
    worst_threads = max(r[3] for r in after)
    rss_bound = base[1] + max(RSS_GROWTH_FLOOR_MB, base[1] * RSS_GROWTH)
    report(f"after warm-up: RSS {base[1]:.1f} -> at most {worst_rss:.1f} MB (bound {rss_bound:.1f}); "
           f"fds {base[2]} -> {worst_fds} (bound {base[2] + FD_GROWTH}); "
           f"threads {base[3]} -> {worst_threads} (bound {base[3] + THREAD_GROWTH})")
    assert counts["orders"] and counts["syncs"] and counts["searches"], counts
    assert worst_rss <= rss_bound, f"memory grew from {base[1]:.1f} MB to {worst_rss:.1f} MB"
    assert worst_fds <= base[2] + FD_GROWTH, f"open files grew from {base[2]} to {worst_fds}"
    assert worst_threads <= base[3] + THREAD_GROWTH, f"threads grew from {base[3]} to {worst_threads}"
