"""A first sync cut short (the program killed, the store gone for good) goes on next time from
where it got to instead of from the first page, and still ends equal to the store."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from backoffice.db import open_database
from backoffice.domain import Order
from backoffice.services import sync
from backoffice.services.sync_common import CURSOR_ORDERS, RESUME_SUFFIX, Checkpoint, read_cursor

from .sync_helpers import SYNC_ACTOR, FAST, assert_matches_store, connector, job_account_env

ROOT = Path(__file__).resolve().parents[2]
#: Small batches, so a run cut short has written several of them.
# A run right after a killed one waits as a real run does for the dead one's lock to go.
OPTIONS = dataclasses.replace(FAST, batch_pages=3, parallel_pages=2, lock_wait_seconds=10)


STORE = {"seed": 17, "customers": 150, "orders": 2400, "products": 12, "shared": True}


@pytest.fixture(autouse=True)
def clean(store):
    store.faults.reset()
    yield
    store.faults.reset()


@pytest.fixture(scope="module")
def full_first_sync_requests(_shared_store, tmp_path_factory) -> int:
    """Requests a first sync of this store makes when nothing cuts it short."""
    store = _shared_store
    path = tmp_path_factory.mktemp("full") / "shop.db"
    db = open_database(f"sqlite:///{path}")
    try:
        with connector(store) as conn:
            summary = sync.run_sync(db, conn, full_customer_scan=True, options=OPTIONS, actor=SYNC_ACTOR)
        assert summary.ok, summary.error
        return summary.requests
    finally:
        db.dispose()


def _store_goes_away_after(store, orders: int):
    """A progress callback: after this many orders the store answers nothing but errors."""
    gone = []

    def progress(done, total, text):
        if text.startswith("Orders") and done >= orders and not gone:
            gone.append(done)
            store.faults.limit_to("/wp-json/")
            store.faults.fail_next(100_000, status=503)

    return progress


def _order_pages_asked(store) -> list[int]:
    return [int(r.query.get("page", 1)) for r in store.requests_log
            if r.path.endswith("/orders") and "include" not in r.query and "_fields" not in r.query]


def test_a_first_sync_whose_store_goes_away_goes_on_from_where_it_got_to(db, store, full_first_sync_requests):
    # The store goes away for good in the middle of the orders.
    with connector(store, max_retries=1) as conn:
        first = sync.run_sync(db, conn, full_customer_scan=True, options=OPTIONS,
                              progress=_store_goes_away_after(store, 1200), actor=SYNC_ACTOR)
    assert not first.ok and first.error
    mark = Checkpoint.parse(read_cursor(db, CURSOR_ORDERS + RESUME_SUFFIX))
    assert mark is not None and mark.page >= 12
    with db.read() as s:
        written = s.execute(select(func.count()).select_from(Order)).scalar_one()
    assert written >= mark.done >= 1200

    store.faults.reset()
    store.reset_stats()
    with connector(store) as conn:
        second = sync.run_sync(db, conn, options=OPTIONS, actor=SYNC_ACTOR)
    assert second.ok, second.error
    assert second.requests < full_first_sync_requests - 10, (second.requests, full_first_sync_requests)
    pages = _order_pages_asked(store)
    assert min(pages) == mark.page, "the orders were read again from the start"
    assert read_cursor(db, CURSOR_ORDERS + RESUME_SUFFIX) == ""
    assert_matches_store(db, store)


def test_orders_deleted_before_the_mark_make_the_listing_start_again(db, store):
    with connector(store, max_retries=1) as conn:
        first = sync.run_sync(db, conn, full_customer_scan=True, options=OPTIONS,
                              progress=_store_goes_away_after(store, 900), actor=SYNC_ACTOR)
    assert not first.ok
    store.faults.reset()
    # Two of the first orders go to the bin: every later order moves up on the store's pages.
    victims = [o["id"] for o in sorted(store.list_orders(), key=lambda o: o["id"])[:2]]
    for order_id in victims:
        answer = requests.delete(f"{store.api_url}/orders/{order_id}", auth=(store.consumer_key, store.consumer_secret),
                                 timeout=10)
        assert answer.status_code == 200 and answer.json()["status"] == "trash"
    store.reset_stats()
    with connector(store) as conn:
        second = sync.run_sync(db, conn, options=OPTIONS, actor=SYNC_ACTOR)
    assert second.ok, second.error
    assert 1 in _order_pages_asked(store), "a listing that moved was not read again from the start"
    with connector(store) as conn:
        for order_id in victims:
            conn.update_order(order_id, {"status": "processing"})
    with connector(store) as conn:
        assert sync.run_sync(db, conn, options=OPTIONS, actor=SYNC_ACTOR).ok
    assert_matches_store(db, store)


@pytest.mark.slow
def test_a_killed_first_sync_makes_fewer_requests_the_second_time(db, store, tmp_path, full_first_sync_requests):
    job_args, job_env = job_account_env(db)
    env = dict(os.environ, BACKOFFICE_WC_KEY=store.consumer_key, BACKOFFICE_WC_SECRET=store.consumer_secret,
               PYTHONPATH=str(ROOT), **job_env)
    log = tmp_path / "sync.log"
    store.faults.latency_ms = 15
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "backoffice", "sync", "--db", db.url, "--store",
                                 store.base_url, "--full", *job_args], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            with db.read() as s:
                if s.execute(select(func.count()).select_from(Order)).scalar_one() >= 1000:
                    break
            time.sleep(0.05)
        assert proc.poll() is None, "the sync finished before it could be killed:\n" + log.read_text()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    store.faults.latency_ms = 0
    mark = Checkpoint.parse(read_cursor(db, CURSOR_ORDERS + RESUME_SUFFIX))
    assert mark is not None, "the killed run kept no mark"

    store.reset_stats()
    with connector(store) as conn:
        second = sync.run_sync(db, conn, full_customer_scan=True, options=OPTIONS, actor=SYNC_ACTOR)
    assert second.ok, second.error
    assert second.requests < full_first_sync_requests - 5, (second.requests, full_first_sync_requests)
    assert min(_order_pages_asked(store)) == mark.page
    assert_matches_store(db, store)
