"""The sync killed at random points (SIGKILL, as a power cut or a task manager would) loses and
doubles nothing: run as the `backoffice sync` command against a dev store with a few thousand
orders and a queue of orders taken here, killed several times, then run to completion."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from backoffice.domain import OutboxMessage, Product
from backoffice.domain.enums import OutboxKind, OutboxStatus
from backoffice.services import store_mapping as sm
from tests.integration.sync_helpers import assert_matches_store, job_account_env, new_customer, phone_order, store_refs

ROOT = Path(__file__).resolve().parents[2]
KILLS = 10
LOCAL_ORDERS = 60
#: Each answer of the store takes this long, so that a run lasts long enough to be killed
#: at several points however fast this computer is (as a real store's answers take longer).
LATENCY_MS = 15


STORE = {"seed": 5, "customers": 500, "orders": 5000, "products": 25}


def _stock_products(db, store) -> list[str]:
    with db.begin() as s:
        s.execute(insert(Product), [sm.product_values(sm.product_view(p)) for p in store.list_products()])
        return list(s.execute(select(Product.sku).where(Product.status == "publish", Product.sku.is_not(None))
                              .order_by(Product.id).limit(6)).scalars())


def _run(db, store, log: Path, title: str) -> subprocess.Popen:
    job_args, job_env = job_account_env(db)
    env = dict(os.environ, BACKOFFICE_WC_KEY=store.consumer_key, BACKOFFICE_WC_SECRET=store.consumer_secret,
               PYTHONPATH=str(ROOT), **job_env)
    with log.open("ab") as out:
        out.write(f"--- {title}\n".encode())
        return subprocess.Popen([sys.executable, "-m", "backoffice", "sync", "--db", db.url, "--store",
                                 store.base_url, "--full", *job_args], cwd=ROOT, env=env, stdout=out, stderr=out)


@pytest.mark.slow
def test_killed_runs_lose_and_double_nothing(db, store, tmp_path):
    rng = random.Random(20261122)
    skus = _stock_products(db, store)
    references = []
    customers = [new_customer(db, email=f"phone.caller{i}@example.com", first_name=f"Caller{i}")
                 for i in range(12)]
    for n in range(LOCAL_ORDERS):
        picked = rng.sample(skus, 2)
        _, reference = phone_order(db, customer_id=customers[n % len(customers)],
                                   skus={picked[0]: rng.randint(1, 3), picked[1]: 1},
                                   paid_txn=f"ch_kill_{n}" if n % 4 == 0 else None)
        references.append(reference)
    log = tmp_path / "sync.log"
    store.faults.latency_ms = LATENCY_MS

    killed_at = []
    for n in range(KILLS):
        # Short lives: each run gets a little further than the one before and is cut off
        # somewhere in sending, reading customers or reading orders.
        delay = rng.uniform(0.8, 3.0)
        proc = _run(db, store, log, f"run {n + 1}, killed after {delay:.2f} s")
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            killed_at.append(round(delay, 2))
    assert killed_at, "no run was long enough to be killed"

    for n in range(3):
        proc = _run(db, store, log, f"run to completion {n + 1}")
        assert proc.wait(timeout=600) == 0, log.read_text()
        with db.read() as s:
            waiting = s.execute(select(func.count()).select_from(OutboxMessage)
                                .where(OutboxMessage.status != OutboxStatus.SENT)).scalar_one()
        if not waiting:
            break
        time.sleep(0.5)
    assert waiting == 0, log.read_text()

    refs = store_refs(store)
    assert [refs[r] for r in references] == [1] * LOCAL_ORDERS, f"killed at {killed_at}"
    assert len(refs) == LOCAL_ORDERS
    with db.read() as s:
        creates = s.execute(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.kind == OutboxKind.CREATE_ORDER)).scalar_one()
    assert creates == LOCAL_ORDERS
    assert_matches_store(db, store)
    accounts = [c for c in store.list_customers() if c["email"].startswith("phone.caller")]
    assert len(accounts) == len(customers)
