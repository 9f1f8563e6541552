"""Customers deleted on the web store, against the dev store over real HTTP on SQLite and PostgreSQL:
the full scan keeps them here without their account, a scan cut short still finds them when it
goes on, and a change waiting for them never opens a new account on the store."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from backoffice.domain import Customer, Order, OutboxMessage, SyncConflict, SyncRun
from backoffice.domain.enums import CustomerStatus, OutboxKind, OutboxStatus
from backoffice.services import sync
from backoffice.services.sync_common import CURSOR_CUSTOMER_SCAN, RESUME_SUFFIX, Checkpoint, read_cursor
from backoffice.services.sync_pull import ACCOUNT_GONE_NOTE
from backoffice.store.devstore import DevStore
from tests.integration.sync_helpers import SYNC_ACTOR, FAST, add_message, assert_matches_store, connector

GONE = "deleted on the web store"
#: One page at a time, written one by one, so a scan can be cut short after a known page.
ONE_BY_ONE = dataclasses.replace(FAST, prefetch_pages=0, parallel_pages=1, batch_pages=1)


STORE = {"seed": 11, "customers": 30, "orders": 120, "products": 8}


@pytest.fixture
def conn(store):
    with connector(store) as c:
        yield c


def _first_sync(db, conn):
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.unlinked_customers == 0 and GONE not in summary.text


def _local(db, store_id: int):
    with db.read() as s:
        row = s.execute(select(Customer).where(Customer.store_id == store_id)).scalar_one()
        s.expunge(row)
        return row


def _customer(db, customer_id: int):
    with db.read() as s:
        row = s.get(Customer, customer_id)
        s.expunge(row)
        return row


def _orders_of(db, customer_id: int) -> set[int]:
    with db.read() as s:
        return set(s.execute(select(Order.store_id).where(Order.customer_id == customer_id)).scalars())


def _store_ids(conn) -> set[int]:
    return {c["id"] for page in conn.iter_customers() for c in page}


def _buyers(store) -> list[dict]:
    return [c for c in store.list_customers(role="customer") if store.list_orders(customer_id=c["id"])]


def test_customers_deleted_on_the_store_stay_here_with_their_orders_and_without_the_account(db, store, conn):
    _first_sync(db, conn)
    buyer = _buyers(store)[0]
    quiet = next(c for c in store.list_customers(role="customer")
                 if c["id"] != buyer["id"] and not store.list_orders(customer_id=c["id"]))
    untouched = next(c for c in _buyers(store)[1:] if c["id"] != quiet["id"])
    buyer_local, quiet_local, untouched_local = (_local(db, c["id"]) for c in (buyer, quiet, untouched))
    buyer_orders = _orders_of(db, buyer_local.id)
    untouched_orders = _orders_of(db, untouched_local.id)
    assert buyer_orders and untouched_orders

    total_before = next(iter(conn.iter_customers())).total
    for victim in (buyer, quiet):
        assert conn.delete_customer(victim["id"]) is not None
    # The store's listing (and a look-up by id) no longer has them.
    listed = _store_ids(conn)
    assert buyer["id"] not in listed and quiet["id"] not in listed and untouched["id"] in listed
    assert next(iter(conn.iter_customers())).total == total_before - 2
    assert [c["id"] for c in conn.get_customers([buyer["id"], quiet["id"], untouched["id"]])] == [untouched["id"]]
    assert all(o["customer_id"] == 0 for o in store.list_orders() if o["id"] in buyer_orders)

    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.unlinked_customers == 2
    assert "2 customers deleted on the web store are kept here without a store account" in summary.text
    assert {buyer_local.id, quiet_local.id} <= summary.changes.customers
    with db.read() as s:
        assert s.get(SyncRun, summary.run_id).summary == summary.text

    for before in (buyer_local, quiet_local):
        after = _customer(db, before.id)
        assert after.store_id is None and after.store_digest is None
        assert after.status == CustomerStatus.ACTIVE
        assert (after.email, after.last_name) == (before.email, before.last_name)
    # The orders the store now holds without a customer are still the customer's here.
    assert _orders_of(db, buyer_local.id) == buyer_orders
    still = _customer(db, untouched_local.id)
    assert (still.store_id, still.store_digest, still.version) == (
        untouched_local.store_id, untouched_local.store_digest, untouched_local.version)
    assert _orders_of(db, untouched_local.id) == untouched_orders
    assert_matches_store(db, store)

    again = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert again.ok, again.error
    assert again.unlinked_customers == 0 and GONE not in again.text
    assert not again.changes.customers & {buyer_local.id, quiet_local.id}
    assert _customer(db, buyer_local.id).store_id is None
    assert _orders_of(db, buyer_local.id) == buyer_orders


def test_an_order_left_without_customer_keeps_its_customer_here_without_a_scan(db, store, conn):
    _first_sync(db, conn)
    buyer = _buyers(store)[0]
    local = _local(db, buyer["id"])
    orders = _orders_of(db, local.id)
    conn.delete_customer(buyer["id"])
    # Not a full scan: the orders come back changed, pointing to no customer.
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.pulled_orders >= len(orders)
    assert _orders_of(db, local.id) == orders


def test_a_customer_deleted_while_their_order_is_read_does_not_stop_the_sync(db, store, conn):
    _first_sync(db, conn)
    made = conn.create_customer({"email": "brief@example.com", "first_name": "Brief", "last_name": "Visit"}).record
    product = store.list_products()[0]
    order = conn.create_order({"customer_id": made["id"], "status": "processing",
                               "line_items": [{"product_id": product["id"], "quantity": 1}]},
                              reference="bo-brief-visit").record
    fetch = conn.get_customers

    def deleted_meanwhile(ids, **kwargs):
        # The account goes between the order's page and the look-up of its customer.
        conn.delete_customer(made["id"])
        return fetch(ids, **kwargs)

    conn.get_customers = deleted_meanwhile
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    with db.read() as s:
        row = s.execute(select(Order).where(Order.store_id == order["id"])).scalar_one()
        assert row.customer_id is None
        assert s.execute(select(Customer).where(Customer.store_id == made["id"])).first() is None


def test_a_waiting_correction_for_a_deleted_customer_opens_no_new_account(db, store, conn):
    _first_sync(db, conn)
    target = store.list_customers(role="customer")[3]
    local = _local(db, target["id"])
    with db.begin() as s:
        c = s.get(Customer, local.id)
        c.last_name = "Corrected"
        first = add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", c.id, {"fields": ["last_name"]}).id
    conn.delete_customer(target["id"])
    accounts = store.count("customers")

    # The correction goes first and finds the account gone.
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.unlinked_customers == 1 and summary.push_failed == 0
    assert "1 customer deleted on the web store is kept here without a store account" in summary.text
    assert store.count("customers") == accounts
    assert _customer(db, local.id).store_id is None
    assert _customer(db, local.id).last_name == "Corrected"

    # Later corrections and consent changes do not open one either.
    with db.begin() as s:
        later = [add_message(s, kind, "customer", local.id).id
                 for kind in (OutboxKind.UPDATE_CUSTOMER, OutboxKind.UPDATE_CONSENT)]
    summary = sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert store.count("customers") == accounts
    assert _customer(db, local.id).store_id is None
    with db.read() as s:
        for message_id in (first, *later):
            message = s.get(OutboxMessage, message_id)
            assert message.status == OutboxStatus.SENT, message.last_error
            assert message.last_error == ACCOUNT_GONE_NOTE and message.store_id is None
    assert conn.find_customer_by_email(local.email) is None


def test_the_scan_settles_changes_left_waiting_or_failed_for_a_deleted_customer(db, store, conn):
    _first_sync(db, conn)
    target = store.list_customers(role="customer")[5]
    local = _local(db, target["id"])
    with db.begin() as s:
        failed = add_message(s, OutboxKind.UPDATE_CUSTOMER, "customer", local.id)
        failed.status = OutboxStatus.FAILED
        failed.last_error = "The web store has no customer; it may have been deleted there."
        held = add_message(s, OutboxKind.UPDATE_CONSENT, "customer", local.id)
        held.status = OutboxStatus.CONFLICT
        s.add(SyncConflict(entity_type="customer", entity_id=local.id, customer_id=local.id, field="phone",
                           local_value="713 555 0199", store_value="713 555 0100", outbox_id=held.id,
                           resolved=False, resolution=""))
        ids = (failed.id, held.id)
    conn.delete_customer(target["id"])
    accounts = store.count("customers")
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.unlinked_customers == 1
    assert store.count("customers") == accounts
    with db.read() as s:
        for message_id in ids:
            message = s.get(OutboxMessage, message_id)
            assert (message.status, message.last_error) == (OutboxStatus.SENT, ACCOUNT_GONE_NOTE)
    assert sync.list_conflicts(db, actor=SYNC_ACTOR) == []
    # Sending again later changes nothing on the store.
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    assert store.count("customers") == accounts


def test_a_waiting_erasure_of_a_deleted_customer_still_anonymises_their_orders_there(db, store, conn):
    _first_sync(db, conn)
    buyer = _buyers(store)[1]
    order_ids = [o["id"] for o in store.list_orders(customer_id=buyer["id"])]
    conn.delete_customer(buyer["id"])
    with db.begin() as s:
        c = s.execute(select(Customer).where(Customer.store_id == buyer["id"])).scalar_one()
        c.status = CustomerStatus.ERASED
        c.first_name = c.last_name = "[erased]"
        c.email = c.email_key = None
        erase = add_message(s, OutboxKind.ERASE_CUSTOMER, "customer", c.id).id
    summary = sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    # The back office erased them: not told as a customer deleted on the store.
    assert summary.unlinked_customers == 0
    with db.read() as s:
        message = s.get(OutboxMessage, erase)
        assert message.status == OutboxStatus.SENT
        assert "already deleted on the web store" in message.last_error
    for oid in order_ids:
        assert store.get_order(oid)["billing"]["last_name"] == "[deleted]"


def test_a_merge_into_a_customer_deleted_on_the_store_opens_no_new_account(db, store, conn):
    _first_sync(db, conn)
    keep, merged = _buyers(store)[:2]
    merged_orders = [o["id"] for o in store.list_orders(customer_id=merged["id"])]
    kept_local, merged_local = _local(db, keep["id"]), _local(db, merged["id"])
    conn.delete_customer(keep["id"])
    assert sync.run_sync(db, conn, full_customer_scan=True, options=FAST, actor=SYNC_ACTOR).unlinked_customers == 1
    accounts = store.count("customers")
    with db.begin() as s:
        gone = s.get(Customer, merged_local.id)
        gone.merged_into_id = kept_local.id
        gone.status = CustomerStatus.DEACTIVATED
        for o in s.execute(select(Order).where(Order.customer_id == gone.id)).scalars():
            o.customer_id = kept_local.id
        add_message(s, OutboxKind.MERGE_CUSTOMERS, "customer", kept_local.id, {"merged_id": gone.id})
    assert sync.run_sync(db, conn, options=FAST, actor=SYNC_ACTOR).ok
    # The merged customer's account becomes the kept one's; none is made.
    assert store.count("customers") == accounts
    assert _customer(db, kept_local.id).store_id == merged["id"]
    assert _customer(db, merged_local.id).store_id is None
    assert {o["customer_id"] for o in store.list_orders() if o["id"] in merged_orders} == {merged["id"]}


# --- a scan cut short ----------------------------------------------------------------------------


@pytest.fixture
def big_store():
    with DevStore(seed=23) as devstore:
        devstore.populate(customers=420, orders=40, products=6)
        yield devstore


def _cut_after_customer_page(store, pages: int):
    """A progress callback: once this many customer pages are written, the store answers only errors."""
    cut = []

    def progress(done, total, text):
        if text.startswith("Customers") and done >= pages * 100 and not cut:
            cut.append(done)
            store.faults.limit_to("/wp-json/")
            store.faults.fail_next(100_000, status=503)

    return progress


def _cut_scan(db, store) -> Checkpoint:
    with connector(store, max_retries=1) as conn:
        first = sync.run_sync(db, conn, full_customer_scan=True, options=ONE_BY_ONE,
                              progress=_cut_after_customer_page(store, 2), actor=SYNC_ACTOR)
    assert not first.ok
    store.faults.reset()
    mark = Checkpoint.parse(read_cursor(db, CURSOR_CUSTOMER_SCAN + RESUME_SUFFIX))
    assert mark is not None and mark.page == 2
    return mark


def _customer_pages_asked(store) -> list[int]:
    return [int(r.query.get("page", 1)) for r in store.requests_log
            if r.path.endswith("/customers") and "include" not in r.query]


def test_a_scan_cut_short_finds_a_customer_deleted_after_its_checkpoint_when_it_goes_on(db, big_store):
    store = big_store
    with connector(store) as conn:
        _first_sync(db, conn)
    mark = _cut_scan(db, store)
    victim = next(c for c in store.list_customers(role="customer") if c["id"] > mark.last_id + 20)
    local = _local(db, victim["id"])
    with connector(store) as conn:
        conn.delete_customer(victim["id"])
        store.reset_stats()
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=ONE_BY_ONE, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert min(_customer_pages_asked(store)) == mark.page, "the scan started again instead of going on"
    assert summary.unlinked_customers == 1
    assert _customer(db, local.id).store_id is None
    assert read_cursor(db, CURSOR_CUSTOMER_SCAN + RESUME_SUFFIX) == ""
    assert_matches_store(db, store)


def test_a_scan_cut_short_finds_a_customer_deleted_before_its_checkpoint_when_it_goes_on(db, big_store):
    store = big_store
    with connector(store) as conn:
        _first_sync(db, conn)
    mark = _cut_scan(db, store)
    # Deleted from a page already written: every later customer moves up, so the scan reads all again.
    victim = next(c for c in store.list_customers(role="customer") if c["id"] < mark.last_id - 20)
    local = _local(db, victim["id"])
    with connector(store) as conn:
        conn.delete_customer(victim["id"])
        summary = sync.run_sync(db, conn, full_customer_scan=True, options=ONE_BY_ONE, actor=SYNC_ACTOR)
    assert summary.ok, summary.error
    assert summary.unlinked_customers == 1
    assert _customer(db, local.id).store_id is None
    assert_matches_store(db, store)
