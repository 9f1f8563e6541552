"""The sync under the dev store's injected faults: after each, the local copy equals the store's,
nothing is doubled and nothing is lost (SQLite and PostgreSQL, real HTTP on loopback)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from backoffice.domain import Order
from backoffice.domain.enums import OutboxStatus
from backoffice.services import sync
from tests.integration.sync_helpers import (
    SYNC_ACTOR,
    FAST,
    assert_matches_store,
    connector,
    outbox_rows,
    phone_order,
    some_skus,
    store_refs,
)


STORE = {"seed": 11, "customers": 30, "orders": 260, "products": 10}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def _customer_on_store(db) -> int:
    from backoffice.domain import Customer

    with db.read() as s:
        return s.execute(select(Customer.id).where(Customer.store_id.is_not(None), Customer.email.is_not(None))
                         .order_by(Customer.id).offset(3).limit(1)).scalar_one()


PULL_FAULTS = {
    "server errors": lambda f: f.fail_next(3, 500),
    "bad gateway pages": lambda f: f.fail_next(2, 502),
    "rate limited with Retry-After": lambda f: f.rate_limit_next(2, retry_after=1),
    "malformed JSON": lambda f: f.malformed_json_next(2),
    "truncated pages": lambda f: f.truncate_next(2),
    "cut bodies": lambda f: f.cut_body_next(2),
    "dropped connections": lambda f: f.drop_next(2),
    "latency": lambda f: setattr(f, "latency_ms", 40),
}


@pytest.mark.parametrize("fault", list(PULL_FAULTS))
def test_the_first_sync_survives(db, store, conn, fault):
    PULL_FAULTS[fault](store.faults)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert store.faults.pending == {}, "the fault was never met"
    assert_matches_store(db, store)


@pytest.mark.parametrize("fault", ["truncated pages", "malformed JSON", "server errors"])
def test_an_incremental_sync_survives(db, store, conn, fault):
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    for order in store.list_orders()[:150]:
        if order["status"] == "processing":
            store.update_order(order["id"], {"status": "completed"})
    PULL_FAULTS[fault](store.faults)
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert_matches_store(db, store)


CREATE_FAULTS = {
    # The store saved the order, then the answer was lost: it must be found, not sent again.
    "dropped after commit": lambda f: f.drop_after_commit_next(1),
    "answer cut short": lambda f: f.cut_body_next(1),
    "answer not JSON": lambda f: f.malformed_json_next(1),
    # The store did not save it: it must be sent again, once.
    "dropped before handling": lambda f: f.drop_next(1),
    "internal error": lambda f: f.fail_next(1, 500),
    "rate limited": lambda f: f.rate_limit_next(1, retry_after=1),
    "service unavailable": lambda f: f.fail_next(1, 503),
}


@pytest.mark.parametrize("fault", list(CREATE_FAULTS))
def test_an_order_create_whose_answer_goes_wrong_is_on_the_store_exactly_once(db, store, conn, fault):
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    customer_id = _customer_on_store(db)
    orders = [phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 2}) for _ in range(3)]
    CREATE_FAULTS[fault](store.faults)

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    assert summary.ok, summary.error
    assert store.faults.pending == {}
    hit = store.faults.history[-1]
    assert (hit.method, hit.path) == ("POST", "/wp-json/wc/v3/orders"), hit
    refs = store_refs(store)
    assert [refs[ref] for _, ref in orders] == [1, 1, 1]
    with db.read() as s:
        store_ids = s.execute(select(Order.store_id).where(Order.id.in_([i for i, _ in orders]))).scalars().all()
    assert None not in store_ids
    assert all(m.status == OutboxStatus.SENT for m in outbox_rows(db))
    assert_matches_store(db, store)


def test_a_store_that_keeps_failing_leaves_the_order_waiting_then_sends_it_once(db, store, conn):
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    customer_id = _customer_on_store(db)
    order_id, reference = phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 1})
    store.faults.fail_next(40, 503)

    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)

    assert not summary.ok
    assert "503" in summary.error or "busy" in summary.error or "internal error" in summary.error
    (message,) = outbox_rows(db)
    assert message.status == OutboxStatus.PENDING and message.attempts >= 1 and message.last_error
    assert message.next_attempt_at is not None
    status = sync.sync_status(db, actor=SYNC_ACTOR)
    assert status.waiting == 1 and status.last_ok is False and status.last_error == summary.error

    store.faults.reset()
    for _ in range(20):
        summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
        if outbox_rows(db)[0].status == OutboxStatus.SENT:
            break
    assert summary.ok, summary.error
    assert store_refs(store)[reference] == 1
    assert_matches_store(db, store)


def test_a_store_that_is_down_loses_nothing(db, store, conn):
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    customer_id = _customer_on_store(db)
    order_id, reference = phone_order(db, customer_id=customer_id, skus={some_skus(db, 1)[0]: 1})
    port = int(store.base_url.rsplit(":", 1)[1])
    store.stop()
    try:
        summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
        assert not summary.ok and "did not answer" in summary.error
        state = sync.push_order_now(db, conn, order_id, options=FAST, actor=SYNC_ACTOR)
        assert state.store_id is None and state.message
    finally:
        store.start(port=port)
    for _ in range(20):
        summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
        if outbox_rows(db)[0].status == OutboxStatus.SENT:
            break
    assert summary.ok, summary.error
    assert store_refs(store)[reference] == 1
    assert_matches_store(db, store)
